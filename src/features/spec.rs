//! The front-end definition a model pack's manifest carries (`[frontend]` in `model.toml`).

use serde::Deserialize;

use crate::error::in_range;

/// How audio becomes MFCC frames. See `models/export/frontend.py` for the reference implementation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontendSpec {
    /// Input sample rate.
    pub sample_rate_hz: u32,
    /// FFT size (= window length) in samples.
    pub n_fft: usize,
    /// Hop between frames in samples.
    pub hop_samples: usize,
    /// Window name; only `hann_periodic`.
    pub window: String,
    /// Frames are centred (half a window of padding before the first sample).
    pub center: bool,
    /// Padding mode at the stream edges; only `reflect`.
    pub pad_mode: String,
    /// `floor`: frames = samples / hop.
    pub frames_per_samples: String,
    /// Spectrum power; only 2.0.
    pub power: f32,
    /// Number of mel filters.
    pub mel_bins: usize,
    /// Mel scale; only `slaney`.
    pub mel_scale: String,
    /// Filter normalization; only `slaney`.
    pub mel_norm: String,
    /// Lowest filter edge.
    pub mel_fmin_hz: f64,
    /// Highest filter edge.
    pub mel_fmax_hz: f64,
    /// Floor before log10.
    pub log_floor: f32,
    /// Values below (reference - clamp_range_log10) are raised to it.
    pub clamp_range_log10: f32,
    /// Clamp reference rule; only `causal_peak`.
    pub clamp_reference: String,
    /// The peak tracker never goes below this (log10 mel power).
    pub causal_peak_floor_log10: f32,
    /// The peak tracker decays by this much per frame.
    pub causal_release_per_frame: f32,
    /// normalized = (x + norm_offset) / norm_scale.
    pub norm_offset: f32,
    /// See `norm_offset`.
    pub norm_scale: f32,
    /// DCT definition; only `dct2_ortho`.
    pub dct: String,
    /// Number of MFCC coefficients per frame (the encoder's input channels).
    pub mfcc_coefficients: usize,
}

impl FrontendSpec {
    /// Check this build can compute these features; the error names the field.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let f = self;
        let fixed = [
            ("frontend.window", f.window.as_str(), "hann_periodic"),
            ("frontend.pad_mode", &f.pad_mode, "reflect"),
            (
                "frontend.frames_per_samples",
                &f.frames_per_samples,
                "floor",
            ),
            ("frontend.mel_scale", &f.mel_scale, "slaney"),
            ("frontend.mel_norm", &f.mel_norm, "slaney"),
            (
                "frontend.clamp_reference",
                &f.clamp_reference,
                "causal_peak",
            ),
            ("frontend.dct", &f.dct, "dct2_ortho"),
        ];
        for (field, value, supported) in fixed {
            if value != supported {
                return Err(format!(
                    "{field} = {value:?} is not supported (only {supported:?})"
                ));
            }
        }
        if !f.center || f.power != 2.0 {
            return Err("frontend.center must be true and frontend.power 2.0".into());
        }
        in_range("frontend.sample_rate_hz", f.sample_rate_hz, 8_000, 48_000)?;
        in_range("frontend.n_fft", f.n_fft, 16, 8_192)?;
        in_range("frontend.hop_samples", f.hop_samples, 1, f.n_fft)?;
        in_range(
            "frontend.mel_bins",
            f.mel_bins,
            1,
            crate::ring::MAX_COEFFICIENTS,
        )?;
        in_range("frontend.log_floor", f.log_floor, 1e-30, 1.0)?;
        in_range("frontend.clamp_range_log10", f.clamp_range_log10, 0.1, 30.0)?;
        in_range(
            "frontend.causal_peak_floor_log10",
            f.causal_peak_floor_log10,
            -30.0,
            30.0,
        )?;
        in_range(
            "frontend.causal_release_per_frame",
            f.causal_release_per_frame,
            0.0,
            30.0,
        )?;
        in_range("frontend.norm_offset", f.norm_offset, -1e3, 1e3)?;
        // A scale near 0 flattens every feature to one value (the decoder then hears nothing).
        in_range("frontend.norm_scale", f.norm_scale.abs(), 1e-3, 1e3)?;
        if f.mfcc_coefficients != f.mel_bins {
            return Err("frontend.mfcc_coefficients must equal mel_bins (the DCT is folded into the encoder)".into());
        }
        if !(f.mel_fmin_hz >= 0.0
            && f.mel_fmin_hz < f.mel_fmax_hz
            && f.mel_fmax_hz <= f.sample_rate_hz as f64 / 2.0)
        {
            return Err(
                "frontend mel_fmin_hz/mel_fmax_hz must satisfy 0 <= fmin < fmax <= sample_rate/2"
                    .into(),
            );
        }
        Ok(())
    }
}
