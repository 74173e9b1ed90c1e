//! A loaded model pack: manifest and the ONNX Runtime sessions of the encoder and decoder. Immutable once loaded;
//! no timings and no decoding state live here (those are per stream).

mod manifest;
mod runtime;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::{DynValue, Tensor, TensorRef};

pub use manifest::{
    DecoderSpec, EncoderSpec, EndOfWindowSpec, Manifest, TokenSpec, TokenizerSpec, FORMAT_VERSION,
};
pub use runtime::{
    default_install_dir, ensure_loaded as load_runtime, library_candidates, ORT_VERSION,
};

use serde::{Deserialize, Serialize};

use crate::error::{ConfigSource, Error, Result};

/// How ONNX Runtime runs the graphs (the `[runtime]` table of a device profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeOptions {
    /// Intra-op threads of the encoder session (spinning is always off: on small boards a spinning pool starves the
    /// audio thread).
    pub threads: usize,
    /// Intra-op threads of the decoder session. Its steps are small and, live, a non-spinning pool falls asleep
    /// between them; on the 2-core machine 2 threads still answer a final's 5-row beam steps faster than 1, and a
    /// greedy step about as fast (measured: docs/DESIGN.md). Files use at least `threads` (see
    /// [`RuntimeOptions::for_files`]).
    pub decoder_threads: usize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            threads: 2,
            decoder_threads: 2,
        }
    }
}

impl RuntimeOptions {
    /// The options for work that is not live (`earshot transcribe`, `bench --fast`): decoder steps come back to
    /// back there, so the decoder session gets the encoder's `threads` too (on the 2-core machine `bench --fast
    /// --no-partials` RTF 0.027-0.029 -> 0.022-0.025, docs/DESIGN.md). Never fewer decoder threads than the profile's.
    pub fn for_files(self) -> RuntimeOptions {
        RuntimeOptions {
            decoder_threads: self.decoder_threads.max(self.threads),
            ..self
        }
    }

    /// Check the thread counts (1..=64); the error names the field.
    pub fn validate(&self, origin: &ConfigSource) -> Result<()> {
        crate::error::check_range(origin, "runtime.threads", self.threads, 1, 64)?;
        crate::error::check_range(
            origin,
            "runtime.decoder_threads",
            self.decoder_threads,
            1,
            64,
        )
    }
}

/// An immutable, shareable model (`Send + Sync`). The sessions sit behind mutexes only because `ort`'s `run` takes
/// `&mut`; all decoding state lives in the caller's [`KvCache`] and [`AudioContext`].
pub struct Model {
    manifest: Manifest,
    folder: PathBuf,
    encoder: Mutex<Session>,
    decoder: Mutex<Session>,
    end_of_window: Option<EndOfWindow>,
    load_time: Duration,
}

/// The pack's end-of-window block ([`EndOfWindowSpec`]): K and V, each `[layers, positions, d_model]`.
struct EndOfWindow {
    k: Vec<f32>,
    v: Vec<f32>,
    positions: usize,
}

impl EndOfWindow {
    /// Read and check the block file against the manifest's sizes.
    fn load(folder: &Path, spec: &EndOfWindowSpec, decoder: &DecoderSpec) -> Result<EndOfWindow> {
        use std::io::Read;
        let path = folder.join(&spec.file);
        let cannot_read = |e: std::io::Error| Error::pack(&path, format!("cannot read it: {e}"));
        let mut file = std::fs::File::open(&path).map_err(cannot_read)?;
        let half = decoder.layers * spec.positions * decoder.d_model;
        // The size is checked before the read: a wrong file is refused without being loaded.
        let length = manifest::regular_file_length(&file, &path)?;
        let mut bytes = Vec::new();
        if length == (2 * half * 4) as u64 {
            file.read_to_end(&mut bytes).map_err(cannot_read)?;
        }
        if bytes.len() != 2 * half * 4 {
            return Err(Error::pack(
                &path,
                format!(
                    "{} bytes, but [end_of_window] positions = {} with {} layers of width {} needs {}: re-export \
                     the pack (models/export/end_of_window.py)",
                    length,
                    spec.positions,
                    decoder.layers,
                    decoder.d_model,
                    2 * half * 4
                ),
            ));
        }
        let mut k: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if k.iter().any(|x| !x.is_finite()) {
            return Err(Error::pack(
                &path,
                "holds a value that is not a finite number: re-export the pack (models/export/end_of_window.py)",
            ));
        }
        let v = k.split_off(half);
        Ok(EndOfWindow {
            k,
            v,
            positions: spec.positions,
        })
    }

