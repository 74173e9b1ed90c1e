//! `MfccExtractor`: 16 kHz mono samples in any chunk sizes -> MFCC frames, allocation-free after construction.
//!
//! Per frame (the pack manifest's `[frontend]`, reference `models/export/frontend.py`): centred periodic-Hann
//! window with reflect padding at the stream edges, power spectrum, Slaney mel filters, `log10(max(mel, floor))`,
//! clamp against a causal peak tracker (no future frames), `(x + offset) / scale`, orthonormal DCT-II.

mod energy;
mod mel;
mod spec;

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

pub use energy::band_energy_weights;
pub use mel::{dct_matrix, mel_filters, MelFilter};
pub use spec::FrontendSpec;

/// Streaming MFCC front-end. Feed samples with [`push`](MfccExtractor::push), end a stream with
/// [`finish`](MfccExtractor::finish); frames come out through a callback, `coefficients()` values each.
/// The output equals the whole-signal computation whatever the chunk sizes (see the property test).
pub struct MfccExtractor {
    n_fft: usize,
    hop: usize,
    coefficients: usize,
    log_floor: f32,
    clamp_range: f32,
    peak_floor: f32,
    release: f32,
    norm_offset: f32,
    norm_scale: f32,
    window: Vec<f32>,
    filters: Vec<MelFilter>,
    dct: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    // Streaming state.
    ring: Vec<f32>,   // the last n_fft samples of the padded signal
    ring_pos: usize,  // next write index
    until_frame: u64, // padded samples to go until the next frame is complete
    head: Vec<f32>, // the first n_fft/2 + 1 input samples, until the reflected head can be written
    head_done: bool,
    input_count: u64, // input samples seen in this stream
    frames_out: u64,
    peak: f32,
    // Scratch.
    frame_in: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    fft_scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
    mel: Vec<f32>,
    out: Vec<f32>,
}

impl std::fmt::Debug for MfccExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfccExtractor")
            .field("n_fft", &self.n_fft)
            .field("hop", &self.hop)
            .finish()
    }
}

/// numpy's `reflect` padding index for position `j` (may be negative or past the end) of a length-`n` signal.
fn reflect_index(j: i64, n: i64) -> usize {
    if n <= 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let m = j.rem_euclid(period);
    (if m >= n { period - m } else { m }) as usize
}

