"""OpenAI clients for the `earshot serve --http` tests: the official `openai` package for HTTP, the `websockets`
package for the Realtime transcription protocol (tests/openai/requirements.txt).

    client.py URL transcribe WAV [--format F] [--stream] [--language L] [--prompt P] [--key K]
    client.py URL translate WAV [--format F]                      audio.translations.create: English text
    client.py URL models [--key K]
    client.py URL realtime WAV [WAV ...] [--rate R] [--manual] [--beta] [--silence-ms MS | --semantic EAGERNESS] [--key K]
                                   one turn per WAV on one socket, streamed in real time, 2.5 s of silence after each
    client.py URL realtime-sdk WAV                                 one turn through openai's own Realtime client
    client.py URL bad CASE                                         a misbehaving client (see BAD below)

URL: http://HOST:PORT (the OpenAI base URL is URL/v1). Each prints one JSON object on stdout with what it saw.
"""

import argparse
import asyncio
import base64
import json
import socket
import sys
import time
import urllib.parse
import wave

import openai
import websockets


def client(url, key):
    return openai.OpenAI(base_url=url + "/v1", api_key=key or "unused", max_retries=0, timeout=120)


def transcribe(url, wav, fmt, stream, language, prompt, key):
    extra = {}
    if language:
        extra["language"] = language
    if prompt:
        extra["prompt"] = prompt
    started = time.monotonic()
    try:
        with open(wav, "rb") as f:
            if stream:
                events = []
                for event in client(url, key).audio.transcriptions.create(
                    model="whisper-1", file=f, response_format=fmt or "json", stream=True, **extra
                ):
                    events.append({"type": event.type, **event.model_dump(exclude={"type", "logprobs", "usage"})})
                return {"events": events, "seconds": time.monotonic() - started}
            result = client(url, key).audio.transcriptions.create(
                model="whisper-1", file=f, response_format=fmt or "json", **extra
            )
    except openai.APIStatusError as e:
        return {"status": e.status_code, "error": e.body}
    seconds = time.monotonic() - started
    if isinstance(result, str):
        return {"body": result, "seconds": seconds}
    return {"result": result.model_dump(), "seconds": seconds}


def translate(url, wav, fmt):
    try:
        with open(wav, "rb") as f:
            result = client(url, None).audio.translations.create(model="whisper-1", file=f, response_format=fmt or "json")
    except openai.APIStatusError as e:
        return {"status": e.status_code, "error": e.body}
    if isinstance(result, str):
        return {"body": result}
    return {"result": result.model_dump()}


def models(url, key):
    try:
        return {"ids": [m.id for m in client(url, key).models.list()]}
    except openai.APIStatusError as e:
        return {"status": e.status_code, "error": e.body}


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, "a 16-bit mono WAV"
        return w.getframerate(), w.readframes(w.getnframes())


def ws_url(url, query="intent=transcription"):
    parts = urllib.parse.urlsplit(url)
    return f"ws://{parts.netloc}/v1/realtime?{query}"


