//! Shared fixture helpers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use earshot::model::Model;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn pack_dir() -> PathBuf {
    root().join("models/whisper-tiny-en-int8")
}

/// Run the earshot binary from the source tree.
pub fn earshot(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// Build `source` (C) into the shared library `dir/file_name` with the system C compiler (test stand-ins for
/// system libraries).
pub fn build_c_library(dir: &Path, file_name: &str, source: &str) -> PathBuf {
    let c = dir.join(format!("{file_name}.c"));
    std::fs::write(&c, source).unwrap();
    let lib = dir.join(file_name);
    let built = std::process::Command::new("cc")
        .args([
            "-shared",
            "-fPIC",
            "-o",
            lib.to_str().unwrap(),
            c.to_str().unwrap(),
            "-ldl",
        ])
        .status()
        .unwrap();
    assert!(built.success(), "cc failed on {}", c.display());
    lib
}

/// A fresh scratch folder for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("earshot-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn speech(file: &str) -> PathBuf {
    root().join("tests/fixtures/speech").join(file)
}

/// The model, loaded once per test binary (2 intra-op threads).
pub fn model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| Arc::new(Model::load(pack_dir()).expect("load the bundled model pack")))
        .clone()
}

/// A copy of the bundled pack (graphs linked, not copied) whose manifest has `edit` applied; `drop` leaves a file out.
pub fn altered_pack(
    dir: &Path,
    name: &str,
    edit: impl Fn(String) -> String,
    drop: Option<&str>,
) -> PathBuf {
    let src = pack_dir();
    let pack = dir.join(name);
    std::fs::create_dir_all(&pack).unwrap();
    for file in [
        "encoder.onnx",
        "decoder.onnx",
        "vocabulary.txt",
        "end_of_window.bin",
    ] {
        if drop != Some(file) {
            std::os::unix::fs::symlink(src.join(file), pack.join(file)).unwrap();
        }
    }
    let manifest = std::fs::read_to_string(src.join("model.toml")).unwrap();
    std::fs::write(pack.join("model.toml"), edit(manifest)).unwrap();
    pack
}

/// The bundled pack as packs exported before the end-of-window block load: without it (the model loaded once).
pub fn model_without_end_of_window() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = scratch_dir("no_end_of_window");
            let manifest = |m: String| {
                let start = m
                    .find("[end_of_window]")
                    .expect("the pack has an end-of-window block");
                let end = start + m[start..].find("\n\n").unwrap() + 2;
                format!("{}{}", &m[..start], &m[end..])
            };
            let pack = altered_pack(&dir, "pack", manifest, Some("end_of_window.bin"));
            Arc::new(Model::load(pack).unwrap())
        })
        .clone()
}

/// Read a little-endian float32 C-order .npy file: (shape, data).
pub fn read_npy(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{}: not .npy", path.display());
    let (header_len, offset) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&bytes[offset..offset + header_len]).unwrap();
    assert!(
        header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"),
        "{header}"
    );
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let shape: Vec<usize> = shape_text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let data = bytes[offset + header_len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    (shape, data)
}

/// tests/fixtures/reference/tokens.json
pub fn reference_tokens() -> serde_json::Value {
    let path = root().join("tests/fixtures/reference/tokens.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A JSON array of token ids (a reference fixture's).
pub fn token_ids(list: &serde_json::Value) -> Vec<u32> {
    let ids = list.as_array().expect("a JSON array of token ids");
    ids.iter().map(|v| v.as_u64().unwrap() as u32).collect()
}

/// MFCC fixture [80, frames] as frame-major rows.
pub fn mfcc_fixture(id: &str) -> Vec<f32> {
    let (shape, data) = read_npy(&root().join(format!("tests/fixtures/reference/{id}.mfcc.npy")));
    let (coeffs, frames) = (shape[0], shape[1]);
    let mut out = vec![0.0; data.len()];
    for c in 0..coeffs {
        for t in 0..frames {
            out[t * coeffs + c] = data[c * frames + t];
        }
    }
    out
}

/// A WAV file as mono f32 and its rate (through the library's reader).
pub fn read_wav_mono(path: &Path) -> (Vec<f32>, u32) {
    let mut wav = earshot::audio::WavSource::open(path).unwrap();
    let (mut out, mut block) = (Vec::new(), Vec::new());
    while wav.read_mono(&mut block, 1 << 20).unwrap() > 0 {
        out.extend_from_slice(&block);
    }
    (out, wav.sample_rate())
}

/// One corpus clip from tests/fixtures/speech/manifest.tsv.
pub struct Clip {
    pub file: String,
    pub kind: String,
    pub text: String,
}

pub fn corpus() -> Vec<Clip> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/speech/manifest.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            Clip {
                file: f[0].into(),
                kind: f[1].into(),
                text: f.get(3).copied().unwrap_or("").into(),
            }
        })
        .collect()
}

