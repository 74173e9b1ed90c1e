//! Reader threads that stand in for the audio callback: a WAV file replayed in real time or as fast as possible, and
//! raw PCM on standard input. They drive the same [`CaptureSide`] a microphone does.
//!
//! Unlike a microphone, a reader can wait, so it never loses audio: before each block it waits until the ring has
//! room for the block with half the ring still free (backpressure; a pipe writer then simply blocks). The ring is
//! therefore never more than half full, below the three quarters at which the recognizer's overload policy would
//! drop the oldest frames (see [`crate::ring`]); only a live device drops audio, and then it says so.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::audio::{CaptureSide, PcmDecoder, PcmFormat, WavSource};
use crate::error::{Error, Result};
use crate::timings::TimingRecorder;

/// How fast a file is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// One block per block duration, as a microphone delivers it (latencies are meaningful).
    RealTime,
    /// As fast as the recognizer takes it.
    Fast,
}

/// What a reader thread saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceReport {
    /// Input frames (samples per channel) delivered to the capture side.
    pub frames: u64,
    /// Bytes at the end of standard input that did not make a whole frame (dropped).
    pub trailing_bytes: usize,
}

/// Block length the readers deliver by default: 20 ms, a typical capture period.
const BLOCK_MS: u64 = 20;

fn now_ns(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Waits before each block until the ring can take it with half the ring still free (see the module docs).
struct Backpressure {
    wanted_free: usize,
}

impl Backpressure {
    /// For blocks of up to `block_frames` input frames into `capture`.
    fn new(capture: &CaptureSide, block_frames: usize) -> Backpressure {
        let capacity = capture.ring_free();
        let wanted_free = (capacity / 2 + capture.max_frames_for(block_frames)).min(capacity);
        Backpressure { wanted_free }
    }

    /// Wait for room (or `stop`).
    fn wait(&self, capture: &CaptureSide, stop: &AtomicBool) {
        while capture.ring_free() < self.wanted_free && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Mono audio a replay thread reads block by block (a WAV file, or the benchmark's corpus stream).
pub trait MonoSource: Send + 'static {
    /// Sample rate in Hz.
    fn sample_rate(&self) -> u32;
    /// Replace `out` with up to `max_frames` mono samples; 0 at the end.
    fn read_mono(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize>;
    /// Where the audio comes from (for error messages).
    fn origin(&self) -> PathBuf;
}

impl MonoSource for WavSource {
    fn sample_rate(&self) -> u32 {
        WavSource::sample_rate(self)
    }

    fn read_mono(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize> {
        WavSource::read_mono(self, out, max_frames)
    }

    fn origin(&self) -> PathBuf {
        self.path().to_path_buf()
    }
}

/// How a replay thread delivers its source.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Real time or as fast as possible.
    pub pacing: Pacing,
    /// Block (callback period) length in milliseconds; 0 means 20.
    pub block_ms: u32,
    /// Record the capture side's time per frame here (see `TimingRecorder`).
    pub timings: Option<Arc<TimingRecorder>>,
}

impl ReplayOptions {
    /// 20 ms blocks at `pacing`, no timing.
    pub fn new(pacing: Pacing) -> ReplayOptions {
        ReplayOptions {
            pacing,
            block_ms: 0,
            timings: None,
        }
    }
}

/// Replay a WAV file (downmixed to mono) through `capture` on a new thread, in 20 ms blocks; stops early when
/// `stop` is set. `capture` must be built for the file's rate and 1 channel.
pub fn spawn_wav_replay(
    wav: WavSource,
    capture: CaptureSide,
    epoch: Instant,
    pacing: Pacing,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<Result<SourceReport>>> {
    spawn_replay(wav, capture, epoch, ReplayOptions::new(pacing), stop)
}

/// Replay any [`MonoSource`] through `capture` (built for its rate and 1 channel) on a new thread.
pub fn spawn_replay(
    mut source: impl MonoSource,
    mut capture: CaptureSide,
    epoch: Instant,
    options: ReplayOptions,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<Result<SourceReport>>> {
    let origin = source.origin();
    std::thread::Builder::new()
        .name("earshot-replay".into())
        .spawn(move || {
            let block_ms = if options.block_ms == 0 {
                BLOCK_MS
            } else {
                u64::from(options.block_ms)
            };
            let block_frames =
                ((u64::from(source.sample_rate()) * block_ms / 1000) as usize).max(1);
            let block_time = Duration::from_millis(block_ms);
            let backpressure = Backpressure::new(&capture, block_frames);
            let mut block = Vec::with_capacity(block_frames);
            let mut report = SourceReport::default();
            let started = Instant::now();
            let mut result = Ok(());
            let mut k = 0u32;
            while !stop.load(Ordering::Relaxed) {
                match source.read_mono(&mut block, block_frames) {
                    Ok(0) => break,
                    Ok(n) => {
                        if options.pacing == Pacing::RealTime {
                            // The block is "captured" when its last sample would have arrived from a microphone.
                            k += 1;
                            let due = started + block_time * k;
                            std::thread::sleep(due.saturating_duration_since(Instant::now()));
                        }
                        backpressure.wait(&capture, &stop);
                        let frames_before = capture.frames_out();
                        let pushed_at = Instant::now();
                        capture.push_f32(
                            &block,
                            now_ns(epoch).saturating_sub(block_time.as_nanos() as u64),
                        );
                        if let Some(timings) = &options.timings {
                            timings
                                .capture(pushed_at.elapsed(), capture.frames_out() - frames_before);
                        }
                        report.frames += n as u64;
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            capture.finish(now_ns(epoch));
            result.map(|_| report)
        })
        .map_err(|e| Error::io(origin, e))
}

/// Read raw interleaved PCM from standard input through `capture` on a new thread, until end of input or `stop`,
/// with backpressure (a writer faster than the recognizer waits; nothing is dropped). A read that blocks (an idle
/// pipe) does not see `stop`: the caller ends the ring's input itself then ([`crate::ring::RingStats::end_input`]).
pub fn spawn_stdin(
    format: PcmFormat,
    channels: usize,
    rate_hz: u32,
    mut capture: CaptureSide,
    epoch: Instant,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<Result<SourceReport>>> {
    std::thread::Builder::new()
        .name("earshot-stdin".into())
        .spawn(move || {
            let frame_bytes = format.bytes() * channels.max(1);
            let block_frames = (rate_hz as usize * BLOCK_MS as usize / 1000).max(1);
            let mut bytes = vec![0u8; block_frames * frame_bytes];
            // A read returns at most one block, which makes at most `block_frames` + 1 frames with the bytes of a
            // frame left from the previous read.
            let backpressure = Backpressure::new(&capture, block_frames + 1);
            let mut decoder = PcmDecoder::new(format, channels);
            let mut report = SourceReport::default();
            let mut input = std::io::stdin().lock();
            let mut result = Ok(());
            while !stop.load(Ordering::Relaxed) {
                backpressure.wait(&capture, &stop);
                let n = match input.read(&mut bytes) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        result = Err(Error::io("<stdin>", e));
                        break;
                    }
                };
                let captured = now_ns(epoch);
                decoder.push(&bytes[..n], |samples| {
                    capture.push_f32(samples, captured);
                    report.frames += (samples.len() / channels.max(1)) as u64;
                });
            }
            report.trailing_bytes = decoder.pending_bytes();
            capture.finish(now_ns(epoch));
            result.map(|_| report)
        })
        .map_err(|e| Error::io("<stdin>", e))
}
