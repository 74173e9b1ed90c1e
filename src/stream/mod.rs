//! The recognizer: a shared, immutable [`Recognizer`] and per-stream [`Stream`] state. Frames go in
//! ([`Stream::accept_frame`] from the capture ring, or [`Stream::accept_samples`]); the endpointer closes segments;
//! [`Recognizer::poll`] decodes, emits [`TranscriptEvent`]s and measures their latency. File transcription, live
//! listening and the benchmark all run through this path.
//!
//! Partial results: while a segment is open, it is re-decoded every `partial_interval_ms` of new audio. Text that two
//! consecutive decodes agree on (their common token prefix, cut to whole words) is committed: it only grows and later
//! partials are forced to start with it (local agreement, as in whisper_streaming's LocalAgreement-2). The final is
//! the plain decode of the whole segment, the same as `earshot transcribe` gives: it may correct committed text.
//! (Forcing the committed text into the final cost 3.2 WER points on the corpus.)
//!
//! Speculative finals: once the silence after the last speech frame covers the post-roll, the frames of the final are
//! known (unless speech resumes); they are decoded then, during the rest of the endpoint wait, and the result is used
//! when rule 1 closes the segment with exactly those frames. Same function, same frames: the same final, ready at
//! the endpoint.

mod endpoint;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use endpoint::{EndpointConfig, EndpointRule, Endpointer, Segment};

use crate::audio::FrontEnd;
use crate::decode::{decode_segment, DecodeOptions, Guard, Prefix, SegmentDecode};
use crate::error::{Error, Result};
use crate::features::{dct_matrix, mel_filters, MelFilter};
use crate::model::{FrontendSpec, Model};
use crate::ring::Frame;

/// Partial-result settings (the `[partials]` table of a device profile).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PartialConfig {
    /// Re-decode the open segment after this much new audio; 0 turns partial results off (file transcription).
    pub interval_ms: u32,
    /// Until the segment's first partial with text, re-decode this often instead (first-partial latency).
    pub first_interval_ms: u32,
    /// No partial before the open segment holds this much speech.
    pub min_speech_ms: u32,
}

impl Default for PartialConfig {
    fn default() -> Self {
        PartialConfig {
            interval_ms: 300,
            first_interval_ms: 100,
            min_speech_ms: 200,
        }
    }
}

/// What a recognizer does with the model (from a device profile's `[decode]`, `[endpoint]`, `[partials]` tables).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecognizerConfig {
    /// Search, guards and the no-speech gate.
    pub decode: DecodeOptions,
    /// Segmentation rules.
    pub endpoint: EndpointConfig,
    /// Partial results.
    pub partials: PartialConfig,
}

fn serialize_ms<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

fn serialize_opt_ms<S: serde::Serializer>(
    d: &Option<Duration>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&(d.as_secs_f64() * 1000.0)),
        None => s.serialize_none(),
    }
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
    /// Decoder calls the final decode made (beam search makes several per token).
    pub decoder_calls: usize,
    /// Wall time from the capture of the last speech frame to the endpoint decision (the silence rule 1 waits for,
    /// plus any queueing). `None` when frames carried no capture times.
    #[serde(serialize_with = "serialize_opt_ms")]
    pub endpoint_wait: Option<Duration>,
    /// Wall time from the endpoint decision to this event: the compute after the endpoint.
    #[serde(serialize_with = "serialize_ms")]
    pub compute_after_endpoint: Duration,
}

/// A partial result for the open segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Partial {
    /// Stable text: within a segment it only grows, and the final starts with it.
    pub committed: String,
    /// The rest of the latest hypothesis (may change).
    pub tentative: String,
    /// Segment start in seconds of stream audio.
    pub start_s: f64,
    /// Audio decoded so far, up to this second of the stream.
    pub end_s: f64,
    /// Wall time from the capture of the segment's first speech frame to this event (set on the segment's first
    /// partial with text only).
    #[serde(serialize_with = "serialize_opt_ms")]
    pub first_partial_latency: Option<Duration>,
    /// Encoder + decoder wall time of this partial decode.
    #[serde(serialize_with = "serialize_ms")]
    pub compute: Duration,
}

