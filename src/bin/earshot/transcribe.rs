//! `earshot transcribe`: WAV files to text, JSON, SRT or WebVTT, on standard output or one file each in a folder.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use earshot::sink::{render, write_atomic, Format};
use earshot::{transcribe_file, Error, FileFailure, FileTranscript, Recognizer};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{Overrides, TranscribeArgs};
use crate::{exit_code, same_file};

/// Files longer than this get a progress bar (on a terminal).
const PROGRESS_MIN_S: f64 = 30.0;

pub fn run(args: TranscribeArgs) -> anyhow::Result<ExitCode> {
    let mut profile = args.common.load_profile(Overrides {
        threads: args.threads,
        beam: args.beam,
        ..Overrides::default()
    })?;
    profile.partials.interval_ms = 0; // files: finals only, no partial decodes
    args.vocabulary.apply(&mut profile)?;
    let outputs = match &args.output_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
            Some(plan_outputs(
                &args.files,
                dir,
                args.format,
                args.common.quiet,
            ))
        }
        None => None,
    };
    profile.runtime = profile.runtime.for_files();
    let model = args.common.load_model(&profile)?;
    let recognizer = Recognizer::new(model.clone(), profile.recognizer_config())?;

    let started = Instant::now();
    let mut audio_total = 0.0;
    let mut failures: Vec<anyhow::Error> = Vec::new();
    for (index, path) in args.files.iter().enumerate() {
        // Whatever was transcribed is written, even when the file failed part-way.
        let (transcript, error) = match transcribe_one(&recognizer, path, args.common.quiet) {
            Ok(t) => (Some(t), None),
            Err(FileFailure { error, partial }) => {
                (partial.map(|p| *p), Some(anyhow::Error::from(error)))
            }
        };
        let mut stdout_lost = false;
        if let Some(t) = &transcript {
            audio_total += t.audio_s;
            let target = outputs.as_ref().map(|o| o[index].as_path());
            if let Err(e) = write_output(t, args.format, target, args.files.len()) {
                say!("earshot: error: {e:#}");
                failures.push(e);
                stdout_lost = target.is_none();
            }
        }
        if let Some(e) = error {
            say!("earshot: error: {e:#}");
            failures.push(e);
        }
        // Standard output is gone (`transcribe *.wav | head -1`): the files after this one would be transcribed
        // for nothing.
        let left = args.files.len() - index - 1;
        if stdout_lost && left > 0 {
            say!(
                "earshot: stopped: standard output cannot be written, so the {left} file(s) after {} were not \
                 transcribed; use -o DIR to write one file each",
                path.display()
            );
            break;
        }
    }
    let wall = started.elapsed();
    if !args.common.quiet {
        let speed = if audio_total > 0.0 {
            format!(" (RTF {:.3})", wall.as_secs_f64() / audio_total)
        } else {
            String::new()
        };
        say!(
            "earshot: {} file(s), {} failed, {:.1} s of audio in {:.2} s{speed}, model load {:.0} ms, peak RSS {:.0} \
             MB, profile {}",
            args.files.len(),
            failures.len(),
            audio_total,
            wall.as_secs_f64(),
            model.load_time().as_secs_f64() * 1000.0,
            earshot::bench::ProcessUsage::now().peak_rss_mb,
            profile.name
        );
    }
    Ok(match failures.first() {
        None => ExitCode::SUCCESS,
        Some(e) => ExitCode::from(exit_code(e)),
    })
}

