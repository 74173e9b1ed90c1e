//! WAV input: 16/24/32-bit integer or 32-bit float PCM, 1-8 channels, 8-192 kHz, read in blocks (memory stays bounded
//! for long files) and downmixed to mono f32.
//!
//! earshot walks the RIFF chunks itself (hound, which writes the recordings, rejects common files): chunks of any
//! size before `data` are skipped with their pad byte (`LIST`, `fact`, `bext`, ...); `WAVE_FORMAT_EXTENSIBLE` is read
//! by its subformat and its container size. Fewer valid bits than the container holds (24-in-32, 16-in-32, 20-in-24)
//! belong at the top of the container, but some writers put them at the bottom, sign-extended: the data tells which
//! (see [`Padding`]), and data that fits neither is refused at the first sample that shows it;
//! a `data` size of 0xFFFFFFFF (ffmpeg writing to a pipe, RF64) or 0 (a header never finalized) means "to the end
//! of the file". The samples go through the same [`PcmDecoder`] as raw PCM on standard input.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::audio::{PcmDecoder, PcmFormat};
use crate::error::{Error, Result};

/// Lowest sample rate accepted.
pub const MIN_RATE_HZ: u32 = 8_000;
/// Highest sample rate accepted.
pub const MAX_RATE_HZ: u32 = 192_000;
/// Most channels accepted.
pub const MAX_CHANNELS: u16 = 8;

/// How much of a file's padded samples is looked at before the first read, to learn where their valid bits sit.
const PRESCAN_BYTES: u64 = 8 << 20;

/// A `fmt ` chunk longer than this is not a WAV format description.
const MAX_FMT_BYTES: u32 = 1024;
/// The `data` sizes that mean "until the end of the file".
const SIZE_UNKNOWN: [u32; 2] = [0, u32::MAX];

const TAG_PCM: u16 = 0x0001;
const TAG_FLOAT: u16 = 0x0003;
const TAG_EXTENSIBLE: u16 = 0xfffe;

fn encoding_name(tag: u16) -> &'static str {
    match tag {
        0x0002 => "MS ADPCM",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0055 => "MP3",
        _ => "compressed or vendor-specific",
    }
}

/// What the `fmt ` chunk says.
#[derive(Debug, Clone, Copy)]
struct Format {
    channels: u16,
    rate_hz: u32,
    encoding: PcmFormat,
    /// Integer samples with fewer valid bits than their container: (valid bits, container bits).
    padded: Option<(u16, u16)>,
}

/// Where the valid bits of padded integer samples sit, learned from the data. At the top of the container (the
/// standard), the padding bits below them are zero; at the bottom, the bits above them repeat the sign. The first
/// sample that fits only one of the two decides. When every non-zero sample of what was looked at fits both (a file's
/// first [`PRESCAN_BYTES`], or a block of a stream), the top reading would put all of it below -48 dBFS (24-in-32),
/// so it is read as bottom-aligned: 16-bit audio written as 24-bit at the bottom of a 32-bit container looks like
/// this. Every later sample must fit the decision, or the read stops there with an error.
#[derive(Debug, Clone, Copy)]
struct Padding {
    valid_bits: u16,
    container_bits: u16,
    /// `Some(true)`: at the bottom; `None`: only zeros (or ambiguous samples) seen so far.
    at_bottom: Option<bool>,
}

impl Padding {
    /// The container's value of the sample in `b` (sign-extended from the container's width).
    fn value(&self, b: &[u8]) -> i32 {
        match self.container_bits {
            24 => i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8,
            _ => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        }
    }

