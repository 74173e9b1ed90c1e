//! Command-line arguments (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use earshot::sink::Format;

#[derive(Parser)]
#[command(
    name = "earshot",
    version,
    about = "Embedded streaming speech-to-text (Whisper int8 on ONNX Runtime)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Transcribe WAV files (any rate 8-192 kHz, 1-8 channels, 16/24/32-bit int or 32-bit float).
    Transcribe(TranscribeArgs),
    /// Transcribe live: a microphone, raw PCM on stdin, or a WAV file replayed through the live path.
    Listen(ListenArgs),
    /// Measure latency and throughput: a corpus through the live path, every stage timed.
    Bench(BenchArgs),
    /// Serve speech-to-text over the Wyoming protocol (Home Assistant, voice satellites).
    Serve(ServeArgs),
    /// List the audio input devices.
    Devices,
    /// List the device profiles in firmware-configs/.
    Profiles,
    /// List the model packs in models/: size, languages, measured accuracy and speed.
    Models,
}

#[derive(clap::Args)]
pub struct ListenArgs {
    /// Input device: a substring of its name (default: the system's default input). See `earshot devices`.
    #[arg(long, conflicts_with_all = ["stdin", "replay"])]
    pub device: Option<String>,
    /// Read raw interleaved PCM from standard input (e.g. `arecord -f S16_LE -r 16000 | earshot listen --stdin`).
    #[arg(long, requires = "rate", conflicts_with = "replay")]
    pub stdin: bool,
    /// Sample rate of the standard-input PCM, Hz.
    #[arg(long, conflicts_with_all = ["replay", "device"], value_parser = clap::value_parser!(u32).range(8_000..=192_000))]
    pub rate: Option<u32>,
    /// Channels of the standard-input PCM.
    #[arg(long, default_value_t = 1, conflicts_with_all = ["replay", "device"], value_parser = clap::value_parser!(u16).range(1..=8))]
    pub channels: u16,
    /// Sample encoding of the standard-input PCM.
    #[arg(long, value_enum, default_value_t = RawFormat::S16le, conflicts_with_all = ["replay", "device"])]
    pub format: RawFormat,
    /// Replay a WAV file through the live path, in real time.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// With --replay: as fast as possible instead of real time.
    #[arg(long, requires = "replay")]
    pub fast: bool,
    /// One JSON event per line (partial, final, endpoint, audio_lost) instead of the terminal view.
    #[arg(long)]
    pub json: bool,
    /// Save exactly the captured audio (32-bit float WAV at the input rate and channels). An existing file that is not
    /// empty is kept unless --force; the file being read is never recorded onto.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// With --record: replace an existing file.
    #[arg(long, requires = "record")]
    pub force: bool,
    /// ONNX Runtime intra-op threads; overrides the profile.
    #[arg(long, value_parser = ranged_usize::<1, 64>)]
    pub threads: Option<usize>,
    /// Frames the capture ring holds (10 ms each) before it drops audio [default: the profile's capture.ring_frames].
    #[arg(long, value_parser = ranged_usize::<100, 1_000_000>)]
    pub ring_frames: Option<usize>,
    #[command(flatten)]
    pub vocabulary: VocabularyArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// A folder of WAV files, or a TSV manifest (`path<TAB>reference` lines, or a header naming the file column
    /// `file`/`path`/`audio` and the reference column `text`/`reference`/`transcript`) [default: the bundled corpus,
    /// tests/fixtures/speech/manifest.tsv].
    pub corpus: Option<PathBuf>,
    /// As fast as possible (RTF, throughput) instead of real-time replay (latencies as a microphone user sees them).
    #[arg(long)]
    pub fast: bool,
    /// Decode finals only (as `earshot transcribe` does), no partial results: the throughput of the final path.
    #[arg(long)]
    pub no_partials: bool,
    /// Silence after each clip, ms (the endpoint rules need it to close an utterance).
    #[arg(long, default_value_t = 1500, value_parser = clap::value_parser!(u32).range(0..=60_000))]
    pub gap_ms: u32,
    /// ONNX Runtime intra-op threads (encoder and decoder); overrides the profile.
    #[arg(long, value_parser = ranged_usize::<1, 64>)]
    pub threads: Option<usize>,
    /// Write every raw measurement, the summary and the machine/profile/model identity as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Draw the latency distributions (SVG or PNG, by the extension).
    #[arg(long, value_name = "FILE.svg|FILE.png", value_parser = plot_path)]
    pub plot: Option<PathBuf>,
    /// Compare two saved runs (no new run): each headline number side by side with the ratio B/A.
    #[arg(long, num_args = 2, value_names = ["A.json", "B.json"], conflicts_with_all = ["corpus", "fast", "json", "plot", "soak"])]
    pub compare: Option<Vec<PathBuf>>,
    /// Soak test: repeat the corpus as fast as possible until this many minutes of audio have streamed, then report
    /// memory and latency drift between the first and last ten minutes (the two halves of a shorter run).
    #[arg(long, value_name = "MINUTES", value_parser = soak_minutes, allow_negative_numbers = true)]
    pub soak: Option<f64>,
    #[command(flatten)]
    pub vocabulary: VocabularyArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Wyoming: where to listen, tcp://HOST:PORT or unix://PATH [default: tcp://127.0.0.1:10300 when --http is not
    /// given]. tcp://0.0.0.0:PORT exposes the server to the network, and the Wyoming protocol has no authentication:
    /// anyone who can reach the port can use it.
    #[arg(long)]
    pub uri: Option<String>,
    /// OpenAI API (HTTP and the Realtime WebSocket): where to listen, HOST:PORT (e.g. 127.0.0.1:8000; port 0 picks a
    /// free one). Beside Wyoming when --uri is given too.
    #[arg(long, value_name = "HOST:PORT")]
    pub http: Option<String>,
    /// Require `Authorization: Bearer KEY` on every HTTP route but /health.
    #[arg(long, env = "EARSHOT_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Sessions served at once over all protocols; one more gets `busy` (Wyoming's `error` event, HTTP 503).
    #[arg(long, default_value_t = 8, value_parser = ranged_usize::<1, 256>)]
    pub max_connections: usize,
    /// An HTTP request body (the uploaded file) must arrive within this many seconds (then HTTP 408).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_s: u64,
    /// Close a connection that sends nothing between events for this many seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout_s: u64,
    /// A connection must send its first event within this many seconds of connecting, and finish every event within
    /// this many seconds of its first byte (a client trickling bytes cannot hold a connection).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub event_timeout_s: u64,
    /// Drop a client that does not read what the server writes for this many seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub write_timeout_s: u64,
    /// On Ctrl-C or SIGTERM, give utterances in flight this many seconds to finish (then refuse them).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub shutdown_grace_s: u64,
    /// ONNX Runtime intra-op threads (encoder and decoder); overrides the profile.
    #[arg(long, value_parser = ranged_usize::<1, 64>)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub vocabulary: VocabularyArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RawFormat {
    S16le,
    S24le,
    S32le,
    F32le,
}