/// One output path per input in `dir`: STEM.EXT, or STEM-2.EXT, STEM-3.EXT, ... when an earlier input of the batch
/// took that name or the name is one of the inputs (a WAV named `speech.txt` is never replaced by its transcript).
/// Names keep the input's bytes (two non-UTF-8 names stay two files). A renamed output is announced.
fn plan_outputs(files: &[PathBuf], dir: &Path, format: Format, quiet: bool) -> Vec<PathBuf> {
    let inputs: Vec<std::fs::Metadata> = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .collect();
    let is_input = |candidate: &Path| {
        std::fs::metadata(candidate).is_ok_and(|m| inputs.iter().any(|input| same_file(input, &m)))
    };
    let mut taken: HashSet<PathBuf> = HashSet::new();
    let mut planned = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let stem = file
            .file_stem()
            .map(OsString::from)
            .unwrap_or_else(|| format!("input{index}").into());
        let name = |n: usize| {
            let mut name = stem.clone();
            if n > 1 {
                name.push(format!("-{n}"));
            }
            name.push(".");
            name.push(format.extension());
            dir.join(name)
        };
        let path = (1..)
            .map(name)
            .find(|p| !taken.contains(p) && !is_input(p))
            .unwrap_or_else(|| name(1));
        if path != name(1) && !quiet {
            say!(
                "earshot: {} -> {} ({} is taken by another input)",
                file.display(),
                path.display(),
                name(1).display()
            );
        }
        taken.insert(path.clone());
        planned.push(path);
    }
    planned
}

/// One file, with a progress bar on a terminal for long files.
fn transcribe_one(
    recognizer: &Recognizer,
    path: &Path,
    quiet: bool,
) -> Result<FileTranscript, FileFailure> {
    let mut bar: Option<(ProgressBar, usize)> = None;
    let name = path.display().to_string();
    let result = transcribe_file(recognizer, path, |done_s, total_s| {
        if quiet || total_s <= PROGRESS_MIN_S || !std::io::stderr().is_terminal() {
            return;
        }
        let (bar, fixed) = bar.get_or_insert_with(|| {
            // Counted in per mille of the file; shown as a percentage of its seconds.
            let suffix =
                format!(" [{{bar:20}}] {{percent:>3}}% of {total_s:.0} s audio, eta {{eta}}");
            let bar = ProgressBar::new(1000);
            bar.set_style(
                ProgressStyle::with_template(&format!("{{msg}}{suffix}"))
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            // The fixed part's width: " [" + 20 + "] " + "100% of " + the seconds + " s audio, eta " + up to "59m".
            (bar, 50 + format!("{total_s:.0}").len())
        });
        // The path is shortened from the left to what the terminal's width (read now: it may have been resized)
        // leaves, so the bar stays on one row.
        let columns = usize::from(console::Term::stderr().size().1);
        bar.set_message(crate::view::left_truncate(
            &name,
            columns.saturating_sub(*fixed + 1).max(8),
        ));
        bar.set_position((done_s / total_s * 1000.0) as u64);
    });
    if let Some((bar, _)) = bar {
        bar.finish_and_clear();
    }
    result
}

/// Write one transcript to `target` (atomically), or to standard output. When the file cannot be written, the
/// transcript goes to standard output instead, so it is not lost, and the error is returned.
fn write_output(
    t: &FileTranscript,
    format: Format,
    target: Option<&Path>,
    count: usize,
) -> anyhow::Result<()> {
    let body = render(t, format);
    let Some(path) = target else {
        return to_stdout(t, &body, count > 1 && format == Format::Text);
    };
    write_atomic(path, body.as_bytes()).or_else(|e| {
        say!(
            "earshot: error: {e}; the transcript of {} follows on standard output",
            t.file.display()
        );
        to_stdout(t, &body, format == Format::Text)?;
        Err(e.into())
    })
}

fn to_stdout(t: &FileTranscript, body: &str, header: bool) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let written = if header {
        writeln!(stdout, "== {} ==", t.file.display())
    } else {
        Ok(())
    }
    .and_then(|_| stdout.write_all(body.as_bytes()))
    .and_then(|_| stdout.flush());
    // A closed or full standard output loses the transcript: an error (exit 8), not the quiet exit of `listen | head`.
    written.map_err(|e| Error::output("standard output", e).into())
}
