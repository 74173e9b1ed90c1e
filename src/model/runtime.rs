//! Finding and loading the ONNX Runtime shared library. earshot links nothing at build time (`ort`'s
//! `load-dynamic`): the library comes from the PyPI `onnxruntime` wheel, put in place by `.ci/setup`.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The ONNX Runtime version earshot is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";

static LOADED: OnceLock<std::result::Result<ort::environment::Environment, String>> =
    OnceLock::new();

/// Where earshot looks for `libonnxruntime`, in order: `$ORT_DYLIB_PATH` (alone, when set); next to the
/// executable; `$EARSHOT_ORT_DIR`; `$XDG_DATA_HOME/earshot/onnxruntime-<version>` (default
/// `~/.local/share/earshot/onnxruntime-<version>`, where `.ci/setup` installs it).
pub fn library_candidates() -> Vec<PathBuf> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        return vec![PathBuf::from(path)];
    }
    let file = library_file_name();
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
    {
        dirs.push(dir);
    }
    if let Some(dir) = std::env::var_os("EARSHOT_ORT_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(default_install_dir());
    dirs.into_iter().map(|d| d.join(&file)).collect()
}

/// The folder `.ci/setup` installs the library into.
pub fn default_install_dir() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("earshot")
        .join(format!("onnxruntime-{ORT_VERSION}"))
}

fn library_file_name() -> String {
    if cfg!(target_os = "macos") {
        format!("libonnxruntime.{ORT_VERSION}.dylib")
    } else if cfg!(windows) {
        "onnxruntime.dll".to_string()
    } else {
        format!("libonnxruntime.so.{ORT_VERSION}")
    }
}

/// Load ONNX Runtime once per process and return its environment; later calls return the first result.
pub fn ensure_loaded() -> Result<ort::environment::Environment> {
    LOADED
        .get_or_init(load)
        .clone()
        .map_err(Error::RuntimeLibrary)
}

fn load() -> std::result::Result<ort::environment::Environment, String> {
    let candidates = library_candidates();
    let fix = format!(
        "run `bash .ci/setup` from the earshot repository (it installs onnxruntime=={ORT_VERSION}'s library from \
         PyPI into {}), or set ORT_DYLIB_PATH to a libonnxruntime {ORT_VERSION} file",
        default_install_dir().display()
    );
    let Some(path) = candidates.iter().find(|p| p.is_file()) else {
        let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "ONNX Runtime {ORT_VERSION} library not found (looked for {}): {fix}",
            looked.join(", ")
        ));
    };
    let builder = ort::init_from(path).map_err(|e| {
        format!(
            "cannot load ONNX Runtime from {}: {e}; {fix}",
            path.display()
        )
    })?;
    builder.with_name("earshot").build().map_err(|e| {
        format!(
            "cannot start ONNX Runtime from {}: {e}; {fix}",
            path.display()
        )
    })
}
