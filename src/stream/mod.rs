//! The recognizer: a shared, immutable [`Recognizer`] and per-stream [`Stream`] state. Frames go in
//! ([`Stream::accept_frame`], from the capture ring); the endpointer closes segments; [`Recognizer::poll`] decodes,
//! emits [`TranscriptEvent`]s and measures their latency. File transcription ([`transcribe_file`]), live listening
//! ([`run_recognizer`]) and the benchmark all run through the capture side, the ring and this path.
//!
//! Partial results: while a segment is open, it is re-decoded every `partial_interval_ms` of new audio. Text that two
//! consecutive decodes agree on (their common token prefix, cut to whole words) is committed: it only grows and later
//! partials are forced to start with it (local agreement, as in whisper_streaming's LocalAgreement-2). The final is
//! the plain decode of the whole segment, as `earshot transcribe` makes it: it may correct committed text. (Forcing
//! the committed text into the final cost 3.2 WER points on the corpus.)
//!
//! Drafts: each decode of a segment takes the previous partial's tokens as a draft (a partial the ones after its
//! committed prefix, the final all of them). The greedy search checks the whole draft in its first decoder call and
//! keeps the longest start of it that it would have chosen itself, so a final whose last partial was right costs
//! one decoder call. The batched call's numbers differ slightly from one step at a time (dynamic int8 activations),
//! so at a near-tie a final can differ from `earshot transcribe`'s by a word (1 of the 30 bundled clips).
//!
//! Speculative finals: once the silence after the last speech frame covers the post-roll, the frames of the final are
//! known (unless speech resumes); they are decoded then, during the rest of the endpoint wait, and the result is used
//! when rule 1 closes the segment with exactly those frames. Same function, same frames: the same final, ready at
//! the endpoint.

mod agreement;
mod endpoint;
mod events;
mod file;
mod live;
mod push;
mod turn;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use endpoint::{
    EndpointConfig, EndpointRule, Endpointer, PendingClose, Segment, TurnDetector, Verdict,
};
pub use events::{AudioLost, Endpoint, Partial, Transcript, TranscriptEvent};
pub use file::{transcribe_file, transcribe_wav, FileFailure, FileTranscript};
pub use live::{run_recognizer, LiveStats};
pub use push::PushStream;
use turn::sounds_unfinished;

use crate::decode::{
    decode_segment, Bias, DecodeOptions, Decoder, Prefix, Prompter, SegmentDecode, Task,
    Vocabulary, VocabularyConfig,
};
use crate::error::{check_range, ConfigSource, Error, Result};
use crate::features::band_energy_weights;
use crate::model::Model;
use crate::ring::Frame;
use crate::timings::TimingRecorder;
use agreement::Agreement;

/// No partial decode starts once the open segment has been silent this long (ms): no new words came, and the
/// speculative final's decode should not wait behind one.
const PARTIAL_SILENCE_MS: u32 = 100;

/// A partial whose own tokens (after its committed prefix) average a log-probability below this is unsure, and the
/// segment's final, when it follows such a partial, goes to the wider beam at once instead of first running the
/// greedy search the fallback would throw away. On the turn corpus (466 finals of 16 sessions per copy, `listen
/// --replay --fast`) 244 finals followed such a partial and 235 of them fell back anyway (at -0.2, the fallback's own
/// limit, 388 and 332: too many confident finals sent to the beam); the fallback finals' decoder time fell from 71 to
/// 63 ms p50 (benches/turns/README.md).
const UNSURE_PARTIAL_LOGPROB: f32 = -0.4;

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

impl PartialConfig {
    /// Check every field's range; the error names the field.
    pub fn validate(&self, origin: &ConfigSource) -> Result<()> {
        check_range(origin, "partials.interval_ms", self.interval_ms, 0, 10_000)?;
        check_range(
            origin,
            "partials.first_interval_ms",
            self.first_interval_ms,
            10,
            10_000,
        )?;
        check_range(
            origin,
            "partials.min_speech_ms",
            self.min_speech_ms,
            0,
            10_000,
        )
    }
}

/// What a recognizer does with the model (from a device profile's `[decode]`, `[endpoint]`, `[partials]` and
/// `[vocabulary]` tables).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecognizerConfig {
    /// Search, guards and the no-speech gate.
    pub decode: DecodeOptions,
    /// Segmentation rules.
    pub endpoint: EndpointConfig,
    /// Partial results.
    pub partials: PartialConfig,
    /// Terms every stream is biased toward (none by default).
    pub vocabulary: VocabularyConfig,
}

