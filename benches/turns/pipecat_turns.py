#!/usr/bin/env python3
"""pipecat's default end-of-turn logic on the turn corpus of make_turns.py, for comparison with earshot's.

    python benches/turns/pipecat_turns.py DIR/turns.json [--noisy] [--sessions N] [--json OUT]

Needs `pip install "pipecat-ai[silero]==1.14.0" soxr` (its Smart Turn v3.2 model ships in the wheel). Runs pipecat's
own classes, as its TurnAnalyzerUserTurnStopStrategy wires them: SileroVADAnalyzer with the default VADParams
(confidence 0.7, start 0.2 s, stop 0.2 s); when the VAD reports the user stopped speaking, LocalSmartTurnAnalyzerV3
judges the turn (complete above 0.5); otherwise the turn ends after its stop_secs (3 s) of silence. The audio is fed
as fast as it computes, on a simulated clock (the analyzers read time.monotonic()), so a decision's time is stream
time; the Smart Turn call's own wall time is measured apart and reported, not added. Scores like score.py: decision
after the end of speech (p50/p95, complete and paused turns), paused turns ended inside the pause, turns whose end
was not decided before the next turn began.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
import types
import wave
from pathlib import Path

import numpy as np
import pipecat.audio.turn.smart_turn.base_smart_turn as base_smart_turn
from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams, VADState
from turn_stats import latency_summary, quantile

RATE = 16000
CHUNK = 512  # Silero's window at 16 kHz (32 ms)


class Clock:
    now = 0.0


clock = Clock()
base_smart_turn.time = types.SimpleNamespace(monotonic=lambda: clock.now, time=lambda: clock.now,
                                             perf_counter=time.perf_counter)


async def decisions(pcm: np.ndarray, model_ms: list[float]) -> list[float]:
    """Stream times at which pipecat's logic ends a user turn."""
    vad = SileroVADAnalyzer(params=VADParams())
    vad.set_sample_rate(RATE)
    turn = LocalSmartTurnAnalyzerV3()
    turn.set_sample_rate(RATE)
    ended, speaking, prev = [], False, VADState.QUIET
    for i in range(0, len(pcm) - CHUNK + 1, CHUNK):
        clock.now = (i + CHUNK) / RATE
        chunk = pcm[i : i + CHUNK].tobytes()
        state = await vad.analyze_audio(chunk)
        if state != prev and state in (VADState.SPEAKING, VADState.QUIET):
            prev = state
            if state == VADState.SPEAKING:
                turn.update_vad_start_secs(vad.params.start_secs)
                speaking = True
            else:
                speaking = False
                started = time.perf_counter()
                verdict, _ = await turn.analyze_end_of_turn()
                model_ms.append((time.perf_counter() - started) * 1000)
                if verdict == EndOfTurnState.COMPLETE:
                    ended.append(clock.now)
                    continue
        if turn.append_audio(chunk, speaking) == EndOfTurnState.COMPLETE:
            ended.append(clock.now)
    return ended


def score(session, ended):
    rows, turns = [], session["turns"]
    for k, t in enumerate(turns):
        nxt = turns[k + 1]["start_s"] if k + 1 < len(turns) else math.inf
        mine = [e for e in ended if t["start_s"] <= e < nxt]
        after = [e for e in mine if e >= t["end_s"]]
        row = {"session": session["session"], "kind": t["kind"], "late": not after}
        if after:
            row["latency_ms"] = (after[0] - t["end_s"]) * 1000
        if t["pause"]:
            row["premature"] = any(t["pause"][0] <= e < t["pause"][1] for e in mine)
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("turns", type=Path)
    parser.add_argument("--noisy", action="store_true")
    parser.add_argument("--sessions", type=int)
    parser.add_argument("--json", type=Path)
    a = parser.parse_args()
    sessions = json.loads(a.turns.read_text())[: a.sessions]
    rows, model_ms = [], []
    for session in sessions:
        with wave.open(str(a.turns.parent / session["noisy_file" if a.noisy else "file"])) as w:
            assert w.getframerate() == RATE and w.getnchannels() == 1
            pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        rows += score(session, asyncio.run(decisions(pcm, model_ms)))
    s = {
        "sessions": len(sessions), "turns": len(rows), "noisy": a.noisy, **latency_summary(rows),
        "smart_turn_call_ms_p50": quantile(model_ms, 0.5), "smart_turn_call_ms_p95": quantile(model_ms, 0.95),
    }
    print(f"pipecat, {s['turns']} turns, {'noisy' if a.noisy else 'clean'}: decision after end of speech complete p50 "
          f"{s['complete_latency_ms_p50']:.0f} / p95 {s['complete_latency_ms_p95']:.0f} ms, paused p50 "
          f"{s['paused_latency_ms_p50']:.0f} / p95 {s['paused_latency_ms_p95']:.0f} ms; paused turns ended inside "
          f"the pause {s['premature_percent']:.0f} %; turn end not decided before the next turn {s['late_turns']}; "
          f"Smart Turn call p50 {s['smart_turn_call_ms_p50']:.1f} / p95 {s['smart_turn_call_ms_p95']:.1f} ms")
    if a.json:
        a.json.write_text(json.dumps({"summary": s, "turns": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
