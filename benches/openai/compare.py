#!/usr/bin/env python3
"""OpenAI-compatible speech-to-text servers compared with one client (the official `openai` package), same clips.

    compare.py http MANIFEST --server NAME=URL [--server NAME=URL ...] [--repeat N] [--json OUT]
        Every speech clip of MANIFEST (a tests/fixtures/speech-style manifest.tsv) posted to each server's
        /v1/audio/transcriptions in turn, one request at a time (model "whisper-1", response_format json). Per server:
        request latency p50/p95 (client clock, from the request to the parsed response; the first pass is a warm-up
        and not counted), WER (Whisper's English normalizer), peak RSS of its process (--pid NAME=PID).

    compare.py realtime MANIFEST --url URL [--sessions N] [--pid PID] [--json OUT]
        Each speech clip streamed in real time at 24 kHz over the Realtime transcription WebSocket (server VAD), N
        sessions at once, each taking the clips in its own order; a turn per clip with 2.5 s of silence after it.
        Per turn: end of speech -> `completed` and start of speech -> first delta, stamped on arrival; speech start and
        end are where the clip's level first and last rises above -40 dB of its peak (10 ms frames). Server CPU
        seconds and peak RSS from /proc (--pid).

Needs numpy? No: only the `openai`, `websockets` and `whisper-normalizer` packages (tests/openai/requirements.txt
plus whisper-normalizer).
"""

import argparse
import array
import asyncio
import base64
import json
import math
import statistics
import sys
import time
import urllib.parse
import wave
from pathlib import Path

import openai
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wer import edit_distance, normalize  # noqa: E402


def clips(manifest):
    rows = [line.rstrip("\n").split("\t") for line in open(manifest, encoding="utf-8")][1:]
    folder = Path(manifest).parent
    return [(folder / r[0], r[3]) for r in rows if r[1] != "nonspeech" and r[3]]


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))] if values else None


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in clock ticks of 1/100 s


def wer(pairs):
    errors = words = 0
    for reference, hypothesis in pairs:
        r, h = normalize(reference).split(), normalize(hypothesis).split()
        errors += edit_distance(r, h)
        words += len(r)
    return errors, words


def run_http(args):
    items = clips(args.manifest)
    results = {}
    for spec in args.server:
        name, url = spec.split("=", 1)
        client = openai.OpenAI(base_url=url.rstrip("/") + "/v1", api_key="unused", max_retries=0, timeout=300)
        latencies, pairs = [], []
        for n in range(args.repeat + 1):
            for path, reference in items:
                with open(path, "rb") as f:
                    started = time.monotonic()
                    text = client.audio.transcriptions.create(model="whisper-1", file=f).text
                    took = (time.monotonic() - started) * 1000
                if n > 0:
                    latencies.append(took)
                if n == 1:
                    pairs.append((reference, text))
        errors, words = wer(pairs)
        pids = dict(p.split("=", 1) for p in args.pid)
        results[name] = {
            "url": url, "requests": len(latencies), "clips": len(items),
            "latency_ms_p50": quantile(latencies, 0.5), "latency_ms_p95": quantile(latencies, 0.95),
            "wer_percent": 100.0 * errors / words, "errors": errors, "words": words,
            "peak_rss_mb": peak_rss_mb(pids[name]) if name in pids else None,
        }
        r = results[name]
        print(f"{name:<16} p50 {r['latency_ms_p50']:7.0f} ms  p95 {r['latency_ms_p95']:7.0f} ms  "
              f"WER {r['wer_percent']:5.2f} % ({errors}/{words})  peak RSS {r['peak_rss_mb'] or 0:.0f} MB")
    return results


