//! The earshot command line. Exit codes: 0 success; 1 other failure; 2 bad usage; 3 unreadable or unsupported
//! input; 4 model pack problem; 5 ONNX Runtime library missing or wrong; 6 invalid profile.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use earshot::audio::WavSource;
use earshot::{Error, Model, Profile, Recognizer, Transcript, TranscriptEvent};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

const PACK: &str = "models/whisper-tiny-en-int8";

#[derive(Parser)]
#[command(
    name = "earshot",
    version,
    about = "Embedded streaming speech-to-text (Whisper tiny.en, int8, ONNX Runtime)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Transcribe WAV files (any rate 8-192 kHz, 1-8 channels, 8/16/24/32-bit int or 32-bit float).
    Transcribe(TranscribeArgs),
    /// List the device profiles in firmware-configs/.
    Profiles,
}

#[derive(clap::Args)]
struct TranscribeArgs {
    /// WAV files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write one output file per input (STEM.txt|json|srt|vtt) into this folder instead of standard output.
    #[arg(long, short = 'o')]
    output_dir: Option<PathBuf>,
    /// Beam width (1 = greedy); overrides the profile.
    #[arg(long)]
    beam: Option<usize>,
    /// ONNX Runtime intra-op threads; overrides the profile.
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
struct CommonArgs {
    /// Device profile: a name from firmware-configs/ or a path to a TOML file.
    #[arg(long, default_value = "default")]
    profile: String,
    /// Model pack folder [default: $EARSHOT_MODEL, else ./models/whisper-tiny-en-int8, else the one in the source tree].
    #[arg(long)]
    model: Option<PathBuf>,
    /// No progress bar or summary line.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Srt,
    Vtt,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Json => "json",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
        }
    }
}

fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<Error>() {
        Some(Error::Io { .. } | Error::Audio { .. } | Error::InvalidAudio(_)) => 3,
        Some(Error::ModelPack { .. }) => 4,
        Some(Error::RuntimeLibrary(_)) => 5,
        Some(Error::Config { .. }) => 6,
        _ => 1,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transcribe(args) => transcribe(args),
        Command::Profiles => profiles(),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("earshot: error: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}

fn source_tree() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn profile_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("firmware-configs"),
        source_tree().join("firmware-configs"),
    ];
    dirs.dedup_by(|a, b| a.canonicalize().ok() == b.canonicalize().ok());
    dirs
}

fn model_dir(arg: Option<PathBuf>) -> PathBuf {
    arg.or_else(|| std::env::var_os("EARSHOT_MODEL").map(PathBuf::from))
        .or_else(|| Path::new(PACK).is_dir().then(|| PathBuf::from(PACK)))
        .unwrap_or_else(|| source_tree().join(PACK))
}

