//! The recognizer: a shared, immutable [`Recognizer`] and per-stream [`Stream`] state. Frames go in
//! ([`Stream::accept_frames`] or [`Stream::accept_samples`]); the endpointer closes segments; [`Recognizer::poll`]
//! decodes closed segments and returns [`TranscriptEvent`]s. File transcription, live listening and the benchmark all
//! run through this path.

mod endpoint;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use endpoint::{EndpointConfig, Endpointer, Segment};

use crate::audio::FrontEnd;
use crate::decode::{decode_segment, DecodeOptions, Guard};
use crate::error::{Error, Result};
use crate::features::{dct_matrix, mel_filters, MelFilter};
use crate::model::{FrontendSpec, Model};

/// What a recognizer does with the model (from a device profile's `[decode]` and `[endpoint]` tables).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecognizerConfig {
    /// Search, guards and the no-speech gate.
    pub decode: DecodeOptions,
    /// Segmentation rules.
    pub endpoint: EndpointConfig,
}

/// The final transcript of one segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    /// The text (never empty in an event).
    pub text: String,
    /// Segment start in seconds of stream audio.
    pub start_s: f64,
    /// Segment end in seconds of stream audio.
    pub end_s: f64,
    /// Text token ids.
    pub tokens: Vec<u32>,
    /// No-speech probability of the segment.
    pub no_speech_prob: f32,
    /// Mean token log-probability.
    pub avg_logprob: f32,
    /// The guard that sent this segment to the fallback window, if any.
    pub guard: Option<Guard>,
    /// True when even the final decode stopped at the token cap (its text is then truncated).
    pub token_cap_reached: bool,
    /// Encoder wall time for this segment.
    #[serde(serialize_with = "serialize_ms")]
    pub encoder_time: Duration,
    /// Decoder (search) wall time for this segment.
    #[serde(serialize_with = "serialize_ms")]
    pub decoder_time: Duration,
}

fn serialize_ms<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// What the recognizer reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TranscriptEvent {
    /// A segment ended and was transcribed.
    Final(Transcript),
}

/// The shared recognizer: model plus configuration. Cheap to clone, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Recognizer {
    model: Arc<Model>,
    config: RecognizerConfig,
}

/// All mutable state of one audio stream.
#[derive(Debug)]
pub struct Stream {
    coefficients: usize,
    frame_s: f64,
    frames: Vec<f32>,  // frames from `buffer_start` on, frame-major
    buffer_start: u64, // absolute index of frames[0]
    next_frame: u64,   // absolute index of the next frame to arrive
    endpointer: Endpointer,
    ready: VecDeque<Segment>,
    front_end: Option<FrontEnd>,
    energy_weights: Vec<f32>, // mfcc . weights = mean normalized log-mel over the speech band
    energy_offset: (f32, f32), // (norm_scale, norm_offset): normalized -> log10 power
    finished: bool,
}

impl Recognizer {
    /// A recognizer over a loaded model.
    pub fn new(model: Arc<Model>, config: RecognizerConfig) -> Result<Recognizer> {
        if config.decode.beam_size == 0 || config.decode.beam_size > 16 {
            return Err(Error::Config {
                path: "<recognizer>".into(),
                reason: "decode.beam_size must be 1..=16".into(),
            });
        }
        Ok(Recognizer { model, config })
    }

    /// The model.
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    /// The configuration.
    pub fn config(&self) -> &RecognizerConfig {
        &self.config
    }

    /// A fresh stream.
    pub fn create_stream(&self) -> Stream {
        let fe = &self.model.manifest().frontend;
        let frame_s = fe.hop_samples as f64 / f64::from(fe.sample_rate_hz);
        Stream {
            coefficients: fe.mfcc_coefficients,
            frame_s,
            frames: Vec::new(),
            buffer_start: 0,
            next_frame: 0,
            endpointer: Endpointer::new(&self.config.endpoint, (frame_s * 1000.0) as f32),
            ready: VecDeque::new(),
            front_end: None,
            energy_weights: band_energy_weights(fe, self.config.endpoint.speech_band_hz),
            energy_offset: (fe.norm_scale, fe.norm_offset),
            finished: false,
        }
    }

    /// Decode the next closed segment, if any. Returns `Ok(None)` when there is nothing to do yet (or, after
    /// [`Stream::input_finished`], nothing left). Segments judged not to be speech produce no event.
    pub fn poll(&self, stream: &mut Stream) -> Result<Option<TranscriptEvent>> {
        while let Some(segment) = stream.ready.pop_front() {
            let frames = stream.segment_frames(segment);
            let seconds = (segment.end - segment.start) as f64 * stream.frame_s;
            let decoded = decode_segment(&self.model, frames, seconds as f32, &self.config.decode)?;
            stream.trim();
            if decoded.text.is_empty() {
                continue;
            }
            return Ok(Some(TranscriptEvent::Final(Transcript {
                text: decoded.text,
                start_s: segment.start as f64 * stream.frame_s,
                end_s: segment.end as f64 * stream.frame_s,
                tokens: decoded.hypothesis.tokens.clone(),
                no_speech_prob: decoded.hypothesis.no_speech_prob,
                avg_logprob: decoded.hypothesis.avg_logprob(),
                guard: decoded.guard,
                token_cap_reached: decoded.hypothesis.hit_token_cap,
                encoder_time: decoded.encoder_time,
                decoder_time: decoded.decoder_time,
            })));
        }
        Ok(None)
    }
}

