#!/usr/bin/env python3
"""The multilingual dev corpus of issue 30: own sentences (sentences.py) in eleven languages, two voices each, clean
and in pink noise at 10 dB SNR.

    python benches/languages/make_corpus.py --out DIR      # numpy, scipy; Debian's espeak-ng, festival and its
                                                           # Italian, Czech and Finnish voices (see README.md)

Voices: espeak-ng (a male and a female variant at 135 words per minute) for de, fr, es, nl, pt, pl, sv, ru; Festival's
diphone voices for it (lp, pc), cs (dita, machac) and fi (suo_fi_lj, hy_fi_mv), which sound far more natural than
espeak-ng's Italian. No voice on the package registries covers the others offline (the PyPI voice packages found
download their models at run time). Writes DIR/*.wav (16 kHz mono) and DIR/manifest.tsv (file, language, group,
text): group is `clean` or `noise10`.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

root = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(root / "models/export"), str(root / "benches/accuracy"), str(Path(__file__).parent)]
from make_corpus import RATE_HZ, read_wav, resample, synth_espeak, with_margins, write_wav  # noqa: E402
from make_dev_corpus import add_noise, coloured_noise  # noqa: E402
from sentences import SENTENCES  # noqa: E402

ESPEAK_WPM = 135
# language -> two voices: ("espeak", voice) or ("festival", voice function, text encoding)
VOICES = {
    "de": [("espeak", "de"), ("espeak", "de+f2")],
    "fr": [("espeak", "fr"), ("espeak", "fr+f2")],
    "es": [("espeak", "es"), ("espeak", "es+f2")],
    "it": [("festival", "voice_lp_diphone", "iso-8859-1"), ("festival", "voice_pc_diphone", "iso-8859-1")],
    "nl": [("espeak", "nl"), ("espeak", "nl+f2")],
    "pt": [("espeak", "pt"), ("espeak", "pt+f2")],
    "pl": [("espeak", "pl"), ("espeak", "pl+f2")],
    "sv": [("espeak", "sv"), ("espeak", "sv+f2")],
    "cs": [("festival", "voice_czech_dita", "iso-8859-2"), ("festival", "voice_czech_machac", "iso-8859-2")],
    "fi": [("festival", "voice_suo_fi_lj_diphone", "iso-8859-1"), ("festival", "voice_hy_fi_mv_diphone", "iso-8859-1")],
    "ru": [("espeak", "ru"), ("espeak", "ru+f2")],
}


def synth_festival(voice: str, encoding: str, text: str) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "in.txt", Path(tmp) / "out.wav"
        source.write_bytes(text.encode(encoding))
        subprocess.run(["text2wave", "-eval", f"({voice})", str(source), "-o", str(out)], check=True,
                       capture_output=True)
        return read_wav(out)


def synth(spec: tuple, text: str) -> np.ndarray:
    audio, rate = synth_espeak(spec[1], text, ESPEAK_WPM) if spec[0] == "espeak" else synth_festival(*spec[1:], text)
    return with_margins(resample(audio, rate, RATE_HZ), RATE_HZ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(30)
    rows = ["file\tlanguage\tgroup\ttext"]
    for language, sentences in SENTENCES.items():
        for i, text in enumerate(sentences):
            for v, spec in enumerate(VOICES[language]):
                clean = synth(spec, text)
                noisy = add_noise(clean, coloured_noise(rng, len(clean), "pink"), 10.0)
                for group, audio in [("clean", clean), ("noise10", noisy)]:
                    name = f"{language}{i:02d}_v{v}_{group}.wav"
                    write_wav(args.out / name, audio, RATE_HZ)
                    rows.append(f"{name}\t{language}\t{group}\t{text}")
        print(f"{language}: {len(sentences)} sentences, {sum(len(s.split()) for s in sentences)} words, "
              f"{len(VOICES[language])} voices", flush=True)
    (args.out / "manifest.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
