"""Live latency of `earshot listen` on the project corpus replayed in real time (standard library only).

    python3 benches/live_latency.py [--profile default] [--out benches/results/live_latency.json]

Builds one continuous 16 kHz stream from the corpus's 16 kHz speech clips with 1.5 s of silence between them (so every
utterance ends by rule 1, silence after speech), replays it through the live path in real time with
`earshot listen --replay --json`, and reports p50/p95/max of: first-partial latency (first partial with text minus
the capture of the segment's first speech frame), endpoint wait (endpoint decision minus the capture of the last
speech frame), compute after the endpoint (final event minus endpoint decision), and their sum.
"""

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

root = Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="default")
parser.add_argument("--binary", default=str(root / "target/release/earshot"))
parser.add_argument("--out", type=Path)
args = parser.parse_args()

corpus = root / "tests/fixtures/speech"
rows = [r for r in csv.DictReader(open(corpus / "manifest.tsv"), delimiter="\t") if r["kind"] != "nonspeech"]
frames, seconds = [], 0.0
for r in rows:
    with wave.open(str(corpus / r["file"])) as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1:
            continue
        frames.append(w.readframes(w.getnframes()))
        frames.append(b"\0\0" * 24000)
        seconds += w.getnframes() / 16000 + 1.5
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "corpus_stream.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"".join(frames))
    print(f"replaying {len(frames) // 2} utterances, {seconds:.0f} s, in real time ...", file=sys.stderr)
    out = subprocess.run([args.binary, "listen", "-q", "--json", "--profile", args.profile, "--replay", str(path)],
                         capture_output=True, text=True, check=True).stdout
events = [json.loads(line) for line in out.splitlines()]
first = [e["first_partial_latency"] for e in events if e["event"] == "partial" and e["first_partial_latency"] is not None]
finals = [e for e in events if e["event"] == "final"]
wait = [e["endpoint_wait"] for e in finals if e["endpoint_wait"] is not None]
compute = [e["compute_after_endpoint"] for e in finals]
total = [e["endpoint_wait"] + e["compute_after_endpoint"] for e in finals if e["endpoint_wait"] is not None]
rules = {}
for e in events:
    if e["event"] == "endpoint":
        rules[e["rule"]] = rules.get(e["rule"], 0) + 1


def stats(xs):
    xs = sorted(xs)
    pick = lambda q: xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]  # noqa: E731
    return {"n": len(xs), "p50": round(statistics.median(xs), 1), "p95": round(pick(0.95), 1), "max": round(xs[-1], 1)}


report = {
    "profile": args.profile,
    "audio_s": round(seconds, 1),
    "utterances": len(frames) // 2,
    "finals": len(finals),
    "endpoint_rules": rules,
    "first_partial_latency_ms": stats(first),
    "endpoint_wait_ms": stats(wait),
    "compute_after_endpoint_ms": stats(compute),
    "final_latency_ms": stats(total),
}
print(json.dumps(report, indent=1))
if args.out:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
