//! `FrontEnd`: mono samples at the input rate -> sanitized, resampled to the model rate -> MFCC frames.

use crate::audio::Resampler;
use crate::error::Result;
use crate::features::{FrontendSpec, MfccExtractor};

/// Largest sample magnitude the front-end passes on: full scale is 1.0, so this is 36 dB of headroom for float
/// audio over full scale, and far from where the resampler's and the MFCC's sums could overflow.
pub const SAMPLE_LIMIT: f32 = 64.0;

/// Resampler chunk size (input samples).
const RESAMPLER_CHUNK: usize = 1024;

/// Everything the capture side does to mono samples at one rate: replace NaN and infinite samples by silence and clip
/// samples to +-[`SAMPLE_LIMIT`] (one bad sample would otherwise overflow a resampler chunk or an FFT into NaN and
/// poison every MFCC frame it touches; found by fuzzing), resample to the model rate (if needed) and compute MFCC
/// frames. Allocation-free after construction.
pub struct FrontEnd {
    resampler: Option<Resampler>,
    mfcc: MfccExtractor,
    input_rate_hz: u32,
    clean: Vec<f32>,
}

impl std::fmt::Debug for FrontEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontEnd")
            .field("input_rate_hz", &self.input_rate_hz)
            .finish()
    }
}

impl FrontEnd {
    /// A front-end for mono input at `input_rate_hz`.
    pub fn new(spec: &FrontendSpec, input_rate_hz: u32) -> Result<FrontEnd> {
        let resampler = if input_rate_hz == spec.sample_rate_hz {
            None
        } else {
            Some(Resampler::new(
                input_rate_hz,
                spec.sample_rate_hz,
                RESAMPLER_CHUNK,
            )?)
        };
        Ok(FrontEnd {
            resampler,
            mfcc: MfccExtractor::new(spec),
            input_rate_hz,
            clean: vec![0.0; RESAMPLER_CHUNK],
        })
    }

    /// Values per frame.
    pub fn coefficients(&self) -> usize {
        self.mfcc.coefficients()
    }

    /// Feed mono samples (non-finite ones count as 0, the rest are clipped to +-[`SAMPLE_LIMIT`]); each finished MFCC
    /// frame goes to `on_frame`.
    pub fn push(&mut self, samples: &[f32], mut on_frame: impl FnMut(&[f32])) -> Result<()> {
        for chunk in samples.chunks(self.clean.len()) {
            let clean = &mut self.clean[..chunk.len()];
            for (c, &s) in clean.iter_mut().zip(chunk) {
                *c = if s.is_finite() {
                    s.clamp(-SAMPLE_LIMIT, SAMPLE_LIMIT)
                } else {
                    0.0
                };
            }
            match &mut self.resampler {
                None => self.mfcc.push(clean, &mut on_frame),
                Some(resampler) => {
                    let mfcc = &mut self.mfcc;
                    resampler.push(clean, |out| mfcc.push(out, &mut on_frame))?;
                }
            }
        }
        Ok(())
    }

    /// End of input: flush the resampler and the extractor, then reset for a new stream.
    pub fn finish(&mut self, mut on_frame: impl FnMut(&[f32])) -> Result<()> {
        if let Some(resampler) = &mut self.resampler {
            let mfcc = &mut self.mfcc;
            resampler.finish(|out| mfcc.push(out, &mut on_frame))?;
        }
        self.mfcc.finish(&mut on_frame);
        Ok(())
    }
}
