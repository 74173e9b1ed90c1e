"""Parity of the whisper-base-int8 pack with faster-whisper on the same weights, on the language fixtures.

    PYTHONPATH=models/export python models/export/base_reference.py --pack models/whisper-base-int8 \
        --fixtures tests/fixtures/languages

For each clip of `--fixtures`/manifest.tsv: faster-whisper's own features (log-mel of a 30 s window, as MFCC),
then greedy tokens with the clip's language given, from the int8 pack in Python ONNX Runtime (pack.py, what the Rust
engine does), the float graphs of the export (`--float`, export.py's --work folder), and faster-whisper (CTranslate2)
in float32 and int8 on the CTranslate2 weights the pack was exported from. Writes to `--fixtures`: NAME.mfcc.npy (the
MFCC frames of the audio; the rest of the 30 s window is zero) and reference.json (every token list). The Rust test
decodes the same frames and must give the int8 pack's tokens; float against faster-whisper float32 is the export's
parity (same weights, same features), int8 against faster-whisper int8 compares two quantizations.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

import frontend
import make_corpus
from export import SOURCES
from pack import Pack


def ct2_folder(work: Path) -> Path:
    """The CTranslate2 model folder faster-whisper loads: model.bin (concatenated) beside config and tokenizer."""
    source = SOURCES["base"]
    work.mkdir(parents=True, exist_ok=True)
    source.model_bin(work)
    for name in ["config.json", "tokenizer.json", "vocabulary.json"]:
        (work / name).write_bytes((source.data_dir() / name).read_bytes())
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", type=Path, default=Path("models/whisper-base-int8"))
    parser.add_argument("--fixtures", type=Path, default=Path("tests/fixtures/languages"))
    parser.add_argument("--float", type=Path, required=True, help="export.py --work folder of the base export")
    parser.add_argument("--work", type=Path, default=Path("build/base-reference"))
    args = parser.parse_args()

    from faster_whisper import WhisperModel
    from faster_whisper.feature_extractor import FeatureExtractor

    folder = str(ct2_folder(args.work))
    engines = {c: WhisperModel(folder, device="cpu", compute_type=c, cpu_threads=2) for c in ["float32", "int8"]}
    pack = Pack(args.pack)
    float_pack = Pack(args.pack, encoder=args.float / "encoder.onnx", decoder=args.float / "decoder.onnx")
    languages = pack.manifest["languages"]
    tok = pack.manifest["tokens"]
    out = {"about": __doc__.split("\n\n")[1].replace("\n", " "), "clips": {}}
    rows = list(csv.DictReader(open(args.fixtures / "manifest.tsv", encoding="utf-8"), delimiter="\t"))
    for r in rows:
        audio, rate = make_corpus.read_wav(args.fixtures / r["file"])
        audio = make_corpus.resample(audio, rate, 16000) if rate != 16000 else audio
        logmel = FeatureExtractor()(audio.astype(np.float32), padding=160)[:, :3000]
        frames = logmel.shape[1] - 1  # the last frame is the padding's
        window = np.zeros((80, 3000), dtype=np.float32)
        window[:, :frames] = logmel[:, :frames]
        mfcc = (frontend.dct_matrix() @ window).astype(np.float32)
        language = r["language"]
        prompt = [tok["start_of_transcript"], languages["first_token"] + languages["codes"].index(language),
                  languages["transcribe"], tok["no_timestamps"]]
        tokens = {
            "int8_pack": pack.greedy(*pack.encode(mfcc), prompt=prompt)[0],
            "float_pack": float_pack.greedy(*float_pack.encode(mfcc), prompt=prompt)[0],
        }
        for compute, engine in engines.items():
            segments, _ = engine.transcribe(
                audio.astype(np.float32), language=language, beam_size=1, temperature=0.0, without_timestamps=True,
                condition_on_previous_text=False, vad_filter=False, no_speech_threshold=None,
                log_prob_threshold=None, compression_ratio_threshold=None,
            )
            tokens[f"faster_whisper_{compute}"] = [t for s in segments for t in s.tokens if t < tok["end_of_text"]]
        stem = r["file"].removesuffix(".wav")
        np.save(args.fixtures / f"{stem}.mfcc.npy", np.ascontiguousarray(mfcc[:, :frames].T))  # [frames, 80]
        out["clips"][stem] = {"language": language, "frames": frames, "tokens": tokens,
                              "text": {k: pack.detokenize(v) for k, v in tokens.items()}}
        print(stem, {k: pack.detokenize(v) for k, v in tokens.items()})
    (args.fixtures / "reference.json").write_text(json.dumps(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
