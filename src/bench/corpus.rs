//! The benchmark's corpus: WAV clips with optional reference texts, and the continuous stream made from them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::audio::{MonoSource, Resampler, WavSource};
use crate::error::{Error, Result};

/// One clip of a corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// The WAV file.
    pub path: PathBuf,
    /// What is said (`None`: no reference; `Some("")`: no speech expected).
    pub reference: Option<String>,
    /// Length in seconds (from the header).
    pub seconds: f64,
    /// A pause inside an unfinished sentence, seconds from the clip's start (the manifest's `pause` column,
    /// `START-END`): a final that ends before the pause does cut the sentence there.
    pub pause: Option<(f64, f64)>,
}

/// A list of clips.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    /// Where the list came from.
    pub source: PathBuf,
    /// The clips, in order.
    pub clips: Vec<Clip>,
}

impl Corpus {
    /// Load a corpus: a folder (every `*.wav` in it, sorted, no references) or a TSV manifest. A manifest is either
    /// `path<TAB>reference` lines, or has a header line naming a `file` and a `text` column (the bundled
    /// `tests/fixtures/speech/manifest.tsv`), and optionally a `pause` column (`START-END` seconds of a pause inside
    /// the clip's sentence, or empty). Paths are relative to the manifest's folder. Every file's header is checked
    /// here, so a bad clip fails before the run.
    pub fn load(path: &Path) -> Result<Corpus> {
        let entries = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Error::io(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")))
                .collect();
            files.sort();
            files.into_iter().map(|p| (p, None, None)).collect()
        } else {
            let text = crate::text_file::read_text(path, 16 << 20, "a TSV corpus manifest")
                .map_err(|reason| Error::Audio {
                    path: path.to_path_buf(),
                    reason,
                })?;
            parse_manifest(&text, path)?
        };
        if entries.is_empty() {
            return Err(Error::Audio {
                path: path.to_path_buf(),
                reason: "the corpus has no clips: give a folder with .wav files or a TSV manifest"
                    .into(),
            });
        }
        let mut clips = Vec::with_capacity(entries.len());
        for (file, reference, pause) in entries {
            let wav = WavSource::open(&file)?;
            clips.push(Clip {
                // Opened by name, so the length is known (from the header or the file's size).
                seconds: wav.duration_frames().unwrap_or(0) as f64 / f64::from(wav.sample_rate()),
                path: file,
                reference,
                pause,
            });
        }
        Ok(Corpus {
            source: path.to_path_buf(),
            clips,
        })
    }

    /// Total audio seconds of the clips.
    pub fn seconds(&self) -> f64 {
        self.clips.iter().map(|c| c.seconds).sum()
    }
}

type Entry = (PathBuf, Option<String>, Option<(f64, f64)>);

/// A `pause` field: `START-END` in seconds, start before end; empty is no pause.
fn parse_pause(field: &str) -> std::result::Result<Option<(f64, f64)>, String> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    let span = field
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)));
    match span {
        Some((start, end))
            if start.is_finite() && end.is_finite() && 0.0 <= start && start < end =>
        {
            Ok(Some((start, end)))
        }
        _ => Err(format!(
            "pause {field:?}: expected START-END in seconds from the clip's start, e.g. 1.25-2.40"
        )),
    }
}

fn parse_manifest(text: &str, path: &Path) -> Result<Vec<Entry>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let bad = |line: usize, reason: String| Error::Audio {
        path: path.to_path_buf(),
        reason: format!("line {line}: {reason}"),
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let mut columns = (0usize, Some(1usize), None);
    let mut first = lines.next();
    if let Some((_, header)) = first {
        let names: Vec<String> = header
            .split('\t')
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
        let column = |accepted: &[&str]| names.iter().position(|n| accepted.contains(&n.as_str()));
        if let Some(file) = column(&["file", "path", "audio", "wav"]) {
            columns = (
                file,
                column(&["text", "reference", "transcript", "sentence"]),
                column(&["pause"]),
            );
            first = None;
        }
    }
    first
        .into_iter()
        .chain(lines)
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split('\t').collect();
            let file = fields
                .get(columns.0)
                .map(|f| f.trim())
                .filter(|f| !f.is_empty())
                .ok_or_else(|| bad(i + 1, "no file path: expected path<TAB>reference".into()))?;
            let reference = columns
                .1
                .and_then(|c| fields.get(c))
                .map(|r| r.trim().to_string());
            let pause = columns
                .2
                .and_then(|c| fields.get(c))
                .map_or(Ok(None), |f| parse_pause(f))
                .map_err(|reason| bad(i + 1, reason))?;
            Ok((base.join(file), reference, pause))
        })
        .collect()
}

/// Where a clip lies in the benchmark stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Index into the corpus's clips.
    pub clip: usize,
    /// Start in seconds of stream audio.
    pub start_s: f64,
    /// End of the clip's audio (the silence gap follows).
    pub end_s: f64,
}

