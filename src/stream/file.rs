//! Transcribing a WAV file on the caller's thread through exactly what `listen` runs: the capture side, the frame
//! ring and a stream, in a [`PushStream`] (the reader and the recognizer take turns, so nothing is dropped and
//! nothing waits).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{PushStream, Recognizer, Transcript, TranscriptEvent};
use crate::audio::WavSource;
use crate::error::Error;

/// One file's transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileTranscript {
    /// The file.
    pub file: PathBuf,
    /// Seconds of audio transcribed.
    pub audio_s: f64,
    /// The segments' texts joined by spaces.
    pub text: String,
    /// Every final, in order.
    pub segments: Vec<Transcript>,
}

/// A file that failed: the error, and the transcript of the audio before the failure (`None` when the file could
/// not be opened at all). Nothing already transcribed is lost.
#[derive(Debug)]
pub struct FileFailure {
    /// What went wrong.
    pub error: Error,
    /// What was transcribed before it went wrong.
    pub partial: Option<Box<FileTranscript>>,
}

impl From<Error> for FileFailure {
    fn from(error: Error) -> Self {
        FileFailure {
            error,
            partial: None,
        }
    }
}

/// Seconds of audio read per block.
const BLOCK_S: u32 = 1;

/// Transcribe one WAV file (finals only when the recognizer's partials are off, as `earshot transcribe` runs it).
/// `progress` is called after every block with (seconds read, seconds in the file).
pub fn transcribe_file(
    recognizer: &Recognizer,
    path: &Path,
    progress: impl FnMut(f64, f64),
) -> std::result::Result<FileTranscript, FileFailure> {
    transcribe_wav(recognizer, WavSource::open(path)?, progress, |_| {})
}

/// Transcribe an open WAV source (a file, or bytes in memory with [`WavSource::from_reader`]), handing each final to
/// `on_final` as soon as it is decoded; otherwise as [`transcribe_file`].
pub fn transcribe_wav(
    recognizer: &Recognizer,
    mut wav: WavSource,
    mut progress: impl FnMut(f64, f64),
    mut on_final: impl FnMut(&Transcript),
) -> std::result::Result<FileTranscript, FileFailure> {
    let path = wav.path().to_path_buf();
    let rate = wav.sample_rate();
    let total_s = wav.duration_frames().unwrap_or(0) as f64 / f64::from(rate);
    let block_frames = (rate * BLOCK_S) as usize;
    let mut stream = PushStream::new(recognizer, rate, 1)?;
    let mut out = FileTranscript {
        file: path.clone(),
        audio_s: 0.0,
        text: String::new(),
        segments: Vec::new(),
    };
    let mut keep = |event: TranscriptEvent, segments: &mut Vec<Transcript>| {
        if let TranscriptEvent::Final(t) = event {
            on_final(&t);
            segments.push(t);
        }
    };
    let mut block = Vec::with_capacity(block_frames);
    let mut failure = None;
    loop {
        let step = wav.read_mono(&mut block, block_frames).and_then(|n| {
            stream.push(&block, |e| keep(e, &mut out.segments))?;
            Ok(n)
        });
        match step {
            Ok(0) => break,
            Ok(_) => progress(stream.audio_seconds(), total_s),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    // Finish the stream even after a read error, so audio already read is transcribed.
    let flushed = stream.finish(|e| keep(e, &mut out.segments));
    out.audio_s = stream.audio_seconds();
    if failure.is_none() && out.audio_s == 0.0 {
        failure = Some(Error::Audio {
            path,
            reason: "the file holds no audio (0 samples): nothing to transcribe".into(),
        });
    }
    out.text = out
        .segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    match failure.or(flushed.err()) {
        None => Ok(out),
        Some(error) => Err(FileFailure {
            error,
            partial: Some(Box::new(out)),
        }),
    }
}
