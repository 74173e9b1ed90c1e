"""Wyoming clients for the `earshot serve` tests, built on the real `wyoming` package (tests/wyoming/requirements.txt).

    client.py URI describe
    client.py URI stream [--realtime] [--chunk-ms MS] [--name N ...] [--language L] WAV [WAV ...]
                                                                     one utterance per WAV on one connection
    client.py URI bad CASE                                           a misbehaving client (see BAD below)

URI: tcp://HOST:PORT or unix://PATH (bad clients: tcp only).

Each prints one JSON object on stdout with what the client saw.
"""

import argparse
import asyncio
import json
import os
import select
import socket
import sys
import time
import wave

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.event import read_event, write_event, Event
from wyoming.info import Describe, Info


async def describe(uri):
    async with AsyncClient.from_uri(uri) as client:
        await client.write_event(Describe().event())
        event = await client.read_event()
        info = Info.from_event(event)
        asr = info.asr[0]
        return {
            "name": asr.name,
            "version": asr.version,
            "installed": asr.installed,
            "attribution": asr.attribution.name,
            "streaming": asr.supports_transcript_streaming,
            "requires_external_vad": asr.requires_external_vad,
            "models": [{"name": m.name, "languages": m.languages, "installed": m.installed} for m in asr.models],
        }


def read_wav(path):
    with wave.open(path, "rb") as w:
        return w.getframerate(), w.getsampwidth(), w.getnchannels(), w.readframes(w.getnframes())


async def stream(uri, paths, realtime, chunk_ms, names, language):
    result = None
    try:
        async with AsyncClient.from_uri(uri) as client:
            result = await utterances(client, paths, realtime, chunk_ms, names, language)
    except ConnectionError:
        if result is None:  # the disconnect after a server-side close may fail: the result is already in
            raise
    return result


async def utterances(client, paths, realtime, chunk_ms, names, language):
    done = []
    for path in paths:
        rate, width, channels, audio = read_wav(path)
        step = rate * width * channels * chunk_ms // 1000
        await client.write_event(Transcribe(language=language or None, transcript_names=names or None).event())
        await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
        started = time.monotonic()
        try:
            for i in range(0, len(audio), step):
                await client.write_event(
                    AudioChunk(rate=rate, width=width, channels=channels, audio=audio[i : i + step]).event()
                )
                if realtime:
                    due = started + (i + step) / (rate * width * channels)
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
            await client.write_event(AudioStop().event())
        except ConnectionError:
            pass  # the server ended the utterance (an error event says why): read what it sent
        stopped = time.monotonic()
        events, chunks, text, latency, spoken = [], [], None, None, None
        while True:
            try:
                event = await client.read_event()
            except ConnectionError:
                event = None
            if event is None:
                done.append({"file": path, "events": events, "error": "closed before transcript-stop"})
                return {"utterances": done}
            events.append(event.type)
            if TranscriptChunk.is_type(event.type):
                chunks.append(TranscriptChunk.from_event(event).text)
            elif Transcript.is_type(event.type):
                text = Transcript.from_event(event).text
                spoken = event.data.get("language")
                latency = (time.monotonic() - stopped) * 1000.0
            elif Error.is_type(event.type):
                error = Error.from_event(event)
                done.append({"file": path, "events": events, "error": error.code, "text": error.text})
                return {"utterances": done}
            elif TranscriptStop.is_type(event.type):
                break
        done.append({"file": path, "events": events, "chunks": chunks, "text": text, "latency_ms": latency,
                     "language": spoken})
    return {"utterances": done}


def address(uri):
    host, port = uri.removeprefix("tcp://").rsplit(":", 1)
    return host, int(port)


def raw(uri):
    sock = socket.create_connection(address(uri), timeout=30)
    return sock, sock.makefile("rb")


def first_event(reader):
    event = read_event(reader)
    return None if event is None else {"type": event.type, "data": event.data}


def send(sock, event):
    with sock.makefile("wb") as writer:
        write_event(event, writer)


BAD = {}


def bad(name):
    def register(fn):
        BAD[name] = fn
        return fn

    return register


@bad("malformed-json")
def _(uri):
    sock, reader = raw(uri)
    sock.sendall(b'{"type": "describe", oops\n')
    return first_event(reader)


@bad("long-header")
def _(uri):
    sock, reader = raw(uri)
    try:
        sock.sendall(b'{"type": "' + b"x" * (200 * 1024) + b'"}\n')
    except OSError:
        pass
    return first_event(reader)


@bad("huge-payload")
def _(uri):
    sock, reader = raw(uri)
    sock.sendall(b'{"type": "audio-chunk", "payload_length": 1000000000}\n')
    return first_event(reader)