fn profiles() -> anyhow::Result<ExitCode> {
    let mut found = Vec::new();
    for dir in profile_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml") {
                found.push(path);
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    found.sort();
    if found.is_empty() {
        anyhow::bail!("no profiles found in {:?}", profile_dirs());
    }
    for path in found {
        match Profile::load(&path) {
            Ok(p) => println!("{:<12} {}  ({})", p.name, p.description, path.display()),
            Err(e) => println!(
                "{:<12} INVALID: {e}",
                path.file_stem()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_default()
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One file's result.
#[derive(Serialize)]
struct FileTranscript {
    file: PathBuf,
    audio_s: f64,
    text: String,
    segments: Vec<Transcript>,
}

fn transcribe(args: TranscribeArgs) -> anyhow::Result<ExitCode> {
    let mut profile = Profile::find(&args.common.profile, &profile_dirs())?;
    if let Some(beam) = args.beam {
        profile.decode.beam_size = beam;
    }
    if let Some(threads) = args.threads {
        profile.runtime.threads = threads;
    }
    profile.validate(Path::new("command line (--beam/--threads)"))?;
    profile.partials.interval_ms = 0; // files: finals only, no partial decodes
    let model = Arc::new(Model::load_with(
        model_dir(args.common.model),
        profile.runtime_options(),
    )?);
    let recognizer = Recognizer::new(model.clone(), profile.recognizer_config())?;
    if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }

    let started = Instant::now();
    let mut audio_total = 0.0;
    let mut failures: Vec<anyhow::Error> = Vec::new();
    for (index, path) in args.files.iter().enumerate() {
        let result = transcribe_file(&recognizer, path, args.common.quiet);
        // Whatever was transcribed is written, even when the file failed part-way.
        let (transcript, error) = match result {
            Ok(t) => (Some(t), None),
            Err((partial, e)) => (partial, Some(e)),
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
            "earshot: {} file(s), {:.1} s of audio in {:.2} s (RTF {:.3}), model load {:.0} ms, profile {}",
            args.files.len(),
            audio_total,
            wall.as_secs_f64(),
            wall.as_secs_f64() / audio_total.max(1e-9),
            model.load_time().as_secs_f64() * 1000.0,
            profile.name
        );
    }
    Ok(match failures.first() {
        None => ExitCode::SUCCESS,
        Some(e) => ExitCode::from(exit_code(e)),
    })
}

type FileResult = Result<FileTranscript, (Option<FileTranscript>, anyhow::Error)>;

fn transcribe_file(recognizer: &Recognizer, path: &Path, quiet: bool) -> FileResult {
    let mut wav = WavSource::open(path).map_err(|e| (None, e.into()))?;
    let rate = wav.sample_rate();
    let total_s = wav.duration_frames() as f64 / f64::from(rate);
    let progress = (!quiet && std::io::stderr().is_terminal() && total_s > 30.0).then(|| {
        let bar = ProgressBar::new((total_s * 10.0) as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ds audio, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(path.display().to_string());
        bar
    });
    let mut stream = recognizer.create_stream();
    let mut out = FileTranscript {
        file: path.to_path_buf(),
        audio_s: 0.0,
        text: String::new(),
        segments: Vec::new(),
    };
    let mut block = Vec::with_capacity(rate as usize);
    let mut failure: Option<anyhow::Error> = None;
    let run = |stream: &mut earshot::Stream, out: &mut FileTranscript| -> anyhow::Result<()> {
        while let Some(event) = recognizer.poll(stream)? {
            if let TranscriptEvent::Final(t) = event {
                out.segments.push(t);
            }
        }
        Ok(())
    };
    loop {
        match wav.read_mono(&mut block, rate as usize) {
            Ok(0) => break,
            Ok(_) => {
                let step = stream
                    .accept_samples(&block, rate, recognizer.model())
                    .map_err(anyhow::Error::from)
                    .and_then(|_| run(&mut stream, &mut out));
                if let Err(e) = step {
                    failure = Some(e);
                    break;
                }
                if let Some(bar) = &progress {
                    bar.set_position((stream.audio_seconds() * 10.0) as u64);
                }
            }
            Err(e) => {
                failure = Some(e.into());
                break;
            }
        }
    }
    // Finish the stream even after a read error, so audio already read is transcribed.
    let flushed = stream
        .input_finished()
        .map_err(anyhow::Error::from)
        .and_then(|_| run(&mut stream, &mut out));
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    out.audio_s = stream.audio_seconds();
    out.text = out
        .segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    match failure.or(flushed.err()) {
        None => Ok(out),
        Some(e) => Err((Some(out), e)),
    }
}

fn timestamp(seconds: f64, separator: char) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn render(t: &FileTranscript, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Text => t.segments.iter().map(|s| format!("{}\n", s.text)).collect(),
        Format::Json => serde_json::to_string_pretty(t)? + "\n",
        Format::Srt => t
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "{}\n{} --> {}\n{}\n\n",
                    i + 1,
                    timestamp(s.start_s, ','),
                    timestamp(s.end_s, ','),
                    s.text
                )
            })
            .collect(),
        Format::Vtt => {
            let cues: String = t
                .segments
                .iter()
                .map(|s| {
                    format!(
                        "{} --> {}\n{}\n\n",
                        timestamp(s.start_s, '.'),
                        timestamp(s.end_s, '.'),
                        s.text
                    )
                })
                .collect();
            format!("WEBVTT\n\n{cues}")
        }
    })
}

fn write_output(
    t: &FileTranscript,
    format: Format,
    dir: Option<&Path>,
    index: usize,
    count: usize,
) -> anyhow::Result<()> {
    let body = render(t, format)?;
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
