"""Decoding stage: timestamp vs no-timestamp greedy decoding on the dev corpus (issue 14).

    venv/bin/python benches/accuracy/timestamp_stage.py models/whisper-tiny-en-int8 \
        DIR/manifest.tsv [--json OUT]

Python ONNX Runtime on the pack (models/export/pack.py), earshot's causal front-end and 5 s buckets on whole clips
(no endpointer, no no-speech gate, the long-form story left out); a text that hits the token cap or whose zlib
compression ratio exceeds 2.4 is decoded again in the 30 s window (evaluate.py's guard, as earshot's guards do). Timestamp mode is
openai-whisper's `ApplyTimestampRules` (prompt without <|notimestamps|>, timestamps in pairs and non-decreasing, the
first one at most 1 s, a timestamp forced when their total probability beats every text token). Needs numpy, scipy,
onnxruntime and whisper-normalizer (compare.py's scoring).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "models/export"))
sys.path.insert(0, str(ROOT / "benches/accuracy"))
import compare  # noqa: E402
import frontend  # noqa: E402
import make_corpus  # noqa: E402
from evaluate import MAX_TOKENS_BASE, MAX_TOKENS_PER_SECOND, guard_tripped  # noqa: E402
from pack import Pack  # noqa: E402

GROUPS = ["all", "short", "clean", "espeak", "noise10", "noise20", "long", "content:dictation", "content:number",
          "content:name", "content:command"]
MAX_INITIAL_TIMESTAMP = 50  # 1.0 s in 20 ms steps (openai-whisper's default)


def load(path: str) -> np.ndarray:
    """A WAV file as mono 16 kHz samples."""
    audio, rate = make_corpus.read_wav(Path(path))
    return audio if rate == frontend.SAMPLE_RATE_HZ else make_corpus.resample(audio, rate, frontend.SAMPLE_RATE_HZ)


def logsumexp(x: np.ndarray) -> float:
    top = x.max()
    return top if top == -np.inf else top + np.log(np.exp(x - top).sum())


class Greedy:
    """Greedy search over the pack's decoder, with or without timestamp tokens."""

    def __init__(self, pack: Pack):
        self.pack = pack
        tok = pack.manifest["tokens"]
        self.eot, self.sot, self.no_ts, self.ts = (tok["end_of_text"], tok["start_of_transcript"],
                                                    tok["no_timestamps"], tok["timestamp_begin"])
        self.suppress = np.array(tok["suppress"], dtype=np.int64)

    def timestamp_rules(self, x: np.ndarray, seq: list[int]) -> None:
        """openai-whisper's ApplyTimestampRules on one logits row (in place)."""
        ts = self.ts
        x[self.no_ts] = -np.inf
        last = len(seq) >= 1 and seq[-1] >= ts
        penultimate = len(seq) < 2 or seq[-2] >= ts
        if last:
            if penultimate:
                x[ts:] = -np.inf  # a pair is complete: text next
            else:
                x[: self.eot] = -np.inf  # a lone timestamp: another one (or the end) next
        stamps = [t for t in seq if t >= ts]
        if stamps:
            x[ts : stamps[-1] + (0 if last and not penultimate else 1)] = -np.inf
        if not seq:
            x[:ts] = -np.inf
            x[ts + MAX_INITIAL_TIMESTAMP + 1 :] = -np.inf
        logprobs = x - logsumexp(x)
        if logsumexp(logprobs[ts:]) > logprobs[:ts].max():
            x[:ts] = -np.inf

    def run(self, cross_k, cross_v, limit: int, timestamps: bool) -> tuple[list[int], str]:
        """The text tokens (timestamps dropped) and their text."""
        dec = self.pack.manifest["decoder"]
        k = np.zeros((dec["layers"], 1, 0, dec["d_model"]), np.float32)
        v = k.copy()
        feed = np.array([[self.sot] if timestamps else [self.sot, self.no_ts]], dtype=np.int64)
        seq: list[int] = []
        for step in range(limit):
            logits, k, v = self.pack.decoder.run(
                None, {"tokens": feed, "self_k": k, "self_v": v, "cross_k": cross_k, "cross_v": cross_v})
            x = logits[0, -1].astype(np.float64)
            x[self.suppress] = -np.inf
            if step == 0:
                x[[220, self.eot]] = -np.inf
            if timestamps:
                self.timestamp_rules(x, seq)
            else:
                x[self.ts :] = -np.inf
            token = int(np.argmax(x))
            if token == self.eot:
                break
            seq.append(token)
            feed = np.array([[token]], dtype=np.int64)
        text = [t for t in seq if t < self.eot]
        return text, self.pack.detokenize(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pack", type=Path)
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    pack = Pack(args.pack, threads=2)
    search = Greedy(pack)
    clips = [c for c in compare.load(args.manifest) if c["group"] != "longform"]
    texts: dict[str, list[str]] = {"notimestamps": [], "timestamps": []}
    guards = {mode: 0 for mode in texts}
    for clip in clips:
        audio = load(clip["path"])
        features = frontend.mfcc(audio, causal=True)
        audio_5s = pack.encode(pack.pad(features))
        seconds = len(audio) / frontend.SAMPLE_RATE_HZ
        # The engine's token cap, plus room for the timestamp tokens; the cap on text tokens is the guard's.
        limit = int(MAX_TOKENS_BASE + MAX_TOKENS_PER_SECOND * seconds) + 1 + 8
        for mode in texts:
            ids, text = search.run(*audio_5s, limit, mode == "timestamps")
            if guard_tripped(ids, text, seconds):
                guards[mode] += 1
                _, text = search.run(*pack.encode(pack.pad(features, 3000)), limit, mode == "timestamps")
            texts[mode].append(text)
    for mode, found in texts.items():
        score = compare.score(clips, found)
        errors = " ".join(f"{g}={score[g]['errors']}" for g in GROUPS)
        print(f"{mode}: errors {errors}; non-speech clips with text {score['nonspeech']['with_text']}; "
              f"guards {guards[mode]}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"texts": texts, "guards": guards}, indent=1))


if __name__ == "__main__":
    main()
