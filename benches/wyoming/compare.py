"""Side by side: Wyoming speech-to-text servers on the same clips, streamed in real time by the same client.

    python compare.py --manifest M.tsv --server NAME=URI [--server NAME=URI ...] [--tail-ms 700] [--clients 1]
                      [--pid NAME=PID ...] [--out FILE.json]

Each clip (16-bit WAV, any rate) is sent as one utterance on its own connection, as Home Assistant does: transcribe,
audio-start, 100 ms audio-chunks at real-time pace, then `--tail-ms` of silence (what a client-side VAD sends before
it decides speech ended; Home Assistant's default waits 0.7 s), then audio-stop. Latency: audio-stop sent ->
transcript received. The servers take turns clip by clip, so load drifts hit both alike. With `--clients N`, N
clients stream at once (each its own rotation of the clips). WER uses Whisper's English normalizer
(PyPI whisper-normalizer) for every server alike. With `--pid`, the server process's CPU seconds and peak RSS
(/proc) are reported.
"""

import argparse
import asyncio
import json
import sys
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wer import edit_distance, normalize  # noqa: E402
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.error import Error


def clips(manifest):
    base = manifest.rsplit("/", 1)[0]
    out = []
    with open(manifest) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(header, line.rstrip("\n").split("\t")))
            if row.get("kind", "speech") == "speech" and row.get("text"):
                out.append((f"{base}/{row['file']}", row["text"]))
    return out


async def utterance(uri, path, tail_ms):
    with wave.open(path, "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        audio = w.readframes(w.getnframes())
    audio += b"\0" * (rate * width * channels * tail_ms // 1000)
    step = rate * width * channels // 10
    async with AsyncClient.from_uri(uri) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
        started = time.monotonic()
        for i in range(0, len(audio), step):
            await client.write_event(AudioChunk(rate=rate, width=width, channels=channels, audio=audio[i : i + step]).event())
            await asyncio.sleep(max(0.0, started + (i + step) / (rate * width * channels) - time.monotonic()))
        await client.write_event(AudioStop().event())
        stopped = time.monotonic()
        while True:
            event = await client.read_event()
            if event is None:
                raise RuntimeError(f"{uri}: closed without a transcript for {path}")
            if Error.is_type(event.type):
                raise RuntimeError(f"{uri}: error {event.data} for {path}")
            if Transcript.is_type(event.type):
                return Transcript.from_event(event).text, (time.monotonic() - stopped) * 1000.0


def percentile(values, q):
    s = sorted(values)
    return s[max(0, -(-len(s) * q // 100) - 1)] if s else None



def proc_usage(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks (USER_HZ 100)
    with open(f"/proc/{pid}/status") as f:
        hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))
    return cpu_s, hwm / 1024.0


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--manifest", required=True)
    p.add_argument("--server", action="append", required=True, help="NAME=URI")
    p.add_argument("--pid", action="append", default=[], help="NAME=PID")
    p.add_argument("--tail-ms", type=int, default=700)
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--out")
    args = p.parse_args()
    servers = dict(s.split("=", 1) for s in args.server)
    pids = {k: int(v) for k, v in (s.split("=", 1) for s in args.pid)}
    corpus = clips(args.manifest)
    results = {name: {"latency_ms": [], "errors": 0, "words": 0, "texts": []} for name in servers}
    usage_before = {name: proc_usage(pid) for name, pid in pids.items()}
    wall = time.monotonic()
    for k, (path, reference) in enumerate(corpus):
        for name, uri in servers.items():
            batch = [corpus[(k + c * 7) % len(corpus)] for c in range(args.clients)]
            got = await asyncio.gather(*(utterance(uri, p, args.tail_ms) for p, _ in batch))
            for (p, ref), (text, latency) in zip(batch, got):
                r, h = normalize(ref).split(), normalize(text).split()
                res = results[name]
                res["latency_ms"].append(latency)
                res["errors"] += edit_distance(r, h)
                res["words"] += len(r)
                res["texts"].append({"file": p, "reference": ref, "text": text, "latency_ms": round(latency, 1)})
    wall = time.monotonic() - wall
    summary = {"clips": len(corpus), "clients": args.clients, "tail_ms": args.tail_ms, "servers": {}}
    for name, res in results.items():
        row = {
            "utterances": len(res["latency_ms"]),
            "latency_p50_ms": round(percentile(res["latency_ms"], 50), 1),
            "latency_p95_ms": round(percentile(res["latency_ms"], 95), 1),
            "wer_percent": round(100.0 * res["errors"] / max(1, res["words"]), 2),
            "words": res["words"],
        }
        if name in pids:
            cpu, rss = proc_usage(pids[name])
            row["cpu_s"] = round(cpu - usage_before[name][0], 1)
            row["peak_rss_mb"] = round(rss, 1)
        summary["servers"][name] = row
    summary["wall_s"] = round(wall, 1)
    print(json.dumps(summary, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"summary": summary, "results": results}, f, indent=1)


if __name__ == "__main__":
    asyncio.run(main())
