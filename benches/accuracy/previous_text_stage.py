"""Decoding stage: the previous text as a prompt (`<|startofprev|>`, openai-whisper's condition_on_previous_text) on
the long-form story of a corpus (issue 14).

    earshot transcribe -q --format json DIR/story_longform.wav > SEGMENTS.json
    venv/bin/python benches/accuracy/previous_text_stage.py DIR SEGMENTS.json [--tokens 24 64 224]

Takes earshot's own segments of the story (their start and end), runs Python ONNX Runtime on the pack
(models/export/pack.py) over earshot's causal front-end of the whole recording, each segment in the 5 s bucket (10 s
when longer), greedy, once with the usual prompt and once with `<|startofprev|>` + the last N tokens of the text
decoded so far before it; prints the story's word errors for each (Whisper's English normalizer, as compare.py). No
beam fallback, so the baseline is not earshot's own figure. Needs numpy, scipy, onnxruntime, whisper-normalizer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "models/export"))
sys.path.insert(0, str(ROOT / "benches"))
import frontend  # noqa: E402
from make_corpus import read_wav  # noqa: E402
from pack import Pack  # noqa: E402
from wer import edit_distance, normalize  # noqa: E402

START_OF_PREV = 50360  # tiny.en's <|startofprev|>


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, help="the corpus folder (manifest.tsv, story_longform.wav)")
    ap.add_argument("segments", type=Path, help="earshot transcribe --format json of the story")
    ap.add_argument("--tokens", type=int, nargs="+", default=[24, 64, 224], help="previous-text tokens kept")
    args = ap.parse_args()
    pack = Pack(ROOT / "models/whisper-tiny-en-int8")
    prompt = list(pack.manifest["tokens"]["prompt"])
    reference = next(
        line.split("\t")[4]
        for line in (args.corpus / "manifest.tsv").read_text().splitlines()
        if line.startswith("story_longform.wav\t")
    )
    audio, _ = read_wav(args.corpus / "story_longform.wav")
    features = frontend.mfcc(audio.mean(axis=1) if audio.ndim > 1 else audio, True)
    encoded = []
    for s in json.loads(args.segments.read_text())["segments"]:
        f = features[:, int(s["start_s"] * 100) : int(s["end_s"] * 100)]
        encoded.append(pack.encode(pack.pad(f, 500 if f.shape[1] <= 500 else 1000)))
    words = normalize(reference).split()
    for n in [0] + args.tokens:
        texts: list[str] = []
        previous: list[int] = []
        for cross_k, cross_v in encoded:
            context = [START_OF_PREV] + previous[-n:] if n and previous else []
            ids, _ = pack.greedy(cross_k, cross_v, 120, context + prompt)
            texts.append(pack.detokenize(ids))
            previous += ids
        errors = edit_distance(words, normalize(" ".join(texts)).split())
        print(f"previous-text tokens {n}: {errors} errors / {len(words)} words")


if __name__ == "__main__":
    main()
