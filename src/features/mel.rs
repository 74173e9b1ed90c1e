//! Slaney mel filterbank and the orthonormal DCT-II, computed from the manifest (nothing shipped).
//! Definitions as librosa's `filters.mel(htk=False, norm="slaney")` and `scipy.fft.dct(norm="ortho")`, which
//! `models/export/frontend.py` reproduces (within 1e-9 of openai-whisper's `mel_filters.npz`).

/// One triangular filter: its first FFT bin and weights for consecutive bins.
#[derive(Debug, Clone)]
pub struct MelFilter {
    /// First bin with a non-zero weight.
    pub start_bin: usize,
    /// Weights for bins `start_bin..start_bin + weights.len()`.
    pub weights: Vec<f32>,
}

fn hz_to_mel(f: f64) -> f64 {
    let (f_sp, min_log_hz, min_log_mel, logstep) = (200.0 / 3.0, 1000.0, 15.0, 6.4f64.ln() / 27.0);
    if f >= min_log_hz {
        min_log_mel + (f / min_log_hz).ln() / logstep
    } else {
        f / f_sp
    }
}

fn mel_to_hz(m: f64) -> f64 {
    let (f_sp, min_log_hz, min_log_mel, logstep) = (200.0 / 3.0, 1000.0, 15.0, 6.4f64.ln() / 27.0);
    if m >= min_log_mel {
        min_log_hz * (logstep * (m - min_log_mel)).exp()
    } else {
        f_sp * m
    }
}

/// `n_mels` Slaney-normalized triangular filters over the `n_fft / 2 + 1` bins of a real FFT.
pub fn mel_filters(
    sample_rate_hz: f64,
    n_fft: usize,
    n_mels: usize,
    fmin_hz: f64,
    fmax_hz: f64,
) -> Vec<MelFilter> {
    let bins = n_fft / 2 + 1;
    let bin_hz: Vec<f64> = (0..bins)
        .map(|i| i as f64 * sample_rate_hz / n_fft as f64)
        .collect();
    let (mel_min, mel_max) = (hz_to_mel(fmin_hz), hz_to_mel(fmax_hz));
    let points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_min + (mel_max - mel_min) * i as f64 / (n_mels + 1) as f64))
        .collect();
    (0..n_mels)
        .map(|m| {
            let (lo, centre, hi) = (points[m], points[m + 1], points[m + 2]);
            let norm = 2.0 / (hi - lo);
            let weights: Vec<f64> = bin_hz
                .iter()
                .map(|&f| {
                    ((f - lo) / (centre - lo))
                        .min((hi - f) / (hi - centre))
                        .max(0.0)
                        * norm
                })
                .collect();
            let start = weights.iter().position(|&w| w > 0.0).unwrap_or(0);
            let end = weights
                .iter()
                .rposition(|&w| w > 0.0)
                .map_or(start, |e| e + 1);
            MelFilter {
                start_bin: start,
                weights: weights[start..end].iter().map(|&w| w as f32).collect(),
            }
        })
        .collect()
}

/// Orthonormal DCT-II as an `n x n` row-major matrix: `out[k] = sum_i m[k * n + i] * x[i]`.
pub fn dct_matrix(n: usize) -> Vec<f32> {
    let mut m = vec![0.0f32; n * n];
    for k in 0..n {
        let scale = if k == 0 {
            (1.0 / n as f64).sqrt()
        } else {
            (2.0 / n as f64).sqrt()
        };
        for i in 0..n {
            m[k * n + i] = (scale
                * (std::f64::consts::PI * k as f64 * (i as f64 + 0.5) / n as f64).cos())
                as f32;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_is_orthonormal() {
        let n = 80;
        let m = dct_matrix(n);
        for a in 0..n {
            for b in 0..n {
                let dot: f32 = (0..n).map(|i| m[a * n + i] * m[b * n + i]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-5, "rows {a},{b}: {dot}");
            }
        }
    }

    #[test]
    fn slaney_filters_have_unit_area_per_mel_width() {
        // Slaney normalization: each filter's peak is 2 / (hi - lo) Hz, so filters stay positive, cover 0..8 kHz
        // and the first one starts at bin 1 (bin 0 is 0 Hz = fmin exactly, weight 0).
        let filters = mel_filters(16000.0, 400, 80, 0.0, 8000.0);
        assert_eq!(filters.len(), 80);
        assert!(filters
            .iter()
            .all(|f| !f.weights.is_empty() && f.weights.iter().all(|&w| w >= 0.0)));
        assert_eq!(filters[0].start_bin, 1);
        assert!(filters[79].start_bin + filters[79].weights.len() <= 201);
    }
}