/// The corpus as one continuous mono stream at `rate_hz`: each clip downmixed and resampled, followed by a gap of
/// silence (so utterances end the way they do at a microphone), repeated until at least `min_seconds` of audio.
pub struct CorpusStream {
    clips: Vec<PathBuf>,
    rate_hz: u32,
    gap: usize,
    min_samples: u64,
    next_clip: usize,
    buffer: Vec<f32>,
    read_at: usize,
    emitted: u64,
    spans: Arc<Mutex<Vec<Span>>>,
    scratch: Vec<f32>,
}

impl CorpusStream {
    /// A stream over `corpus` at `rate_hz` with `gap_ms` of silence after each clip.
    pub fn new(corpus: &Corpus, rate_hz: u32, gap_ms: u32, min_seconds: f64) -> CorpusStream {
        CorpusStream {
            clips: corpus.clips.iter().map(|c| c.path.clone()).collect(),
            rate_hz,
            gap: (u64::from(rate_hz) * u64::from(gap_ms) / 1000) as usize,
            min_samples: (min_seconds.max(0.0) * f64::from(rate_hz)) as u64,
            next_clip: 0,
            buffer: Vec::new(),
            read_at: 0,
            emitted: 0,
            spans: Arc::default(),
            scratch: Vec::new(),
        }
    }

    /// Spans of the clips emitted so far, shared (the stream itself moves to the replay thread).
    pub fn spans(&self) -> Arc<Mutex<Vec<Span>>> {
        self.spans.clone()
    }

    /// Load the next clip (and its gap) into the buffer; false when the stream is over.
    fn refill(&mut self) -> Result<bool> {
        let total = self.clips.len();
        if total == 0 || (self.next_clip >= total && self.emitted >= self.min_samples) {
            return Ok(false);
        }
        let index = self.next_clip % total;
        self.next_clip += 1;
        let mut wav = WavSource::open(&self.clips[index])?;
        let rate = wav.sample_rate();
        self.buffer.clear();
        self.read_at = 0;
        if rate == self.rate_hz {
            while wav.read_mono(&mut self.scratch, 1 << 16)? > 0 {
                self.buffer.extend_from_slice(&self.scratch);
            }
        } else {
            let mut resampler = Resampler::new(rate, self.rate_hz, 1024)?;
            let buffer = &mut self.buffer;
            while wav.read_mono(&mut self.scratch, 1 << 16)? > 0 {
                resampler.push(&self.scratch, |out| buffer.extend_from_slice(out))?;
            }
            resampler.finish(|out| buffer.extend_from_slice(out))?;
        }
        let start_s = self.emitted as f64 / f64::from(self.rate_hz);
        if let Ok(mut spans) = self.spans.lock() {
            spans.push(Span {
                clip: index,
                start_s,
                end_s: start_s + self.buffer.len() as f64 / f64::from(self.rate_hz),
            });
        }
        self.buffer.extend(std::iter::repeat_n(0.0, self.gap));
        Ok(true)
    }
}

impl MonoSource for CorpusStream {
    fn sample_rate(&self) -> u32 {
        self.rate_hz
    }

    fn read_mono(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize> {
        out.clear();
        if self.read_at >= self.buffer.len() && !self.refill()? {
            return Ok(0);
        }
        let end = (self.read_at + max_frames).min(self.buffer.len());
        out.extend_from_slice(&self.buffer[self.read_at..end]);
        self.read_at = end;
        self.emitted += out.len() as u64;
        Ok(out.len())
    }

    fn origin(&self) -> PathBuf {
        PathBuf::from("<benchmark corpus>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_with_a_header_or_two_columns() {
        let m = parse_manifest(
            "file\tkind\ttext\na.wav\tclean\tHello there.\n\nb.wav\tnonspeech\t\n",
            Path::new("/c/m.tsv"),
        )
        .unwrap();
        assert_eq!(
            m[0],
            (PathBuf::from("/c/a.wav"), Some("Hello there.".into()), None)
        );
        assert_eq!(m[1], (PathBuf::from("/c/b.wav"), Some(String::new()), None));
        let m = parse_manifest("x/a.wav\tTurn left.\nb.wav\n", Path::new("m.tsv")).unwrap();
        assert_eq!(
            m[0],
            (PathBuf::from("x/a.wav"), Some("Turn left.".into()), None)
        );
        assert_eq!(m[1], (PathBuf::from("b.wav"), None, None));
        let e = parse_manifest("file\ttext\n\tno file\n", Path::new("m.tsv")).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn a_pause_column_gives_spans_and_rejects_nonsense() {
        let m = parse_manifest(
            "file\ttext\tpause\na.wav\tRemind me to call.\t1.25-2.4\nb.wav\tHi.\t\n",
            Path::new("m.tsv"),
        )
        .unwrap();
        assert_eq!(m[0].2, Some((1.25, 2.4)));
        assert_eq!(m[1].2, None);
        for bad in ["2.4-1.25", "1.25", "a-b", "-1-2", "1-inf"] {
            let e = parse_manifest(&format!("file\tpause\na.wav\t{bad}\n"), Path::new("m.tsv"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("line 2") && e.contains("START-END"),
                "{bad}: {e}"
            );
        }
    }
}