    /// `cross` (`[layers, 1, positions, d_model]`) with `block`'s positions after each layer's own.
    fn append(&self, cross: &Tensor<f32>, block: &[f32]) -> Result<Tensor<f32>> {
        let (shape, data) = cross.extract_tensor();
        let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        let [layers, 1, own @ 1..=usize::MAX, width @ 1..=usize::MAX] = dims[..] else {
            return Err(Error::inference(
                "encoder",
                format!("cross-attention output of shape {dims:?}, expected [layers, 1, positions, d_model]"),
            ));
        };
        let tail = self.positions * width;
        if block.len() != layers * tail {
            return Err(Error::inference(
                "encoder",
                "the end-of-window block does not match the encoder's output",
            ));
        }
        let mut joined = Vec::with_capacity(layers * (own * width + tail));
        for (layer, end) in data.chunks_exact(own * width).zip(block.chunks_exact(tail)) {
            joined.extend_from_slice(layer);
            joined.extend_from_slice(end);
        }
        Tensor::from_array(([layers, 1, own + self.positions, width], joined))
            .map_err(|e| Error::inference("encoder", e))
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("folder", &self.folder)
            .field("name", &self.manifest.name)
            .finish()
    }
}

/// The encoder's output for one segment: cross-attention keys and values of every decoder layer.
pub struct AudioContext {
    cross_k: Tensor<f32>,
    cross_v: Tensor<f32>,
    frames: usize,
}

impl AudioContext {
    /// Number of (padded) feature frames the encoder saw.
    pub fn frames(&self) -> usize {
        self.frames
    }
}

/// The decoder's self-attention cache: one row per hypothesis (`[layers, rows, positions, d_model]`), all of the
/// same length. A beam search keeps its hypotheses as the rows of one cache and steps them in one decoder call.
#[derive(Default)]
pub struct KvCache {
    k: Option<DynValue>,
    v: Option<DynValue>,
    len: usize,
    rows: usize,
}

impl KvCache {
    /// Number of token positions cached.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first decoder step.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of hypotheses (rows); 1 before the first step.
    pub fn rows(&self) -> usize {
        self.rows.max(1)
    }

    /// A deep copy.
    pub fn try_clone(&self) -> Result<KvCache> {
        self.try_prefix(self.len)
    }

    /// A copy of the first `len` positions (at most all of them): the cache of a shorter token prefix, to score
    /// other continuations of it.
    pub fn try_prefix(&self, len: usize) -> Result<KvCache> {
        let rows: Vec<usize> = (0..self.rows()).collect();
        self.copy(&rows, len)
    }

    /// A cache whose row i is row `rows[i]` of this one (rows may repeat: a hypothesis with several continuations).
    /// An index out of range is an error.
    pub fn select(&self, rows: &[usize]) -> Result<KvCache> {
        self.copy(rows, self.len)
    }

    fn copy(&self, rows: &[usize], len: usize) -> Result<KvCache> {
        let len = len.min(self.len);
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.rows()) {
            return Err(Error::inference(
                "decoder",
                format!("no cache row {bad} (of {})", self.rows()),
            ));
        }
        let copy = |v: &Option<DynValue>| -> Result<Option<DynValue>> {
            let Some(v) = v else { return Ok(None) };
            let (shape, data) = v
                .try_extract_tensor::<f32>()
                .map_err(|e| Error::inference("decoder", e))?;
            // [layers, rows, positions, d_model]
            let mut dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
            let (Some(&have_rows), Some(&positions), Some(&width)) =
                (dims.get(1), dims.get(2), dims.get(3))
            else {
                return Err(Error::inference(
                    "decoder",
                    "self-attention cache is not 4-D",
                ));
            };
            let keep = len.min(positions);
            let row_size = positions * width;
            let mut kept = Vec::with_capacity(dims[0] * rows.len() * keep * width);
            if row_size > 0 {
                for layer in data.chunks(have_rows * row_size) {
                    for &r in rows {
                        let start = r * row_size;
                        let Some(row) = layer.get(start..start + keep * width) else {
                            return Err(Error::inference(
                                "decoder",
                                "self-attention cache is shorter than its shape",
                            ));
                        };
                        kept.extend_from_slice(row);
                    }
                }
            }
            dims[1] = rows.len();
            dims[2] = keep;
            let t = Tensor::from_array((dims, kept)).map_err(|e| Error::inference("decoder", e))?;
            Ok(Some(t.into_dyn()))
        };
        Ok(KvCache {
            k: copy(&self.k)?,
            v: copy(&self.v)?,
            len,
            rows: rows.len(),
        })
    }
}

