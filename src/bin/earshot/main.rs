//! The earshot command line: parse, dispatch, map errors to exit codes. Exit codes: 0 success (also when standard
//! output is closed early, as by `| head`); 1 other failure; 2 bad usage; 3 unreadable or unsupported input; 4 model
//! pack problem; 5 ONNX Runtime library missing or wrong; 6 invalid profile; 7 audio device missing, busy or lost; 8 an
//! output (transcript, recording, report, plot, standard output) could not be written; 9 a server cannot listen
//! where it was asked to.

/// `eprintln!` that never panics: a message lost to a full or closed standard error must not cost a transcript.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod args;
mod bench;
mod listen;
mod serve;
mod transcribe;
mod view;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;

use clap::Parser;
use earshot::{Error, Profile};

use args::{model_dirs, profile_dirs, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transcribe(args) => transcribe::run(args),
        Command::Listen(args) => listen::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Devices => devices(),
        Command::Profiles => profiles(),
        Command::Models => models(),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            say!("earshot: error: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}

/// Ctrl-C and SIGTERM for a command that runs until stopped. Until [`StopSignal::running`], the command is setting up
/// (a profile, a term list, a model pack: any of them can be a FIFO or a device file whose open or read never ends),
/// and a signal ends the process at once, saying so: nothing has been heard or written yet. After it, a signal sets
/// [`StopSignal::stop`], which the command polls to end cleanly and keep what it has.
pub struct StopSignal {
    /// Set by a signal once the command runs.
    pub stop: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
}

impl StopSignal {
    pub fn install() -> anyhow::Result<StopSignal> {
        let stop = Arc::new(AtomicBool::new(false));
        let running = Arc::new(AtomicBool::new(false));
        let (handler_stop, handler_running) = (stop.clone(), running.clone());
        ctrlc::set_handler(move || {
            if handler_running.load(Ordering::SeqCst) {
                handler_stop.store(true, Ordering::SeqCst);
            } else {
                say!("earshot: stopped while setting up; nothing was heard");
                std::process::exit(0);
            }
        })
        .context("cannot install the Ctrl-C handler")?;
        Ok(StopSignal { stop, running })
    }

    /// Setting up is done: from now on a signal asks the command to stop.
    pub fn running(&self) {
        self.running.store(true, Ordering::SeqCst);
    }
}

/// Standard output closed by the reader (`earshot listen --json | head`): not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The README's exit code classes.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<Error>() {
        Some(
            Error::Io { .. }
            | Error::Audio { .. }
            | Error::UnsupportedFormat { .. }
            | Error::FrameSize { .. },
        ) => 3,
        Some(Error::ModelPack { .. }) => 4,
        Some(Error::RuntimeLibrary(_)) => 5,
        Some(Error::Config { .. }) => 6,
        Some(Error::Device(_)) => 7,
        Some(Error::Output { .. }) => 8,
        Some(Error::Listen { .. }) => 9,
        _ => 1,
    }
}

/// True when two paths' metadata name the same file (device and inode): other names for a file count.
#[cfg(unix)]
pub fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

/// Without inodes, no two files are known to be the same.
#[cfg(not(unix))]
pub fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

/// `earshot profiles`.
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

/// What `earshot models` prints of a pack's `measured.json`: the date and a one-line summary of its measured accuracy
/// and speed (the full record is the pack's REPORT.md).
#[derive(serde::Deserialize)]
struct Measured {
    date: String,
    summary: String,
}

fn models() -> anyhow::Result<ExitCode> {
    let mut seen = std::collections::BTreeMap::new();
    for dir in model_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.join("model.toml").is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                seen.entry(name).or_insert(path);
            }
        }
    }
    if seen.is_empty() {
        anyhow::bail!("no model packs found in {:?}", model_dirs());
    }
    for (name, path) in seen {
        let manifest = match earshot::model::Manifest::read(&path) {
            Ok(m) => m,
            Err(e) => {
                println!("{name:<22} INVALID: {e}");
                continue;
            }
        };
        let files: Vec<&String> = manifest.checksums.keys().collect();
        let missing: Vec<&&String> = files.iter().filter(|f| !path.join(f).is_file()).collect();
        let bytes: u64 = files
            .iter()
            .filter_map(|f| std::fs::metadata(path.join(f)).ok())
            .map(|m| m.len())
            .sum();
        let languages = match &manifest.languages {
            Some(l) => format!("{} languages", l.codes.len()),
            None => "English only".into(),
        };
        let state = if missing.is_empty() {
            format!("{:.1} MB", bytes as f64 / 1e6)
        } else {
            format!("NOT BUILT (missing {missing:?}: run `bash .ci/setup --with-base`)")
        };
        println!("{name:<22} {languages:<14} {state}  ({})", path.display());
        println!("{:<22} {}", "", manifest.description);
        let measured = std::fs::read_to_string(path.join("measured.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Measured>(&t).ok());
        if let Some(m) = measured {
            println!("{:<22} measured {}: {}", "", m.date, m.summary);
        }
    }
    Ok(ExitCode::SUCCESS)
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
