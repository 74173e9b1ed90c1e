//! The earshot command line. Exit codes: 0 success; 1 other failure; 2 bad usage; 3 unreadable or unsupported
//! input; 4 model pack problem; 5 ONNX Runtime library missing or wrong; 6 invalid profile; 7 audio device missing,
//! busy or lost.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use earshot::audio::{
    record, spawn_stdin, spawn_wav_replay, CaptureSide, Pacing, PcmFormat, Recorder, SourceReport,
    WavSource,
};
use earshot::bench::{BenchOptions, BenchReport, Corpus};
use earshot::live::{run_recognizer, LiveStats};
use earshot::ring::frame_ring;
use earshot::{Error, Model, Profile, Recognizer, Transcript, TranscriptEvent};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

const PACK: &str = "models/whisper-tiny-en-int8";
const CORPUS: &str = "tests/fixtures/speech/manifest.tsv";

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
    /// Transcribe WAV files (any rate 8-192 kHz, 1-8 channels, 16/24/32-bit int or 32-bit float).
    Transcribe(TranscribeArgs),
    /// Transcribe live: a microphone, raw PCM on stdin, or a WAV file replayed through the live path.
    Listen(ListenArgs),
    /// Measure latency and throughput: a corpus through the live path, every stage timed.
    Bench(BenchArgs),
    /// List the audio input devices.
    Devices,
    /// List the device profiles in firmware-configs/.
    Profiles,
}

