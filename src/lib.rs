//! earshot: embedded streaming speech-to-text.
//!
//! Audio (microphone, WAV file or raw PCM) becomes MFCC frames on the capture side ([`audio::CaptureSide`]: downmix,
//! resample, MFCC, no allocation); frames cross a lock-free ring ([`ring::frame_ring`]) to the recognizer thread; the
//! per-stream [`Stream`]'s endpointer closes speech segments; the shared [`Recognizer`] decodes them with an int8
//! Whisper tiny.en encoder-decoder on ONNX Runtime ([`Model`]) and returns [`TranscriptEvent`]s: partial results
//! while a segment is open, a final and an endpoint when it closes.
//!
//! The whole live loop, with a WAV file standing in for the microphone (`audio::mic` has the cpal version):
//!
//! ```
//! use std::sync::{atomic::AtomicBool, Arc};
//! use earshot::audio::{spawn_wav_replay, CaptureSide, Pacing, WavSource};
//! use earshot::{ring::frame_ring, run_recognizer, Model, Profile, Recognizer, TranscriptEvent};
//!
//! # fn main() -> earshot::Result<()> {
//! let profile = Profile::load("firmware-configs/default.toml".as_ref())?;
//! let model = Arc::new(Model::load_with("models/whisper-tiny-en-int8", profile.runtime)?);
//! let recognizer = Recognizer::new(model.clone(), profile.recognizer_config())?; // shared, immutable
//! let mut stream = recognizer.create_stream(); // all per-stream state
//!
//! // Capture side: in a microphone callback this is `capture.push_f32(data, captured_ns)`.
//! let (producer, mut consumer) = frame_ring(3000);
//! let wav = WavSource::open("tests/fixtures/speech/q02.wav")?;
//! let capture = CaptureSide::new(&model.manifest().frontend, wav.sample_rate(), 1, producer)?;
//! let reader = spawn_wav_replay(wav, capture, stream.epoch(), Pacing::Fast, Arc::new(AtomicBool::new(false)))?;
//!
//! // Recognizer side: pop frames, decode, report.
//! let mut finals = Vec::new();
//! run_recognizer(&recognizer, &mut stream, &mut consumer, |event| match event {
//!     TranscriptEvent::Partial(p) => println!("... {}{}", p.committed, p.tentative),
//!     TranscriptEvent::Final(t) => finals.push(t.text),
//!     _ => {}
//! })?;
//! reader.join().map_err(|_| earshot::Error::ThreadPanicked("reader"))??;
//! assert_eq!(finals, ["How far is it from here to the train station?"]);
//! # Ok(())
//! # }
//! ```
//!
//! For files, [`transcribe_file`] runs the same capture side, ring and stream on the caller's thread; [`sink`]
//! renders the result as text, JSON, SRT or WebVTT.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod audio;
#[cfg(feature = "bench")]
pub mod bench;
mod config;
mod decode;
mod error;
pub mod features;
pub mod model;
pub mod ring;
#[cfg(feature = "serve")]
pub mod serve;
pub mod sink;
mod stream;
mod text_file;
mod timings;

pub use config::{CaptureConfig, Profile};
pub use decode::{
    language_name, Bias, DecodeOptions, Guard, Hypothesis, Prompter, SegmentDecode, SpokenLanguage,
    Task, Vocabulary, VocabularyConfig,
};
pub use error::{ConfigSource, Error, Result};
pub use model::{Model, RuntimeOptions};
pub use stream::{
    run_recognizer, transcribe_file, transcribe_wav, AudioLost, Endpoint, EndpointConfig,
    EndpointRule, FileFailure, FileTranscript, LiveStats, Partial, PartialConfig, PushStream,
    Recognizer, RecognizerConfig, Stream, Transcript, TranscriptEvent, TurnDetector, Verdict,
};
pub use timings::{StageTimes, TimingRecorder};

/// The Rust examples of README.md and docs/LIBRARY.md, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[doc = include_str!("../docs/LIBRARY.md")]
struct DocumentedExamples;

/// Low-level pieces for earshot's own Criterion benches and parity tests (one encoder call, one decoder step, the
/// token search on an encoded segment). Not part of the stable API: decode through [`Recognizer`].
#[doc(hidden)]
pub mod internals {
    pub use crate::decode::{decode_segment, search, Decoder, Prefix};
    pub use crate::model::{AudioContext, KvCache};
}