    /// Learn from (and check) the samples of `raw`; the index of the first sample that contradicts the alignment,
    /// if any. Returns the gain that puts the samples before it at full scale.
    fn check(&mut self, raw: &[u8]) -> (f32, Option<usize>) {
        let shift = u32::from(self.container_bits - self.valid_bits);
        let low_mask = (1i32 << shift) - 1;
        let spare = 32 - u32::from(self.valid_bits);
        let mut bad = None;
        let mut nonzero = false;
        for (i, b) in raw
            .chunks_exact(usize::from(self.container_bits / 8))
            .enumerate()
        {
            let x = self.value(b);
            if x == 0 {
                continue;
            }
            nonzero = true;
            let top = x & low_mask == 0;
            let bottom = (x << spare) >> spare == x;
            match self.at_bottom {
                None if top != bottom => self.at_bottom = Some(bottom),
                None if !top => {
                    bad = Some(i);
                    break;
                }
                Some(true) if !bottom => {
                    bad = Some(i);
                    break;
                }
                Some(false) if !top => {
                    bad = Some(i);
                    break;
                }
                _ => {}
            }
        }
        if nonzero && self.at_bottom.is_none() && bad.is_none() {
            self.at_bottom = Some(true);
        }
        let gain = match self.at_bottom {
            Some(true) => (1u32 << shift) as f32,
            _ => 1.0,
        };
        (gain, bad)
    }
}

/// Bytes of a stream, counted (for messages about where a file ends).
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Counted<R> {
    /// Fill `buf` unless the stream ends first; returns the bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.bytes += got as u64;
        Ok(got)
    }

    /// Skip `n` bytes; false if the stream ended first.
    fn skip(&mut self, n: u64) -> std::io::Result<bool> {
        let skipped = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink())?;
        self.bytes += skipped;
        Ok(skipped == n)
    }
}

/// An open WAV file read as mono blocks.
pub struct WavSource {
    reader: Counted<Box<dyn Read + Send>>,
    path: PathBuf,
    format: Format,
    /// Bytes of audio left in the `data` chunk; `None`: until the end of the file.
    data_left: Option<u64>,
    data_frames: Option<u64>,
    frames_read: u64,
    bytes: Vec<u8>,
    decoder: PcmDecoder,
    interleaved: Vec<f32>,
    padding: Option<Padding>,
    failed: Option<String>, // an error met after some good samples: returned by the next read
}

impl std::fmt::Debug for WavSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSource")
            .field("path", &self.path)
            .field("format", &self.format)
            .finish()
    }
}

