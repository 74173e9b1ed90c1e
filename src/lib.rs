//! earshot: embedded streaming speech-to-text.
//!
//! Audio (microphone, WAV file or raw PCM) becomes MFCC frames on the capture side ([`audio::FrontEnd`]); frames
//! go into a per-stream [`Stream`]; its endpointer closes speech segments; the shared [`Recognizer`] decodes each
//! segment with an int8 Whisper tiny.en encoder-decoder on ONNX Runtime ([`Model`]) and returns
//! [`TranscriptEvent`]s.
//!
//! ```
//! use std::sync::Arc;
//! use earshot::{audio::WavSource, Model, Recognizer, RecognizerConfig, TranscriptEvent};
//!
//! # fn main() -> earshot::Result<()> {
//! let model = Arc::new(Model::load("models/whisper-tiny-en-int8")?);
//! let recognizer = Recognizer::new(model.clone(), RecognizerConfig::default())?;
//! let mut stream = recognizer.create_stream();
//! let mut wav = WavSource::open("tests/fixtures/speech/long01.wav")?;
//! let mut block = Vec::new();
//! while wav.read_mono(&mut block, 4096)? > 0 {
//!     stream.accept_samples(&block, wav.sample_rate(), &model)?;
//! }
//! stream.input_finished()?;
//! while let Some(TranscriptEvent::Final(t)) = recognizer.poll(&mut stream)? {
//!     println!("[{:.2}-{:.2}] {}", t.start_s, t.end_s, t.text);
//! }
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod audio;
pub mod config;
pub mod decode;
pub mod error;
pub mod features;
pub mod live;
pub mod model;
pub mod ring;
pub mod stream;
pub mod wer;

pub use config::Profile;
pub use error::{Error, Result};
pub use model::Model;
pub use stream::{
    Endpoint, Partial, Recognizer, RecognizerConfig, Stream, Transcript, TranscriptEvent,
};
