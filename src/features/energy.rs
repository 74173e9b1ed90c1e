//! The voice-band energy the endpointer listens to, read straight off MFCC frames.

use super::{dct_matrix, mel_filters, FrontendSpec, MelFilter};

/// Weights w with `w . mfcc` = mean normalized log-mel over the mel filters whose centres lie in `band_hz`
/// (mfcc = C logmel with C orthonormal, so logmel = C^T mfcc; w_k = mean over band bins j of C[k, j]).
pub fn band_energy_weights(fe: &FrontendSpec, band_hz: [f32; 2]) -> Vec<f32> {
    let n = fe.mel_bins;
    let filters = mel_filters(
        f64::from(fe.sample_rate_hz),
        fe.n_fft,
        n,
        fe.mel_fmin_hz,
        fe.mel_fmax_hz,
    );
    let bin_hz = f64::from(fe.sample_rate_hz) / fe.n_fft as f64;
    let centre = |f: &MelFilter| {
        let peak = f
            .weights
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        ((f.start_bin + peak) as f64 * bin_hz) as f32
    };
    let mut band: Vec<usize> = (0..n)
        .filter(|&j| (band_hz[0]..=band_hz[1]).contains(&centre(&filters[j])))
        .collect();
    if band.is_empty() {
        band = (0..n).collect();
    }
    let dct = dct_matrix(n);
    (0..fe.mfcc_coefficients)
        .map(|k| band.iter().map(|&j| dct[k * n + j]).sum::<f32>() / band.len() as f32)
        .collect()
}