impl Model {
    /// Load a model pack folder (e.g. `models/whisper-tiny-en-int8`) with default runtime options.
    pub fn load(folder: impl AsRef<Path>) -> Result<Model> {
        Model::load_with(folder, RuntimeOptions::default())
    }

    /// Load a model pack: read and verify the manifest (checksums included), load ONNX Runtime, open both graphs
    /// and check their inputs and outputs against the manifest.
    pub fn load_with(folder: impl AsRef<Path>, options: RuntimeOptions) -> Result<Model> {
        let started = Instant::now();
        let folder = folder.as_ref().to_path_buf();
        if !folder.is_dir() {
            return Err(Error::pack(
                &folder,
                "not a folder: pass a model pack folder such as models/whisper-tiny-en-int8",
            ));
        }
        let manifest = Manifest::load(&folder)?;
        let env = load_runtime()?;
        let threads = options.threads.max(1);
        let decoder_threads = options.decoder_threads.max(1);
        // The decoder first: its load-time transient (graph bytes + initializers + pre-packed copies) is the larger
        // and should not stack on an already resident encoder (measured: peak RSS 133 -> 131 MB).
        let decoder = open_session(
            &env,
            &folder.join(&manifest.decoder.file),
            "decoder",
            decoder_threads,
        )?;
        let encoder = open_session(
            &env,
            &folder.join(&manifest.encoder.file),
            "encoder",
            threads,
        )?;
        let (e, d) = (&manifest.encoder, &manifest.decoder);
        let mel = manifest.frontend.mel_bins;
        // Cross K/V have one row (one audio); the decoder's batch axis (hypotheses) is dynamic.
        let cache = || {
            vec![
                Axis::Is(d.layers),
                Axis::Is(1),
                Axis::Any,
                Axis::Is(d.d_model),
            ]
        };
        let batched = || {
            vec![
                Axis::Is(d.layers),
                Axis::Dynamic,
                Axis::Any,
                Axis::Is(d.d_model),
            ]
        };
        // The manifest's validation checked the counts: 2 encoder outputs, 5 decoder inputs, 3 decoder outputs.
        let (e_out, d_in, d_out) = (&e.outputs, &d.inputs, &d.outputs);
        check_graph(
            &folder.join(&e.file),
            &encoder,
            &[(
                e.input.as_str(),
                vec![Axis::Is(1), Axis::Is(mel), Axis::Any],
            )],
            &[(e_out[0].as_str(), cache()), (e_out[1].as_str(), cache())],
        )?;
        let decoder_inputs = [
            (d_in[0].as_str(), vec![Axis::Dynamic, Axis::Any]),
            (d_in[1].as_str(), batched()),
            (d_in[2].as_str(), batched()),
            (d_in[3].as_str(), cache()),
            (d_in[4].as_str(), cache()),
        ];
        check_graph(
            &folder.join(&d.file),
            &decoder,
            &decoder_inputs,
            &[
                (
                    d_out[0].as_str(),
                    vec![Axis::Dynamic, Axis::Any, Axis::Is(d.vocab_size)],
                ),
                (d_out[1].as_str(), batched()),
                (d_out[2].as_str(), batched()),
            ],
        )?;
        // After the graphs' check: a manifest whose sizes disagree with the graphs is reported as that.
        let end_of_window = match &manifest.end_of_window {
            Some(spec) => Some(EndOfWindow::load(&folder, spec, d)?),
            None => None,
        };
        Ok(Model {
            manifest,
            folder,
            encoder: Mutex::new(encoder),
            decoder: Mutex::new(decoder),
            end_of_window,
            load_time: started.elapsed(),
        })
    }

    /// The pack's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The pack folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Wall time `load_with` took (manifest, checksums, runtime and both sessions).
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// Frames the encoder is run on for `frames` feature frames: the next multiple of the bucket size, at least
    /// `min_frames`, at most the maximum.
    pub fn bucket_for(&self, frames: usize, min_frames: usize) -> usize {
        let spec = &self.manifest.encoder;
        let bucket = spec.bucket_frames;
        frames
            .max(min_frames)
            .max(1)
            .div_ceil(bucket)
            .saturating_mul(bucket)
            .min(spec.max_frames)
    }