impl MfccExtractor {
    /// Build the extractor from a pack's front-end definition (validated by `Manifest::load`).
    pub fn new(spec: &FrontendSpec) -> MfccExtractor {
        let n_fft = spec.n_fft;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        let window = (0..n_fft)
            .map(|i| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n_fft as f64).cos()) as f32
            })
            .collect();
        MfccExtractor {
            n_fft,
            hop: spec.hop_samples,
            coefficients: spec.mfcc_coefficients,
            log_floor: spec.log_floor,
            clamp_range: spec.clamp_range_log10,
            peak_floor: spec.causal_peak_floor_log10,
            release: spec.causal_release_per_frame,
            norm_offset: spec.norm_offset,
            norm_scale: spec.norm_scale,
            window,
            filters: mel_filters(
                f64::from(spec.sample_rate_hz),
                n_fft,
                spec.mel_bins,
                spec.mel_fmin_hz,
                spec.mel_fmax_hz,
            ),
            dct: dct_matrix(spec.mel_bins),
            spectrum: fft.make_output_vec(),
            fft_scratch: fft.make_scratch_vec(),
            frame_in: fft.make_input_vec(),
            fft,
            ring: vec![0.0; n_fft],
            ring_pos: 0,
            until_frame: spec.n_fft as u64,
            head: Vec::with_capacity(n_fft / 2 + 1),
            head_done: false,
            input_count: 0,
            frames_out: 0,
            peak: spec.causal_peak_floor_log10,
            power: vec![0.0; n_fft / 2 + 1],
            mel: vec![0.0; spec.mel_bins],
            out: vec![0.0; spec.mfcc_coefficients],
        }
    }

    /// Values per output frame.
    pub fn coefficients(&self) -> usize {
        self.coefficients
    }

    /// Samples per frame step.
    pub fn hop_samples(&self) -> usize {
        self.hop
    }

    /// Frames emitted since the stream started.
    pub fn frames_emitted(&self) -> u64 {
        self.frames_out
    }

    /// Feed samples; every completed frame is passed to `on_frame`. Allocation-free. Non-finite samples are
    /// treated as 0.0 (a NaN must not poison the peak tracker for the rest of the stream).
    pub fn push(&mut self, samples: &[f32], mut on_frame: impl FnMut(&[f32])) {
        let half = self.n_fft / 2;
        for &s in samples {
            let s = if s.is_finite() { s } else { 0.0 };
            self.input_count += 1;
            if self.head_done {
                self.push_padded(s, &mut on_frame);
                continue;
            }
            self.head.push(s);
            if self.head.len() == half + 1 {
                // Reflected head: x[half], x[half-1], ..., x[1]; then the samples themselves.
                for i in (1..=half).rev() {
                    let v = self.head[i];
                    self.push_padded(v, &mut on_frame);
                }
                for i in 0..=half {
                    let v = self.head[i];
                    self.push_padded(v, &mut on_frame);
                }
                self.head_done = true;
            }
        }
    }

    /// End the stream: emit the remaining frames (reflect-padding the end, `samples / hop` frames in all) and reset
    /// for a new stream. Allocation-free.
    pub fn finish(&mut self, mut on_frame: impl FnMut(&[f32])) {
        let total_frames = self.input_count / self.hop as u64;
        let half = self.n_fft / 2;
        if total_frames == 0 {
            // Less than one hop of audio: no frame (as frames = samples / hop).
        } else if !self.head_done {
            // Shorter than half a window: build the padded signal from the head by generic reflection.
            let n = self.head.len() as i64;
            let needed = (total_frames as usize).saturating_sub(1) * self.hop + self.n_fft;
            for p in 0..needed {
                let v = if n == 0 {
                    0.0
                } else {
                    self.head[reflect_index(p as i64 - half as i64, n)]
                };
                self.push_padded(v, &mut on_frame);
            }
        } else {
            // Reflect the tail: padded[half + n + k] = x[n - 2 - k], read back from the ring (offset 2k + 2 <= n_fft).
            let mut k = 0usize;
            while self.frames_out < total_frames {
                let back = 2 * k + 2;
                let v = self.ring[(self.ring_pos + self.n_fft - back % self.n_fft) % self.n_fft];
                self.push_padded(v, &mut on_frame);
                k += 1;
            }
        }
        self.reset();
    }

    /// Forget the stream (state and peak tracker), keep the plan and tables.
    pub fn reset(&mut self) {
        self.ring.fill(0.0);
        self.ring_pos = 0;
        self.until_frame = self.n_fft as u64;
        self.head.clear();
        self.head_done = false;
        self.input_count = 0;
        self.frames_out = 0;
        self.peak = self.peak_floor;
    }

    fn push_padded(&mut self, v: f32, on_frame: &mut impl FnMut(&[f32])) {
        // Per-sample path: no integer division (a `%` per sample cost about 1 us per frame).
        self.ring[self.ring_pos] = v;
        self.ring_pos += 1;
        if self.ring_pos == self.n_fft {
            self.ring_pos = 0;
        }
        self.until_frame -= 1;
        if self.until_frame == 0 {
            self.until_frame = self.hop as u64;
            // Frames past samples/hop come only from finish(), which stops at the right count.
            self.compute_frame();
            self.frames_out += 1;
            on_frame(&self.out);
        }
    }

    fn compute_frame(&mut self) {
        // The ring's oldest sample is at ring_pos.
        let (newer, older) = self.ring.split_at(self.ring_pos);
        for ((out, &x), &w) in self
            .frame_in
            .iter_mut()
            .zip(older.iter().chain(newer))
            .zip(&self.window)
        {
            *out = x * w;
        }
        // Lengths match by construction (make_*_vec), so the FFT cannot fail; a failure would leave zeros.
        if self
            .fft
            .process_with_scratch(
                &mut self.frame_in,
                &mut self.spectrum,
                &mut self.fft_scratch,
            )
            .is_err()
        {
            self.spectrum.fill(Complex::new(0.0, 0.0));
        }
        for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
            *p = c.re * c.re + c.im * c.im;
        }
        let mut frame_max = f32::NEG_INFINITY;
        for (m, filter) in self.mel.iter_mut().zip(&self.filters) {
            let bins = &self.power[filter.start_bin..filter.start_bin + filter.weights.len()];
            let energy: f32 = bins.iter().zip(&filter.weights).map(|(p, w)| p * w).sum();
            *m = energy.max(self.log_floor).log10();
            frame_max = frame_max.max(*m);
        }
        self.peak = frame_max.max(self.peak - self.release).max(self.peak_floor);
        let floor = self.peak - self.clamp_range;
        for m in self.mel.iter_mut() {
            *m = (m.max(floor) + self.norm_offset) / self.norm_scale;
        }
        let n = self.mel.len();
        for (k, out) in self.out.iter_mut().enumerate() {
            let row = &self.dct[k * n..(k + 1) * n];
            *out = row.iter().zip(&self.mel).map(|(a, b)| a * b).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reflect_index;

    #[test]
    fn reflect_matches_numpy() {
        // np.pad([0, 1, 2, 3], 5, mode="reflect") == [1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]
        let got: Vec<usize> = (-5..9).map(|j| reflect_index(j, 4)).collect();
        assert_eq!(got, vec![1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]);
    }
}
