#!/usr/bin/env python3
"""The turn corpus (make_turns.py) as clips for `earshot bench`: each turn cut from its session with 1 s of the
session's noise before it and 1.5 s after (the sessions leave 2-3 s between turns), with its text and, for a paused
turn, its pause in the manifest's `pause` column (seconds from the clip's start), so the bench reports how many
paused sentences were ended inside the pause. Bench them with `--gap-ms 0`: the clips carry their own noise, and a
gap of digital silence would pull the endpointer's noise floor far below the noisy copy's.

    python benches/turns/bench_corpus.py DIR            # writes DIR/bench/{clean,noisy}.tsv and the clips
    earshot bench DIR/bench/clean.tsv --gap-ms 0 --end-of-turn text

Needs numpy only.
"""
from __future__ import annotations

import argparse
import json
import wave
from pathlib import Path

import numpy as np

BEFORE_S, AFTER_S = 1.0, 1.5


def read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate()


def write(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path, help="make_turns.py's output folder (turns.json and the sessions)")
    a = parser.parse_args()
    out = a.dir / "bench"
    out.mkdir(exist_ok=True)
    sessions = json.loads((a.dir / "turns.json").read_text())
    for copy, key in (("clean", "file"), ("noisy", "noisy_file")):
        rows = ["file\ttext\tpause"]
        for session in sessions:
            audio, rate = read(a.dir / session[key])
            for k, turn in enumerate(session["turns"]):
                start = max(0.0, turn["start_s"] - BEFORE_S)
                clip = audio[int(start * rate) : int((turn["end_s"] + AFTER_S) * rate)]
                name = f"{session['session']}_t{k}_{copy}.wav"
                write(out / name, clip, rate)
                pause = turn["pause"]
                span = f"{pause[0] - start:.3f}-{pause[1] - start:.3f}" if pause else ""
                rows.append(f"{name}\t{turn['text']}\t{span}")
        (out / f"{copy}.tsv").write_text("\n".join(rows) + "\n")
        print(f"wrote {out / f'{copy}.tsv'}: {len(rows) - 1} clips")


if __name__ == "__main__":
    main()