async def realtime(url, wavs, rate, manual, beta, silence_ms, key, semantic=None):
    vad = ({"type": "semantic_vad", "eagerness": semantic} if semantic
           else {"type": "server_vad", "silence_duration_ms": silence_ms})
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    events, turns = [], []
    async with websockets.connect(ws_url(url), additional_headers=headers, max_size=2**22) as ws:
        first = json.loads(await ws.recv())
        events.append(first["type"])
        if beta:
            session = {"input_audio_format": "pcm16", "input_audio_transcription": {"model": "whisper-1", "language": "en"},
                       "turn_detection": None if manual else vad}
            await ws.send(json.dumps({"type": "transcription_session.update", "session": session}))
        else:
            session = {"type": "transcription", "audio": {"input": {
                "format": {"type": "audio/pcm", "rate": rate},
                "transcription": {"model": "whisper-1", "language": "en"},
                "turn_detection": None if manual else vad}}}
            await ws.send(json.dumps({"type": "session.update", "session": session}))
        received = asyncio.Queue()

        async def reader():
            async for message in ws:
                event = json.loads(message)
                event["_at"] = time.monotonic()
                await received.put(event)

        reading = asyncio.create_task(reader())
        step = rate * 2 // 10  # 100 ms
        for path in wavs:
            file_rate, audio = read_wav(path)
            assert file_rate == rate, f"{path} is {file_rate} Hz, the session {rate} Hz"
            audio = audio + b"\0\0" * int(rate * 2.5)  # 2.5 s of silence after the turn
            started = time.monotonic()
            speech_end = started + (len(audio) / 2 - rate * 2.5) / rate
            turns.append({"file": path, "speech_end": speech_end})
            try:
                for i in range(0, len(audio), step):
                    await ws.send(json.dumps({"type": "input_audio_buffer.append",
                                              "audio": base64.b64encode(audio[i : i + step]).decode()}))
                    due = started + (i + step) / (rate * 2)
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                if manual:
                    await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
            except websockets.ConnectionClosed:
                break  # the server closed (a shutdown): read what it sent
        # Collect until every turn has completed (or 20 s pass).
        completed, deadline = [], time.monotonic() + 20
        while len(completed) < len(wavs) and time.monotonic() < deadline:
            try:
                event = await asyncio.wait_for(received.get(), deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
            events.append(event["type"])
            if event["type"] == "conversation.item.input_audio_transcription.completed":
                completed.append(event)
            elif event["type"] == "conversation.item.input_audio_transcription.delta":
                turns_delta = [t for t in turns if "first_delta" not in t]
                if turns_delta:
                    turns_delta[0]["first_delta"] = event["_at"]
            elif event["type"] == "error":
                events.append({"error": event["error"]})
        reading.cancel()
    for turn, done in zip(turns, completed):
        turn["transcript"] = done["transcript"]
        turn["completed_after_speech_end_ms"] = (done["_at"] - turn["speech_end"]) * 1000
    return {"created": first["type"], "events": events, "turns": turns,
            "completed": [c["transcript"] for c in completed]}


def realtime_sdk(url, wav):
    """One turn through the `openai` package's own Realtime client (`client.realtime.connect`), all audio at once."""
    rate, pcm = read_wav(wav)
    transcripts, types = [], []
    with client(url, None).realtime.connect(model="whisper-1", extra_query={"intent": "transcription"}) as rt:
        rt.session.update(session={"type": "transcription",
                                   "audio": {"input": {"format": {"type": "audio/pcm", "rate": rate}}}})
        rt.input_audio_buffer.append(audio=base64.b64encode(pcm + b"\0\0" * rate).decode())
        for event in rt:
            types.append(event.type)
            if event.type == "conversation.item.input_audio_transcription.completed":
                transcripts.append(event.transcript)
                break
    return {"types": types, "completed": transcripts}


async def send_and_collect(ws, messages, wait=1.5):
    for m in messages:
        await ws.send(m)
    seen, deadline = [], time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic())))
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            break
    return seen


BAD = {}


def bad(name):
    def register(fn):
        BAD[name] = fn
        return fn

    return register


@bad("realtime-garbage")
def _(url):
    # Invalid JSON, an unknown event type, invalid base64, an empty commit: each gets an `error` event and the socket
    # stays up (a valid event afterwards is answered).
    async def run():
        async with websockets.connect(ws_url(url)) as ws:
            await ws.recv()  # session.created
            seen = await send_and_collect(ws, [
                "not json",
                json.dumps({"type": "response.create"}),
                json.dumps({"type": "input_audio_buffer.append", "audio": "@@@not base64"}),
                json.dumps({"type": "input_audio_buffer.commit"}),
                json.dumps({"type": "session.update", "session": {"type": "transcription"}}),
            ])
            return {"events": [{"type": e["type"], "code": e.get("error", {}).get("code")} for e in seen]}
    return asyncio.run(run())


@bad("realtime-wrong-intent")
def _(url):
    async def run():
        try:
            async with websockets.connect(ws_url(url, "intent=conversation")):
                return {"connected": True}
        except websockets.InvalidStatus as e:
            return {"status": e.response.status_code, "body": json.loads(e.response.body)}
    return asyncio.run(run())