/// Run mono samples through the capture side, a ring and a fresh stream of `recognizer` in blocks, collecting every
/// final transcript.
pub fn recognize(
    recognizer: &earshot::Recognizer,
    samples: &[f32],
    rate: u32,
) -> Vec<earshot::Transcript> {
    recognize_on(recognizer, recognizer.create_stream(), samples, rate)
}

/// [`recognize`] on a stream the caller made (e.g. with its timings switched on).
pub fn recognize_on(
    recognizer: &earshot::Recognizer,
    stream: earshot::Stream,
    samples: &[f32],
    rate: u32,
) -> Vec<earshot::Transcript> {
    finals(&events_on(recognizer, stream, samples, rate))
}

/// The final transcripts among `events`.
pub fn finals(events: &[earshot::TranscriptEvent]) -> Vec<earshot::Transcript> {
    events
        .iter()
        .filter_map(|e| match e {
            earshot::TranscriptEvent::Final(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// `recognizer` with its end-of-turn detector set to `detector`.
pub fn with_detector(
    recognizer: &earshot::Recognizer,
    detector: earshot::TurnDetector,
) -> earshot::Recognizer {
    let mut config = recognizer.config().clone();
    config.endpoint = config.endpoint.with_detector(detector);
    recognizer.with_config(config).unwrap()
}

/// [`recognize_on`], collecting every event (partials, finals, endpoints).
pub fn events_on(
    recognizer: &earshot::Recognizer,
    mut stream: earshot::Stream,
    samples: &[f32],
    rate: u32,
) -> Vec<earshot::TranscriptEvent> {
    let (producer, mut consumer) = earshot::ring::frame_ring(1000);
    let mut capture = earshot::audio::CaptureSide::new(
        &recognizer.model().manifest().frontend,
        rate,
        1,
        producer,
    )
    .unwrap();
    let mut out = Vec::new();
    let mut drain = |stream: &mut earshot::Stream, out: &mut Vec<earshot::TranscriptEvent>| {
        while let Some(frame) = consumer.pop() {
            stream.accept_frame(&frame).unwrap();
        }
        while let Some(event) = recognizer.poll(stream).unwrap() {
            out.push(event);
        }
    };
    for block in samples.chunks(4000) {
        capture.push_f32(block, 0);
        drain(&mut stream, &mut out);
    }
    capture.finish(0);
    drain(&mut stream, &mut out);
    stream.input_finished().unwrap();
    drain(&mut stream, &mut out);
    out
}

/// A recognizer with a profile from firmware-configs/ (beam size overridden when given).
pub fn recognizer(profile: &str, beam_size: Option<usize>) -> earshot::Recognizer {
    recognizer_on(model(), profile, beam_size)
}

/// [`recognizer`] on another model.
pub fn recognizer_on(
    model: Arc<Model>,
    profile: &str,
    beam_size: Option<usize>,
) -> earshot::Recognizer {
    let mut profile =
        earshot::Profile::load(&root().join(format!("firmware-configs/{profile}.toml"))).unwrap();
    if let Some(beam) = beam_size {
        profile.decode.beam_size = beam;
    }
    profile.partials.interval_ms = 0; // as `earshot transcribe` runs
    earshot::Recognizer::new(model, profile.recognizer_config()).unwrap()
}

pub fn joined(transcripts: &[earshot::Transcript]) -> String {
    transcripts
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A number from the pack's report.json (measured by models/export/evaluate.py).
pub fn pack_report(key: &str) -> f64 {
    let path = pack_dir().join("report.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("report.json has no number {key}"))
}

/// The multilingual Whisper base pack (its graphs are built by `bash .ci/setup --with-base`).
pub fn base_pack_dir() -> PathBuf {
    root().join("models/whisper-base-int8")
}

/// The base pack, loaded once per test binary; a clear failure (not a skip) when its graphs were not built.
pub fn base_model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let pack = base_pack_dir();
            assert!(
                pack.join("encoder.onnx").exists() && pack.join("decoder.onnx").exists(),
                "{}: the graphs are missing: run `bash .ci/setup --with-base` (the README's test command)",
                pack.display()
            );
            Arc::new(Model::load(pack).expect("load the base pack"))
        })
        .clone()
}

/// A language fixture (tests/fixtures/languages).
pub fn language_clip(file: &str) -> PathBuf {
    root().join("tests/fixtures/languages").join(file)
}