/// Weights w with `w . mfcc` = mean normalized log-mel over the mel filters whose centres lie in `band_hz`
/// (mfcc = C logmel with C orthonormal, so logmel = C^T mfcc; w_k = mean over band bins j of C[k, j]).
fn band_energy_weights(fe: &FrontendSpec, band_hz: [f32; 2]) -> Vec<f32> {
    let n = fe.mel_bins;
    let filters = mel_filters(
        f64::from(fe.sample_rate_hz),
        fe.n_fft,
        n,
        fe.mel_fmin_hz,
        fe.mel_fmax_hz,
    );
    let bin_hz = f64::from(fe.sample_rate_hz) / fe.n_fft as f64;
    let centre = |f: &MelFilter| {
        let peak = f
            .weights
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        ((f.start_bin + peak) as f64 * bin_hz) as f32
    };
    let mut band: Vec<usize> = (0..n)
        .filter(|&j| (band_hz[0]..=band_hz[1]).contains(&centre(&filters[j])))
        .collect();
    if band.is_empty() {
        band = (0..n).collect();
    }
    let dct = dct_matrix(n);
    (0..fe.mfcc_coefficients)
        .map(|k| band.iter().map(|&j| dct[k * n + j]).sum::<f32>() / band.len() as f32)
        .collect()
}

impl Stream {
    /// Add MFCC frames (frame-major, a whole number of frames).
    pub fn accept_frames(&mut self, frames: &[f32]) -> Result<()> {
        if self.finished {
            return Err(Error::InvalidAudio(
                "frames after input_finished(): create a new stream".into(),
            ));
        }
        if !frames.len().is_multiple_of(self.coefficients) {
            return Err(Error::InvalidAudio(format!(
                "{} values is not a whole number of {}-value frames",
                frames.len(),
                self.coefficients
            )));
        }
        for frame in frames.chunks_exact(self.coefficients) {
            self.push_frame(frame);
        }
        Ok(())
    }

    /// Add mono samples at `rate_hz` (resampled and turned into frames here: the allocation-free capture-side path
    /// for live audio is [`FrontEnd`] feeding [`Stream::accept_frames`] across a ring).
    pub fn accept_samples(&mut self, samples: &[f32], rate_hz: u32, model: &Model) -> Result<()> {
        if self.finished {
            return Err(Error::InvalidAudio(
                "samples after input_finished(): create a new stream".into(),
            ));
        }
        let mut front_end = match self.front_end.take() {
            Some(fe) if fe.input_rate_hz() == rate_hz => fe,
            Some(_) => {
                return Err(Error::InvalidAudio(
                    "the sample rate changed within a stream".into(),
                ))
            }
            None => FrontEnd::new(&model.manifest().frontend, rate_hz)?,
        };
        let result = front_end.push(samples, |frame| self.push_frame(frame));
        self.front_end = Some(front_end);
        result
    }

    /// No more input: flush the front-end (if samples were given) and close the open segment.
    pub fn input_finished(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        if let Some(mut front_end) = self.front_end.take() {
            front_end.finish(|frame| self.push_frame(frame))?;
        }
        self.finished = true;
        if let Some(segment) = self.endpointer.finish() {
            self.ready.push_back(segment);
        }
        Ok(())
    }

    /// Seconds of audio received so far (in frames).
    pub fn audio_seconds(&self) -> f64 {
        self.next_frame as f64 * self.frame_s
    }

    /// True once input is finished and every segment has been decoded.
    pub fn is_done(&self) -> bool {
        self.finished && self.ready.is_empty()
    }

    fn push_frame(&mut self, frame: &[f32]) {
        let (scale, offset) = self.energy_offset;
        let mean: f32 = frame
            .iter()
            .zip(&self.energy_weights)
            .map(|(a, b)| a * b)
            .sum();
        let energy = mean * scale - offset;
        self.frames.extend_from_slice(frame);
        self.next_frame += 1;
        if let Some(segment) = self.endpointer.push(energy) {
            self.ready.push_back(segment);
        }
        if self.ready.is_empty() {
            self.trim();
        }
    }

    fn segment_frames(&self, segment: Segment) -> &[f32] {
        let from = (segment.start.saturating_sub(self.buffer_start) as usize) * self.coefficients;
        let to = (segment.end.saturating_sub(self.buffer_start) as usize) * self.coefficients;
        &self.frames[from.min(self.frames.len())..to.min(self.frames.len())]
    }

    /// Drop frames no pending or open segment (or its pre-roll) can still need; amortized so it is not per frame.
    fn trim(&mut self) {
        let keep_from = self
            .ready
            .front()
            .map(|s| s.start)
            .or(self.endpointer.open_segment_start())
            .unwrap_or_else(|| {
                self.next_frame
                    .saturating_sub(self.endpointer.pre_roll_frames())
            });
        let drop = keep_from.saturating_sub(self.buffer_start) as usize;
        if drop > 0 && drop * 2 >= self.frames.len() / self.coefficients {
            self.frames.drain(..drop * self.coefficients);
            self.buffer_start += drop as u64;
        }
    }
}
