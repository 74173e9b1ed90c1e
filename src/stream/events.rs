//! What a recognizer reports: [`TranscriptEvent`] and its payloads.

use std::time::Duration;

use serde::Serialize;

use super::EndpointRule;
use crate::decode::{Guard, SpokenLanguage};

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
    /// The language it was decoded in, and the detection's probability (1 when the language was given).
    pub language: SpokenLanguage,
    /// No-speech probability of the segment.
    pub no_speech_prob: f32,
    /// Mean token log-probability.
    pub avg_logprob: f32,
    /// The guard that sent this segment to the fallback window, if any.
    pub guard: Option<Guard>,
    /// True when the greedy text had low confidence and this text comes from the fallback beam
    /// (`decode.fallback_beam_size`).
    pub beam_fallback: bool,
    /// True when the first text had low confidence and this text comes from the search in the wider window
    /// (`decode.fallback_window_frames`), which the model found more likely.
    pub window_fallback: bool,
    /// True when every search of this final looped and the text is the first copy of the loop (kept because the
    /// model heard speech: P(no speech) at most `decode.no_speech_threshold`).
    pub loop_cut: bool,
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
    /// How much stream audio the endpointer had heard when the rule fired (after `end_s`: the silence it waited).
    pub decided_s: f64,
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