#[derive(clap::Args)]
struct ListenArgs {
    /// Input device: a substring of its name (default: the system's default input). See `earshot devices`.
    #[arg(long, conflicts_with_all = ["stdin", "replay"])]
    device: Option<String>,
    /// Read raw interleaved PCM from standard input (e.g. `arecord -f S16_LE -r 16000 | earshot listen --stdin`).
    #[arg(long, requires = "rate", conflicts_with = "replay")]
    stdin: bool,
    /// Sample rate of the standard-input PCM.
    #[arg(long)]
    rate: Option<u32>,
    /// Channels of the standard-input PCM.
    #[arg(long, default_value_t = 1)]
    channels: u16,
    /// Sample encoding of the standard-input PCM.
    #[arg(long, value_enum, default_value_t = RawFormat::S16le)]
    format: RawFormat,
    /// Replay a WAV file through the live path, in real time.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// With --replay: as fast as possible instead of real time.
    #[arg(long, requires = "replay")]
    fast: bool,
    /// One JSON event per line (partial, final, endpoint, audio_lost) instead of the terminal view.
    #[arg(long)]
    json: bool,
    /// Save exactly the captured audio (32-bit float WAV at the input rate and channels).
    #[arg(long)]
    record: Option<PathBuf>,
    /// ONNX Runtime intra-op threads; overrides the profile.
    #[arg(long)]
    threads: Option<usize>,
    /// Frames the capture ring holds (10 ms each) before it drops audio [default: the profile's capture.ring_frames].
    #[arg(long)]
    ring_frames: Option<usize>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// A folder of WAV files, or a TSV manifest (`path<TAB>reference` lines, or a header naming `file` and `text`
    /// columns) [default: the bundled corpus, tests/fixtures/speech/manifest.tsv].
    corpus: Option<PathBuf>,
    /// As fast as possible (RTF, throughput) instead of real-time replay (latencies as a microphone user sees them).
    #[arg(long)]
    fast: bool,
    /// Decode finals only (as `earshot transcribe` does), no partial results: the throughput of the final path.
    #[arg(long)]
    no_partials: bool,
    /// Silence after each clip, ms (the endpoint rules need it to close an utterance).
    #[arg(long, default_value_t = 1500)]
    gap_ms: u32,
    /// ONNX Runtime intra-op threads (encoder and decoder); overrides the profile.
    #[arg(long)]
    threads: Option<usize>,
    /// Write every raw measurement, the summary and the machine/profile/model identity as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Draw the latency distributions (SVG or PNG, by the extension).
    #[arg(long, value_name = "FILE.svg|FILE.png", value_parser = plot_path)]
    plot: Option<PathBuf>,
    /// Compare two saved runs (no new run): each headline number side by side with the ratio B/A.
    #[arg(long, num_args = 2, value_names = ["A.json", "B.json"], conflicts_with_all = ["corpus", "fast", "json", "plot", "soak"])]
    compare: Option<Vec<PathBuf>>,
    /// Soak test: repeat the corpus as fast as possible until this many minutes of audio have streamed, then report
    /// memory and latency drift between the first and last ten minutes.
    #[arg(long, value_name = "MINUTES")]
    soak: Option<f64>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RawFormat {
    S16le,
    F32le,
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
    /// ONNX Runtime intra-op threads (encoder and decoder); overrides the profile.
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
        Some(Error::Device(_)) => 7,
        _ => 1,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transcribe(args) => transcribe(args),
        Command::Listen(args) => listen(args),
        Command::Bench(args) => bench(args),
        Command::Devices => devices(),
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

/// The `--profile` profile with the command line's `--threads` (both sessions) and `--beam` applied, validated.
fn load_profile(
    common: &CommonArgs,
    threads: Option<usize>,
    beam: Option<usize>,
) -> anyhow::Result<Profile> {
    let mut profile = Profile::find(&common.profile, &profile_dirs())?;
    if let Some(threads) = threads {
        profile.runtime.threads = threads;
        profile.runtime.decoder_threads = threads;
    }
    if let Some(beam) = beam {
        profile.decode.beam_size = beam;
    }
    profile.validate(Path::new("command line (--beam/--threads)"))?;
    Ok(profile)
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
            Ok(p) => println!("{:<22} {}  ({})", p.name, p.description, path.display()),
            Err(e) => println!(
                "{:<22} INVALID: {e}",
                path.file_stem()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_default()
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn plot_path(arg: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(arg);
    let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    match extension.as_deref() {
        Some("svg" | "png") => Ok(path),
        _ => Err("give a file name ending in .svg or .png".into()),
    }
}

fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(files) = &args.compare {
        let a = BenchReport::load(&files[0])?;
        let b = BenchReport::load(&files[1])?;
        print!("{}", earshot::bench::report::compare(&a, &b));
        return Ok(ExitCode::SUCCESS);
    }
    let profile = load_profile(&args.common, args.threads, None)?;
    let soak_s = args.soak.map(|m| m * 60.0);
    if soak_s.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        anyhow::bail!(Error::Config {
            path: "command line (--soak)".into(),
            reason: "--soak takes a positive number of minutes".into(),
        });
    }
    let corpus_path = args
        .corpus
        .clone()
        .unwrap_or_else(|| source_tree().join(CORPUS));
    let corpus = Corpus::load(&corpus_path)?;
    let model = Arc::new(Model::load_with(
        model_dir(args.common.model.clone()),
        profile.runtime_options(),
    )?);
    let options = BenchOptions {
        pacing: if args.fast || soak_s.is_some() {
            Pacing::Fast
        } else {
            Pacing::RealTime
        },
        gap_ms: args.gap_ms,
        min_audio_s: soak_s.unwrap_or(0.0),
        partials: !args.no_partials,
    };
    let expected_s = soak_s
        .unwrap_or(0.0)
        .max(corpus.seconds() + corpus.clips.len() as f64 * f64::from(args.gap_ms) / 1000.0);
    let bar = (!args.common.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(expected_s.ceil() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "bench [{bar:30}] {pos}/{len} s audio, {elapsed} elapsed, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let result = earshot::bench::run(model, &profile, &corpus, &options, |audio_s| {
        if let Some(bar) = &bar {
            bar.set_position(audio_s as u64);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut report = result?;
    report.command = std::env::args().collect::<Vec<_>>().join(" ");
    print!("{}", report.table());
    if let Some(path) = &args.json {
        report.save(path)?;
        eprintln!("earshot: wrote {}", path.display());
    }
    if let Some(path) = &args.plot {
        earshot::bench::plot::draw(&report, path)?;
        eprintln!("earshot: wrote {}", path.display());
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
    let mut profile = load_profile(&args.common, args.threads, args.beam)?;
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
    if failure.is_none() && out.audio_s == 0.0 {
        failure = Some(
            Error::Audio {
                path: path.to_path_buf(),
                reason: "the file holds no audio (0 samples): nothing to transcribe".into(),
            }
            .into(),
        );
    }
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

#[cfg(feature = "mic")]
fn devices() -> anyhow::Result<ExitCode> {
    let devices = earshot::audio::mic::input_devices()?;
    if devices.is_empty() {
        anyhow::bail!(Error::Device("no input devices found".into()));
    }
    for d in devices {
        let mark = if d.is_default { "*" } else { " " };
        println!(
            "{mark} {}  ({})",
            d.name,
            d.default_config.unwrap_or_else(|| "not available".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "mic"))]
fn devices() -> anyhow::Result<ExitCode> {
    anyhow::bail!(Error::Device(
        "this earshot was built without the `mic` feature".into()
    ))
}

/// A running input: a reader thread, or a microphone.
enum Input {
    Reader(std::thread::JoinHandle<earshot::Result<SourceReport>>),
    #[cfg(feature = "mic")]
    Mic(earshot::audio::mic::LiveCapture),
}

fn listen(args: ListenArgs) -> anyhow::Result<ExitCode> {
    let profile = load_profile(&args.common, args.threads, None)?;
    let model = Arc::new(Model::load_with(
        model_dir(args.common.model.clone()),
        profile.runtime_options(),
    )?);
    let recognizer = Recognizer::new(model.clone(), profile.recognizer_config())?;
    let mut stream = recognizer.create_stream();
    let epoch = stream.epoch();
    let (producer, mut consumer) =
        frame_ring(args.ring_frames.unwrap_or(profile.capture.ring_frames));
    let spec = &model.manifest().frontend;
    let stop = Arc::new(AtomicBool::new(false));
    let handler_stop = stop.clone();
    ctrlc::set_handler(move || handler_stop.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;

    let mut recorder: Option<Recorder> = None;
    let mut with_tap =
        |capture: CaptureSide, rate: u32, channels: u16| -> anyhow::Result<CaptureSide> {
            Ok(match &args.record {
                Some(path) => {
                    let (tap, rec) = record(path, rate, channels, 10.0)?;
                    recorder = Some(rec);
                    capture.with_recorder(tap)
                }
                None => capture,
            })
        };
    let (input, source_name) = if let Some(path) = &args.replay {
        let wav = WavSource::open(path)?;
        let rate = wav.sample_rate();
        let capture = with_tap(CaptureSide::new(spec, rate, 1, producer)?, rate, 1)?;
        let pacing = if args.fast {
            Pacing::Fast
        } else {
            Pacing::RealTime
        };
        (
            Input::Reader(spawn_wav_replay(wav, capture, epoch, pacing, stop.clone())?),
            path.display().to_string(),
        )
    } else if args.stdin {
        let rate = args.rate.unwrap_or(16_000);
        if !(earshot::audio::MIN_RATE_HZ..=earshot::audio::MAX_RATE_HZ).contains(&rate)
            || args.channels == 0
            || args.channels > earshot::audio::MAX_CHANNELS
        {
            anyhow::bail!(Error::InvalidAudio(format!(
                "--rate {rate} --channels {}: need 8000..=192000 Hz and 1..=8 channels",
                args.channels
            )));
        }
        let capture = with_tap(
            CaptureSide::new(spec, rate, usize::from(args.channels), producer)?,
            rate,
            args.channels,
        )?;
        let format = match args.format {
            RawFormat::S16le => PcmFormat::S16le,
            RawFormat::F32le => PcmFormat::F32le,
        };
        (
            Input::Reader(spawn_stdin(
                format,
                usize::from(args.channels),
                rate,
                capture,
                epoch,
                stop.clone(),
            )?),
            "stdin".into(),
        )
    } else {
        open_mic(
            args.device.as_deref(),
            &profile.capture,
            spec,
            producer,
            &mut with_tap,
            epoch,
        )?
    };
    if !args.common.quiet {
        eprintln!(
            "earshot: listening to {source_name} (profile {}, Ctrl-C to stop)",
            profile.name
        );
    }

    let (events_tx, events_rx) = mpsc::channel::<TranscriptEvent>();
    let thread_recognizer = recognizer.clone();
    let worker = std::thread::Builder::new()
        .name("earshot-recognizer".into())
        .spawn(move || {
            let stats = run_recognizer(&thread_recognizer, &mut stream, &mut consumer, |e| {
                let _ = events_tx.send(e);
            });
            (stats, stream.audio_seconds())
        })?;

    let mut view = View::new(args.json);
    #[cfg_attr(not(feature = "mic"), allow(unused_mut))]
    let mut device_failure: Option<String> = None;
    #[cfg_attr(not(feature = "mic"), allow(unused_mut))]
    let mut input = Some(input);
    loop {
        match events_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(event) => view.show(&event)?,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        #[cfg(feature = "mic")]
        if let Some(Input::Mic(capture)) = &input {
            if let Some(e) = capture.error() {
                device_failure = Some(e);
                stop.store(true, Ordering::SeqCst);
            }
        }
        if stop.load(Ordering::SeqCst) {
            // Stopping the input ends the capture side's stream; the recognizer then flushes the last final.
            #[cfg(feature = "mic")]
            if let Some(Input::Mic(capture)) = input.take() {
                capture.stop();
            }
        }
    }
    view.end_line()?;
    let (live, audio_s) = worker
        .join()
        .map_err(|_| anyhow::anyhow!("the recognizer thread panicked"))?;
    let source_result = match input {
        Some(Input::Reader(handle)) => handle
            .join()
            .map_err(|_| anyhow::anyhow!("the input thread panicked"))?
            .map(Some),
        _ => Ok(None),
    };
    let recorded = recorder.map(|r| (r.path().to_path_buf(), r.dropped_samples(), r.finish()));
    let stats: LiveStats = live?;
    if !args.common.quiet {
        eprintln!(
            "earshot: {audio_s:.1} s of audio, {} final(s), {} frame(s) dropped by the ring, {} oldest frame(s) \
             dropped to catch up",
            view.finals, stats.overruns, stats.dropped_oldest
        );
    }
    if let Some((path, dropped, result)) = recorded {
        let samples = result?;
        if !args.common.quiet {
            eprintln!(
                "earshot: recorded {samples} samples to {} ({dropped} dropped)",
                path.display()
            );
        }
    }
    if let Some(report) = source_result? {
        if report.trailing_bytes > 0 {
            eprintln!("earshot: warning: standard input ended mid-frame; the last {} byte(s) were ignored", report.trailing_bytes);
        }
    }
    if let Some(reason) = device_failure {
        return Err(Error::Device(format!(
            "input lost mid-stream: {reason} (what was heard so far is above)"
        ))
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "mic")]
fn open_mic(
    device: Option<&str>,
    capture: &earshot::config::CaptureConfig,
    spec: &earshot::model::FrontendSpec,
    producer: earshot::ring::FrameProducer,
    with_tap: &mut dyn FnMut(CaptureSide, u32, u16) -> anyhow::Result<CaptureSide>,
    epoch: Instant,
) -> anyhow::Result<(Input, String)> {
    let mic =
        earshot::audio::mic::Microphone::open(device, capture.sample_rate_hz, capture.period_ms)?;
    let (rate, channels, name, format) = (
        mic.sample_rate(),
        mic.channels(),
        mic.name(),
        mic.sample_format(),
    );
    let capture = with_tap(
        CaptureSide::new(spec, rate, usize::from(channels), producer)?,
        rate,
        channels,
    )?;
    Ok((
        Input::Mic(mic.start(capture, epoch)?),
        format!("{name} ({channels} ch, {rate} Hz, {format})"),
    ))
}

#[cfg(not(feature = "mic"))]
fn open_mic(
    _: Option<&str>,
    _: &earshot::config::CaptureConfig,
    _: &earshot::model::FrontendSpec,
    _: earshot::ring::FrameProducer,
    _: &mut dyn FnMut(CaptureSide, u32, u16) -> anyhow::Result<CaptureSide>,
    _: Instant,
) -> anyhow::Result<(Input, String)> {
    anyhow::bail!(Error::Device(
        "built without the `mic` feature: use --stdin or --replay".into()
    ))
}

/// Prints events: a rewritten partial line and committed finals on a terminal, finals only when piped, or JSON lines.
struct View {
    json: bool,
    terminal: bool,
    partial_shown: bool,
    finals: usize,
}

impl View {
    fn new(json: bool) -> View {
        View {
            json,
            terminal: std::io::stdout().is_terminal(),
            partial_shown: false,
            finals: 0,
        }
    }

    fn show(&mut self, event: &TranscriptEvent) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if matches!(event, TranscriptEvent::Final(_)) {
            self.finals += 1;
        }
        if self.json {
            writeln!(out, "{}", serde_json::to_string(event)?)?;
            return Ok(out.flush()?);
        }
        match event {
            TranscriptEvent::Partial(p) if self.terminal => {
                write!(out, "\r\x1b[2K{}\x1b[2m{}\x1b[0m", p.committed, p.tentative)?;
                self.partial_shown = true;
            }
            TranscriptEvent::Final(t) => {
                if self.partial_shown {
                    write!(out, "\r\x1b[2K")?;
                    self.partial_shown = false;
                }
                writeln!(out, "{}", t.text)?;
            }
            TranscriptEvent::AudioLost(lost) => {
                eprintln!(
                    "earshot: warning: audio from {:.2} s to {:.2} s was lost (the recognizer fell behind; {} frame(s) \
                     lost so far): try a lighter profile or more --threads",
                    lost.start_s, lost.end_s, lost.lost_frames
                );
            }
            _ => {}
        }
        Ok(out.flush()?)
    }

    fn end_line(&mut self) -> anyhow::Result<()> {
        if self.partial_shown {
            writeln!(std::io::stdout())?;
            self.partial_shown = false;
        }
        Ok(())
    }
}
