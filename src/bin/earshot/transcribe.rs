//! `earshot transcribe`: WAV files to text, JSON, SRT or WebVTT, on standard output or one file each in a folder.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use earshot::sink::{render, Format};
use earshot::{transcribe_file, FileFailure, FileTranscript, Recognizer};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{Overrides, TranscribeArgs};
use crate::exit_code;

/// Files longer than this get a progress bar (on a terminal).
const PROGRESS_MIN_S: f64 = 30.0;

pub fn run(args: TranscribeArgs) -> anyhow::Result<ExitCode> {
    let mut profile = args.common.load_profile(Overrides {
        threads: args.threads,
        beam: args.beam,
        ..Overrides::default()
    })?;
    profile.partials.interval_ms = 0; // files: finals only, no partial decodes
    let model = args.common.load_model(&profile)?;
    let recognizer = Recognizer::new(model.clone(), profile.recognizer_config())?;
    if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }

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
        if let Some(t) = &transcript {
            audio_total += t.audio_s;
            write_output(
                t,
                args.format,
                args.output_dir.as_deref(),
                index,
                args.files.len(),
            )?;
        }
        if let Some(e) = error {
            eprintln!("earshot: error: {e:#}");
            failures.push(e);
        }
    }
    let wall = started.elapsed();
    if !args.common.quiet {
        eprintln!(
            "earshot: {} file(s), {:.1} s of audio in {:.2} s (RTF {:.3}), model load {:.0} ms, peak RSS {:.0} MB, \
             profile {}",
            args.files.len(),
            audio_total,
            wall.as_secs_f64(),
            wall.as_secs_f64() / audio_total.max(1e-9),
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

/// One file, with a progress bar on a terminal for long files.
fn transcribe_one(
    recognizer: &Recognizer,
    path: &Path,
    quiet: bool,
) -> Result<FileTranscript, FileFailure> {
    let mut bar: Option<ProgressBar> = None;
    let result = transcribe_file(recognizer, path, |done_s, total_s| {
        if quiet || total_s <= PROGRESS_MIN_S || !std::io::stderr().is_terminal() {
            return;
        }
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::new((total_s * 10.0) as u64);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ds audio, eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message(path.display().to_string());
            bar
        });
        bar.set_position((done_s * 10.0) as u64);
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result
}

fn write_output(
    t: &FileTranscript,
    format: Format,
    dir: Option<&Path>,
    index: usize,
    count: usize,
) -> anyhow::Result<()> {
    let body = render(t, format);
    match dir {
        Some(dir) => {
            let stem = t
                .file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("input{index}"));
            let path = dir.join(format!("{stem}.{}", format.extension()));
            std::fs::write(&path, body)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            if count > 1 && format == Format::Text {
                writeln!(stdout, "== {} ==", t.file.display())?;
            }
            stdout.write_all(body.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(())
}