#[derive(clap::Args)]
pub struct TranscribeArgs {
    /// WAV files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write one output file per input (STEM.txt|json|srt|vtt) into this folder instead of standard output.
    #[arg(long, short = 'o')]
    pub output_dir: Option<PathBuf>,
    /// Beam width (1 = greedy); overrides the profile.
    #[arg(long, value_parser = ranged_usize::<1, 16>)]
    pub beam: Option<usize>,
    #[command(flatten)]
    pub vocabulary: VocabularyArgs,
    /// ONNX Runtime intra-op threads (encoder and decoder); overrides the profile.
    #[arg(long, value_parser = ranged_usize::<1, 64>)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Names and terms to bias recognition toward.
#[derive(clap::Args)]
pub struct VocabularyArgs {
    /// Names and terms to recognise, comma-separated ("Aoife, Ecobee, PostgreSQL"); matched case-insensitively,
    /// written in this spelling.
    #[arg(long, value_name = "TERMS")]
    pub vocabulary: Option<String>,
    /// A file of terms, one per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub vocabulary_file: Option<PathBuf>,
    /// Log-probability bonus per token of a listed term, 0..=8 [default: the profile's vocabulary.strength, 5].
    #[arg(long, value_name = "BONUS", allow_negative_numbers = true)]
    pub vocabulary_strength: Option<f32>,
}

impl VocabularyArgs {
    /// Put the flags into `profile`'s `[vocabulary]`: listed terms replace the profile's, a strength replaces its
    /// strength; the result is checked (a bad list is a command-line error naming the flag).
    pub fn apply(&self, profile: &mut earshot::Profile) -> anyhow::Result<()> {
        let v = &mut profile.vocabulary;
        if self.vocabulary.is_some() || self.vocabulary_file.is_some() {
            v.terms.clear();
            if let Some(list) = &self.vocabulary {
                v.terms.extend(list.split(',').map(str::to_string));
            }
            if let Some(path) = &self.vocabulary_file {
                v.terms.extend(earshot::Bias::read_terms(path)?);
            }
            if v.terms.iter().all(|t| t.trim().is_empty()) {
                // A list was asked for: an empty one is a mistake, not "no bias".
                Err(earshot::Error::Config {
                    origin: earshot::ConfigSource::CommandLine,
                    reason: "--vocabulary: the vocabulary list holds no terms".into(),
                })?;
            }
        }
        if let Some(strength) = self.vocabulary_strength {
            v.strength = strength;
        }
        v.validate(&earshot::ConfigSource::CommandLine)?;
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct CommonArgs {
    /// Device profile: a name from firmware-configs/ or a path to a TOML file.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Model pack: a folder name under models/ (whisper-tiny-en-int8, whisper-base-int8; see `earshot models`) or a
    /// path [default: $EARSHOT_MODEL, else the profile's model, else whisper-tiny-en-int8].
    #[arg(long, value_name = "NAME|DIR")]
    pub model: Option<String>,
    /// The language spoken: a code (en, de, fr, ...) or `auto` to detect it per segment (multilingual packs)
    /// [default: the profile's decode.language, auto].
    #[arg(long, value_name = "CODE")]
    pub language: Option<String>,
    /// `transcribe` (text in the language spoken) or `translate` (English text; multilingual packs)
    /// [default: the profile's decode.task, transcribe].
    #[arg(long, value_name = "TASK")]
    pub task: Option<earshot::Task>,
    /// No progress bar or summary line.
    #[arg(long, short)]
    pub quiet: bool,
    /// How a turn ends: `text` (a finished-sounding sentence ends it after 200 ms of silence, an unfinished one
    /// waits 1.7 s) or `silence` (always 600 ms) [default: the profile's endpoint.detector].
    #[arg(long, value_enum)]
    pub end_of_turn: Option<EndOfTurn>,
    /// `text`: the silence after which the text is read and a finished sentence ends the turn
    /// [default: the profile's endpoint.turn_check_ms, 200].
    #[arg(long, value_name = "MS")]
    pub turn_check_ms: Option<u32>,
    /// `text`: the silence that ends a sentence judged unfinished (a pause up to this long is kept)
    /// [default: the profile's endpoint.incomplete_wait_ms, 1700].
    #[arg(long, value_name = "MS")]
    pub incomplete_wait_ms: Option<u32>,
    /// `silence`: the silence that ends every turn (and `text`'s wait when it cannot read a text)
    /// [default: the profile's endpoint.trailing_silence_ms, 600].
    #[arg(long, value_name = "MS")]
    pub trailing_silence_ms: Option<u32>,
}

/// `--end-of-turn` values.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EndOfTurn {
    /// Read the text after a short silence.
    Text,
    /// The silence rule alone.
    Silence,
}

/// A whole number in `LO..=HI` (clap's ranged parsers are for fixed-width integers).
fn ranged_usize<const LO: usize, const HI: usize>(arg: &str) -> Result<usize, String> {
    match arg.parse::<usize>() {
        Ok(n) if (LO..=HI).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number in {LO}..={HI}")),
    }
}

fn soak_minutes(arg: &str) -> Result<f64, String> {
    match arg.parse::<f64>() {
        Ok(m) if (0.1..=10_080.0).contains(&m) => Ok(m),
        _ => Err("expected minutes of audio, 0.1 to 10080 (a week)".into()),
    }
}

fn plot_path(arg: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(arg);
    let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    match extension.as_deref() {
        Some("svg" | "png") => Ok(path),
        _ => Err("give a file name ending in .svg or .png".into()),
    }
}

/// Where profiles are looked up by name: ./firmware-configs, then the source tree's.
pub fn profile_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("firmware-configs"),
        source_tree().join("firmware-configs"),
    ];
    dirs.dedup_by(|a, b| a.canonicalize().ok() == b.canonicalize().ok());
    dirs
}

