//! WAV input through hound: 16/24/32-bit integer or 32-bit float PCM, 1-8 channels, 8-192 kHz, read in
//! blocks (memory stays bounded for long files) and downmixed to mono f32.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Lowest sample rate accepted.
pub const MIN_RATE_HZ: u32 = 8_000;
/// Highest sample rate accepted.
pub const MAX_RATE_HZ: u32 = 192_000;
/// Most channels accepted.
pub const MAX_CHANNELS: u16 = 8;

/// Bytes of the head kept for error messages.
const HEAD_BYTES: usize = 512;

/// The format tag and bits per sample of the `fmt ` chunk, if the head holds one.
fn format_tag(head: &[u8]) -> Option<(u16, u16)> {
    let at = head.windows(4).position(|w| w == b"fmt ")? + 8;
    let word = |i: usize| {
        Some(u16::from_le_bytes([
            *head.get(at + i)?,
            *head.get(at + i + 1)?,
        ]))
    };
    Some((word(0)?, word(14)?))
}

fn encoding_name(tag: u16) -> &'static str {
    match tag {
        0x0002 => "MS ADPCM",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0055 => "MP3",
        0xfffe => "extensible (non-PCM subformat)",
        _ => "compressed or vendor-specific",
    }
}

/// An open WAV file read as mono blocks.
pub struct WavSource {
    reader: hound::WavReader<Box<dyn Read + Send>>,
    path: PathBuf,
    spec: hound::WavSpec,
    frames_read: u64,
    interleaved: Vec<f32>,
    failed: Option<String>, // an error met after some good samples: returned by the next read
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
        WavSource::from_reader(BufReader::new(file), path)
    }

    /// Check WAV data from any reader (`name` is used in messages), read as it streams.
    pub fn from_reader(
        mut reader: impl Read + Send + 'static,
        name: impl Into<PathBuf>,
    ) -> Result<WavSource> {
        let path = name.into();
        // The head is kept to name the encoding when hound does not support it.
        let mut head = Vec::with_capacity(HEAD_BYTES);
        (&mut reader)
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(&path, e))?;
        let reader: Box<dyn Read + Send> =
            Box::new(std::io::Cursor::new(head.clone()).chain(reader));
        let reader = hound::WavReader::new(reader).map_err(|e| Error::Audio {
            path: path.clone(),
            reason: match (e, format_tag(&head)) {
                _ if head.is_empty() => "the file is empty (0 bytes), not a WAV file".to_string(),
                (_, Some((3, bits))) if bits != 32 => format!(
                    "unsupported encoding {bits}-bit float: earshot reads 16/24/32-bit integer or 32-bit float PCM; \
                     convert with `sox IN -e floating-point -b 32 OUT.wav`"
                ),
                (hound::Error::Unsupported, Some((tag, _))) => format!(
                    "unsupported encoding {} (WAV format tag {tag:#06x}): earshot reads 16/24/32-bit integer or 32-bit \
                     float PCM; convert with `sox IN -e signed-integer -b 16 OUT.wav`",
                    encoding_name(tag)
                ),
                (hound::Error::IoError(_), None) if head.starts_with(b"RIFF") => format!(
                    "the WAV header is truncated (the file has only {} bytes); the file is damaged",
                    head.len()
                ),
                (e, _) => format!(
                    "not a readable WAV file ({e}); convert it, e.g. `sox IN -r 16000 -c 1 -b 16 OUT.wav`"
                ),
            },
        })?;
        let spec = reader.spec();
        let bad = |reason: String| {
            Err(Error::Audio {
                path: path.clone(),
                reason,
            })
        };
        match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Int, 16 | 24 | 32) | (hound::SampleFormat::Float, 32) => {}
            (hound::SampleFormat::Int, 8) => {
                return bad(
                    "unsupported encoding 8-bit PCM: too coarse for recognition (48 dB of dynamic range, the model \
                     hallucinates on its noise floor); record or convert to 16-bit, e.g. `sox IN -b 16 OUT.wav`"
                        .into(),
                )
            }
            (format, bits) => {
                return bad(format!(
                    "unsupported encoding {bits}-bit {format:?}: earshot reads 16/24/32-bit integer or 32-bit float \
                     PCM; convert with `sox IN -b 16 OUT.wav`"
                ))
            }
        }
        if spec.channels == 0 || spec.channels > MAX_CHANNELS {
            return bad(format!(
                "{} channels: earshot reads 1 to {MAX_CHANNELS}; downmix with `sox IN -c 1 OUT.wav`",
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
            failed: None,
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
    /// 0 at the end. A data chunk shorter than its header, or a NaN or infinite sample, ends the stream with an error naming
    /// the position (the frames before it are returned first).
    pub fn read_mono(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize> {
        let channels = usize::from(self.spec.channels);
        out.clear();
        self.interleaved.clear();
        if let Some(reason) = self.failed.take() {
            return Err(Error::Audio {
                path: self.path.clone(),
                reason,
            });
        }
        let want = max_frames.saturating_mul(channels);
        // Why reading stopped early, if it did.
        enum Stop {
            Hound(hound::Error),
            NonFinite,
        }
        let mut stop = None;
        match self.spec.sample_format {
            hound::SampleFormat::Float => {
                for s in self.reader.samples::<f32>().take(want) {
                    match s {
                        Ok(s) if s.is_finite() => self.interleaved.push(s),
                        Ok(_) => stop = Some(Stop::NonFinite),
                        Err(e) => stop = Some(Stop::Hound(e)),
                    }
                    if stop.is_some() {
                        break;
                    }
                }
            }
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (self.spec.bits_per_sample - 1)) as f32;
                for s in self.reader.samples::<i32>().take(want) {
                    match s {
                        Ok(s) => self.interleaved.push(s as f32 * scale),
                        Err(e) => {
                            stop = Some(Stop::Hound(e));
                            break;
                        }
                    }
                }
            }
        }
        // The whole frames read before a failure are returned first; the error comes with the next read, so audio
        // before a corrupt or truncated spot is still transcribed.
        self.interleaved
            .truncate(self.interleaved.len() / channels * channels);
        if let Some(stop) = stop {
            let at = (self.frames_read + (self.interleaved.len() / channels) as u64) as f64
                / f64::from(self.spec.sample_rate);
            let reason = match stop {
                Stop::NonFinite => format!(
                    "a sample at {at:.2} s is NaN or infinite: the file is corrupt; earshot stopped there"
                ),
                Stop::Hound(e) => format!(
                    "audio data ends early or is corrupt after {at:.2} s ({e}); the file is truncated, earshot stopped there"
                ),
            };
            if self.interleaved.is_empty() {
                return Err(Error::Audio {
                    path: self.path.clone(),
                    reason,
                });
            }
            self.failed = Some(reason);
        }
        let inv = 1.0 / channels as f32;
        out.extend(
            self.interleaved
                .chunks_exact(channels)
                .map(|frame| frame.iter().map(|&s| s * inv).sum::<f32>()), // scaled first: no overflow
        );
        self.frames_read += out.len() as u64;
        Ok(out.len())
    }
}
