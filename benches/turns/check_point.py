#!/usr/bin/env python3
"""The end-of-turn candidates side by side at the check point: 200 ms after the true end of each turn and 200 ms
into each pause of the turn corpus (make_turns.py), what each candidate says.

    python benches/turns/check_point.py DIR/turns.json --work SCRATCH [--earshot BIN] [--json OUT]

Needs `pip install "pipecat-ai[silero]==1.14.0" soxr` (Smart Turn v3.2 and its feature code ship in the wheel).
For every check point it cuts the turn's audio (its start - 0.4 s to the point) into SCRATCH, transcribes the clips
with `earshot transcribe` (the text earshot's speculative final would hold) and runs Smart Turn v3.2 on the same
audio exactly as pipecat does (last 8 s, zero-padded at the start, pipecat's own feature code). Then it scores
candidate rules: a turn end judged unfinished costs a long wait (the p95 of complete turns), a pause judged
complete ends the turn inside it (premature).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import time
import wave
from pathlib import Path

import numpy as np
import onnxruntime as ort
from pipecat.audio.turn.smart_turn._whisper_features import compute_whisper_log_mel_features
import pipecat.audio.turn.smart_turn.data as smart_turn_data
from turn_stats import ROOT, rule_table, shipped_rule

CHECK_S = 0.2


def cut_clips(sessions, folder, work, noisy):
    clips = []
    for s in sessions:
        with wave.open(str(folder / s["noisy_file" if noisy else "file"])) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        for k, t in enumerate(s["turns"]):
            points = [("end", t["end_s"])] + ([("pause", t["pause"][0])] if t["pause"] else [])
            for kind, at in points:
                name = f"{s['session']}_{'noisy' if noisy else 'clean'}_{k}_{kind}"
                path = work / f"{name}.wav"
                with wave.open(str(path), "wb") as o:
                    o.setnchannels(1), o.setsampwidth(2), o.setframerate(16000)
                    o.writeframes(pcm[int((t["start_s"] - 0.4) * 16000) : int((at + CHECK_S) * 16000)].tobytes())
                clips.append({"name": name, "path": path, "kind": kind, "noisy": noisy})
    return clips


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("turns", type=Path)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--earshot", default=str(ROOT / "target/release/earshot"))
    parser.add_argument("--json", type=Path)
    a = parser.parse_args()
    sessions = json.loads(a.turns.read_text())
    a.work.mkdir(parents=True, exist_ok=True)
    clips = [c for noisy in (False, True) for c in cut_clips(sessions, a.turns.parent, a.work, noisy)]
    out = a.work / "text"
    subprocess.run([a.earshot, "transcribe", "--format", "json", "-q", "-o", str(out),
                    *[str(c["path"]) for c in clips]], check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    model = Path(smart_turn_data.__file__).parent / "smart-turn-v3.2-cpu.onnx"
    session = ort.InferenceSession(str(model), options)
    call_ms = []
    for c in clips:
        c["text"] = " ".join(s["text"].strip() for s in json.loads((out / f"{c['name']}.json").read_text())["segments"])
        with wave.open(str(c["path"])) as w:
            audio = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
        audio = audio[-128000:]
        audio = np.pad(audio, (128000 - len(audio), 0))
        started = time.perf_counter()
        features = compute_whisper_log_mel_features(audio)[None]
        c["smart_turn"] = float(session.run(None, {"input_features": features})[0][0, 0])
        call_ms.append((time.perf_counter() - started) * 1000)
        del c["path"]
    unfinished = shipped_rule()
    rules = {
        "smart turn > 0.5 (pipecat)": lambda c: c["smart_turn"] > 0.5,
        "text (shipped)": lambda c: not unfinished(c["text"]),
        "text and smart turn > 0.05": lambda c: not unfinished(c["text"]) and c["smart_turn"] > 0.05,
        "text and smart turn > 0.5": lambda c: not unfinished(c["text"]) and c["smart_turn"] > 0.5,
        "text or smart turn > 0.9": lambda c: not unfinished(c["text"]) or c["smart_turn"] > 0.9,
    }
    table = rule_table(rules, clips)
    call_ms.sort()
    print(f"Smart Turn features + call (Python, 1 thread): p50 {call_ms[len(call_ms) // 2]:.1f} ms, "
          f"p95 {call_ms[int(len(call_ms) * 0.95)]:.1f} ms")
    if a.json:
        a.json.write_text(json.dumps({"rules": table, "clips": clips}, indent=0) + "\n")


if __name__ == "__main__":
    main()
