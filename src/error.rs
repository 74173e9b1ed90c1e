//! The library's one error type.

use std::fmt;
use std::path::PathBuf;

/// Where a configuration value came from (named in [`Error::Config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigSource {
    /// A profile file.
    File(PathBuf),
    /// The command line (the flag is named in the reason).
    CommandLine,
    /// Values a library caller built in code (no file).
    BuiltIn,
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::File(path) => write!(f, "{}", path.display()),
            ConfigSource::CommandLine => f.write_str("command line"),
            ConfigSource::BuiltIn => f.write_str("built-in configuration"),
        }
    }
}

/// Everything that can go wrong in earshot. Each message says what was wrong and, where there is one, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error (in the message, so it is not also a `source()`: printed once).
        cause: std::io::Error,
    },
    /// An output file (report, plot, recording) could not be written.
    #[error("cannot write {path}: {reason}")]
    Output {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// An audio file is not one earshot can decode.
    #[error("{path}: {reason}")]
    Audio {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, and what to do.
        reason: String,
    },
    /// A sample rate or channel count earshot cannot take.
    #[error("{rate_hz} Hz, {channels} channel(s): earshot takes {min_rate_hz}..={max_rate_hz} Hz and 1..={max_channels} channels")]
    UnsupportedFormat {
        /// The sample rate asked for.
        rate_hz: u32,
        /// The channel count asked for.
        channels: usize,
        /// Lowest supported rate.
        min_rate_hz: u32,
        /// Highest supported rate.
        max_rate_hz: u32,
        /// Most channels.
        max_channels: usize,
    },
    /// The resampler refused a buffer it sized itself (a bug: please report it).
    #[error("resampler: {0}")]
    Resample(String),
    /// Frames handed to a stream do not have the model's number of coefficients.
    #[error("frames of {got} values, the model takes {expected}")]
    FrameSize {
        /// Values per frame given.
        got: usize,
        /// Values per frame the model takes.
        expected: usize,
    },
    /// Input was given to a stream after `input_finished()`.
    #[error("input after input_finished(): create a new stream")]
    StreamFinished,
    /// The model pack is missing a file, fails its checksum, or its manifest is malformed.
    #[error("model pack {path}: {reason}")]
    ModelPack {
        /// The pack folder or the file inside it.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// The ONNX Runtime shared library could not be found or loaded.
    #[error("{0}")]
    RuntimeLibrary(String),
    /// ONNX Runtime failed while loading or running a graph, or was given a shape the graph cannot take.
    #[error("ONNX Runtime error in {graph}: {message}")]
    Inference {
        /// Which graph ("encoder" or "decoder").
        graph: &'static str,
        /// ONNX Runtime's message.
        message: String,
    },
    /// The audio input device is missing, busy or was lost.
    #[error("audio device: {0}")]
    Device(String),
    /// A server cannot listen where it was asked to (a bad URI, an address in use, a path that is not a stale socket).
    #[error("cannot listen on {uri}: {reason}")]
    Listen {
        /// The address as given.
        uri: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A device profile or engine configuration is invalid.
    #[error("{origin}: {reason}")]
    Config {
        /// Where the value came from.
        origin: ConfigSource,
        /// The field and what is wrong with it.
        reason: String,
    },
    /// A worker thread of earshot's panicked (a bug: please report it).
    #[error("the {0} thread panicked (a bug in earshot: please report it)")]
    ThreadPanicked(&'static str),
}

/// `Result` with earshot's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause,
        }
    }

    /// An [`Error::Output`]: `path` could not be written, for `reason`.
    pub fn output(path: impl Into<PathBuf>, reason: impl fmt::Display) -> Self {
        Error::Output {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn pack(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::ModelPack {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn inference(graph: &'static str, err: impl fmt::Display) -> Self {
        Error::Inference {
            graph,
            message: err.to_string(),
        }
    }

    pub(crate) fn config(origin: ConfigSource, reason: impl Into<String>) -> Self {
        Error::Config {
            origin,
            reason: reason.into(),
        }
    }
}

/// A TOML error on one line: ``line N (`the line`): message`` (toml's own text spans several lines with a source
/// excerpt).
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end_matches('.').replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let source: String = text
                .lines()
                .nth(line - 1)
                .unwrap_or("")
                .trim()
                .chars()
                .take(60)
                .collect();
            format!("line {line} (`{source}`): {message}")
        }
        None => message,
    }
}

/// `value` within `lo..=hi`, or an error naming `field` and where it came from.
pub(crate) fn check_range<T: PartialOrd + std::fmt::Display>(
    origin: &ConfigSource,
    field: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<()> {
    in_range(field, value, lo, hi).map_err(|reason| Error::config(origin.clone(), reason))
}

/// `value` within `lo..=hi` (NaN is not), or a message naming `field`.
pub(crate) fn in_range<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    lo: T,
    hi: T,
) -> std::result::Result<(), String> {
    if value >= lo && value <= hi {
        Ok(())
    } else {
        Err(format!("{field} = {value} is out of range {lo}..={hi}"))
    }
}