/// The source tree earshot was built from.
pub fn source_tree() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pack used when nothing names one.
pub const DEFAULT_PACK: &str = "whisper-tiny-en-int8";

/// Where packs are looked up by name: ./models, then the source tree's.
pub fn model_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("models"), source_tree().join("models")];
    dirs.dedup_by(|a, b| a.canonicalize().ok() == b.canonicalize().ok());
    dirs
}

/// The model pack: `--model`, else `$EARSHOT_MODEL` (when set and not empty), else the profile's `model`, else
/// whisper-tiny-en-int8. A name without a `/` that is not a folder here is looked up in ./models, then in the
/// source tree's models/.
pub fn model_dir(arg: Option<&str>, profile: Option<&str>) -> PathBuf {
    let env = std::env::var("EARSHOT_MODEL")
        .ok()
        .filter(|v| !v.is_empty());
    let chosen = arg
        .map(str::to_string)
        .or(env)
        .or(profile.map(str::to_string))
        .unwrap_or_else(|| DEFAULT_PACK.to_string());
    let path = PathBuf::from(&chosen);
    if path.is_dir() || chosen.contains('/') {
        return path;
    }
    let dirs = model_dirs();
    dirs.iter()
        .map(|d| d.join(&chosen))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| dirs[dirs.len() - 1].join(&chosen))
}

