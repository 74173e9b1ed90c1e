#!/usr/bin/env python3
"""The recognizer's own evidence at the check point: does the decoder's confidence in the end of its text tell a
finished turn from a pause?

    python benches/turns/decoder_confidence.py CHECK.json --work SCRATCH [--model models/whisper-tiny-en-int8]

CHECK.json and SCRATCH are check_point.py's `--json` output and `--work` folder (the audio of every check point:
the turn from its start to 200 ms after its end, or 200 ms into its pause). Each clip is decoded greedily by the
pack's reference decoder (models/export/pack.py, the Rust engine's greedy in Python ONNX Runtime), keeping every
chosen token's log-probability and that of end-of-text where the search stops. A text that sounds finished to the
shipped text rule is then also held back when its last word was a guess (its least likely token below T), when
end-of-text itself was unsure (below T), or when the model saw a pause in mid-sentence where it wrote the end of one
(a comma, dash, colon, semicolon or ellipsis above T where its final full stop or question mark stands). Prints how
many turn ends each rule holds back (each costs the long wait)
and how many pauses it still calls complete (premature ends). Needs the export venv (numpy, onnxruntime).
"""
from __future__ import annotations

import argparse
import json
import sys
import wave
from pathlib import Path

import numpy as np

from turn_stats import ROOT, rule_table, shipped_rule

sys.path.insert(0, str(ROOT / "models/export"))
import frontend  # noqa: E402
from pack import Pack  # noqa: E402

THRESHOLDS = (-0.5, -1.0, -1.5, -2.0, -3.0)


CONTINUING = (",", "...", " ...", "-", " -", ":", ";")
STOPS = (".", "?", "!")


def decode(pack, audio, continuing):
    """Greedy text pieces, each chosen token's log-probability, end-of-text's where the search stopped, and the
    log-probability of the `continuing` tokens together at the final stop (or at the end, if the text has none)."""
    trace, rows = [], []
    pack.greedy(*pack.encode(pack.pad(frontend.mfcc(audio, causal=True))), max_tokens=60, trace=trace, rows=rows)
    end_of_text = pack.manifest["tokens"]["end_of_text"]
    end = trace.pop()[1] if trace and trace[-1][0] == end_of_text else None
    pieces = [pack.detokenize([t]) for t, _ in trace]
    at = len(pieces) - 1 if pieces and pieces[-1] in STOPS else len(pieces)
    carry = float(np.logaddexp.reduce(rows[at][continuing])) if at < len(rows) else -np.inf
    return pieces, [lp for _, lp in trace], end, carry


def last_word_logprob(pieces, logprobs):
    """The least likely token of the last word (trailing punctuation left out); 0 for an empty text."""
    end = len(pieces)
    while end > 0 and not any(ch.isalnum() for ch in pieces[end - 1]):
        end -= 1
    start = end - 1
    while start > 0 and not pieces[start].startswith(" "):
        start -= 1
    return min(logprobs[max(start, 0):end], default=0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", type=Path)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=ROOT / "models/whisper-tiny-en-int8")
    a = parser.parse_args()
    clips = json.loads(a.check.read_text())["clips"]
    pack = Pack(a.model)
    unfinished = shipped_rule()
    continuing = np.array([i for i in range(len(pack.vocab)) if pack.detokenize([i]) in CONTINUING])
    for c in clips:
        with wave.open(str(a.work / f"{c['name']}.wav")) as w:
            audio = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
        pieces, logprobs, end, carry = decode(pack, audio, continuing)
        c["finished"] = not unfinished("".join(pieces))
        c["last_word"] = last_word_logprob(pieces, logprobs)
        c["end_of_text"] = -np.inf if end is None else end
        c["continuing"] = carry
    rules = {"text (shipped)": lambda c: c["finished"]}
    for t in THRESHOLDS:
        rules[f"text and last word's token > {t}"] = lambda c, t=t: c["finished"] and c["last_word"] > t
    for t in THRESHOLDS:
        rules[f"text and end-of-text > {t}"] = lambda c, t=t: c["finished"] and c["end_of_text"] > t
    for t in THRESHOLDS + (-4.0,):
        rules[f"text and continuing marks < {t}"] = lambda c, t=t: c["finished"] and c["continuing"] < t
    rule_table(rules, clips, head="rule (log-probabilities)")


if __name__ == "__main__":
    main()
