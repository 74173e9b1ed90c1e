//! Writers for transcripts: plain text, JSON, SRT and WebVTT for files, JSON lines for live events.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::stream::{FileTranscript, TranscriptEvent};

/// Write `bytes` to `path` atomically: into a temporary file in the same folder, flushed to disk, then renamed over
/// `path`. A kill or a full disk mid-write leaves the earlier file intact (and no temporary file); concurrent writers
/// never interleave (the last rename wins).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file, _| {
        file.write_all(bytes).map_err(|e| Error::output(path, e))
    })
}

/// [`write_atomic`] for a writer that needs a file name (`write` gets the open temporary file and its path, which
/// ends in `path`'s extension).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File, &Path) -> Result<()>,
) -> Result<()> {
    let fail = |e: std::io::Error| Error::output(path, e);
    let mut file = temporary_beside(path).map_err(fail)?;
    let temporary = file.path().to_path_buf();
    write(file.as_file_mut(), &temporary)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Check, before a long run, that `path` can be written: not a folder, and its folder exists and takes a new file.
pub fn check_writable(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::output(path, "it is a folder: give a file name"));
    }
    temporary_beside(path)
        .map(drop)
        .map_err(|e| Error::output(path, e))
}

fn temporary_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let suffix = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut builder = tempfile::Builder::new();
    builder.prefix(".earshot-").suffix(&suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644)); // as a plain create would (umask applies)
    }
    builder.tempfile_in(dir)
}

/// An output format for a file's transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[non_exhaustive]
pub enum Format {
    /// One line per segment.
    Text,
    /// The whole [`FileTranscript`]: segments with start/end seconds, tokens and timings.
    Json,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
}

impl Format {
    /// The file extension for this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Json => "json",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
        }
    }
}

/// `HH:MM:SS<separator>mmm`.
fn timestamp(seconds: f64, separator: char) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Render a file's transcript in `format`.
pub fn render(t: &FileTranscript, format: Format) -> String {
    let cue = |start: f64, end: f64, separator: char| {
        format!(
            "{} --> {}",
            timestamp(start, separator),
            timestamp(end, separator)
        )
    };
    match format {
        Format::Text => t.segments.iter().map(|s| format!("{}\n", s.text)).collect(),
        // Serializing plain structs of strings and numbers cannot fail; non-finite numbers become null.
        Format::Json => serde_json::to_string_pretty(t).unwrap_or_default() + "\n",
        Format::Srt => t
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "{}\n{}\n{}\n\n",
                    i + 1,
                    cue(s.start_s, s.end_s, ','),
                    s.text
                )
            })
            .collect(),
        Format::Vtt => {
            let cues: String = t
                .segments
                .iter()
                .map(|s| format!("{}\n{}\n\n", cue(s.start_s, s.end_s, '.'), s.text))
                .collect();
            format!("WEBVTT\n\n{cues}")
        }
    }
}

/// One live event as a JSON line (no trailing newline): `{"event":"partial"|"final"|"endpoint"|"audio_lost",...}`.
pub fn json_line(event: &TranscriptEvent) -> String {
    serde_json::to_string(event).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::timestamp;

    #[test]
    fn timestamps_carry_hours_and_milliseconds() {
        assert_eq!(timestamp(3723.4567, ','), "01:02:03,457");
        assert_eq!(timestamp(0.0, '.'), "00:00:00.000");
    }
}
