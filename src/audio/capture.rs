//! The capture side, the one path from samples to frames: interleaved audio as it arrives (cpal callback, file or
//! stdin reader) -> mono -> resample -> MFCC frames with capture timestamps ->
//! [`FrameRing`](crate::ring). It never allocates, locks, prints or panics
//! after construction (proved by a counting-allocator test), so it may run inside an audio callback.

use std::sync::Arc;

use crate::audio::{FrontEnd, RecordTap};
use crate::error::{Error, Result};
use crate::features::FrontendSpec;
use crate::ring::{Frame, FrameProducer, RingStats, MAX_COEFFICIENTS};

/// Input block processed at a time (frames of the input rate); callbacks larger than this are split.
const BLOCK_FRAMES: usize = 4096;

/// Capture-side state: owns the front-end, the downmix buffer and the ring's producer end.
pub struct CaptureSide {
    front_end: FrontEnd,
    producer: FrameProducer,
    channels: usize,
    input_rate_hz: u32,
    model_hop_in_input_samples: f64, // input samples per output frame
    mono: Vec<f32>,
    samples_in: u64,    // input frames consumed
    frames_out: u64,    // MFCC frames produced
    anchor_sample: u64, // input sample index whose capture time is anchor_ns
    anchor_ns: u64,
    tap: Option<RecordTap>,
}

impl std::fmt::Debug for CaptureSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureSide")
            .field("channels", &self.channels)
            .field("rate", &self.input_rate_hz)
            .finish()
    }
}

impl CaptureSide {
    /// A capture side for `channels`-channel input at `input_rate_hz`, pushing into `producer`.
    pub fn new(
        spec: &FrontendSpec,
        input_rate_hz: u32,
        channels: usize,
        producer: FrameProducer,
    ) -> Result<CaptureSide> {
        if channels == 0
            || channels > usize::from(super::MAX_CHANNELS)
            || !(super::MIN_RATE_HZ..=super::MAX_RATE_HZ).contains(&input_rate_hz)
        {
            return Err(super::unsupported_format(input_rate_hz, channels));
        }
        if spec.mfcc_coefficients > MAX_COEFFICIENTS {
            return Err(Error::FrameSize {
                got: spec.mfcc_coefficients,
                expected: MAX_COEFFICIENTS,
            });
        }
        Ok(CaptureSide {
            front_end: FrontEnd::new(spec, input_rate_hz)?,
            producer,
            channels,
            input_rate_hz,
            model_hop_in_input_samples: spec.hop_samples as f64 * f64::from(input_rate_hz)
                / f64::from(spec.sample_rate_hz),
            mono: vec![0.0; BLOCK_FRAMES],
            samples_in: 0,
            frames_out: 0,
            anchor_sample: 0,
            anchor_ns: 0,
            tap: None,
        })
    }

    /// Also copy every captured sample (interleaved, as received) to a recorder.
    pub fn with_recorder(mut self, tap: RecordTap) -> CaptureSide {
        self.tap = Some(tap);
        self
    }

    /// The ring's counters (overruns).
    pub fn stats(&self) -> &Arc<RingStats> {
        self.producer.stats()
    }

    /// Frames the ring can take right now.
    pub fn ring_free(&self) -> usize {
        self.producer.free()
    }

    /// Most MFCC frames one push of `input_frames` frames (samples per channel) can make.
    pub fn max_frames_for(&self, input_frames: usize) -> usize {
        (input_frames as f64 / self.model_hop_in_input_samples).ceil() as usize + 1
    }

    /// MFCC frames made so far (pushed or dropped by the ring).
    pub fn frames_out(&self) -> u64 {
        self.frames_out
    }

    /// Input frames consumed so far.
    pub fn samples_consumed(&self) -> u64 {
        self.samples_in
    }

    /// Feed interleaved f32 samples whose first frame was captured at `captured_ns` (nanoseconds since the stream's
    /// epoch). Allocation-free.
    pub fn push_f32(&mut self, interleaved: &[f32], captured_ns: u64) {
        self.push_with(interleaved, captured_ns, |s| s);
    }

    /// Feed interleaved signed 16-bit samples (see [`push_f32`](CaptureSide::push_f32)).
    pub fn push_i16(&mut self, interleaved: &[i16], captured_ns: u64) {
        self.push_with(interleaved, captured_ns, |s| f32::from(s) / 32768.0);
    }

    fn push_with<T: Copy>(
        &mut self,
        interleaved: &[T],
        captured_ns: u64,
        to_f32: impl Fn(T) -> f32,
    ) {
        if let Some(tap) = &mut self.tap {
            tap.push(interleaved.iter().map(|&s| to_f32(s)));
        }
        self.anchor_sample = self.samples_in;
        self.anchor_ns = captured_ns;
        let scale = 1.0 / self.channels as f32;
        for block in interleaved.chunks(BLOCK_FRAMES * self.channels) {
            let n = block.len() / self.channels;
            for (out, frame) in self.mono.iter_mut().zip(block.chunks_exact(self.channels)) {
                *out = frame.iter().map(|&s| to_f32(s) * scale).sum::<f32>(); // scaled first: no overflow
            }
            self.samples_in += n as u64;
            let Self {
                front_end,
                producer,
                mono,
                frames_out,
                anchor_sample,
                anchor_ns,
                model_hop_in_input_samples,
                input_rate_hz,
                ..
            } = self;
            let emit = |values: &[f32]| {
                // Capture time of the frame's centre sample, from the anchor of this callback.
                let sample = *frames_out as f64 * *model_hop_in_input_samples;
                let offset_ns = (sample - *anchor_sample as f64) * 1e9 / f64::from(*input_rate_hz);
                let ns = (*anchor_ns as f64 + offset_ns).max(0.0) as u64;
                producer.push(Frame::new(*frames_out, ns, values));
                *frames_out += 1;
            };
            // The resampler cannot fail on buffers it sized itself (`Error::Resample` would be a bug); there is no
            // one to tell from inside an audio callback, so such a block would make no frames.
            let _ = front_end.push(&mono[..n], emit);
        }
    }

    /// End of input: flush the front-end (its last frames get the last capture time) and mark the ring finished.
    pub fn finish(&mut self, captured_ns: u64) {
        let Self {
            front_end,
            producer,
            frames_out,
            ..
        } = self;
        let _ = front_end.finish(|values| {
            producer.push(Frame::new(*frames_out, captured_ns, values));
            *frames_out += 1;
        });
        self.producer.end_input();
    }
}