@bad("huge-data")
def _(uri):
    sock, reader = raw(uri)
    sock.sendall(b'{"type": "transcribe", "data_length": 1000000000}\n')
    return first_event(reader)


@bad("chunk-before-start")
def _(uri):
    sock, reader = raw(uri)
    send(sock, AudioChunk(rate=16000, width=2, channels=1, audio=b"\0\0" * 160).event())
    return first_event(reader)


@bad("format-change")
def _(uri):
    sock, reader = raw(uri)
    send(sock, AudioStart(rate=16000, width=2, channels=1).event())
    send(sock, AudioChunk(rate=16000, width=2, channels=1, audio=b"\0\0" * 160).event())
    send(sock, AudioChunk(rate=48000, width=2, channels=2, audio=b"\0\0" * 960).event())
    return first_event(reader)


@bad("unsupported-format")
def _(uri):
    sock, reader = raw(uri)
    send(sock, AudioStart(rate=16000, width=3, channels=1).event())
    return first_event(reader)


@bad("wrong-language")
def _(uri):
    sock, reader = raw(uri)
    send(sock, Transcribe(language="de").event())
    return first_event(reader)


@bad("disconnect-mid-utterance")
def _(uri):
    sock, reader = raw(uri)
    send(sock, AudioStart(rate=16000, width=2, channels=1).event())
    send(sock, AudioChunk(rate=16000, width=2, channels=1, audio=b"\1\0" * 16000).event())
    sock.close()
    return None


@bad("idle")
def _(uri):
    sock, reader = raw(uri)
    return first_event(reader)  # the server's idle timeout answers


@bad("trickle")
def _(uri):
    # A slowloris: one byte of an event a second, never finishing it; the server's event deadline answers.
    sock, reader = raw(uri)
    for byte in b'{"type": "describe"' * 3:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break
        ready, _, _ = select.select([sock], [], [], 1.0)
        if ready:
            break
    return first_event(reader)


@bad("huge-names")
def _(uri):
    # 40,000 transcript_names in one `transcribe` (1 MB of data): refused before any work.
    names = json.dumps({"transcript_names": ["N%06d" % i for i in range(40000)]}).encode()
    sock, reader = raw(uri)
    sock.sendall(json.dumps({"type": "transcribe", "data_length": len(names)}).encode() + b"\n" + names)
    return first_event(reader)


@bad("half-close")
def _(uri):
    # Sends an utterance without audio-stop, then shuts its sending side: it must still get the transcript.
    rate, width, channels, audio = read_wav(os.path.join(os.path.dirname(__file__), "../fixtures/speech/q02.wav"))
    sock, reader = raw(uri)
    send(sock, AudioStart(rate=rate, width=width, channels=channels).event())
    step = rate * width * channels // 10
    for i in range(0, len(audio), step):
        send(sock, AudioChunk(rate=rate, width=width, channels=channels, audio=audio[i : i + step]).event())
    sock.shutdown(socket.SHUT_WR)
    events, text = [], None
    while (event := read_event(reader)) is not None:
        events.append(event.type)
        if Transcript.is_type(event.type):
            text = Transcript.from_event(event).text
    return {"events": events, "text": text}


@bad("slow-reader")
def _(uri):
    # Asks for `info` again and again and never reads the answers: the server's writes block, time out, and it
    # drops this client.
    sock = socket.create_connection(address(uri))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    line = b'{"type": "describe"}\n'
    sent, started = 0, time.monotonic()
    sock.settimeout(1.0)
    try:
        while time.monotonic() - started < 60:
            sock.sendall(line * 100)
            sent += 100
    except OSError as e:
        return {"sent": sent, "stopped": type(e).__name__, "seconds": time.monotonic() - started}
    return {"sent": sent, "stopped": None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("uri")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("describe")
    s = sub.add_parser("stream")
    s.add_argument("--realtime", action="store_true")
    s.add_argument("--chunk-ms", type=int, default=100)
    s.add_argument("--name", action="append", default=[], help="a transcript_names entry (repeatable)")
    s.add_argument("--language", default="en", help="transcribe's language ('' sends none)")
    s.add_argument("wavs", nargs="+")
    b = sub.add_parser("bad")
    b.add_argument("case", choices=sorted(BAD))
    args = parser.parse_args()
    if args.command == "describe":
        result = asyncio.run(describe(args.uri))
    elif args.command == "stream":
        result = asyncio.run(stream(args.uri, args.wavs, args.realtime, args.chunk_ms, args.name, args.language))
    else:
        result = BAD[args.case](args.uri)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
