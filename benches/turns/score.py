#!/usr/bin/env python3
"""Score end of turn on the corpus of make_turns.py, from outside the engine: each session is fed to
`earshot listen --stdin` in real time (20 ms chunks, paced by the clock) and each final is stamped when its line
arrives on earshot's standard output.

    python benches/turns/score.py DIR/turns.json [--noisy] [--sessions N] [--parallel P] [--offline] [--earshot BIN]
                                  [--earshot-arg ARG ...] [--json OUT] [--finals OUT]

--offline replays each session as fast as it decodes (`listen --replay --fast`) and stamps each final with the
stream time at which its endpoint rule fired (`decided_s`): the decision alone, without compute or pacing, for quick
tuning runs; the numbers to report come from the real-time run.

A final belongs to the turn whose span (its start - 0.3 s to the next turn's start) holds the final's midpoint.
Per turn: the end of speech -> its last final's arrival (latency; complete turns and paused turns apart); a paused
turn is ended inside its pause (premature) when a final of it ends before the pause does; a turn with no final is
missing. WER over all turns with Whisper's English normalizer (benches/wer.py). Needs whisper-normalizer.
--finals writes every final event as earshot sent it (its encoder and decoder times, decoder calls, beam fallback)
with `session` and `arrived_s` (seconds after the session's start) added, one JSON object per line.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wer import edit_distance, normalize  # noqa: E402
from turn_stats import latency_summary  # noqa: E402

CHUNK_S = 0.02


def run_session(binary, extra, wav_path):
    """Stream `wav_path` into `listen --stdin` in real time; (start time, [(arrival, final event)])."""
    with wave.open(str(wav_path)) as w:
        rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    proc = subprocess.Popen([binary, "listen", "--stdin", "--rate", str(rate), "--json", "-q", *extra],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    finals = []

    def read():
        for line in proc.stdout:
            arrived = time.monotonic()
            event = json.loads(line)
            if event.get("event") == "final":
                finals.append((arrived, event))

    reader = threading.Thread(target=read)
    reader.start()
    step = int(rate * CHUNK_S) * 2
    started = time.monotonic()
    for i in range(0, len(pcm), step):
        proc.stdin.write(pcm[i : i + step])
        proc.stdin.flush()
        due = started + (i + step) / (2 * rate)
        time.sleep(max(0.0, due - time.monotonic()))
    proc.stdin.close()
    reader.join()
    proc.wait()
    return started, finals


def run_session_offline(binary, extra, wav_path):
    """Replay `wav_path` through the live path as fast as it decodes; (0, [(decided_s, final event)])."""
    out = subprocess.run([binary, "listen", "--replay", str(wav_path), "--fast", "--json", "-q",
                          "--ring-frames", "1000000", *extra], check=True, capture_output=True, text=True).stdout
    finals, last = [], None
    for line in out.splitlines():
        event = json.loads(line)
        if event.get("event") == "final":
            last = event
        elif event.get("event") == "endpoint" and last is not None:
            finals.append((event["decided_s"], last))
            last = None
    return 0.0, finals


def score(session, started, finals):
    turns = session["turns"]
    rows = []
    for k, turn in enumerate(turns):
        lo = turn["start_s"] - 0.3
        hi = turns[k + 1]["start_s"] - 0.3 if k + 1 < len(turns) else math.inf
        mine = [(t, e) for t, e in finals if lo <= (e["start_s"] + e["end_s"]) / 2 < hi]
        text = " ".join(e["text"].strip() for _, e in mine)
        row = {"session": session["session"], "kind": turn["kind"], "text": turn["text"], "heard": text,
               "finals": len(mine), "missing": not mine}
        if mine:
            row["latency_ms"] = (mine[-1][0] - (started + turn["end_s"])) * 1000
            row["late"] = k + 1 < len(turns) and mine[-1][0] > started + turns[k + 1]["start_s"]
            if turn["pause"]:
                row["premature"] = any(e["end_s"] < turn["pause"][1] for _, e in mine)
        r, h = normalize(turn["text"]).split(), normalize(text).split()
        row["errors"], row["words"] = edit_distance(r, h), len(r)
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("turns", type=Path)
    parser.add_argument("--noisy", action="store_true", help="the 10-20 dB SNR copies")
    parser.add_argument("--sessions", type=int, help="only the first N sessions")
    parser.add_argument("--parallel", type=int, default=1, help="sessions streamed at once")
    parser.add_argument("--offline", action="store_true", help="decision times in stream audio, not real time")
    parser.add_argument("--earshot", default=str(Path(__file__).resolve().parents[2] / "target/release/earshot"))
    parser.add_argument("--earshot-arg", action="append", default=[])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--finals", type=Path, help="every final event, one JSON line each")
    a = parser.parse_args()
    sessions = json.loads(a.turns.read_text())[: a.sessions]
    folder = a.turns.parent

    def one(session):
        wav = folder / session["noisy_file" if a.noisy else "file"]
        run = run_session_offline if a.offline else run_session
        started, finals = run(a.earshot, a.earshot_arg, wav)
        events = [dict(e, session=session["session"], arrived_s=t - started) for t, e in finals]
        return score(session, started, finals), events

    with ThreadPoolExecutor(a.parallel) as pool:
        results = list(pool.map(one, sessions))
    rows = [row for rows, _ in results for row in rows]
    if a.finals:
        a.finals.write_text("".join(json.dumps(e) + "\n" for _, events in results for e in events))
    errors, words = sum(r["errors"] for r in rows), sum(r["words"] for r in rows)
    summary = {
        "sessions": len(sessions), "turns": len(rows), "noisy": a.noisy, "earshot_args": a.earshot_arg,
        **latency_summary(rows),
        "paused_turns": sum(r["kind"] == "paused" for r in rows),
        "missing_turns": sum(r["missing"] for r in rows),
        "wer_percent": 100.0 * errors / max(1, words), "errors": errors, "words": words,
    }
    s = summary
    print(f"{s['turns']} turns ({s['paused_turns']} paused), {'noisy' if a.noisy else 'clean'}: end of speech -> final "
          f"complete p50 {s['complete_latency_ms_p50']:.0f} / p95 {s['complete_latency_ms_p95']:.0f} ms, paused p50 "
          f"{s['paused_latency_ms_p50']:.0f} / p95 {s['paused_latency_ms_p95']:.0f} ms; paused turns ended inside "
          f"the pause {s['premature_percent']:.0f} %; missing {s['missing_turns']}; final after the next turn began "
          f"{s['late_turns']}; WER {s['wer_percent']:.2f} % "
          f"({errors}/{words})")
    if a.json:
        a.json.write_text(json.dumps({"summary": summary, "turns": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