    /// Run the encoder on MFCC frames (`frames.len() / coefficients` frames, frame-major), zero-padded (the
    /// manifest's pad value) to `padded_frames` (see [`Model::bucket_for`]); frames beyond it are dropped. A window
    /// shorter than the encoder's longest gets the pack's end-of-window block after its own positions
    /// ([`EndOfWindowSpec`]).
    pub fn encode(&self, frames: &[f32], padded_frames: usize) -> Result<AudioContext> {
        self.encode_padded(frames, padded_frames, Padding::Zero)
    }

    /// [`Model::encode`] with the given padding of the frames beyond the segment's.
    pub fn encode_padded(
        &self,
        frames: &[f32],
        padded_frames: usize,
        padding: Padding,
    ) -> Result<AudioContext> {
        let coeffs = self.manifest.frontend.mfcc_coefficients;
        if padded_frames == 0
            || padded_frames > self.manifest.encoder.max_frames
            || !padded_frames.is_multiple_of(2)
        {
            return Err(Error::inference(
                "encoder",
                format!(
                    "an input of {padded_frames} frames: must be even and in 2..={}",
                    self.manifest.encoder.max_frames
                ),
            ));
        }
        let n = (frames.len() / coeffs).min(padded_frames);
        // The graph takes [1, coefficients, frames] (channel-major); frames arrive frame-major.
        let mut input = vec![self.manifest.encoder.pad_value; coeffs * padded_frames];
        if padding == Padding::ClampFloor && n < padded_frames {
            let pad = clamp_floor_frame(&frames[..n * coeffs], coeffs);
            for (c, &value) in pad.iter().enumerate() {
                input[c * padded_frames + n..(c + 1) * padded_frames].fill(value);
            }
        }
        for (t, frame) in frames.chunks_exact(coeffs).take(n).enumerate() {
            for (c, &value) in frame.iter().enumerate() {
                input[c * padded_frames + t] = value;
            }
        }
        let tensor =
            TensorRef::from_array_view(([1usize, coeffs, padded_frames], input.as_slice()))
                .map_err(|e| Error::inference("encoder", e))?;
        let mut session = self
            .encoder
            .lock()
            .map_err(|_| Error::inference("encoder", "session lock poisoned"))?;
        let mut outputs = session
            .run(ort::inputs![self.manifest.encoder.input.as_str() => tensor])
            .map_err(|e| Error::inference("encoder", e))?;
        let mut take = |name: &str| -> Result<Tensor<f32>> {
            let value = outputs
                .remove(name)
                .ok_or_else(|| Error::inference("encoder", format!("no output {name}")))?;
            value
                .downcast::<ort::value::TensorValueType<f32>>()
                .map_err(|e| Error::inference("encoder", e))
        };
        let mut cross_k = take(&self.manifest.encoder.outputs[0])?;
        let mut cross_v = take(&self.manifest.encoder.outputs[1])?;
        if let Some(end) = &self.end_of_window {
            if padded_frames < self.manifest.encoder.max_frames {
                cross_k = end.append(&cross_k, &end.k)?;
                cross_v = end.append(&cross_v, &end.v)?;
            }
        }
        Ok(AudioContext {
            cross_k,
            cross_v,
            frames: padded_frames,
        })
    }

