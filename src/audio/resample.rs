//! Streaming sample-rate conversion to the model rate (rubato's FFT resampler), allocation-free after construction.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler as _};

use crate::error::{Error, Result};

/// Mono resampler: push any number of samples, get output samples through a callback.
/// The resampler's own delay is trimmed, so output sample i corresponds to input time i / rate_out.
pub struct Resampler {
    inner: Fft<f32>,
    input: Vec<f32>,
    filled: usize,
    output: Vec<f32>,
    delay_left: usize,
    consumed: u64,
    produced: u64,
    ratio: f64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("ratio", &self.ratio)
            .finish()
    }
}

impl Resampler {
    /// A resampler from `rate_in` to `rate_out` Hz taking input in chunks of `chunk` samples (smaller chunks add
    /// less latency; 1024 at 48 kHz is about 21 ms).
    pub fn new(rate_in: u32, rate_out: u32, chunk: usize) -> Result<Resampler> {
        let inner = Fft::<f32>::new(
            rate_in as usize,
            rate_out as usize,
            chunk.max(16),
            1,
            FixedSync::Input,
        )
        .map_err(|_| crate::audio::unsupported_format(rate_in, 1))?;
        let input = vec![0.0; inner.input_frames_max()];
        let output = vec![0.0; inner.output_frames_max()];
        let delay_left = inner.output_delay();
        Ok(Resampler {
            inner,
            input,
            filled: 0,
            output,
            delay_left,
            consumed: 0,
            produced: 0,
            ratio: f64::from(rate_out) / f64::from(rate_in),
        })
    }

    /// Feed samples; resampled output goes to `on_output` in pieces.
    pub fn push(&mut self, mut samples: &[f32], mut on_output: impl FnMut(&[f32])) -> Result<()> {
        while !samples.is_empty() {
            let need = self.inner.input_frames_next();
            let take = (need - self.filled).min(samples.len());
            self.input[self.filled..self.filled + take].copy_from_slice(&samples[..take]);
            self.filled += take;
            samples = &samples[take..];
            if self.filled == need {
                self.process(None, u64::MAX, &mut on_output)?;
            }
        }
        Ok(())
    }

    /// Flush: process what is buffered and drain the delay so exactly round(consumed * ratio) samples came out in
    /// all; then reset for a new stream.
    pub fn finish(&mut self, mut on_output: impl FnMut(&[f32])) -> Result<()> {
        let total = (self.consumed_with_buffered() as f64 * self.ratio).round() as u64;
        let mut partial = Some(self.filled);
        while self.produced < total {
            self.process(partial.take().or(Some(0)), total, &mut on_output)?;
        }
        self.inner.reset();
        self.filled = 0;
        self.delay_left = self.inner.output_delay();
        self.consumed = 0;
        self.produced = 0;
        Ok(())
    }

    fn consumed_with_buffered(&self) -> u64 {
        self.consumed + self.filled as u64
    }

    /// Resample one chunk (`partial_len`: valid samples when the chunk is short); emit output up to `limit` samples
    /// in all.
    fn process(
        &mut self,
        partial_len: Option<usize>,
        limit: u64,
        on_output: &mut impl FnMut(&[f32]),
    ) -> Result<()> {
        let need = self.inner.input_frames_next();
        let out_len = self.output.len();
        let input = InterleavedSlice::new(&self.input[..need], 1, need)
            .map_err(|e| Error::Resample(format!("input: {e}")))?;
        let mut output = InterleavedSlice::new_mut(&mut self.output[..], 1, out_len)
            .map_err(|e| Error::Resample(format!("output: {e}")))?;
        let indexing = partial_len.map(|n| Indexing::new().partial_len(n));
        let (_, written) = self
            .inner
            .process_into_buffer(&input, &mut output, indexing.as_ref())
            .map_err(|e| Error::Resample(e.to_string()))?;
        self.consumed += partial_len.unwrap_or(need) as u64;
        self.filled = 0;
        let skip = self.delay_left.min(written);
        self.delay_left -= skip;
        let room = usize::try_from(limit.saturating_sub(self.produced)).unwrap_or(usize::MAX);
        let fresh = &self.output[skip..written.min(skip.saturating_add(room))];
        if !fresh.is_empty() {
            on_output(fresh);
            self.produced += fresh.len() as u64;
        }
        Ok(())
    }
}
