//! The library's one error type.

use std::path::PathBuf;

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
    /// An audio file is not one earshot can decode.
    #[error("{path}: {reason}")]
    Audio {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, and what to do.
        reason: String,
    },
    /// Audio handed to the library (not from a file) is unusable.
    #[error("invalid audio input: {0}")]
    InvalidAudio(String),
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
    /// ONNX Runtime failed while loading or running a graph.
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
    /// A device profile or engine configuration is invalid.
    #[error("{path}: {reason}")]
    Config {
        /// The profile file (or "<built-in>").
        path: PathBuf,
        /// The field and what is wrong with it.
        reason: String,
    },
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

    pub(crate) fn pack(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::ModelPack {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn inference(graph: &'static str, err: impl std::fmt::Display) -> Self {
        Error::Inference {
            graph,
            message: err.to_string(),
        }
    }
}