impl RecognizerConfig {
    /// Check every field's range; the error names the field.
    pub fn validate(&self, origin: &ConfigSource) -> Result<()> {
        self.decode.validate(origin)?;
        self.endpoint.validate(origin)?;
        self.partials.validate(origin)?;
        self.vocabulary.validate(origin)
    }
}

/// The shared recognizer: model, detokenizer and configuration. Cheap to clone, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Recognizer {
    model: Arc<Model>,
    vocabulary: Arc<Vocabulary>,
    config: RecognizerConfig,
    bias: Option<Arc<Bias>>,
    prompter: Arc<Prompter>,
}

/// A closed segment waiting to be decoded.
#[derive(Debug, Clone, Copy)]
struct Closed {
    segment: Segment,
    decided_at: Instant,
}

/// All mutable state of one audio stream.
#[derive(Debug)]
pub struct Stream {
    coefficients: usize,
    frame_s: f64,
    epoch: Instant,
    frames: Vec<f32>,           // frames from `buffer_start` on, frame-major
    captured: Vec<Option<u64>>, // capture time (ns since epoch) of each buffered frame; None for lost audio
    buffer_start: u64,          // absolute index of frames[0]
    next_frame: u64,            // absolute index of the next frame
    endpointer: Endpointer,
    held: VecDeque<Option<f32>>, // frame energies (None: lost) the endpointer has not seen: it awaits a verdict
    endpointer_finished: bool,
    closed: VecDeque<Closed>,
    open: Option<Agreement>,
    pending: VecDeque<TranscriptEvent>,
    speculative: Option<(u64, u64, SegmentDecode)>, // (start, end, decode) of the expected final
    energy_weights: Vec<f32>,
    energy_offset: (f32, f32),
    lost_frames: u64,
    finished: bool,
    timings: Arc<TimingRecorder>,
    bias: Option<Arc<Bias>>,
    prompter: Option<Arc<Prompter>>, // the stream's own language (given, or kept after its first final)
}

impl Recognizer {
    /// A recognizer over a loaded model.
    /// A recognizer over a loaded model: reads the pack's vocabulary and checks `config` (errors name
    /// [`ConfigSource::BuiltIn`]; a profile was already checked against its file when it loaded).
    pub fn new(model: Arc<Model>, config: RecognizerConfig) -> Result<Recognizer> {
        config.validate(&ConfigSource::BuiltIn)?;
        let manifest = model.manifest();
        let vocabulary =
            Vocabulary::load(&model.folder().join(&manifest.tokenizer.file), manifest)?;
        let v = &config.vocabulary;
        let bias = if v.terms.iter().all(|t| t.trim().is_empty()) {
            None
        } else {
            let bias = Bias::new(&v.terms, v.strength, &vocabulary).map_err(|reason| {
                crate::Error::config(ConfigSource::BuiltIn, format!("vocabulary: {reason}"))
            })?;
            Some(Arc::new(bias))
        };
        let prompter = Arc::new(config.decode.prompter(manifest, &ConfigSource::BuiltIn)?);
        Ok(Recognizer {
            model,
            vocabulary: Arc::new(vocabulary),
            config,
            bias,
            prompter,
        })
    }