impl WavSource {
    /// Open and check a WAV file.
    pub fn open(path: impl AsRef<Path>) -> Result<WavSource> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let length = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let mut wav = WavSource::from_reader(BufReader::new(file), &path)?;
        if length.is_some() {
            // A regular file can be read twice (a pipe or a FIFO cannot: its blocks decide as they come).
            wav.prescan_padding(&path)
                .map_err(|e| Error::io(&path, e))?;
        }
        // A regular file's length tells how much audio an open-ended `data` chunk holds.
        if let (None, Some(length)) = (wav.data_left, length) {
            let frame = (wav.format.encoding.bytes() * usize::from(wav.format.channels)) as u64;
            wav.data_frames = Some(length.saturating_sub(wav.reader.bytes) / frame);
        }
        Ok(wav)
    }

    /// Check WAV data from any reader (`name` is used in messages), read as it streams.
    pub fn from_reader(
        reader: impl Read + Send + 'static,
        name: impl Into<PathBuf>,
    ) -> Result<WavSource> {
        let path = name.into();
        let mut reader = Counted {
            inner: Box::new(reader) as Box<dyn Read + Send>,
            bytes: 0,
        };
        let (format, data_size) = read_header(&mut reader).map_err(|e| match e {
            HeaderError::Io(e) => Error::io(&path, e),
            HeaderError::Bad(reason) => Error::Audio {
                path: path.clone(),
                reason,
            },
        })?;
        let frame_bytes = format.encoding.bytes() * usize::from(format.channels);
        let data_left = (!SIZE_UNKNOWN.contains(&data_size)).then_some(u64::from(data_size));
        Ok(WavSource {
            reader,
            path,
            format,
            data_left,
            data_frames: data_left.map(|b| b / frame_bytes as u64),
            frames_read: 0,
            bytes: Vec::new(),
            decoder: PcmDecoder::new(format.encoding, usize::from(format.channels)),
            interleaved: Vec::new(),
            padding: format.padded.map(|(valid_bits, container_bits)| Padding {
                valid_bits,
                container_bits,
                at_bottom: None,
            }),
            failed: None,
        })
    }

    /// For padded samples, learn where their valid bits sit from the file's first [`PRESCAN_BYTES`] of audio (read
    /// a second time: blocks alone can be too quiet to tell). A contradiction is left for the read to report where
    /// it is.
    fn prescan_padding(&mut self, path: &Path) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let Some(padding) = &mut self.padding else {
            return Ok(());
        };
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(self.reader.bytes))?;
        let mut head = Vec::new();
        file.take(PRESCAN_BYTES).read_to_end(&mut head)?;
        let mut probe = *padding;
        let sample = usize::from(padding.container_bits / 8);
        if probe
            .check(&head[..head.len() / sample * sample])
            .1
            .is_none()
        {
            padding.at_bottom = probe.at_bottom;
        }
        Ok(())
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.format.rate_hz
    }

    /// Channels in the file (output is always mono).
    pub fn channels(&self) -> u16 {
        self.format.channels
    }

    /// Frames (samples per channel) in the file: what the header announces, or for an open-ended `data` chunk what
    /// the file's length holds; `None` for a stream of unknown length.
    pub fn duration_frames(&self) -> Option<u64> {
        self.data_frames
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read up to `max_frames` frames, downmixed to mono, into `out` (cleared first). Returns the number of frames;
    /// 0 at the end. A data chunk shorter than its header, or a NaN or infinite sample, ends the stream with an error
    /// naming the position (the frames before it are returned first).
    pub fn read_mono(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize> {
        out.clear();
        if let Some(reason) = self.failed.take() {
            return Err(self.audio_error(reason));
        }
        let channels = usize::from(self.format.channels);
        let frame_bytes = self.format.encoding.bytes() * channels;
        let mut want = max_frames.saturating_mul(frame_bytes);
        if let Some(left) = self.data_left {
            want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        // Bounded: a block of 1 s at 192 kHz, 8 channels, 32-bit is 6 MB.
        self.bytes.resize(want.min(1 << 24), 0);
        let got = self
            .reader
            .fill(&mut self.bytes)
            .map_err(|e| Error::io(&self.path, e))?;
        if let Some(left) = &mut self.data_left {
            *left -= got as u64;
        }
        let whole = got / frame_bytes * frame_bytes;
        let mut stop = None;
        if got < self.bytes.len() && self.data_left.is_some() {
            stop = Some(format!(
                "audio data ends early after {:.2} s (the header announces more); the file is truncated, earshot \
                 stopped there",
                self.seconds(self.frames_read + (whole / frame_bytes) as u64)
            ));
        }
        self.interleaved.clear();
        let interleaved = &mut self.interleaved;
        self.decoder
            .push(&self.bytes[..whole], |s| interleaved.extend_from_slice(s));
        let (rate_hz, frames_read) = (f64::from(self.format.rate_hz), self.frames_read);
        if let Some(padding) = &mut self.padding {
            let (gain, bad) = padding.check(&self.bytes[..whole]);
            if let Some(bad) = bad {
                let frames = bad / channels;
                self.interleaved.truncate(frames * channels);
                stop = Some(format!(
                    "the header says {} valid bits in {}-bit samples, but the sample at {:.2} s fits neither at the \
                     top nor at the bottom of its container: the file is damaged or its header is wrong; earshot \
                     stopped there (convert with `sox IN -b 16 OUT.wav` if the audio is good)",
                    padding.valid_bits,
                    padding.container_bits,
                    (frames_read + frames as u64) as f64 / rate_hz
                ));
                self.data_left = Some(0);
            }
            if gain != 1.0 {
                self.interleaved.iter_mut().for_each(|s| *s *= gain);
            }
        }
        if let Some(bad) = self.interleaved.iter().position(|s| !s.is_finite()) {
            let frames = bad / channels;
            self.interleaved.truncate(frames * channels);
            stop = Some(format!(
                "a sample at {:.2} s is NaN or infinite: the file is corrupt; earshot stopped there",
                self.seconds(self.frames_read + frames as u64)
            ));
            self.data_left = Some(0);
        }
        let inv = 1.0 / channels as f32;
        out.extend(
            self.interleaved
                .chunks_exact(channels)
                .map(|frame| frame.iter().map(|&s| s * inv).sum::<f32>()), // scaled first: no overflow
        );
        self.frames_read += out.len() as u64;
        // The whole frames read before a failure are returned first; the error comes with the next read, so audio
        // before a corrupt or truncated spot is still transcribed.
        match stop {
            Some(reason) if out.is_empty() => Err(self.audio_error(reason)),
            Some(reason) => {
                self.failed = Some(reason);
                Ok(out.len())
            }
            None => Ok(out.len()),
        }
    }

    fn seconds(&self, frames: u64) -> f64 {
        frames as f64 / f64::from(self.format.rate_hz)
    }

    fn audio_error(&self, reason: String) -> Error {
        Error::Audio {
            path: self.path.clone(),
            reason,
        }
    }
}

enum HeaderError {
    Io(std::io::Error),
    Bad(String),
}

impl From<std::io::Error> for HeaderError {
    fn from(e: std::io::Error) -> Self {
        HeaderError::Io(e)
    }
}

/// Walk the chunks up to `data`: the format, and the `data` chunk's size (its bytes follow).
fn read_header<R: Read>(
    reader: &mut Counted<R>,
) -> std::result::Result<(Format, u32), HeaderError> {
    let bad = |reason: String| Err(HeaderError::Bad(reason));
    let truncated = |bytes: u64| {
        HeaderError::Bad(format!(
            "the WAV header is truncated (the file has only {bytes} bytes); the file is damaged"
        ))
    };
    let mut riff = [0u8; 12];
    let got = reader.fill(&mut riff)?;
    if got == 0 {
        return bad("the file is empty (0 bytes), not a WAV file".into());
    }
    if !(riff.starts_with(b"RIFF") || riff.starts_with(b"RF64")) || &riff[8..got.max(8)] != b"WAVE"
    {
        if got < 12 && b"RIFF".starts_with(&riff[..got.min(4)]) {
            return Err(truncated(reader.bytes));
        }
        return bad(
            "not a readable WAV file (no RIFF/WAVE header); convert it, e.g. `sox IN -r 16000 -c 1 -b 16 OUT.wav`"
                .into(),
        );
    }
    let mut format = None;
    loop {
        let mut header = [0u8; 8];
        if reader.fill(&mut header)? < 8 {
            return Err(match format {
                Some(_) => {
                    HeaderError::Bad("the file has no `data` chunk: it holds no audio".into())
                }
                None => truncated(reader.bytes),
            });
        }
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        match &header[..4] {
            b"fmt " => {
                if !(16..=MAX_FMT_BYTES).contains(&size) {
                    return bad(format!(
                        "the `fmt ` chunk is {size} bytes (a WAV format takes 16 to 40): the file is damaged"
                    ));
                }
                let mut fmt = vec![0u8; size as usize];
                if reader.fill(&mut fmt)? < fmt.len() {
                    return Err(truncated(reader.bytes));
                }
                format = Some(parse_format(&fmt).map_err(HeaderError::Bad)?);
                if size % 2 == 1 && !reader.skip(1)? {
                    return Err(truncated(reader.bytes));
                }
            }
            b"data" => {
                return match format {
                    Some(format) => Ok((format, size)),
                    None => bad(
                        "the `data` chunk comes before any `fmt ` chunk: the file is damaged"
                            .into(),
                    ),
                };
            }
            _ => {
                // Any other chunk (LIST, fact, bext, JUNK, ds64, ...), with its pad byte when its size is odd.
                if !reader.skip(u64::from(size) + u64::from(size % 2))? {
                    return Err(truncated(reader.bytes));
                }
            }
        }
    }
}

/// The encoding a `fmt ` chunk describes, or why earshot does not read it.
fn parse_format(fmt: &[u8]) -> std::result::Result<Format, String> {
    let u16_at = |i: usize| u16::from_le_bytes([fmt[i], fmt[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([fmt[i], fmt[i + 1], fmt[i + 2], fmt[i + 3]]);
    let (mut tag, channels, rate_hz, block_align, mut bits) =
        (u16_at(0), u16_at(2), u32_at(4), u16_at(12), u16_at(14));
    let container_bits = match channels {
        0 => bits,
        _ if block_align > 0 && block_align % channels == 0 => block_align / channels * 8,
        _ => bits.div_ceil(8) * 8,
    };
    if tag == TAG_EXTENSIBLE {
        if fmt.len() < 40 {
            return Err(format!(
                "WAVE_FORMAT_EXTENSIBLE with a {}-byte `fmt ` chunk (it takes 40): the file is damaged",
                fmt.len()
            ));
        }
        let valid = u16_at(18);
        if valid != 0 {
            bits = valid;
        }
        tag = u16_at(24); // the subformat GUID starts with the format tag
    }
    let encoding = match (tag, container_bits, bits) {
        (TAG_PCM, 8, _) => {
            return Err(
                "unsupported encoding 8-bit PCM: too coarse for recognition (48 dB of dynamic range, the model \
                 hallucinates on its noise floor); record or convert to 16-bit, e.g. `sox IN -b 16 OUT.wav`"
                    .into(),
            )
        }
        (TAG_PCM, c, b) if b > c || b < 9 => {
            return Err(format!(
                "{b} valid bits in {c}-bit samples: the file is damaged; convert with `sox IN -b 16 OUT.wav`"
            ))
        }
        (TAG_PCM, 16, _) => PcmFormat::S16le,
        (TAG_PCM, 24, _) => PcmFormat::S24le,
        (TAG_PCM, 32, _) => PcmFormat::S32le,
        (TAG_FLOAT, 32, 32) => PcmFormat::F32le,
        (TAG_FLOAT, _, b) => {
            return Err(format!(
                "unsupported encoding {b}-bit float: earshot reads 16/24/32-bit integer or 32-bit float PCM; \
                 convert with `sox IN -e floating-point -b 32 OUT.wav`"
            ))
        }
        (TAG_PCM, c, b) => {
            return Err(format!(
                "unsupported encoding {b}-bit PCM in {c}-bit samples: earshot reads 16/24/32-bit integer or 32-bit \
                 float PCM; convert with `sox IN -b 16 OUT.wav`"
            ))
        }
        (tag, _, _) => {
            return Err(format!(
                "unsupported encoding {} (WAV format tag {tag:#06x}): earshot reads 16/24/32-bit integer or 32-bit \
                 float PCM; convert with `sox IN -e signed-integer -b 16 OUT.wav`",
                encoding_name(tag)
            ))
        }
    };
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(format!(
            "{channels} channels: earshot reads 1 to {MAX_CHANNELS}; downmix with `sox IN -c 1 OUT.wav`"
        ));
    }
    if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&rate_hz) {
        return Err(format!(
            "sample rate {rate_hz} Hz is outside {MIN_RATE_HZ}..={MAX_RATE_HZ} Hz; resample with `sox IN -r 16000 OUT.wav`"
        ));
    }
    let padded = (tag == TAG_PCM && bits < container_bits && container_bits > 16)
        .then_some((bits, container_bits));
    Ok(Format {
        channels,
        rate_hz,
        encoding,
        padded,
    })
}
