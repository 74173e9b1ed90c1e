//! The earshot command line: parse, dispatch, map errors to exit codes. Exit codes: 0 success (also when standard
//! output is closed early, as by `| head`); 1 other failure; 2 bad usage; 3 unreadable or unsupported input; 4 model
//! pack problem; 5 ONNX Runtime library missing or wrong; 6 invalid profile; 7 audio device missing, busy or lost; 8 an
//! output (transcript, recording, report, plot, standard output) could not be written.

mod args;
mod bench;
mod listen;
mod serve;
mod transcribe;
mod view;

use std::process::ExitCode;

use clap::Parser;
use earshot::{Error, Profile};

use args::{profile_dirs, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transcribe(args) => transcribe::run(args),
        Command::Listen(args) => listen::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Devices => devices(),
        Command::Profiles => profiles(),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("earshot: error: {err:#}");
            ExitCode::from(exit_code(&err))
        }
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
