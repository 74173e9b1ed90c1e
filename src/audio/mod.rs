//! Audio input: sources (WAV, raw PCM, microphone), the recorder, and the capture side, the one path from samples
//! to MFCC frames (downmix, resample to the model rate, MFCC) for files, stdin and the microphone alike.

mod capture;
mod frontend;
#[cfg(feature = "mic")]
pub mod mic;
mod pcm;
mod recorder;
mod resample;
mod source;
mod wav;

pub use capture::CaptureSide;
pub use frontend::{FrontEnd, SAMPLE_LIMIT};
pub use pcm::{PcmDecoder, PcmFormat};
pub use recorder::{record, RecordTap, Recorder};
pub use resample::Resampler;
pub use source::{
    spawn_replay, spawn_stdin, spawn_wav_replay, MonoSource, Pacing, ReplayOptions, SourceReport,
};
pub use wav::{WavSource, MAX_CHANNELS, MAX_RATE_HZ, MIN_RATE_HZ};

use crate::error::Error;

/// The error for a rate or channel count outside what earshot takes.
pub(crate) fn unsupported_format(rate_hz: u32, channels: usize) -> Error {
    Error::UnsupportedFormat {
        rate_hz,
        channels,
        min_rate_hz: MIN_RATE_HZ,
        max_rate_hz: MAX_RATE_HZ,
        max_channels: usize::from(MAX_CHANNELS),
    }
}
