//! A stream fed from the caller's own thread: interleaved samples in, events out. The capture side (downmix,
//! resample, MFCC), the frame ring and the stream take turns on that thread, so nothing is dropped and nothing waits
//! (backpressure is the caller's: it pushes when it has audio). File transcription and each connection of
//! `earshot serve` run through it; `listen` runs the same parts on two threads.

use super::{Recognizer, Stream, TranscriptEvent};
use crate::audio::CaptureSide;
use crate::error::Result;
use crate::ring::{frame_ring, FrameConsumer};

/// Most input frames (samples per channel) pushed through the capture side before the stream is polled: 1 s at
/// the input rate. A push of more is cut into such pieces.
fn piece_frames(rate_hz: u32) -> usize {
    rate_hz.max(1) as usize
}

/// Samples in, [`TranscriptEvent`]s out, on one thread.
#[derive(Debug)]
pub struct PushStream {
    recognizer: Recognizer,
    capture: CaptureSide,
    consumer: FrameConsumer,
    stream: Stream,
    channels: usize,
    piece: usize,
}

impl PushStream {
    /// A fresh stream of `recognizer` for interleaved audio at `rate_hz` with `channels` channels (the capture side's
    /// limits apply: 8-192 kHz, 1-8 channels).
    pub fn new(recognizer: &Recognizer, rate_hz: u32, channels: usize) -> Result<PushStream> {
        let spec = &recognizer.model().manifest().frontend;
        let piece = piece_frames(rate_hz);
        // Room for two pieces' frames (a piece makes about 100 per second, the resampler's flush a few more).
        let frames_per_piece = piece * spec.sample_rate_hz as usize
            / rate_hz.max(1) as usize
            / spec.hop_samples.max(1);
        let (producer, consumer) = frame_ring(2 * frames_per_piece + 64);
        let capture = CaptureSide::new(spec, rate_hz, channels, producer)?;
        Ok(PushStream {
            recognizer: recognizer.clone(),
            capture,
            consumer,
            stream: recognizer.create_stream(),
            channels: channels.max(1),
            piece,
        })
    }

    /// Push interleaved samples (a whole number of frames; a partial frame's samples wait in the capture side) and
    /// hand every event they cause to `on_event`. The stream is polled after each piece of at most 1 s, not after
    /// every frame as the live loop does: fewer speculative final decodes, the same finals.
    pub fn push(
        &mut self,
        interleaved: &[f32],
        mut on_event: impl FnMut(TranscriptEvent),
    ) -> Result<()> {
        for piece in interleaved.chunks(self.piece * self.channels) {
            let captured = self.now_ns();
            self.capture.push_f32(piece, captured);
            self.drain(&mut on_event)?;
        }
        Ok(())
    }

    /// End of input: flush the capture side, close the open segment and hand every remaining event to `on_event`.
    pub fn finish(&mut self, mut on_event: impl FnMut(TranscriptEvent)) -> Result<()> {
        let captured = self.now_ns();
        self.capture.finish(captured);
        self.drain(&mut on_event)?;
        self.stream.input_finished()?;
        self.drain(&mut on_event)
    }

    /// Bias the stream toward a term list (see [`Stream::set_vocabulary`](super::Stream::set_vocabulary)).
    pub fn set_vocabulary(&mut self, bias: Option<std::sync::Arc<crate::decode::Bias>>) {
        self.stream.set_vocabulary(bias);
    }

    /// Decode in a given language (see [`Stream::set_language`](super::Stream::set_language)).
    pub fn set_language(&mut self, prompter: Option<std::sync::Arc<crate::decode::Prompter>>) {
        self.stream.set_language(prompter);
    }

    /// Seconds of audio the stream has received.
    pub fn audio_seconds(&self) -> f64 {
        self.stream.audio_seconds()
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.stream.epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn drain(&mut self, on_event: &mut impl FnMut(TranscriptEvent)) -> Result<()> {
        while let Some(frame) = self.consumer.pop() {
            self.stream.accept_frame(&frame)?;
        }
        while let Some(event) = self.recognizer.poll(&mut self.stream)? {
            on_event(event);
        }
        Ok(())
    }
}