    /// One decoder step: feed `tokens` after the cached positions, grow `cache`, and write the logits of every fed
    /// position into `logits` (resized to `tokens.len() * vocab_size`, row-major). With a cache of several rows
    /// (see [`KvCache::select`]), `tokens` holds the same number of tokens for each row, row after row.
    pub fn decode_step(
        &self,
        audio: &AudioContext,
        tokens: &[u32],
        cache: &mut KvCache,
        logits: &mut Vec<f32>,
    ) -> Result<()> {
        let spec = &self.manifest.decoder;
        let rows = cache.rows();
        let per_row = tokens.len() / rows;
        if per_row == 0 || per_row * rows != tokens.len() {
            return Err(Error::inference(
                "decoder",
                format!("{} tokens for a cache of {rows} rows", tokens.len()),
            ));
        }
        if cache.len + per_row > spec.max_positions {
            return Err(Error::inference(
                "decoder",
                format!("{} positions exceed max_positions", cache.len + per_row),
            ));
        }
        let ids: Vec<i64> = tokens.iter().map(|&t| i64::from(t)).collect();
        let token_tensor = TensorRef::from_array_view(([rows, per_row], ids.as_slice()))
            .map_err(|e| Error::inference("decoder", e))?;
        let empty = || -> Result<DynValue> {
            Tensor::from_array(([spec.layers, rows, 0, spec.d_model], Vec::<f32>::new()))
                .map(|t| t.into_dyn())
                .map_err(|e| Error::inference("decoder", e))
        };
        let self_k = match cache.k.take() {
            Some(v) => v,
            None => empty()?,
        };
        let self_v = match cache.v.take() {
            Some(v) => v,
            None => empty()?,
        };
        let names = &spec.inputs;
        let mut session = self
            .decoder
            .lock()
            .map_err(|_| Error::inference("decoder", "session lock poisoned"))?;
        let mut outputs = session
            .run(ort::inputs![
                names[0].as_str() => token_tensor,
                names[1].as_str() => self_k,
                names[2].as_str() => self_v,
                names[3].as_str() => &audio.cross_k,
                names[4].as_str() => &audio.cross_v,
            ])
            .map_err(|e| Error::inference("decoder", e))?;
        {
            let (_, data) = outputs[spec.outputs[0].as_str()]
                .try_extract_tensor::<f32>()
                .map_err(|e| Error::inference("decoder", e))?;
            if data.len() != tokens.len() * spec.vocab_size {
                return Err(Error::inference(
                    "decoder",
                    "logits shape does not match the manifest's vocab_size",
                ));
            }
            logits.clear();
            logits.extend_from_slice(data);
        }
        cache.k = outputs.remove(spec.outputs[1].as_str());
        cache.v = outputs.remove(spec.outputs[2].as_str());
        cache.len += per_row;
        cache.rows = rows;
        Ok(())
    }
}

fn open_session(
    env: &ort::environment::Environment,
    path: &Path,
    graph: &'static str,
    threads: usize,
) -> Result<Session> {
    let wrap = |e: ort::Error| Error::pack(path, format!("cannot open the {graph} graph: {e}"));
    Session::builder(env)
        .map_err(wrap)?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| wrap(e.into()))?
        .with_intra_threads(threads)
        .map_err(|e| wrap(e.into()))?
        .with_inter_threads(1)
        .map_err(|e| wrap(e.into()))?
        .with_intra_op_spinning(false)
        .map_err(|e| wrap(e.into()))?
        .with_inter_op_spinning(false)
        .map_err(|e| wrap(e.into()))?
        // Memory patterns off: ONNX Runtime would plan one block for all of a run's intermediate tensors per input
        // shape and take it from its arena; the encoder sees many window lengths (partials, the 10 and 30 s
        // searches) and the decoder a longer cache every step, so those blocks piled up. Off, peak RSS fell 181 ->
        // 160 MB (default, real time) and 319 -> 237 MB (`accurate`) at the same speed (docs/DESIGN.md, Memory).
        .with_memory_pattern(false)
        .map_err(|e| wrap(e.into()))?
        // On x86-64 without VNNI (AVX2, AVX-512F), ONNX Runtime's u8s8 int8 MatMul sums pairs of products into
        // saturating 16-bit lanes; this switch makes it convert the int8 weights so no sum overflows (no effect
        // with VNNI or on ARM). Measured on an AVX2 machine: docs/DESIGN.md.
        .with_config_entry("session.x64quantprecision", "1")
        .map_err(|e| wrap(e.into()))?
        .commit_from_file(path)
        .map_err(wrap)
}

/// What the manifest says of one axis of a graph input or output.
#[derive(Clone, Copy)]
enum Axis {
    /// This size (or dynamic).
    Is(usize),
    /// Any size.
    Any,
    /// Must be dynamic: the decoder's batch axis, which a beam search fills with its hypotheses.
    Dynamic,
}

/// One input or output of a graph as the manifest describes it: its name and its axes.
type Declared<'a> = (&'a str, Vec<Axis>);

