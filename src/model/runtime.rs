//! Finding and loading the ONNX Runtime shared library. earshot links nothing at build time (`ort`'s
//! `load-dynamic`): the library comes from the PyPI `onnxruntime` wheel, put in place by `.ci/setup`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The ONNX Runtime version earshot is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";

static LOADED: OnceLock<std::result::Result<ort::environment::Environment, String>> =
    OnceLock::new();

/// Where earshot looks for `libonnxruntime`, in order: `$ORT_DYLIB_PATH` (alone, when set and not empty); next to the
/// executable; `$EARSHOT_ORT_DIR`; `$XDG_DATA_HOME/earshot/onnxruntime-<version>` (default
/// `~/.local/share/earshot/onnxruntime-<version>`, where `.ci/setup` installs it).
pub fn library_candidates() -> Vec<PathBuf> {
    // Set but empty (`ORT_DYLIB_PATH= earshot ...`) counts as unset, as an empty PATH entry would.
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
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
    if let Some(dir) = std::env::var_os("EARSHOT_ORT_DIR").filter(|d| !d.is_empty()) {
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
    check_library(path).map_err(|reason| format!("{}: {reason}; {fix}", path.display()))?;
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

/// Check a runtime library before `ort` loads it: a truncated file (what an interrupted setup or copy leaves) is
/// mapped whole, and the first touch of a page past its end kills the process with SIGBUS; entry points that return
/// NULL make `ort` panic. Both become a message (exit 5).
fn check_library(path: &Path) -> std::result::Result<(), String> {
    #[cfg(target_os = "linux")]
    check_elf(path)?;
    check_entry_points(path)
}

/// The ELF file holds every byte its loadable segments and section headers need (only the headers are read).
#[cfg(target_os = "linux")]
fn check_elf(path: &Path) -> std::result::Result<(), String> {
    use std::os::unix::fs::FileExt;
    let cannot = |e: std::io::Error| format!("cannot read it: {e}");
    let truncated =
        || "the file is truncated or damaged (an interrupted setup or copy?)".to_string();
    let file = std::fs::File::open(path).map_err(cannot)?;
    let len = file.metadata().map_err(cannot)?.len();
    let read = |offset: u64, size: u64| -> std::result::Result<Vec<u8>, String> {
        if offset.saturating_add(size) > len || size > 1 << 20 {
            return Err(truncated());
        }
        let mut buf = vec![0u8; size as usize];
        file.read_exact_at(&mut buf, offset).map_err(cannot)?;
        Ok(buf)
    };
    let header = read(0, 64).map_err(|_| "not a shared library (no ELF header)".to_string())?;
    if !header.starts_with(b"\x7fELF") {
        return Err("not a shared library (no ELF header)".into());
    }
    if header[4..6] != [2, 1] {
        return Err("not a 64-bit little-endian ELF library".into());
    }
    let u16_at = |b: &[u8], i: usize| u64::from(u16::from_le_bytes([b[i], b[i + 1]]));
    let u64_at = |b: &[u8], i: usize| {
        u64::from_le_bytes([
            b[i],
            b[i + 1],
            b[i + 2],
            b[i + 3],
            b[i + 4],
            b[i + 5],
            b[i + 6],
            b[i + 7],
        ])
    };
    let (phoff, phentsize, phnum) = (
        u64_at(&header, 0x20),
        u16_at(&header, 0x36),
        u16_at(&header, 0x38),
    );
    let (shoff, shentsize, shnum) = (
        u64_at(&header, 0x28),
        u16_at(&header, 0x3a),
        u16_at(&header, 0x3c),
    );
    if phentsize < 56 || shoff.saturating_add(shentsize * shnum) > len {
        return Err(truncated());
    }
    let table = read(phoff, phentsize * phnum)?;
    const PT_LOAD: u32 = 1;
    for entry in table.chunks_exact(phentsize as usize) {
        let kind = u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]);
        if kind == PT_LOAD && u64_at(entry, 8).saturating_add(u64_at(entry, 32)) > len {
            return Err(truncated());
        }
    }
    Ok(())
}

/// The C API's entry table (`OrtApiBase`), with nullable function pointers.
#[repr(C)]
struct ApiBase {
    get_api: Option<unsafe extern "C" fn(u32) -> *const std::ffi::c_void>,
    get_version_string: Option<unsafe extern "C" fn() -> *const std::ffi::c_char>,
}

/// `OrtGetApiBase`, its version and the API table earshot uses exist and are not NULL.
fn check_entry_points(path: &Path) -> std::result::Result<(), String> {
    // SAFETY: loading runs the library's initializers; the file passed the ELF check and is the library the user
    // named to be loaded anyway (ort loads it next).
    let library =
        unsafe { libloading::Library::new(path) }.map_err(|e| format!("cannot load it: {e}"))?;
    // SAFETY: the symbol is declared with the signature of ONNX Runtime's C API.
    let get_base =
        unsafe { library.get::<unsafe extern "C" fn() -> *const ApiBase>(b"OrtGetApiBase") }
            .map_err(|_| "it has no OrtGetApiBase: not an ONNX Runtime library".to_string())?;
    // SAFETY: a C function taking nothing; the result is checked for NULL before use.
    let base = unsafe { get_base().as_ref() }
        .ok_or("OrtGetApiBase returned NULL: the library is broken or a stand-in")?;
    let (Some(get_api), Some(get_version)) = (base.get_api, base.get_version_string) else {
        return Err("OrtGetApiBase's table holds NULL entry points: the library is broken".into());
    };
    // SAFETY: returns a static C string or NULL (checked).
    let version = unsafe { get_version().as_ref() }
        .map(|p| {
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        })
        .ok_or("GetVersionString returned NULL: the library is broken")?;
    let minor: u32 = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let needed: u32 = ORT_VERSION
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if !version.starts_with("1.") || minor < needed {
        return Err(format!(
            "it is ONNX Runtime {version}, but earshot needs {ORT_VERSION} (1.{needed} or newer)"
        ));
    }
    // SAFETY: GetApi takes the API version and returns the table or NULL (checked).
    if unsafe { get_api(ort::sys::ORT_API_VERSION) }.is_null() {
        return Err(format!(
            "GetApi returned NULL for API version {} although it reports version {version}: the library is broken",
            ort::sys::ORT_API_VERSION
        ));
    }
    Ok(())
}