/// A segment boundary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// Why the segment closed.
    pub rule: EndpointRule,
    /// Segment start in seconds of stream audio.
    pub start_s: f64,
    /// Segment end in seconds of stream audio.
    pub end_s: f64,
    /// Frames lost to ring overruns so far in this stream.
    pub lost_frames: u64,
}

/// Audio that never reached the recognizer (the overload policy dropped it, see [`crate::ring`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioLost {
    /// Start of the lost audio in seconds of stream audio.
    pub start_s: f64,
    /// End of the lost audio.
    pub end_s: f64,
    /// Frames lost so far in this stream, this gap included.
    pub lost_frames: u64,
}

/// What the recognizer reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TranscriptEvent {
    /// The open segment's current text.
    Partial(Partial),
    /// A segment ended and was transcribed (always followed by its `Endpoint`).
    Final(Transcript),
    /// A segment ended (after its `Final`, if it had text).
    Endpoint(Endpoint),
    /// A stretch of audio was lost; reported as soon as the gap is seen (a segment open at the gap is closed there
    /// with [`EndpointRule::Gap`]).
    AudioLost(AudioLost),
}

/// The shared recognizer: model plus configuration. Cheap to clone, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Recognizer {
    model: Arc<Model>,
    config: RecognizerConfig,
}

/// A closed segment waiting to be decoded.
#[derive(Debug, Clone, Copy)]
struct Closed {
    segment: Segment,
    decided_at: Instant,
}

/// Partial-decoding state of the open segment.
#[derive(Debug, Default)]
struct OpenState {
    start: u64,
    committed: Vec<u32>,
    previous: Vec<u32>,
    decoded_to: u64,
    any_text: bool,
    first_partial_sent: bool,
}

/// All mutable state of one audio stream.
#[derive(Debug)]
pub struct Stream {
    coefficients: usize,
    frame_s: f64,
    epoch: Instant,
    frames: Vec<f32>,   // frames from `buffer_start` on, frame-major
    captured: Vec<u64>, // capture time (ns since epoch) of each buffered frame; u64::MAX = unknown
    buffer_start: u64,  // absolute index of frames[0]
    next_frame: u64,    // absolute index of the next frame
    endpointer: Endpointer,
    closed: VecDeque<Closed>,
    open: Option<OpenState>,
    pending: VecDeque<TranscriptEvent>,
    speculative: Option<(u64, u64, SegmentDecode)>, // (start, end, decode) of the expected final
    front_end: Option<FrontEnd>,
    energy_weights: Vec<f32>,
    energy_offset: (f32, f32),
    lost_frames: u64,
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

    /// A fresh stream; capture times of its frames count from now (see [`Stream::epoch`]).
    pub fn create_stream(&self) -> Stream {
        let fe = &self.model.manifest().frontend;
        let frame_s = fe.hop_samples as f64 / f64::from(fe.sample_rate_hz);
        Stream {
            coefficients: fe.mfcc_coefficients,
            frame_s,
            epoch: Instant::now(),
            frames: Vec::new(),
            captured: Vec::new(),
            buffer_start: 0,
            next_frame: 0,
            endpointer: Endpointer::new(&self.config.endpoint, (frame_s * 1000.0) as f32),
            closed: VecDeque::new(),
            open: None,
            pending: VecDeque::new(),
            speculative: None,
            front_end: None,
            energy_weights: band_energy_weights(fe, self.config.endpoint.speech_band_hz),
            energy_offset: (fe.norm_scale, fe.norm_offset),
            lost_frames: 0,
            finished: false,
        }
    }

    /// Do the next piece of work and return its event, if any: decode a closed segment (`Final`, then `Endpoint`),
    /// or re-decode the open segment when enough new audio arrived (`Partial`). `Ok(None)`: nothing to do until more
    /// frames arrive (or, after [`Stream::input_finished`], nothing left).
    pub fn poll(&self, stream: &mut Stream) -> Result<Option<TranscriptEvent>> {
        loop {
            if let Some(event) = stream.pending.pop_front() {
                return Ok(Some(event));
            }
            if let Some(closed) = stream.closed.pop_front() {
                self.finish_segment(stream, closed)?;
                continue;
            }
            if let Some((start, end)) = stream.endpointer.pending_close() {
                if stream
                    .speculative
                    .as_ref()
                    .is_none_or(|(s, e, _)| (*s, *e) != (start, end))
                {
                    let decoded = self.decode_final(stream, start, end)?;
                    stream.speculative = Some((start, end, decoded));
                    continue;
                }
            }
            if self.partial_due(stream) {
                self.decode_partial(stream)?;
                continue;
            }
            return Ok(None);
        }
    }