@bad("realtime-flood")
def _(url):
    # Appends 60 s of audio as fast as the socket takes it, then commits: backpressure, not an error or a crash.
    async def run():
        async with websockets.connect(ws_url(url), max_size=2**22) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "session.update", "session": {"type": "transcription", "audio": {
                "input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": None}}}}))
            chunk = base64.b64encode(b"\0\0" * 24000).decode()
            started = time.monotonic()
            for _ in range(60):
                await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk}))
            await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if event["type"] in ("conversation.item.input_audio_transcription.completed", "error"):
                    return {"last": event["type"], "transcript": event.get("transcript"),
                            "seconds": time.monotonic() - started}
    return asyncio.run(run())


@bad("truncated-multipart")
def _(url):
    # A multipart body that ends in the middle of the file part (no closing boundary).
    parts = urllib.parse.urlsplit(url)
    body = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF\0\0\0\0WAVE"
    head = (f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(head + body)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
            if b"}}" in answer:
                break
    return {"status": int(answer.split(b" ", 2)[1]) if answer else None, "body": answer.decode(errors="replace")}


@bad("slow-upload")
def _(url):
    # Announces a 1 MB body and sends 10 bytes a second: the server's request timeout answers.
    parts = urllib.parse.urlsplit(url)
    head = (f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 1000000\r\n\r\n"
            "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n").encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as s:
        s.sendall(head)
        s.settimeout(1.0)
        answer = b""
        for _ in range(60):
            try:
                s.sendall(b"\0" * 10)
            except OSError:
                pass
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            answer += chunk
            if b"}}" in answer:
                break
    return {"status": int(answer.split(b" ", 2)[1]) if answer else None, "body": answer.decode(errors="replace")}


@bad("slow-headers")
def _(url):
    # Request headers one byte a second, never finished: the server's header timeout closes the connection.
    parts = urllib.parse.urlsplit(url)
    head = f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: {parts.netloc}\r\nX-Slow: ".encode()
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as s:
        s.sendall(head)
        s.settimeout(1.0)
        for _ in range(60):
            try:
                s.sendall(b"a")
                if s.recv(65536) == b"":
                    return {"closed_after_s": time.monotonic() - started}
            except socket.timeout:
                continue
            except OSError:
                return {"closed_after_s": time.monotonic() - started}
    return {"closed_after_s": None}


@bad("too-large")
def _(url):
    # 30 MiB of WAV: over the 25 MiB limit.
    data = b"RIFF" + b"\0" * 4 + b"WAVE" + b"\0" * (30 << 20)
    try:
        client(url, None).audio.transcriptions.create(model="whisper-1", file=("big.wav", data))
    except openai.APIStatusError as e:
        return {"status": e.status_code, "error": e.body}
    except openai.APIConnectionError as e:
        return {"connection_error": str(e)}
    return {"status": 200}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("transcribe")
    t.add_argument("wav")
    t.add_argument("--format")
    t.add_argument("--stream", action="store_true")
    t.add_argument("--language")
    t.add_argument("--prompt")
    t.add_argument("--key")
    tr = sub.add_parser("translate")
    tr.add_argument("wav")
    tr.add_argument("--format")
    m = sub.add_parser("models")
    m.add_argument("--key")
    r = sub.add_parser("realtime")
    r.add_argument("wavs", nargs="+")
    r.add_argument("--rate", type=int, default=24000)
    r.add_argument("--manual", action="store_true")
    r.add_argument("--beta", action="store_true")
    r.add_argument("--silence-ms", type=int, default=600)
    r.add_argument("--semantic", help="semantic_vad with this eagerness instead of server_vad")
    r.add_argument("--key")
    k = sub.add_parser("realtime-sdk")
    k.add_argument("wav")
    b = sub.add_parser("bad")
    b.add_argument("case", choices=sorted(BAD))
    args = parser.parse_args()
    if args.command == "transcribe":
        result = transcribe(args.url, args.wav, args.format, args.stream, args.language, args.prompt, args.key)
    elif args.command == "translate":
        result = translate(args.url, args.wav, args.format)
    elif args.command == "models":
        result = models(args.url, args.key)
    elif args.command == "realtime-sdk":
        result = realtime_sdk(args.url, args.wav)
    elif args.command == "realtime":
        result = asyncio.run(realtime(args.url, args.wavs, args.rate, args.manual, args.beta, args.silence_ms,
                                      args.key, args.semantic))
    else:
        result = BAD[args.case](args.url)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
