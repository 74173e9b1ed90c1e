"""Time the Python ONNX Runtime pipeline (models/export/pack.py) on the corpus: a baseline for `earshot transcribe`'s
own speed (run both on the same machine). Same pack, same corpus, 5 s buckets with the guards and 30 s fallback. Timed like
`earshot transcribe`'s summary line: from reading the files (and resampling) to text, model load excluded.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=models/export python benches/python_pipeline.py --threads 2
"""

import argparse
import time
from pathlib import Path

import csv

import evaluate
import frontend
import make_corpus
from pack import Pack

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--corpus", type=Path, default=Path("tests/fixtures/speech"))
args = parser.parse_args()

t0 = time.perf_counter()
pack = Pack(Path("models/whisper-tiny-en-int8"), threads=args.threads)
load = time.perf_counter() - t0
files = [r["file"] for r in csv.DictReader(open(args.corpus / "manifest.tsv"), delimiter="\t") if r["kind"] != "nonspeech"]
audio_s = 0.0
t0 = time.perf_counter()
for name in files:
    audio, rate = make_corpus.read_wav(args.corpus / name)
    if rate != frontend.SAMPLE_RATE_HZ:
        audio = make_corpus.resample(audio, rate, frontend.SAMPLE_RATE_HZ)
    audio_s += len(audio) / frontend.SAMPLE_RATE_HZ
    evaluate.decode_guarded(pack, audio)
wall = time.perf_counter() - t0
print(f"python pipeline, {args.threads} thread(s): {len(files)} clips, {audio_s:.1f} s of audio in {wall:.2f} s "
      f"(RTF {wall / audio_s:.3f}), load {load * 1000:.0f} ms")