/// Profile values a command line overrides.
#[derive(Default)]
pub struct Overrides {
    /// `--threads`: both sessions.
    pub threads: Option<usize>,
    /// `--beam`.
    pub beam: Option<usize>,
    /// `--ring-frames`.
    pub ring_frames: Option<usize>,
}

impl CommonArgs {
    /// The `--profile` profile with the command line's overrides applied (clap checked their ranges), validated.
    pub fn load_profile(&self, overrides: Overrides) -> earshot::Result<earshot::Profile> {
        let mut profile = earshot::Profile::find(&self.profile, &profile_dirs())?;
        if let Some(threads) = overrides.threads {
            profile.runtime.threads = threads;
            profile.runtime.decoder_threads = threads;
        }
        if let Some(beam) = overrides.beam {
            profile.decode.beam_size = beam;
        }
        if let Some(frames) = overrides.ring_frames {
            profile.capture.ring_frames = frames;
        }
        if let Some(language) = &self.language {
            profile.decode.language = language.trim().to_lowercase();
        }
        if let Some(task) = self.task {
            profile.decode.task = task;
        }
        if let Some(detector) = self.end_of_turn {
            profile.endpoint = profile.endpoint.clone().with_detector(match detector {
                EndOfTurn::Text => earshot::TurnDetector::Text,
                EndOfTurn::Silence => earshot::TurnDetector::Silence,
            });
        }
        let endpoint = &mut profile.endpoint;
        for (flag, field) in [
            (self.turn_check_ms, &mut endpoint.turn_check_ms),
            (self.incomplete_wait_ms, &mut endpoint.incomplete_wait_ms),
            (self.trailing_silence_ms, &mut endpoint.trailing_silence_ms),
        ] {
            if let Some(ms) = flag {
                *field = ms;
            }
        }
        profile.validate(&earshot::ConfigSource::CommandLine)?;
        Ok(profile)
    }

    /// Load the model pack with `profile`'s runtime options.
    pub fn load_model(
        &self,
        profile: &earshot::Profile,
    ) -> earshot::Result<std::sync::Arc<earshot::Model>> {
        let folder = model_dir(self.model.as_deref(), profile.model.as_deref());
        let model = earshot::Model::load_with(folder, profile.runtime)?;
        // The language and task against this pack: a clear error before any audio is read.
        profile
            .decode
            .prompter(model.manifest(), &earshot::ConfigSource::CommandLine)?;
        Ok(std::sync::Arc::new(model))
    }
}