    /// The detokenizer.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    fn decoder<'a>(&'a self, stream: &'a Stream) -> Decoder<'a> {
        let prompter = stream.prompter.as_deref().unwrap_or(&self.prompter);
        Decoder {
            model: &self.model,
            vocabulary: &self.vocabulary,
            timings: &stream.timings,
            bias: stream.bias.as_deref(),
            prompter,
            prompt: &self.model.manifest().tokens.prompt,
            draft: &[],
            draft_unsure: false,
        }
    }

    /// The prompter for streams that speak `language` (a code, or `auto` for this recognizer's own rule) with
    /// `task`; the error says what the pack cannot do (see [`Stream::set_language`]).
    pub fn prompter_for(
        &self,
        language: &str,
        task: Task,
    ) -> std::result::Result<Arc<Prompter>, String> {
        let d = &self.config.decode;
        if language == crate::decode::AUTO && task == d.task {
            return Ok(self.prompter.clone());
        }
        Prompter::new(self.model.manifest(), language, &d.languages, task).map(Arc::new)
    }

    /// This recognizer with every stream decoded as `prompter` says (a request's language or task).
    pub fn with_language(mut self, prompter: Arc<Prompter>) -> Recognizer {
        self.prompter = prompter;
        self
    }

    /// This recognizer with a vocabulary bias every new stream starts with (see [`Bias`]; a stream can change it
    /// with [`Stream::set_vocabulary`]).
    pub fn with_vocabulary(mut self, bias: Option<Arc<Bias>>) -> Recognizer {
        self.bias = bias;
        self
    }

    /// This recognizer with another configuration: the same model, vocabulary and bias (a server's session with
    /// its own endpoint rule, or without partial results). The error names the field out of range.
    pub fn with_config(&self, config: RecognizerConfig) -> Result<Recognizer> {
        config.validate(&ConfigSource::BuiltIn)?;
        let prompter = Arc::new(
            config
                .decode
                .prompter(self.model.manifest(), &ConfigSource::BuiltIn)?,
        );
        Ok(Recognizer {
            model: self.model.clone(),
            vocabulary: self.vocabulary.clone(),
            config,
            bias: self.bias.clone(),
            prompter,
        })
    }

    /// The vocabulary bias every new stream starts with (the configuration's list, or [`Recognizer::with_vocabulary`]).
    pub fn bias(&self) -> Option<&Arc<Bias>> {
        self.bias.as_ref()
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
            held: VecDeque::new(),
            endpointer_finished: false,
            closed: VecDeque::new(),
            open: None,
            pending: VecDeque::new(),
            speculative: None,
            energy_weights: band_energy_weights(fe, self.config.endpoint.speech_band_hz),
            energy_offset: (fe.norm_scale, fe.norm_offset),
            lost_frames: 0,
            finished: false,
            timings: Arc::default(),
            bias: self.bias.clone(),
            prompter: None,
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
            if let Some(close) = stream.endpointer.pending_close() {
                if stream
                    .speculative
                    .as_ref()
                    .is_none_or(|(s, e, _)| (*s, *e) != (close.start, close.end))
                {
                    let decoded = self.decode_final(stream, close)?;
                    stream.speculative = Some((close.start, close.end, decoded));
                    continue;
                }
            }
            if stream.endpointer.awaiting_verdict() {
                self.judge_turn(stream)?;
                continue;
            }
            if self.partial_due(stream) {
                self.decode_partial(stream)?;
                continue;
            }
            return Ok(None);
        }
    }

    /// The end-of-turn verdict on the speculative final (decoded now if it is not yet): its text sounds finished or
    /// not; with no text, or in a language other than English (the rule reads English words), the silence rule
    /// decides.
    fn judge_turn(&self, stream: &mut Stream) -> Result<()> {
        let verdict = match stream.endpointer.pending_close() {
            Some(close) => {
                let decoded = match &stream.speculative {
                    Some((s, e, decoded)) if (*s, *e) == (close.start, close.end) => decoded,
                    _ => {
                        let decoded = self.decode_final(stream, close)?;
                        &stream
                            .speculative
                            .insert((close.start, close.end, decoded))
                            .2
                    }
                };
                if decoded.text.is_empty() || decoded.language.code != "en" {
                    Verdict::Undecided
                } else if sounds_unfinished(&decoded.text) {
                    Verdict::Unfinished
                } else {
                    Verdict::Complete
                }
            }
            None => Verdict::Complete, // cannot happen (the endpointer caps the post-roll at the check); the silence is long enough
        };
        let closed = stream.endpointer.judge(verdict);
        stream.close(closed);
        stream.release_held();
        Ok(())
    }

    /// Decode a segment as a final: the plain decode, as file transcription does it, with the segment's last
    /// partial as the draft.
    fn decode_final(&self, stream: &Stream, close: PendingClose) -> Result<SegmentDecode> {
        let PendingClose { start, end, .. } = close;
        let seconds = (end - start) as f64 * stream.frame_s;
        let (draft, draft_unsure) = match &stream.open {
            Some(state) if state.start == start => (state.previous(), state.unsure),
            _ => (&[][..], false),
        };
        decode_segment(
            Decoder {
                draft,
                draft_unsure,
                ..self.decoder(stream)
            },
            &stream.closing_frames(close),
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
                _ => self.decode_final(
                    stream,
                    PendingClose {
                        start: segment.start,
                        end: segment.end,
                        heard: segment.end,
                    },
                )?,
            };
            if !decoded.text.is_empty() {
                let endpoint_wait = stream
                    .captured_at(segment.last_speech)
                    .map(|t| closed.decided_at.saturating_duration_since(t));
                if self.config.decode.keep_language && stream.prompter.is_none() {
                    stream.prompter = self
                        .prompter
                        .with_language(&decoded.language.code)
                        .map(Arc::new);
                }
                stream.pending.push_back(TranscriptEvent::Final(Transcript {
                    text: decoded.text,
                    start_s: segment.start as f64 * stream.frame_s,
                    end_s: segment.end as f64 * stream.frame_s,
                    tokens: decoded.hypothesis.tokens.clone(),
                    language: decoded.language,
                    no_speech_prob: decoded.hypothesis.no_speech_prob,
                    avg_logprob: decoded.hypothesis.avg_logprob(),
                    guard: decoded.guard,
                    beam_fallback: decoded.beam_fallback,
                    window_fallback: decoded.window_fallback,
                    loop_cut: decoded.loop_cut,
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
                decided_s: segment.decided as f64 * stream.frame_s,
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
        // In the silence after speech a partial would repeat the last one and delay the speculative final.
        stream.endpointer.trailing_silence_frames() < frames(PARTIAL_SILENCE_MS)
            && stream.next_frame.saturating_sub(onset) >= frames(p.min_speech_ms)
            && stream.next_frame.saturating_sub(decoded_to) >= frames(interval)
    }

    fn decode_partial(&self, stream: &mut Stream) -> Result<()> {
        let Some(start) = stream.endpointer.open_segment_start() else {
            return Ok(());
        };
        let end = stream.next_frame;
        let state = match stream.open.take() {
            Some(state) if state.start == start => state,
            _ => Agreement::new(start),
        };
        let decoded = decode_segment(
            Decoder {
                draft: state.tentative(),
                ..self.decoder(stream)
            },
            stream.segment_frames(start, end),
            ((end - start) as f64 * stream.frame_s) as f32,
            &self.config.decode,
            Prefix::Forced(state.committed()),
            false,
        );
        let state = stream.open.insert(state);
        state.decoded_to = end;
        let decoded = decoded?;
        if decoded.guard.is_some() {
            return Ok(()); // a runaway on partial audio: skip this partial (the next one or the final will do)
        }
        if decoded.text.is_empty() {
            if !state.any_text {
                let dropped = stream.endpointer.no_text(end);
                stream.close(dropped);
            }
            return Ok(());
        }
        state.any_text = true;
        state.unsure = decoded
            .hypothesis
            .avg_logprob_after(state.committed().len())
            < UNSURE_PARTIAL_LOGPROB;
        let tokens = decoded.hypothesis.tokens;
        let committed = state.update(&tokens, &self.vocabulary);
        let first_partial_latency = if std::mem::replace(&mut state.first_partial_sent, true) {
            None
        } else {
            stream
                .endpointer
                .open_segment_onset()
                .and_then(|o| stream.captured_at(o))
                .map(|t| t.elapsed())
        };
        let decoder = self.decoder(stream);
        let event = TranscriptEvent::Partial(Partial {
            committed: decoder
                .detokenize(&tokens[..committed])
                .trim_start()
                .to_string(),
            tentative: decoder.detokenize(&tokens[committed..]),
            start_s: start as f64 * stream.frame_s,
            end_s: end as f64 * stream.frame_s,
            first_partial_latency,
            compute: decoded.encoder_time + decoded.decoder_time,
        });
        stream.pending.push_back(event);
        Ok(())
    }
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
            return Err(Error::FrameSize {
                got: frame.values().len(),
                expected: self.coefficients,
            });
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
        self.push_frame(frame.values(), Some(frame.captured_ns));
        Ok(())
    }

    /// Add MFCC frames (frame-major, a whole number of frames) captured now.
    pub fn accept_frames(&mut self, frames: &[f32]) -> Result<()> {
        self.check_open()?;
        if !frames.len().is_multiple_of(self.coefficients) {
            return Err(Error::FrameSize {
                got: frames.len() % self.coefficients,
                expected: self.coefficients,
            });
        }
        let now = Some(self.now_ns());
        for frame in frames.chunks_exact(self.coefficients) {
            self.push_frame(frame, now);
        }
        Ok(())
    }

    /// No more input: close the open segment (once the endpointer has seen every frame).
    pub fn input_finished(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        self.release_held();
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
        self.finished
            && self.endpointer_finished
            && self.closed.is_empty()
            && self.pending.is_empty()
    }

    /// Decode this stream in the language of `prompter` (from [`Recognizer::prompter_for`]), or by the
    /// recognizer's rule (`None`); it applies from the next decode on.
    pub fn set_language(&mut self, prompter: Option<Arc<Prompter>>) {
        self.prompter = prompter;
    }

    /// Bias this stream's decoding toward a list of terms (names, jargon), or stop biasing (`None`); it applies from
    /// the next decode on. Build the list with [`Bias::new`] against the recognizer's [`Recognizer::vocabulary`].
    pub fn set_vocabulary(&mut self, bias: Option<Arc<Bias>>) {
        self.bias = bias;
    }

    /// This stream's per-stage timing recorder (off until switched on; the benchmark shares it with its replay
    /// thread for the capture-side times).
    pub fn timings(&self) -> &Arc<TimingRecorder> {
        &self.timings
    }

    fn check_open(&self) -> Result<()> {
        if self.finished {
            return Err(Error::StreamFinished);
        }
        Ok(())
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn captured_at(&self, frame: u64) -> Option<Instant> {
        let i = usize::try_from(frame.checked_sub(self.buffer_start)?).ok()?;
        let ns = (*self.captured.get(i)?)?;
        Some(self.epoch + Duration::from_nanos(ns))
    }

    fn push_frame(&mut self, frame: &[f32], captured_ns: Option<u64>) {
        let (scale, offset) = self.energy_offset;
        let mean: f32 = frame
            .iter()
            .zip(&self.energy_weights)
            .map(|(a, b)| a * b)
            .sum();
        self.frames.extend_from_slice(frame);
        self.captured.push(captured_ns);
        self.next_frame += 1;
        self.feed_endpointer(Some(mean * scale - offset));
        self.trim();
    }

    fn push_lost_frame(&mut self) {
        self.frames
            .extend(std::iter::repeat_n(0.0, self.coefficients));
        self.captured.push(None);
        self.next_frame += 1;
        self.lost_frames += 1;
        self.feed_endpointer(None);
        self.trim();
    }

    /// One frame's energy (None: lost audio) to the endpointer, or held while it awaits an end-of-turn verdict.
    fn feed_endpointer(&mut self, energy: Option<f32>) {
        if self.endpointer.awaiting_verdict() || !self.held.is_empty() {
            self.held.push_back(energy);
        } else {
            self.step_endpointer(energy);
        }
    }

    fn step_endpointer(&mut self, energy: Option<f32>) {
        let closed = match energy {
            Some(energy) => self.endpointer.push(energy),
            None => self.endpointer.push_lost(),
        };
        self.close(closed);
    }

    fn close(&mut self, segment: Option<Segment>) {
        if let Some(segment) = segment {
            self.closed.push_back(Closed {
                segment,
                decided_at: Instant::now(),
            });
        }
    }

    /// After a verdict: the held frames to the endpointer (until it stops for the next verdict), then, at the end of
    /// input, close the open segment.
    fn release_held(&mut self) {
        while !self.endpointer.awaiting_verdict() {
            let Some(energy) = self.held.pop_front() else {
                break;
            };
            self.step_endpointer(energy);
        }
        if self.finished
            && self.held.is_empty()
            && !self.endpointer.awaiting_verdict()
            && !std::mem::replace(&mut self.endpointer_finished, true)
        {
            let last = self.endpointer.finish();
            self.close(last);
        }
    }

    fn segment_frames(&self, start: u64, end: u64) -> &[f32] {
        let from = (start.saturating_sub(self.buffer_start) as usize) * self.coefficients;
        let to = (end.saturating_sub(self.buffer_start) as usize) * self.coefficients;
        &self.frames[from.min(self.frames.len())..to.min(self.frames.len())]
    }

    /// The frames of a closing segment: those heard, then the rest of its post-roll as a copy of the frames just
    /// before (see [`PendingClose::heard`]).
    fn closing_frames(&self, close: PendingClose) -> Cow<'_, [f32]> {
        let heard = self.segment_frames(close.start, close.heard);
        let missing = (close.end - close.heard) as usize * self.coefficients;
        if missing == 0 || heard.is_empty() {
            return Cow::Borrowed(heard);
        }
        let mut frames = Vec::with_capacity(heard.len() + missing);
        frames.extend_from_slice(heard);
        let copied = &heard[heard.len().saturating_sub(missing)..];
        frames.extend(copied.iter().cycle().take(missing));
        Cow::Owned(frames)
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