/// Every named input and output exists in the graph, and every fixed axis of the graph agrees with the manifest.
fn check_graph(
    path: &Path,
    session: &Session,
    inputs: &[Declared<'_>],
    outputs: &[Declared<'_>],
) -> Result<()> {
    let mismatch = |what: String| {
        Err(Error::pack(
            path,
            format!("{what}; the manifest does not match this graph: re-export the pack"),
        ))
    };
    for (kind, declared, have) in [
        ("input", inputs, session.inputs()),
        ("output", outputs, session.outputs()),
    ] {
        let names: Vec<&str> = have.iter().map(|o| o.name()).collect();
        for (name, axes) in declared {
            let Some(outlet) = have.iter().find(|o| o.name() == *name) else {
                return mismatch(format!("graph has no {kind} {name:?} ({kind}s: {names:?})"));
            };
            let Some(shape) = outlet.dtype().tensor_shape() else {
                return mismatch(format!("graph {kind} {name:?} is not a tensor"));
            };
            let agrees = shape.len() == axes.len()
                && shape.iter().zip(axes).all(|(&dim, want)| match *want {
                    Axis::Is(want) => dim < 0 || usize::try_from(dim).is_ok_and(|d| d == want),
                    Axis::Any => true,
                    Axis::Dynamic => dim < 0,
                });
            if !agrees {
                let want: Vec<String> = axes
                    .iter()
                    .map(|a| match a {
                        Axis::Is(n) => n.to_string(),
                        Axis::Any => "*".to_string(),
                        Axis::Dynamic => "batch (dynamic)".to_string(),
                    })
                    .collect();
                return mismatch(format!(
                    "graph {kind} {name:?} has shape {:?} but the manifest's sizes make it [{}]",
                    &shape[..],
                    want.join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// How the encoder input is filled after a segment's frames, up to the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// The manifest's pad value (0.0: zero normalized features, as faster-whisper pads).
    Zero,
    /// As openai-whisper and whisper.cpp pad: digital silence, every log-mel bin at the clamp floor. The floor is
    /// the lowest normalized log-mel value of the segment's frames, where its clamped bins sit.
    ClampFloor,
}

/// The MFCC frame of a log-mel frame whose bins all sit at the lowest log-mel value of `frames` (frame-major MFCC,
/// `coeffs` per frame; the orthonormal DCT-II is inverted by its transpose). Zeros when there are no frames.
fn clamp_floor_frame(frames: &[f32], coeffs: usize) -> Vec<f32> {
    let dct = crate::features::dct_matrix(coeffs);
    let mut floor = f32::INFINITY;
    for frame in frames.chunks_exact(coeffs) {
        for i in 0..coeffs {
            let log_mel: f32 = (0..coeffs).map(|k| dct[k * coeffs + i] * frame[k]).sum();
            floor = floor.min(log_mel);
        }
    }
    if !floor.is_finite() {
        return vec![0.0; coeffs];
    }
    dct.chunks_exact(coeffs)
        .map(|row| floor * row.iter().sum::<f32>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RuntimeOptions;

    #[test]
    fn files_give_the_decoder_the_encoder_threads_and_never_fewer_than_the_profile() {
        let live = RuntimeOptions {
            threads: 2,
            decoder_threads: 1,
        };
        assert_eq!(live.for_files().decoder_threads, 2);
        assert_eq!(live.for_files().threads, 2);
        let more = RuntimeOptions {
            threads: 2,
            decoder_threads: 3,
        };
        assert_eq!(more.for_files().decoder_threads, 3);
    }

    /// The Whisper-style padding frame is the MFCC of a log-mel frame whose every bin sits at the lowest log-mel
    /// value of the segment.
    #[test]
    fn the_clamp_floor_frame_is_a_flat_log_mel_frame_at_the_segments_lowest_value() {
        let n = 80;
        let dct = crate::features::dct_matrix(n);
        let to_mfcc = |log_mel: &[f32]| -> Vec<f32> {
            dct.chunks_exact(n)
                .map(|row| row.iter().zip(log_mel).map(|(c, x)| c * x).sum())
                .collect()
        };
        let to_log_mel = |mfcc: &[f32]| -> Vec<f32> {
            (0..n)
                .map(|i| (0..n).map(|k| dct[k * n + i] * mfcc[k]).sum())
                .collect()
        };
        let frames: Vec<f32> = (0..3)
            .flat_map(|t| {
                let log_mel: Vec<f32> = (0..n)
                    .map(|i| ((i * 7 + t * 3) % 11) as f32 * 0.1 - 0.4)
                    .collect();
                to_mfcc(&log_mel)
            })
            .collect();
        let pad = super::clamp_floor_frame(&frames, n);
        for bin in to_log_mel(&pad) {
            assert!((bin - (-0.4)).abs() < 1e-4, "{bin}");
        }
        assert_eq!(super::clamp_floor_frame(&[], n), vec![0.0; n]);
    }
}
