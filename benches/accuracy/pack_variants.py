#!/usr/bin/env python3
"""Model packs that differ from the shipped one in the quantization only: the stage-by-stage accuracy table of issue 14.

    PYTHONPATH=models/export python benches/accuracy/pack_variants.py --work FLOAT_GRAPHS --out DIR

Run with the export venv (models/export/requirements.lock). FLOAT_GRAPHS is the `--work` folder of
`models/export/export.py` (its float encoder.onnx and decoder.onnx). Writes, under DIR, one pack folder per variant
with the shipped pack's vocabulary and manifest (checksums rewritten):
- `float32`: the float graphs as exported;
- `int8-dynamic`: the scheme shipped until 2026-12-03: `quantize_dynamic`, per-channel int8 MatMul weights, one
  activation scale per tensor, in both graphs; the token lookup reads the projection's int8 table;
- `shipped`: what export.py makes now: that encoder, and the decoder through `quantize_decoder` (ONNX Runtime
  `MatMulNBits`, symmetric 8-bit weights, 64 per scale, int8 compute on block-quantized activations) and
  `share_embedding`;
- `int8-encoder-float-decoder`, `float-encoder-int8-decoder`: which graph the dynamic scheme loses accuracy in;
- `nbits8-b32`, `nbits8-b64`, `nbits8-b128`: `MatMulNBits` in both graphs, 32/64/128 weights per scale;
- `nbits4-b32`: 4 bits (q4_0-like) in both graphs, the token embedding left in float.
"""
import argparse
import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from export import quantize_decoder, quantize_encoder, share_embedding


def int8_decoder(src: Path, dst: Path) -> None:
    """The decoder as shipped until 2026-12-03: dynamic int8, the token lookup reading the projection's int8 table
    (embedding[t] = projection_q[:, t] * scale[t])."""
    quantize_encoder(src, dst)
    model = onnx.load(str(dst))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    (table,) = [n for n in inits if n.startswith("projection") and n.endswith("_quantized")]
    scale = table.replace("_quantized", "_scale")
    (lookup,) = [n for n in graph.node if n.op_type == "Gather" and n.input[0] == "embedding"]
    tokens, out = lookup.input[1], lookup.output[0]
    nodes = [
        helper.make_node("Gather", [table, tokens], ["emb_q"], axis=1, name="embedding_gather_int8"),
        helper.make_node("Cast", ["emb_q"], ["emb_qf"], to=onnx.TensorProto.FLOAT, name="embedding_cast"),
        helper.make_node("Transpose", ["emb_qf"], ["emb_t"], perm=[1, 2, 0], name="embedding_transpose"),
        helper.make_node("Gather", [scale, tokens], ["emb_scale"], axis=0, name="embedding_gather_scale"),
        helper.make_node("Unsqueeze", ["emb_scale", "emb_axis"], ["emb_scale_3d"], name="embedding_scale_unsqueeze"),
        helper.make_node("Mul", ["emb_t", "emb_scale_3d"], [out], name="embedding_dequantize"),
    ]
    index = list(graph.node).index(lookup)
    graph.node.remove(lookup)
    for offset, node in enumerate(nodes):
        graph.node.insert(index + offset, node)
    graph.initializer.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "emb_axis"))
    graph.initializer.remove(inits["embedding"])
    onnx.save(model, str(dst))


def nbits(bits: int, block: int, shared: bool = True):
    def make(src: Path, dst: Path) -> None:
        quantize_decoder(src, dst, bits, block)
        if shared and src.name == "decoder.onnx":
            share_embedding(dst)

    return make


# name -> (encoder, decoder), each made by f(float graph, destination)
VARIANTS = {
    "float32": (shutil.copy, shutil.copy),
    "int8-dynamic": (quantize_encoder, int8_decoder),
    "shipped": (quantize_encoder, nbits(8, 64)),
    "int8-encoder-float-decoder": (quantize_encoder, shutil.copy),
    "float-encoder-int8-decoder": (shutil.copy, int8_decoder),
    "nbits8-b32": (nbits(8, 32), nbits(8, 32)),
    "nbits8-b64": (nbits(8, 64), nbits(8, 64)),
    "nbits8-b128": (nbits(8, 128), nbits(8, 128)),
    "nbits4-b32": (nbits(4, 32, False), nbits(4, 32, False)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--pack", type=Path, default=Path("models/whisper-tiny-en-int8"))
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    for name, makers in VARIANTS.items():
        out = a.out / name
        out.mkdir(parents=True, exist_ok=True)
        manifest = (a.pack / "model.toml").read_text()
        for graph, make in zip(("encoder.onnx", "decoder.onnx"), makers):
            make(a.work / graph, out / graph)
            digest = hashlib.sha256((out / graph).read_bytes()).hexdigest()
            manifest = re.sub(rf'"{re.escape(graph)}" = "[0-9a-f]+"', f'"{graph}" = "{digest}"', manifest)
        shutil.copy(a.pack / "vocabulary.txt", out / "vocabulary.txt")
        (out / "model.toml").write_text(manifest)
        size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
        print(f"{out}: {size:.1f} MB")


if __name__ == "__main__":
    main()
