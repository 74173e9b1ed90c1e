//! Per-stage wall times (in the spirit of whisper.cpp's `whisper_timings`), recorded only while switched on.
//!
//! A [`TimingRecorder`] is shared (`Arc`) by the model (encoder calls per bucket, decoder calls, detokenization), the
//! recognizer loop (how long each frame waited in the ring) and the benchmark's replay thread (capture side: downmix,
//! resample, MFCC and ring push per frame). Off by default, when recording costs one atomic load; `earshot bench`
//! switches it on. It is never touched from an audio callback (the replay thread is not one).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Raw samples of every stage, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimes {
    /// Capture side per frame: time of one `CaptureSide` push divided by the frames it made.
    pub capture_per_frame_ns: Vec<u64>,
    /// From a frame's capture timestamp to the recognizer taking it from the ring.
    pub ring_wait_ns: Vec<u64>,
    /// Encoder calls, by encoder window (frames, after bucketing).
    pub encoder_ns: BTreeMap<usize, Vec<u64>>,
    /// Decoder calls (one token per call in greedy search; the first call of a segment also feeds the prompt).
    pub decoder_call_ns: Vec<u64>,
    /// Token ids to text, per call.
    pub detokenize_ns: Vec<u64>,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Collects [`StageTimes`] while enabled.
#[derive(Debug, Default)]
pub struct TimingRecorder {
    enabled: AtomicBool,
    times: Mutex<StageTimes>,
}

impl TimingRecorder {
    /// Start or stop recording.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    /// True while recording.
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Take what was recorded so far (the recorder starts over, still enabled or not).
    pub fn take(&self) -> StageTimes {
        self.times
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    }

    fn record(&self, f: impl FnOnce(&mut StageTimes)) {
        if self.is_enabled() {
            if let Ok(mut t) = self.times.lock() {
                f(&mut t);
            }
        }
    }

    /// Record one capture-side push that made `frames` frames (nothing when it made none).
    pub fn capture(&self, elapsed: Duration, frames: u64) {
        if frames > 0 {
            self.record(|t| t.capture_per_frame_ns.push(ns(elapsed) / frames));
        }
    }

    /// Record how long a frame waited in the ring.
    pub fn ring_wait(&self, waited: Duration) {
        self.record(|t| t.ring_wait_ns.push(ns(waited)));
    }

    /// Record an encoder call on a window of `frames` frames.
    pub fn encoder(&self, frames: usize, elapsed: Duration) {
        self.record(|t| t.encoder_ns.entry(frames).or_default().push(ns(elapsed)));
    }

    /// Record a decoder call.
    pub fn decoder_call(&self, elapsed: Duration) {
        self.record(|t| t.decoder_call_ns.push(ns(elapsed)));
    }

    /// Record a detokenization.
    pub fn detokenize(&self, elapsed: Duration) {
        self.record(|t| t.detokenize_ns.push(ns(elapsed)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_while_enabled_and_take_starts_over() {
        let r = TimingRecorder::default();
        r.decoder_call(Duration::from_micros(5));
        assert_eq!(r.take(), StageTimes::default());
        r.set_enabled(true);
        r.decoder_call(Duration::from_micros(5));
        r.encoder(500, Duration::from_millis(11));
        r.capture(Duration::from_micros(10), 2);
        r.capture(Duration::from_micros(10), 0);
        let t = r.take();
        assert_eq!(t.decoder_call_ns, [5_000]);
        assert_eq!(t.encoder_ns[&500], [11_000_000]);
        assert_eq!(t.capture_per_frame_ns, [5_000]);
        assert_eq!(r.take(), StageTimes::default());
    }
}