    /// Decode frames `[start, end)` as a final: the plain decode, as file transcription does it.
    fn decode_final(&self, stream: &Stream, start: u64, end: u64) -> Result<SegmentDecode> {
        let seconds = (end - start) as f64 * stream.frame_s;
        decode_segment(
            &self.model,
            stream.segment_frames(start, end),
            seconds as f32,
            &self.config.decode,
            Prefix::None,
            true,
        )
    }

    fn finish_segment(&self, stream: &mut Stream, closed: Closed) -> Result<()> {
        let segment = closed.segment;
        if segment.rule != EndpointRule::NoText {
            let decoded = match stream.speculative.take() {
                Some((start, end, decoded)) if (start, end) == (segment.start, segment.end) => {
                    decoded
                }
                _ => self.decode_final(stream, segment.start, segment.end)?,
            };
            if !decoded.text.is_empty() {
                let endpoint_wait = stream
                    .captured_at(segment.last_speech)
                    .map(|t| closed.decided_at.saturating_duration_since(t));
                stream.pending.push_back(TranscriptEvent::Final(Transcript {
                    text: decoded.text,
                    start_s: segment.start as f64 * stream.frame_s,
                    end_s: segment.end as f64 * stream.frame_s,
                    tokens: decoded.hypothesis.tokens.clone(),
                    no_speech_prob: decoded.hypothesis.no_speech_prob,
                    avg_logprob: decoded.hypothesis.avg_logprob(),
                    guard: decoded.guard,
                    token_cap_reached: decoded.hypothesis.hit_token_cap,
                    decoder_calls: decoded.hypothesis.decoder_calls,
                    encoder_time: decoded.encoder_time,
                    decoder_time: decoded.decoder_time,
                    endpoint_wait,
                    compute_after_endpoint: closed.decided_at.elapsed(),
                }));
            }
        }
        if stream
            .open
            .as_ref()
            .is_some_and(|s| s.start == segment.start)
        {
            stream.open = None;
        }
        stream
            .pending
            .push_back(TranscriptEvent::Endpoint(Endpoint {
                rule: segment.rule,
                start_s: segment.start as f64 * stream.frame_s,
                end_s: segment.end as f64 * stream.frame_s,
                lost_frames: stream.lost_frames,
            }));
        stream.trim();
        Ok(())
    }

    fn partial_due(&self, stream: &Stream) -> bool {
        let p = &self.config.partials;
        if p.interval_ms == 0 || !stream.closed.is_empty() {
            return false;
        }
        let (Some(start), Some(onset)) = (
            stream.endpointer.open_segment_start(),
            stream.endpointer.open_segment_onset(),
        ) else {
            return false;
        };
        let frames = |ms: u32| (f64::from(ms) / 1000.0 / stream.frame_s).round() as u64;
        let state = stream.open.as_ref().filter(|s| s.start == start);
        let decoded_to = state.map_or(start, |s| s.decoded_to);
        let interval = if state.is_some_and(|s| s.any_text) {
            p.interval_ms
        } else {
            p.first_interval_ms.min(p.interval_ms)
        };
        stream.next_frame.saturating_sub(onset) >= frames(p.min_speech_ms)
            && stream.next_frame.saturating_sub(decoded_to) >= frames(interval)
    }

