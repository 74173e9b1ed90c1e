"""Window stage: what the decoder needs from the end of Whisper's 30 s window (issue 14).

    venv/bin/python benches/accuracy/end_of_window_stage.py DIR [--json OUT]

For every short clip of a corpus made by make_dev_corpus.py (not the long-form story, not non-speech), Python ONNX
Runtime on the pack (models/export/pack.py), the whole clip, earshot's causal front-end, greedy, no guards and no
fallbacks, decodes the same audio with these cross-attention inputs:

- `5 s window`: the encoder's output for the clip in its 5 s bucket (10 s, 15 s when longer), zero-padded, as
  earshot ran until the end-of-window block;
- `30 s window, Whisper's padding`: the whole clip in the 30 s window padded as openai-whisper pads (silence, the
  whole-window clamp), the window the model was trained on: 8x the encoder time;
- `5 s window + last N`: the 5 s window's output followed by the encoder's output at the last N positions (of 1,500)
  of a 30 s window of silence padded as Whisper pads (models/export/end_of_window.py); `all` is every position after
  the window's own. N = 50 is the pack's block.

Prints the word errors of each (Whisper's English normalizer, as compare.py). Needs numpy, scipy, onnxruntime,
whisper-normalizer.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import scipy.signal

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "models/export"))
sys.path.insert(0, str(ROOT / "benches"))
import end_of_window  # noqa: E402
import frontend  # noqa: E402
from make_corpus import read_wav  # noqa: E402
from pack import Pack  # noqa: E402
from wer import edit_distance, normalize  # noqa: E402

TAILS = [None, 250, 100, 50, 20]  # None: every position after the window's own


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, help="a corpus folder (manifest.tsv)")
    ap.add_argument("--json", type=Path, help="write the errors and texts of every clip here")
    args = ap.parse_args()
    pack = Pack(ROOT / "models/whisper-tiny-en-int8")
    pack.end_of_window = None  # each variant below adds its own
    silence_k, silence_v = pack.encoder.run(None, {"features": end_of_window.silence_features()[None]})
    rows = list(csv.DictReader(open(args.corpus / "manifest.tsv", encoding="utf-8"), delimiter="\t"))
    totals: dict[str, list[int]] = {}
    clips = []
    for r in rows:
        if r["group"] in ("nonspeech", "longform"):
            continue
        audio, rate = read_wav(args.corpus / r["file"])
        audio = audio.mean(axis=1) if audio.ndim > 1 else audio
        if rate != frontend.SAMPLE_RATE_HZ:
            audio = scipy.signal.resample_poly(audio, frontend.SAMPLE_RATE_HZ, rate)
        audio = audio.astype(np.float64)
        features = frontend.mfcc(audio, causal=True)
        frames = features.shape[1]
        window = pack.pad(features)
        own_k, own_v = pack.encode(window)
        own = window.shape[1] // 2
        whisper = np.zeros(30 * frontend.SAMPLE_RATE_HZ)
        whisper[: len(audio)] = audio
        variants = {"5 s window": (own_k, own_v), "30 s window, Whisper's padding": pack.encode(frontend.mfcc(whisper, False))}
        for n in TAILS:
            tail = slice(own, None) if n is None else slice(-n, None)
            name = f"5 s window + last {'all' if n is None else n}"
            variants[name] = (
                np.concatenate([own_k, silence_k[:, :, tail]], axis=2),
                np.concatenate([own_v, silence_v[:, :, tail]], axis=2),
            )
        words = normalize(r["text"]).split()
        clip = {"file": r["file"], "group": r["group"], "content": r["content"], "errors": {}, "texts": {}}
        for name, (k, v) in variants.items():
            ids, _ = pack.greedy(k, v, max_tokens=10 + 6 * frames // 100)
            text = pack.detokenize(ids)
            errors = edit_distance(words, normalize(text).split())
            clip["errors"][name], clip["texts"][name] = errors, text
            total = totals.setdefault(name, [0, 0])
            total[0] += errors
            total[1] += len(words)
        clips.append(clip)
        print(r["file"], clip["errors"], flush=True)
    print("| cross-attention input | errors | words | WER % |\n|---|---|---|---|")
    for name, (errors, words) in totals.items():
        print(f"| {name} | {errors} | {words} | {100 * errors / words:.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"totals": totals, "clips": clips}, indent=1))


if __name__ == "__main__":
    main()
