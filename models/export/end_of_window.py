"""The end of the window: the encoder's cross-attention K/V of the last second of a 30 s window of silence.

    python models/export/end_of_window.py --pack models/whisper-tiny-en-int8

Whisper was trained on 30 s windows only, so its decoder has always seen the last positions of a 30 s window, and it
learned to read them as where the audio ends. earshot runs the encoder on shorter windows (5 s, 10 s) for speed; the
decoder then never sees those positions, and it ends or paraphrases sentences early ("the gate yellow" -> "the
Gateway"). Appending this block after a short window's own output puts them back at the cost of 50 cross-attention
positions (benches/accuracy/README.md, "The end of the window": greedy WER 21.5 -> 18.0 % on the dev corpus's 2,208
words in Python ONNX Runtime).

The silence is padded as Whisper pads: every normalized log-mel bin at the clamp floor, for speech whose peak is the
causal clamp's peak floor. The block is computed with the pack's own (quantized) encoder, so it must be rebuilt when
the encoder changes; export.py does that. Run alone, this script writes the block into an existing pack and adds its
table and checksum to model.toml.

File layout: little-endian f32 [2 (K, V), layers, positions, d_model].
"""

from __future__ import annotations

import argparse
import hashlib
import re
import tomllib
from pathlib import Path

import numpy as np
import onnxruntime as ort

import frontend

FILE = "end_of_window.bin"
POSITIONS = 50  # the last second (20 ms per position): the last 50 gave 397 errors, all 1,250 padding positions 382
WINDOW_FRAMES = 3000  # the 30 s window Whisper was trained on


def silence_features() -> np.ndarray:
    """MFCC [80, 3000] of a 30 s window of Whisper's padding: a flat log-mel frame at the clamp floor."""
    floor = frontend.CAUSAL_PEAK_FLOOR_LOG10 - frontend.CLAMP_RANGE_LOG10
    level = (floor + frontend.NORM_OFFSET) / frontend.NORM_SCALE
    frame = frontend.dct_matrix() @ np.full(frontend.N_MELS, level)
    return np.repeat(frame[:, None], WINDOW_FRAMES, axis=1).astype(np.float32)


def block(encoder: ort.InferenceSession, positions: int = POSITIONS) -> np.ndarray:
    """The cross K/V of the last `positions` positions of `encoder` run on the silent window, [2, layers, 1,
    positions, d_model]."""
    k, v = encoder.run(None, {"features": silence_features()[None]})
    return np.stack([k[:, :, -positions:, :], v[:, :, -positions:, :]])


def write(pack: Path, encoder: Path) -> None:
    """Run `encoder` on the silent window and write the block to pack/FILE."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    session = ort.InferenceSession(str(encoder), opts, providers=["CPUExecutionProvider"])
    (pack / FILE).write_bytes(block(session).astype("<f4").tobytes())


def manifest_table() -> str:
    """The model.toml table that names the block (written by export.py's manifest and by main below)."""
    return f"""[end_of_window]
file = "{FILE}"          # little-endian f32 [2 (K, V), layers, positions, d_model]: end_of_window.py
positions = {POSITIONS}                    # cross K/V of the last second of a 30 s window of silence, appended after shorter windows
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", type=Path, default=Path("models/whisper-tiny-en-int8"))
    args = parser.parse_args()
    path = args.pack / "model.toml"
    text = path.read_text(encoding="utf-8")
    manifest = tomllib.loads(text)
    write(args.pack, args.pack / manifest["encoder"]["file"])
    digest = hashlib.sha256((args.pack / FILE).read_bytes()).hexdigest()
    text = re.sub(r"\[end_of_window\]\n(?:[^\[\n][^\n]*\n)*\n", "", text)
    text = re.sub(rf'^"{re.escape(FILE)}" = "[0-9a-f]+"\n', "", text, flags=re.M)
    text = text.replace("\n[checksums]", "\n" + manifest_table() + "\n[checksums]", 1)
    text = text.rstrip("\n") + f'\n"{FILE}" = "{digest}"\n'
    path.write_text(text, encoding="utf-8")
    tomllib.loads(text)  # still a valid manifest
    print(f"wrote {args.pack / FILE} ({(args.pack / FILE).stat().st_size} bytes) and its entry in {path}")


if __name__ == "__main__":
    main()