def read_24k(path):
    """16-bit mono samples of `path` at 24 kHz (linear interpolation from the clip's rate), and the clip's speech
    start and end in seconds."""
    with wave.open(str(path), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        assert width == 2, f"{path}: 16-bit clips only"
        data = array.array("h", w.readframes(w.getnframes()))
    mono = [sum(data[i : i + channels]) / channels for i in range(0, len(data), channels)]
    frame = rate // 100
    levels = [max(abs(s) for s in mono[i : i + frame]) for i in range(0, len(mono) - frame + 1, frame)]
    loud = [i for i, level in enumerate(levels) if level > max(levels) * 0.01]
    start_s, end_s = loud[0] / 100, (loud[-1] + 1) / 100
    out_n = int(len(mono) * 24000 / rate)
    out = array.array("h")
    for j in range(out_n):
        x = j * rate / 24000
        i = int(x)
        a, b = mono[i], mono[min(i + 1, len(mono) - 1)]
        out.append(int(max(-32768, min(32767, round(a + (b - a) * (x - i))))))
    return out.tobytes(), start_s, end_s


async def session(url, order, audio, results):
    async with websockets.connect(url + "/v1/realtime?intent=transcription", max_size=2**22) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "session.update", "session": {"type": "transcription", "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": {"type": "server_vad"}}}}}))
        events = asyncio.Queue()

        async def reader():
            async for message in ws:
                await events.put((time.monotonic(), json.loads(message)))

        reading = asyncio.create_task(reader())
        clock, step = time.monotonic(), 4800  # 100 ms of 24 kHz PCM16
        turns = []
        for index in order:
            pcm, start_s, end_s = audio[index]
            pcm = pcm + b"\0\0" * 60000  # 2.5 s of silence
            began = clock
            for i in range(0, len(pcm), step):
                await ws.send(json.dumps({"type": "input_audio_buffer.append",
                                          "audio": base64.b64encode(pcm[i : i + step]).decode()}))
                clock += len(pcm[i : i + step]) / 48000
                await asyncio.sleep(max(0.0, clock - time.monotonic()))
            turns.append((index, began + start_s, began + end_s))
        await asyncio.sleep(1.0)
        reading.cancel()
        seen = []
        while not events.empty():
            seen.append(events.get_nowait())
        completed = [(t, e) for t, e in seen if e["type"].endswith("input_audio_transcription.completed")]
        first_deltas = {}
        for t, e in seen:
            if e["type"].endswith("input_audio_transcription.delta"):
                first_deltas.setdefault(e["item_id"], t)
        for (index, speech_start, speech_end), (t, e) in zip(turns, completed):
            results.append({"clip": index, "transcript": e["transcript"],
                            "completed_after_end_ms": (t - speech_end) * 1000,
                            "first_delta_after_start_ms": (first_deltas.get(e["item_id"], t) - speech_start) * 1000})
        if len(completed) != len(turns):
            results.append({"missing": len(turns) - len(completed)})


def run_realtime(args):
    items = clips(args.manifest)
    audio = [read_24k(path) for path, _ in items]
    url = args.url.rstrip("/").replace("http://", "ws://")
    results = []
    cpu0 = cpu_seconds(args.pid) if args.pid else None
    started = time.monotonic()

    async def all_sessions():
        n = len(items)
        await asyncio.gather(*(session(url, [(k * n // args.sessions + i) % n for i in range(n)], audio, results)
                               for k in range(args.sessions)))

    asyncio.run(all_sessions())
    wall = time.monotonic() - started
    turns = [r for r in results if "clip" in r]
    missing = sum(r.get("missing", 0) for r in results)
    errors, words = wer([(items[r["clip"]][1], r["transcript"]) for r in turns])
    done = [r["completed_after_end_ms"] for r in turns]
    first = [r["first_delta_after_start_ms"] for r in turns]
    summary = {
        "sessions": args.sessions, "turns": len(turns), "missing_turns": missing,
        "completed_after_speech_end_ms_p50": quantile(done, 0.5),
        "completed_after_speech_end_ms_p95": quantile(done, 0.95),
        "first_delta_after_speech_start_ms_p50": quantile(first, 0.5),
        "first_delta_after_speech_start_ms_p95": quantile(first, 0.95),
        "wer_percent": 100.0 * errors / words, "errors": errors, "words": words,
        "server_cpu_percent": 100.0 * (cpu_seconds(args.pid) - cpu0) / wall if args.pid else None,
        "server_peak_rss_mb": peak_rss_mb(args.pid) if args.pid else None,
    }
    s = summary
    print(f"realtime x{args.sessions}: {s['turns']} turns ({missing} missing); end of speech -> completed p50 "
          f"{s['completed_after_speech_end_ms_p50']:.0f} / p95 {s['completed_after_speech_end_ms_p95']:.0f} ms; "
          f"start of speech -> first delta p50 {s['first_delta_after_speech_start_ms_p50']:.0f} / p95 "
          f"{s['first_delta_after_speech_start_ms_p95']:.0f} ms; WER {s['wer_percent']:.2f} % ({errors}/{words}); "
          f"server CPU {s['server_cpu_percent'] or 0:.0f} %, peak RSS {s['server_peak_rss_mb'] or 0:.0f} MB")
    return {"summary": summary, "turns": turns}


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    h = sub.add_parser("http")
    h.add_argument("manifest")
    h.add_argument("--server", action="append", required=True, help="NAME=URL (repeatable)")
    h.add_argument("--pid", action="append", default=[], help="NAME=PID of a server, for its peak RSS")
    h.add_argument("--repeat", type=int, default=1, help="timed passes after the warm-up pass")
    h.add_argument("--json")
    r = sub.add_parser("realtime")
    r.add_argument("manifest")
    r.add_argument("--url", required=True)
    r.add_argument("--sessions", type=int, default=1)
    r.add_argument("--pid", type=int)
    r.add_argument("--json")
    args = parser.parse_args()
    result = run_http(args) if args.mode == "http" else run_realtime(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
