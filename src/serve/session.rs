//! The protocol-neutral session: audio in at any rate, sample width and channel count, one [`PushStream`], the
//! recognizer's events out. Every adapter feeds its audio through this, on a thread that is not a network thread.

use std::sync::Arc;

use crate::audio::{PcmDecoder, PcmFormat, MAX_CHANNELS, MAX_RATE_HZ, MIN_RATE_HZ};
use crate::decode::{Bias, Prompter, Task};
use crate::error::Result;
use crate::stream::{PushStream, Recognizer, TranscriptEvent};

/// Raw PCM as a client sends it: little-endian signed integers, interleaved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioFormat {
    /// Samples per second per channel.
    pub rate: u32,
    /// Bytes per sample: 2 (16-bit) or 4 (32-bit).
    pub width: usize,
    /// Channels.
    pub channels: usize,
}

impl AudioFormat {
    /// A checked format, or what is wrong with it.
    pub fn new(rate: u64, width: u64, channels: u64) -> std::result::Result<AudioFormat, String> {
        if !(u64::from(MIN_RATE_HZ)..=u64::from(MAX_RATE_HZ)).contains(&rate) {
            return Err(format!(
                "rate {rate} Hz is outside {MIN_RATE_HZ}..={MAX_RATE_HZ}"
            ));
        }
        if width != 2 && width != 4 {
            return Err(format!(
                "width {width} is not supported (2: 16-bit, 4: 32-bit samples)"
            ));
        }
        if !(1..=u64::from(MAX_CHANNELS)).contains(&channels) {
            return Err(format!(
                "{channels} channels: 1 to {MAX_CHANNELS} are supported"
            ));
        }
        Ok(AudioFormat {
            rate: rate as u32,
            width: width as usize,
            channels: channels as usize,
        })
    }
}

/// One stream of audio through the recognizer.
#[derive(Debug)]
pub struct Session {
    format: AudioFormat,
    decoder: PcmDecoder,
    stream: PushStream,
    samples: Vec<f32>,
}

impl Session {
    /// A session of `recognizer` for audio in `format`, biased toward `bias` (else the recognizer's own list).
    pub fn new(
        recognizer: &Recognizer,
        format: AudioFormat,
        bias: Option<Arc<Bias>>,
    ) -> Result<Session> {
        let encoding = if format.width == 2 {
            PcmFormat::S16le
        } else {
            PcmFormat::S32le
        };
        let mut stream = PushStream::new(recognizer, format.rate, format.channels)?;
        if bias.is_some() {
            stream.set_vocabulary(bias);
        }
        Ok(Session {
            format,
            decoder: PcmDecoder::new(encoding, format.channels),
            stream,
            samples: Vec::new(),
        })
    }

    /// The audio format.
    pub fn format(&self) -> AudioFormat {
        self.format
    }

    /// Feed raw PCM bytes (cut anywhere); every event they cause goes to `on_event`.
    pub fn push_pcm(&mut self, bytes: &[u8], on_event: impl FnMut(TranscriptEvent)) -> Result<()> {
        let samples = &mut self.samples;
        samples.clear();
        self.decoder.push(bytes, |s| samples.extend_from_slice(s));
        self.stream.push(&self.samples, on_event)
    }

    /// Feed interleaved f32 samples (a WAV file's, already decoded).
    pub fn push_samples(
        &mut self,
        interleaved: &[f32],
        on_event: impl FnMut(TranscriptEvent),
    ) -> Result<()> {
        self.stream.push(interleaved, on_event)
    }

    /// End of audio: every remaining event goes to `on_event`.
    pub fn finish(&mut self, on_event: impl FnMut(TranscriptEvent)) -> Result<()> {
        self.stream.finish(on_event)
    }

    /// Seconds of audio received.
    pub fn audio_seconds(&self) -> f64 {
        self.stream.audio_seconds()
    }

    /// Decode in the language of `prompter` (from [`request_language`]).
    pub fn set_language(&mut self, prompter: Option<Arc<Prompter>>) {
        self.stream.set_language(prompter);
    }
}

/// The language a request asked for ("de", "en-US", "pt_BR": the primary subtag counts; `auto` or empty: the
/// recognizer's own rule) and its task, as the prompter its streams use; the error says what the pack cannot do.
pub fn request_language(
    recognizer: &Recognizer,
    requested: &str,
    task: Task,
) -> std::result::Result<Arc<Prompter>, String> {
    let code = requested
        .trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let code = if code.is_empty() {
        crate::decode::AUTO
    } else {
        &code
    };
    recognizer.prompter_for(code, task)
}

/// The vocabulary of one request: the recognizer's own list (`[vocabulary]`, `--vocabulary`) extended by the
/// request's `terms` at its strength; `None` when the request lists none. The limits (count, length, characters)
/// apply to what the request sent; the error says what is wrong with it.
pub fn request_bias(
    recognizer: &Recognizer,
    terms: &[String],
) -> std::result::Result<Option<Arc<Bias>>, String> {
    if terms.iter().all(|t| t.trim().is_empty()) {
        return Ok(None);
    }
    let vocabulary = recognizer.vocabulary();
    let bias = match recognizer.bias() {
        Some(own) => own.extended(terms, vocabulary)?,
        None => Bias::new(terms, recognizer.config().vocabulary.strength, vocabulary)?,
    };
    Ok(Some(Arc::new(bias)))
}
