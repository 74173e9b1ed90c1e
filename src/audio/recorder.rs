//! Recording the captured audio to WAV without touching the file in the audio callback: the callback copies
//! samples into a lock-free ring ([`RecordTap`]); a writer thread drains it into a 32-bit float WAV and rewrites the
//! header every second, so the file is valid even if the process is killed.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

use crate::error::{Error, Result};

/// The callback's end: push samples, never block.
pub struct RecordTap {
    producer: HeapProd<f32>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for RecordTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordTap").finish()
    }
}

impl RecordTap {
    /// Copy samples into the ring; samples that do not fit are dropped and counted. Allocation-free.
    pub fn push(&mut self, samples: impl Iterator<Item = f32>) {
        let mut dropped = 0u64;
        for s in samples {
            if self.producer.try_push(s).is_err() {
                dropped += 1;
            }
        }
        if dropped > 0 {
            self.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
    }
}

/// The writer thread; [`Recorder::finish`] drains the ring and finalizes the file.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    handle: Option<JoinHandle<Result<u64>>>,
}

/// Start recording `channels`-channel audio at `rate_hz` into `path`; the ring holds `buffer_s` seconds. `path` must
/// be a regular file; an existing file that is not empty is replaced only when `overwrite` is set (it may hold
/// anything: the error says so rather than destroying it).
pub fn record(
    path: &Path,
    rate_hz: u32,
    channels: u16,
    buffer_s: f32,
    overwrite: bool,
) -> Result<(RecordTap, Recorder)> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate_hz,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let cannot = |e: String| Error::Audio {
        path: path.to_path_buf(),
        reason: format!("cannot create the recording: {e}"),
    };
    let file = create_recording(path, overwrite).map_err(cannot)?;
    let writer = hound::WavWriter::new(FailFast::new(BufWriter::new(file)), spec)
        .map_err(|e| cannot(e.to_string()))?;
    let capacity = ((rate_hz as f32 * buffer_s) as usize).max(1024) * usize::from(channels);
    let (producer, consumer) = HeapRb::<f32>::new(capacity).split();
    let stop = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicU64::new(0));
    let thread_stop = stop.clone();
    let thread_path = path.to_path_buf();
    let handle = std::thread::Builder::new()
        .name("earshot-recorder".into())
        .spawn(move || write_loop(writer, consumer, &thread_stop, &thread_path))
        .map_err(|e| Error::io(path, e))?;
    Ok((
        RecordTap {
            producer,
            dropped: dropped.clone(),
        },
        Recorder {
            path: path.to_path_buf(),
            stop,
            dropped,
            handle: Some(handle),
        },
    ))
}

/// A writer that fails every call after its first failure. When the disk fills up, hound's header update (in
/// `finalize`, also run on drop) then cannot claim samples that never reached the disk: the header stays as the last
/// successful flush wrote it, and the file stays a valid WAV of everything up to that flush.
/// Open `path` for a recording: a new file, an empty one, or (with `overwrite`) any regular file.
fn create_recording(path: &Path, overwrite: bool) -> std::result::Result<File, String> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(
                "it is not a regular file (a folder, FIFO or device): a recording must be a file it can seek in \
                 to finalize the header; give a file name"
                    .into(),
            )
        }
        Ok(meta) if meta.len() > 0 && !overwrite => {
            return Err(format!(
                "the file exists ({} bytes) and earshot does not overwrite it: choose another name, or pass \
                 --force to replace it",
                meta.len()
            ))
        }
        _ => {}
    }
    File::create(path).map_err(|e| e.to_string())
}

struct FailFast<W> {
    inner: W,
    failed: bool,
}

impl<W> FailFast<W> {
    fn new(inner: W) -> FailFast<W> {
        FailFast {
            inner,
            failed: false,
        }
    }

    fn guard<T>(&mut self, op: impl FnOnce(&mut W) -> std::io::Result<T>) -> std::io::Result<T> {
        if self.failed {
            return Err(std::io::Error::other(
                "an earlier write to the recording failed",
            ));
        }
        op(&mut self.inner).inspect_err(|_| self.failed = true)
    }
}

impl<W: Write> Write for FailFast<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.guard(|w| w.write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.guard(|w| w.flush())
    }
}

impl<W: Seek> Seek for FailFast<W> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.guard(|w| w.seek(pos))
    }
}

fn write_loop(
    mut writer: hound::WavWriter<FailFast<BufWriter<File>>>,
    mut consumer: HeapCons<f32>,
    stop: &AtomicBool,
    path: &Path,
) -> Result<u64> {
    let mut block = vec![0.0f32; 8192];
    let mut written = 0u64;
    let mut saved = 0u64; // samples covered by the header of the last successful flush
    let fail = |e: hound::Error, saved: u64| {
        Error::Audio {
        path: path.to_path_buf(),
        reason: format!(
            "recording failed ({e}; is the disk full?): the file is a valid WAV of the first {saved} samples"
        ),
    }
    };
    let mut last_flush = Instant::now();
    loop {
        let stopping = stop.load(Ordering::Acquire);
        let n = consumer.pop_slice(&mut block);
        for &s in &block[..n] {
            writer.write_sample(s).map_err(|e| fail(e, saved))?;
        }
        written += n as u64;
        if last_flush.elapsed() >= Duration::from_secs(1) {
            writer.flush().map_err(|e| fail(e, saved))?; // rewrites the header: the file stays valid
            saved = written;
            last_flush = Instant::now();
        }
        if n == 0 {
            if stopping && consumer.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    writer.finalize().map_err(|e| fail(e, saved))?;
    Ok(written)
}

impl Recorder {
    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Samples dropped because the writer fell behind.
    pub fn dropped_samples(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Write what is buffered, finalize the header and return the number of samples written. Call after the
    /// capture has stopped.
    pub fn finish(mut self) -> Result<u64> {
        self.stop.store(true, Ordering::Release);
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::ThreadPanicked("recorder")),
            None => Ok(0),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
