//! The recognizer thread's loop: pop frames from the ring, feed the stream, emit events, until the capture side
//! ends its input.

use std::time::Duration;

use super::{Recognizer, Stream, TranscriptEvent};
use crate::error::Result;
use crate::ring::FrameConsumer;

/// Counters of one live run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Frames taken from the ring.
    pub frames: u64,
    /// Frames the ring dropped (producer found it full).
    pub overruns: u64,
    /// Oldest frames the recognizer dropped to catch up (see [`crate::ring`]'s overload policy).
    pub dropped_oldest: u64,
}

/// How long the recognizer thread sleeps when the ring is empty.
const IDLE_SLEEP: Duration = Duration::from_millis(2);

/// Run until the producer has ended its input and every frame and event is handled. Events go to `on_event` as
/// soon as they exist.
pub fn run_recognizer(
    recognizer: &Recognizer,
    stream: &mut Stream,
    consumer: &mut FrameConsumer,
    mut on_event: impl FnMut(TranscriptEvent),
) -> Result<LiveStats> {
    let mut stats = LiveStats::default();
    let timings = stream.timings().clone();
    loop {
        // The end flag is read before draining: the producer sets it after its last push, so once it is seen, one
        // more drain gets every frame.
        let ended = consumer
            .stats()
            .input_ended
            .load(std::sync::atomic::Ordering::Acquire);
        let mut got = 0u64;
        // Overload policy: far behind, drop the oldest audio and resume on recent frames.
        let capacity = consumer.capacity();
        if consumer.len() > capacity * 3 / 4 {
            consumer.drop_oldest(consumer.len() - capacity / 4);
        }
        // Poll after every frame: partial decodes then fall at fixed audio positions however the threads interleave.
        while let Some(frame) = consumer.pop() {
            if timings.is_enabled() {
                let captured = stream.epoch() + Duration::from_nanos(frame.captured_ns);
                timings.ring_wait(captured.elapsed());
            }
            stream.accept_frame(&frame)?;
            got += 1;
            while let Some(event) = recognizer.poll(stream)? {
                on_event(event);
            }
        }
        stats.frames += got;
        if ended {
            break;
        }
        if got == 0 {
            std::thread::sleep(IDLE_SLEEP);
        }
    }
    stream.input_finished()?;
    while let Some(event) = recognizer.poll(stream)? {
        on_event(event);
    }
    let counters = consumer.stats();
    stats.overruns = counters.overruns.load(std::sync::atomic::Ordering::Relaxed);
    stats.dropped_oldest = counters
        .dropped_oldest
        .load(std::sync::atomic::Ordering::Relaxed);
    Ok(stats)
}
