//! `FrameRing`: the lock-free single-producer single-consumer queue (ringbuf) that carries MFCC frames from the
//! capture side to the recognizer thread.
//!
//! Overload policy (oldest audio goes first): the recognizer thread, when it finds more than three quarters of the
//! ring queued (it fell far behind, e.g. a slow board decoding a long segment), drops the oldest frames until a
//! quarter is left ([`FrameConsumer::drop_oldest`], counted in `RingStats::dropped_oldest`), so it resumes on recent
//! audio instead of working through a stale backlog. Only if it stalls so long that the ring fills up does the
//! producer, which never blocks or waits, drop the frame it could not push (counted in `RingStats::overruns`).
//! Frames carry their index, so either way the consumer sees exactly where audio was lost (an index gap), and the
//! recognizer reports it as a [`TranscriptEvent::AudioLost`](crate::TranscriptEvent) with its stream times.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

/// Most MFCC coefficients a frame can carry (the manifest is checked against it).
pub const MAX_COEFFICIENTS: usize = 128;

/// One MFCC frame and when its audio was captured.
#[derive(Clone, Copy)]
pub struct Frame {
    /// Frame index since the stream started (10 ms frames for the bundled pack).
    pub index: u64,
    /// Capture time of the frame's centre sample, nanoseconds since the stream's epoch.
    pub captured_ns: u64,
    len: u8,
    values: [f32; MAX_COEFFICIENTS],
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("index", &self.index)
            .field("captured_ns", &self.captured_ns)
            .finish()
    }
}

impl Frame {
    /// A frame from `values` (at most `MAX_COEFFICIENTS`; extra values are dropped).
    pub fn new(index: u64, captured_ns: u64, values: &[f32]) -> Frame {
        let len = values.len().min(MAX_COEFFICIENTS);
        let mut frame = Frame {
            index,
            captured_ns,
            len: len as u8,
            values: [0.0; MAX_COEFFICIENTS],
        };
        frame.values[..len].copy_from_slice(&values[..len]);
        frame
    }

    /// The coefficients.
    pub fn values(&self) -> &[f32] {
        &self.values[..usize::from(self.len)]
    }
}

/// Counters shared by both ends.
#[derive(Debug, Default)]
pub struct RingStats {
    /// Frames the producer dropped because the ring was full.
    pub overruns: AtomicU64,
    /// Oldest frames the consumer dropped to catch up (see the module docs).
    pub dropped_oldest: AtomicU64,
    /// Frames pushed.
    pub pushed: AtomicU64,
    /// Set by the producer when its input has ended (after its last frame).
    pub input_ended: AtomicBool,
}

impl RingStats {
    /// Mark the end of input: the consumer drains what is queued, then stops. The producer does this after its last
    /// frame; anyone else holding the counters may do it to stop a producer blocked on its input (frames it pushes
    /// later are not read).
    pub fn end_input(&self) {
        self.input_ended.store(true, Ordering::Release);
    }
}

/// The capture side's end.
pub struct FrameProducer {
    inner: HeapProd<Frame>,
    stats: Arc<RingStats>,
}

/// The recognizer side's end.
pub struct FrameConsumer {
    inner: HeapCons<Frame>,
    stats: Arc<RingStats>,
}

impl std::fmt::Debug for FrameProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameProducer")
            .field("stats", &self.stats)
            .finish()
    }
}

impl std::fmt::Debug for FrameConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameConsumer")
            .field("stats", &self.stats)
            .finish()
    }
}

/// Create a ring holding `capacity` frames (at least 1).
pub fn frame_ring(capacity: usize) -> (FrameProducer, FrameConsumer) {
    let (prod, cons) = HeapRb::<Frame>::new(capacity.max(1)).split();
    let stats = Arc::new(RingStats::default());
    (
        FrameProducer {
            inner: prod,
            stats: stats.clone(),
        },
        FrameConsumer { inner: cons, stats },
    )
}

impl FrameProducer {
    /// Push a frame; returns false (and counts an overrun) when the ring is full. Never blocks or allocates.
    pub fn push(&mut self, frame: Frame) -> bool {
        match self.inner.try_push(frame) {
            Ok(()) => {
                self.stats.pushed.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.stats.overruns.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Frames the ring can take right now.
    pub fn free(&self) -> usize {
        self.inner.vacant_len()
    }

    /// Mark the end of input (the consumer drains what is left, then stops).
    pub fn end_input(&self) {
        self.stats.end_input();
    }

    /// The shared counters.
    pub fn stats(&self) -> &Arc<RingStats> {
        &self.stats
    }
}

impl FrameConsumer {
    /// Pop the oldest frame, if any.
    pub fn pop(&mut self) -> Option<Frame> {
        self.inner.try_pop()
    }

    /// Frames the ring holds when full.
    pub fn capacity(&self) -> usize {
        self.inner.capacity().get()
    }

    /// Drop the `count` oldest waiting frames (fewer if fewer wait); returns how many were dropped.
    pub fn drop_oldest(&mut self, count: usize) -> usize {
        let dropped = self.inner.skip(count);
        self.stats
            .dropped_oldest
            .fetch_add(dropped as u64, Ordering::Relaxed);
        dropped
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.inner.occupied_len()
    }

    /// True when no frame is waiting.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// True once the producer ended its input and every frame has been popped.
    pub fn is_finished(&self) -> bool {
        self.stats.input_ended.load(Ordering::Acquire) && self.inner.is_empty()
    }

    /// The shared counters.
    pub fn stats(&self) -> &Arc<RingStats> {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_ring_drops_new_frames_and_counts_them() {
        let (mut p, mut c) = frame_ring(2);
        assert!(p.push(Frame::new(0, 0, &[1.0])));
        assert!(p.push(Frame::new(1, 0, &[2.0])));
        assert!(!p.push(Frame::new(2, 0, &[3.0])));
        assert_eq!(p.stats().overruns.load(Ordering::Relaxed), 1);
        assert_eq!(c.pop().map(|f| f.index), Some(0));
        assert!(p.push(Frame::new(3, 0, &[4.0])));
        assert_eq!(c.pop().map(|f| f.values()[0]), Some(2.0));
        assert_eq!(c.pop().map(|f| f.index), Some(3)); // the gap (index 2) is visible to the consumer
        assert!(!c.is_finished());
        p.end_input();
        assert!(c.is_finished());
    }
}