    fn decode_partial(&self, stream: &mut Stream) -> Result<()> {
        let Some(start) = stream.endpointer.open_segment_start() else {
            return Ok(());
        };
        if stream.open.as_ref().is_none_or(|s| s.start != start) {
            stream.open = Some(OpenState {
                start,
                decoded_to: start,
                ..OpenState::default()
            });
        }
        let end = stream.next_frame;
        let seconds = (end - start) as f64 * stream.frame_s;
        let Some(state) = stream.open.as_ref() else {
            return Ok(());
        };
        let committed = state.committed.clone();
        let decoded = decode_segment(
            &self.model,
            stream.segment_frames(start, end),
            seconds as f32,
            &self.config.decode,
            Prefix::Forced(&committed),
            false,
        )?;
        let compute = decoded.encoder_time + decoded.decoder_time;
        if decoded.guard.is_some() {
            // A runaway on partial audio: skip this partial (the next one or the final will do).
            if let Some(state) = stream.open.as_mut() {
                state.decoded_to = end;
            }
            return Ok(());
        }
        let tokens = if decoded.text.is_empty() {
            Vec::new()
        } else {
            decoded.hypothesis.tokens
        };
        let onset_captured = stream
            .endpointer
            .open_segment_onset()
            .and_then(|o| stream.captured_at(o));
        let timeout =
            (f64::from(self.config.endpoint.no_text_timeout_ms) / 1000.0 / stream.frame_s) as u64;
        let model = &self.model;
        let vocabulary = model.vocabulary();
        let Some(state) = stream.open.as_mut() else {
            return Ok(());
        };
        state.decoded_to = end;
        if tokens.is_empty() {
            // Rule 2: nothing decoded for too long: drop the segment.
            if !state.any_text && end - start >= timeout {
                if let Some(segment) = stream.endpointer.abandon() {
                    stream.closed.push_back(Closed {
                        segment,
                        decided_at: Instant::now(),
                    });
                }
            }
            return Ok(());
        }
        state.any_text = true;
        // Local agreement: commit the common prefix of this decode and the previous one, cut back to a word boundary
        // of this decode, and never into the previous decode's last word (its audio ended inside it).
        let agreed = tokens
            .iter()
            .zip(&state.previous)
            .take_while(|(a, b)| a == b)
            .count();
        let previous_last_word = state
            .previous
            .iter()
            .rposition(|&t| vocabulary.starts_word(t))
            .unwrap_or(0);
        let mut commit = agreed.min(previous_last_word);
        while commit > state.committed.len()
            && !tokens
                .get(commit)
                .is_some_and(|&t| vocabulary.starts_word(t))
        {
            commit -= 1;
        }
        if commit > state.committed.len() {
            state.committed = tokens[..commit].to_vec();
        }
        state.previous = tokens.clone();
        let committed_len = state.committed.len();
        let first_partial_latency = if state.first_partial_sent {
            None
        } else {
            state.first_partial_sent = true;
            onset_captured.map(|t| t.elapsed())
        };
        stream.pending.push_back(TranscriptEvent::Partial(Partial {
            committed: model
                .detokenize(&tokens[..committed_len])
                .trim_start()
                .to_string(),
            tentative: model.detokenize(&tokens[committed_len..]),
            start_s: start as f64 * stream.frame_s,
            end_s: end as f64 * stream.frame_s,
            first_partial_latency,
            compute,
        }));
        Ok(())
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
    /// The instant capture times are counted from (`Frame::captured_ns`).
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// Add one frame from the capture ring. A gap in frame indices (frames the ring dropped) is filled with silence
    /// for the endpointer, closes the open segment, and is counted in `Endpoint::lost_frames`.
    pub fn accept_frame(&mut self, frame: &Frame) -> Result<()> {
        self.check_open()?;
        if frame.values().len() != self.coefficients {
            return Err(Error::InvalidAudio(format!(
                "frame of {} values, the model takes {}",
                frame.values().len(),
                self.coefficients
            )));
        }
        if self.next_frame < frame.index {
            let start_s = self.audio_seconds();
            while self.next_frame < frame.index {
                self.push_lost_frame();
            }
            self.pending
                .push_back(TranscriptEvent::AudioLost(AudioLost {
                    start_s,
                    end_s: self.audio_seconds(),
                    lost_frames: self.lost_frames,
                }));
        }
        self.push_frame(frame.values(), frame.captured_ns);
        Ok(())
    }

    /// Add MFCC frames (frame-major, a whole number of frames) captured now.
    pub fn accept_frames(&mut self, frames: &[f32]) -> Result<()> {
        self.check_open()?;
        if !frames.len().is_multiple_of(self.coefficients) {
            return Err(Error::InvalidAudio(format!(
                "{} values is not a whole number of {}-value frames",
                frames.len(),
                self.coefficients
            )));
        }
        let now = self.now_ns();
        for frame in frames.chunks_exact(self.coefficients) {
            self.push_frame(frame, now);
        }
        Ok(())
    }

    /// Add mono samples at `rate_hz`, captured now (resampled and turned into frames here; the allocation-free
    /// capture-side path for live audio is [`crate::audio::CaptureSide`] feeding a ring).
    pub fn accept_samples(&mut self, samples: &[f32], rate_hz: u32, model: &Model) -> Result<()> {
        self.check_open()?;
        let mut front_end = match self.front_end.take() {
            Some(fe) if fe.input_rate_hz() == rate_hz => fe,
            Some(_) => {
                return Err(Error::InvalidAudio(
                    "the sample rate changed within a stream".into(),
                ))
            }
            None => FrontEnd::new(&model.manifest().frontend, rate_hz)?,
        };
        let now = self.now_ns();
        let result = front_end.push(samples, |frame| self.push_frame(frame, now));
        self.front_end = Some(front_end);
        result
    }

    /// No more input: flush the front-end (if samples were given) and close the open segment.
    pub fn input_finished(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        if let Some(mut front_end) = self.front_end.take() {
            let now = self.now_ns();
            front_end.finish(|frame| self.push_frame(frame, now))?;
        }
        self.finished = true;
        if let Some(segment) = self.endpointer.finish() {
            self.closed.push_back(Closed {
                segment,
                decided_at: Instant::now(),
            });
        }
        Ok(())
    }

    /// Seconds of audio received so far.
    pub fn audio_seconds(&self) -> f64 {
        self.next_frame as f64 * self.frame_s
    }

    /// Frames lost to ring overruns so far.
    pub fn lost_frames(&self) -> u64 {
        self.lost_frames
    }

    /// True once input is finished and every event has been returned.
    pub fn is_done(&self) -> bool {
        self.finished && self.closed.is_empty() && self.pending.is_empty()
    }

    fn check_open(&self) -> Result<()> {
        if self.finished {
            return Err(Error::InvalidAudio(
                "input after input_finished(): create a new stream".into(),
            ));
        }
        Ok(())
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    fn captured_at(&self, frame: u64) -> Option<Instant> {
        let i = usize::try_from(frame.checked_sub(self.buffer_start)?).ok()?;
        let ns = *self.captured.get(i)?;
        (ns != u64::MAX).then(|| self.epoch + Duration::from_nanos(ns))
    }

    fn push_frame(&mut self, frame: &[f32], captured_ns: u64) {
        let (scale, offset) = self.energy_offset;
        let mean: f32 = frame
            .iter()
            .zip(&self.energy_weights)
            .map(|(a, b)| a * b)
            .sum();
        self.frames.extend_from_slice(frame);
        self.captured.push(captured_ns);
        self.next_frame += 1;
        if let Some(segment) = self.endpointer.push(mean * scale - offset) {
            self.closed.push_back(Closed {
                segment,
                decided_at: Instant::now(),
            });
        }
        self.trim();
    }

    fn push_lost_frame(&mut self) {
        self.frames
            .extend(std::iter::repeat_n(0.0, self.coefficients));
        self.captured.push(u64::MAX);
        self.next_frame += 1;
        self.lost_frames += 1;
        if let Some(segment) = self.endpointer.push_lost() {
            self.closed.push_back(Closed {
                segment,
                decided_at: Instant::now(),
            });
        }
        self.trim();
    }

    fn segment_frames(&self, start: u64, end: u64) -> &[f32] {
        let from = (start.saturating_sub(self.buffer_start) as usize) * self.coefficients;
        let to = (end.saturating_sub(self.buffer_start) as usize) * self.coefficients;
        &self.frames[from.min(self.frames.len())..to.min(self.frames.len())]
    }

    /// Drop frames no closed or open segment (or its pre-roll) can still need; amortized so it is not per frame.
    fn trim(&mut self) {
        let keep_from = self
            .closed
            .front()
            .map(|c| c.segment.start)
            .or(self.endpointer.open_segment_start())
            .unwrap_or_else(|| {
                self.next_frame
                    .saturating_sub(self.endpointer.pre_roll_frames())
            });
        let drop = keep_from.saturating_sub(self.buffer_start) as usize;
        if drop > 0 && drop * 2 >= self.captured.len() {
            self.frames.drain(..drop * self.coefficients);
            self.captured.drain(..drop);
            self.buffer_start += drop as u64;
        }
    }
}
