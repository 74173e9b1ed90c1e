//! WAV input through hound: 8/16/24/32-bit integer or 32-bit float PCM, 1-8 channels, 8-192 kHz, read in
//! blocks (memory stays bounded for long files) and downmixed to mono f32.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Lowest sample rate accepted.
pub const MIN_RATE_HZ: u32 = 8_000;
/// Highest sample rate accepted.
pub const MAX_RATE_HZ: u32 = 192_000;
/// Most channels accepted.
pub const MAX_CHANNELS: u16 = 8;

/// An open WAV file read as mono blocks.
pub struct WavSource {
    reader: hound::WavReader<BufReader<File>>,
    path: PathBuf,
    spec: hound::WavSpec,
    frames_read: u64,
    interleaved: Vec<f32>,
}

impl std::fmt::Debug for WavSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSource")
            .field("path", &self.path)
            .field("spec", &self.spec)
            .finish()
    }
}

impl WavSource {
    /// Open and check a WAV file.
    pub fn open(path: impl AsRef<Path>) -> Result<WavSource> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = hound::WavReader::new(BufReader::new(file)).map_err(|e| Error::Audio {
            path: path.clone(),
            reason: format!("not a readable WAV file ({e}); convert it, e.g. `sox IN -r 16000 -c 1 -b 16 OUT.wav`"),
        })?;
        let spec = reader.spec();
        let bad = |reason: String| {
            Err(Error::Audio {
                path: path.clone(),
                reason,
            })
        };
        match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Int, 8 | 16 | 24 | 32) | (hound::SampleFormat::Float, 32) => {}
            (format, bits) => {
                return bad(format!(
                    "unsupported encoding {bits}-bit {format:?}: earshot reads 8/16/24/32-bit integer or 32-bit float \
                     PCM; convert with `sox IN -b 16 OUT.wav`"
                ))
            }
        }
        if spec.channels == 0 || spec.channels > MAX_CHANNELS {
            return bad(format!(
                "{} channels: earshot reads 1 to {MAX_CHANNELS}",
                spec.channels
            ));
        }
        if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&spec.sample_rate) {
            return bad(format!(
                "sample rate {} Hz is outside {MIN_RATE_HZ}..={MAX_RATE_HZ} Hz; resample with `sox IN -r 16000 OUT.wav`",
                spec.sample_rate
            ));
        }
        Ok(WavSource {
            reader,
            path,
            spec,
            frames_read: 0,
            interleaved: Vec::new(),
        })
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.spec.sample_rate
    }

    /// Channels in the file (output is always mono).
    pub fn channels(&self) -> u16 {
        self.spec.channels
    }

    /// Frames (samples per channel) the header announces.
    pub fn duration_frames(&self) -> u64 {
        u64::from(self.reader.duration())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read up to `max_frames` frames, downmixed to mono, into `out` (cleared first). Returns the number of frames;
    /// 0 at the end. A data chunk shorter than its header ends the stream early with an error naming the position.
    pub fn read_mono(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize> {
        let channels = usize::from(self.spec.channels);
        out.clear();
        self.interleaved.clear();
        let want = max_frames.saturating_mul(channels);
        let result: std::result::Result<(), hound::Error> = match self.spec.sample_format {
            hound::SampleFormat::Float => {
                self.reader.samples::<f32>().take(want).try_for_each(|s| {
                    self.interleaved.push(s?);
                    Ok(())
                })
            }
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (self.spec.bits_per_sample - 1)) as f32;
                self.reader.samples::<i32>().take(want).try_for_each(|s| {
                    self.interleaved.push(s? as f32 * scale);
                    Ok(())
                })
            }
        };
        if let Err(e) = result {
            return Err(Error::Audio {
                path: self.path.clone(),
                reason: format!(
                    "audio data ends early or is corrupt after {:.2} s ({e}); the file is truncated",
                    self.frames_read as f64 / f64::from(self.spec.sample_rate)
                ),
            });
        }
        let inv = 1.0 / channels as f32;
        out.extend(
            self.interleaved
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() * inv),
        );
        self.frames_read += out.len() as u64;
        Ok(out.len())
    }
}
