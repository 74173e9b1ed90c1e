"""Check the model pack and write its report and the Rust side's reference fixtures.

    python models/export/evaluate.py --pack models/whisper-tiny-en-int8 --work build/export \
        --corpus tests/fixtures/speech --fixtures tests/fixtures/reference

Measures (all written to <pack>/REPORT.md): pack size; encoder(MFCC) vs encoder(log-mel) in float; float pack vs
faster-whisper float32 (same weights, same features, 30 s window) token parity; int8 vs float token agreement;
corpus WER of float and int8 (and faster-whisper int8/float32 for reference); the causal clamp's WER cost; Python
ONNX Runtime timings per utterance. Writes to --fixtures: MFCC matrices (.npy, float32 [80, frames], C order) of a few
clips and tokens.json (greedy ids of the float and int8 packs for every corpus clip).

    python models/export/evaluate.py --fixtures-only

rewrites only tokens.json's int8 entries (what the Rust tests read) with the pack as it is now, without the float
graphs of --work: for a change to the pack that leaves the graphs alone (end_of_window.py). The float entries are
dropped then (they need the full run).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import frontend
import make_corpus
import textnorm
from pack import Pack

ABOUT = (
    "Greedy token ids (prompt and end-of-text excluded) of the float and int8 packs on every corpus clip, from "
    "models/export/evaluate.py. Front-end: the manifest's causal clamp; encoder input padded to the 5 s bucket, then "
    "the pack's end-of-window block; no guards (int8_guarded_tokens: with the token-cap/compression guards and 30 s "
    "fallback). Clips not at 16 kHz were resampled with scipy.signal.resample_poly first."
)
MFCC_FIXTURES = ["cmd01", "q05", "num01", "long02", "dict03", "name01_snr15db", "cmd02_quiet35dbfs", "nonspeech_silence"]
# Guards used for the 5 s-bucket path (the Rust engine's defaults): a token cap per audio second and a gzip
# compression-ratio check (openai/whisper's 2.4); when one trips, the segment is re-decoded with the 30 s window.
MAX_TOKENS_PER_SECOND = 6.0
MAX_TOKENS_BASE = 10
MAX_COMPRESSION_RATIO = 2.4


def load_corpus(folder: Path) -> list[dict]:
    rows = list(csv.DictReader(open(folder / "manifest.tsv", encoding="utf-8"), delimiter="\t"))
    for r in rows:
        audio, rate = make_corpus.read_wav(folder / r["file"])
        r["audio"] = make_corpus.resample(audio, rate, frontend.SAMPLE_RATE_HZ) if rate != frontend.SAMPLE_RATE_HZ else audio
        r["id"] = r["file"].removesuffix(".wav")
    return rows


def guard_tripped(ids: list[int], text: str, seconds: float) -> bool:
    if len(ids) > MAX_TOKENS_BASE + MAX_TOKENS_PER_SECOND * seconds:
        return True
    raw = text.encode("utf-8")
    return len(raw) > 0 and len(raw) / len(gzip.compress(raw)) > MAX_COMPRESSION_RATIO


def decode_guarded(pack: Pack, audio: np.ndarray) -> tuple[list[int], bool]:
    """5 s buckets, re-decoded with the 30 s window when a guard trips (tokens capped as the engine caps them)."""
    seconds = len(audio) / frontend.SAMPLE_RATE_HZ
    cap = int(MAX_TOKENS_BASE + MAX_TOKENS_PER_SECOND * seconds) + 1
    features = frontend.mfcc(audio)
    ids, _ = pack.greedy(*pack.encode(pack.pad(features)), max_tokens=cap)
    if not guard_tripped(ids, pack.detokenize(ids), seconds):
        return ids, False
    ids, _ = pack.greedy(*pack.encode(pack.pad(features, pack.manifest["encoder"]["max_frames"])), max_tokens=cap)
    return ids, True


def faster_whisper_tokens(model_dir: Path, rows: list[dict], compute_type: str) -> dict[str, list[int]]:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=2)
    out = {}
    for r in rows:
        segments, _ = model.transcribe(
            r["audio"].astype(np.float32), beam_size=1, temperature=0.0, without_timestamps=True,
            condition_on_previous_text=False, vad_filter=False, no_speech_threshold=None,
            log_prob_threshold=None, compression_ratio_threshold=None,
        )
        out[r["id"]] = [t for s in segments for t in s.tokens if t < 50256]
    return out


def faster_whisper_features(audio: np.ndarray) -> np.ndarray:
    """Exactly what faster-whisper feeds its encoder for a clip under 30 s, as MFCC."""
    from faster_whisper.feature_extractor import FeatureExtractor

    logmel = FeatureExtractor()(audio.astype(np.float32), padding=160)[:, :3000]
    padded = np.zeros((80, 3000), dtype=np.float32)
    padded[:, : logmel.shape[1]] = logmel
    return (frontend.dct_matrix() @ padded).astype(np.float32), padded


def render_report(r: dict) -> str:
    """REPORT.md from the measurements (report.json holds the same numbers)."""
    size = r["size_mb"]
    t = r["timings_python_ort_2_threads"]
    ns = r["int8_nonspeech_no_speech_prob"]
    ok = lambda cond: "pass" if cond else "FAIL"  # noqa: E731
    agree, agree_n = r["int8_vs_float_identical_clean_5s"]
    fw_same, fw_n = r["float_vs_faster_whisper_identical"]
    return f"""# whisper-tiny-en-int8: measurements

Written by `models/export/evaluate.py` (see `models/export/README.md` for the one command that rebuilds the pack and
this report); `report.json` holds the same numbers. Machine: {r["machine"]}, 2 cores, ONNX Runtime 1.31.1 (Python),
2 intra-op threads, spinning off. Corpus: `tests/fixtures/speech/` ({r["clips"]} clips: {r["clean_clips"]} clean
speech, {r["speech_clips"] - r["clean_clips"]} noisy/resampled/stereo/quiet copies, {r["clips"] - r["speech_clips"]}
non-speech). WER: corpus word edits / reference words, after the normalizer in `models/export/textnorm.py`.

## Targets

| check | target | measured | |
|---|---|---|---|
| pack size on disk | <= 45 MB | {size["total"]:.1f} MB | {ok(size["total"] <= 45)} |
| encoder(MFCC) vs encoder(log-mel), float, max abs difference of cross K/V | <= 1e-3 | {r["encoder_mfcc_vs_logmel_max_abs"]:.2e} | {ok(r["encoder_mfcc_vs_logmel_max_abs"] <= 1e-3)} |
| greedy int8 tokens identical to float (clean clips, 5 s bucket) | >= 90% | {agree}/{agree_n} ({100 * agree / agree_n:.1f}%) | {ok(agree / agree_n >= 0.9)} |
| int8 WER vs float WER (5 s buckets + guards) | <= float + 0.5 | {r["int8_wer_5s_guarded"]:.2f} vs {r["float_wer_5s_guarded"]:.2f} | {ok(r["int8_wer_5s_guarded"] <= r["float_wer_5s_guarded"] + 0.5)} |
| int8 WER vs float WER (30 s window) | <= float + 0.5 | {r["int8_wer_30s"]:.2f} vs {r["float_wer_30s"]:.2f} | {ok(r["int8_wer_30s"] <= r["float_wer_30s"] + 0.5)} |
| float pack vs faster-whisper float32, same weights and features | identical tokens | {fw_same}/{fw_n} | {ok(fw_same == fw_n)} |

## Size

| file | MB |
|---|---|
""" + "".join(f"| {name} | {mb:.2f} |\n" for name, mb in size.items()) + f"""
Encoder MatMuls are int8 (dynamic, per-channel); decoder MatMuls are 8-bit in blocks of 64 weights per scale
(`MatMulNBits`), and its token lookup reads that output-projection table, so the tied embedding is stored once;
("int8" below means this pack). Conv layers stay float (MODEL_NOTES: ConvInteger was slower and distorted padded frames).

## How each number was measured

- **Encoder parity**: every clean clip through the production front-end, padded to its 5 s bucket and to 30 s; the
  float MFCC encoder (DCT folded into conv1) vs the float log-mel encoder exported from the same weights; max over
  both outputs (cross K and V, all layers) and all clips.
- **faster-whisper parity**: faster-whisper 1.2.1 `transcribe` (float32, greedy, no timestamps, no fallbacks or
  thresholds) against the float pack driven by `pack.py` on exactly the features faster-whisper computes (whole-window
  clamp, 160 samples of end padding, zero-padded to 3000 frames) converted to MFCC: token ids compared clip by clip
  over all {fw_n} speech clips.
- **int8 vs float, WER**: production path: causal clamp (manifest `clamp_reference = "causal_peak"`), frames padded to
  the 5 s bucket, greedy with the manifest's suppression rules. "Guards": a token cap of {MAX_TOKENS_BASE} +
  {MAX_TOKENS_PER_SECOND:g} per audio second and a gzip compression-ratio limit of {MAX_COMPRESSION_RATIO}; when one
  trips the clip is re-decoded with the 30 s window. Plain 5 s decoding ran away (> 100 tokens) on
  {r["int8_runaways_5s_plain"]} int8 / {r["float_runaways_5s_plain"]} float clips; the guards caught them
  ({r["int8_fallbacks_5s"]} int8 / {r["float_fallbacks_5s"]} float fallbacks). int8 and float give identical guarded
  tokens on {r["int8_vs_float_identical_all_speech_guarded"][0]}/{r["int8_vs_float_identical_all_speech_guarded"][1]} speech clips.

| system (greedy) | WER % |
|---|---|
| float pack, 5 s buckets + guards | {r["float_wer_5s_guarded"]:.2f} |
| int8 pack, 5 s buckets + guards | {r["int8_wer_5s_guarded"]:.2f} |
| float pack, 30 s window | {r["float_wer_30s"]:.2f} |
| int8 pack, 30 s window | {r["int8_wer_30s"]:.2f} |
| int8 pack, 30 s window, whole-window clamp (reference, non-causal) | {r["int8_wer_30s_whole_window_clamp"]:.2f} |
| faster-whisper float32 (same weights, its own front-end, 30 s) | {r["faster_whisper_float32_wer"]:.2f} |
| faster-whisper int8 (same weights, its own front-end, 30 s) | {r["faster_whisper_int8_wer"]:.2f} |

- **Causal clamp cost**: the whole-window clamp needs future frames; the manifest's causal peak tracker (floor
  {frontend.CAUSAL_PEAK_FLOOR_LOG10}, release {frontend.CAUSAL_RELEASE_PER_FRAME} per frame) cost
  {r["int8_wer_30s"] - r["int8_wer_30s_whole_window_clamp"]:+.2f} WER points on this corpus (negative = better). The floor was chosen
  by a sweep at 5 s buckets (floors -1 and 0 made 2 runaways instead of 1 and raised WER).
- **No-speech probability** (softmax of `<|nocaptions|>` at the first step, int8): non-speech clips
  {", ".join(f"{k.removeprefix('nonspeech_')} {v:.2f}" for k, v in ns.items())}; the highest on any speech clip is
  {r["int8_speech_no_speech_prob_max"]:.2f}.
- **Timings** (Python ONNX Runtime, int8, 2 threads, median over clean clips): front-end (numpy) {t["frontend_ms"]:.1f} ms,
  encoder at the 5 s bucket {t["encoder_ms"]:.1f} ms, greedy loop {t["decoder_ms"]:.1f} ms for a median of
  {t["decoder_steps"]:.0f} decoder steps ({t["decoder_ms"] / t["decoder_steps"]:.1f} ms per step). One run on a shared
  machine: read as ratios, not absolutes.
"""


def int8_entry(pack: Pack, audio: np.ndarray) -> dict:
    """The int8 pack's greedy tokens on the production front-end at the 5 s bucket, no guards."""
    ids, no_speech = pack.greedy(*pack.encode(pack.pad(frontend.mfcc(audio))))
    return {"tokens": ids, "no_speech_prob": round(no_speech, 6), "text": pack.detokenize(ids)}


def rewrite_int8_tokens(pack_dir: Path, corpus: Path, path: Path) -> None:
    pack = Pack(pack_dir)
    meta = json.loads(path.read_text(encoding="utf-8"))
    for r in load_corpus(corpus):
        clip = meta["clips"][r["id"]]
        clip.pop("float", None)
        clip["int8"] = int8_entry(pack, r["audio"])
        clip["int8_guarded_tokens"], _ = decode_guarded(pack, r["audio"])
    meta["about"] = ABOUT + " Written by --fixtures-only: int8 entries only (the float ones need the full run)."
    path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"rewrote the int8 entries of {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", type=Path, default=Path("models/whisper-tiny-en-int8"))
    parser.add_argument("--work", type=Path, default=Path("build/export"))
    parser.add_argument("--corpus", type=Path, default=Path("tests/fixtures/speech"))
    parser.add_argument("--fixtures", type=Path, default=Path("tests/fixtures/reference"))
    parser.add_argument("--fixtures-only", action="store_true", help="rewrite tokens.json's int8 entries only")
    args = parser.parse_args()
    args.fixtures.mkdir(parents=True, exist_ok=True)
    if args.fixtures_only:
        rewrite_int8_tokens(args.pack, args.corpus, args.fixtures / "tokens.json")
        return
    from export import source_dir

    rows = load_corpus(args.corpus)
    speech = [r for r in rows if r["kind"] != "nonspeech"]
    clean = [r for r in rows if r["kind"] == "speech"]
    int8 = Pack(args.pack)
    flt = Pack(args.pack, encoder=args.work / "encoder.onnx", decoder=args.work / "decoder.onnx")
    logmel_encoder = Pack(args.pack, encoder=args.work / "encoder_logmel.onnx", decoder=args.work / "decoder.onnx")
    report: dict = {"clips": len(rows), "speech_clips": len(speech), "clean_clips": len(clean)}

    # 1. Size.
    files = ["encoder.onnx", "decoder.onnx", "vocabulary.txt", "model.toml"]
    report["size_mb"] = {f: (args.pack / f).stat().st_size / 1e6 for f in files}
    report["size_mb"]["total"] = sum(report["size_mb"].values())

    # 2. encoder(MFCC) vs encoder(log-mel), float, on the clean clips at their 5 s bucket and at 30 s.
    worst = 0.0
    for r in clean:
        logmel = frontend.normalized_log_mel(r["audio"], causal=True).astype(np.float32)
        for bucket in (500, 3000):
            lm = flt.pad(logmel, bucket)
            mf = (frontend.dct_matrix() @ lm).astype(np.float32)
            a = flt.encode(mf)
            b = logmel_encoder.encode(lm)
            worst = max(worst, max(float(np.abs(x - y).max()) for x, y in zip(a, b)))
    report["encoder_mfcc_vs_logmel_max_abs"] = worst
    print(f"encoder(MFCC) vs encoder(log-mel): max abs {worst:.2e}", flush=True)

    # 3. Float pack vs faster-whisper float32 on the same weights and the same (faster-whisper's own) features.
    fw32 = faster_whisper_tokens(source_dir(), speech, "float32")
    same = []
    for r in speech:
        mfcc30, _ = faster_whisper_features(r["audio"])
        ids, _ = flt.greedy(*flt.encode(mfcc30))
        same.append(ids == fw32[r["id"]])
    report["float_vs_faster_whisper_identical"] = [sum(same), len(same)]
    print(f"float pack vs faster-whisper float32: identical tokens {sum(same)}/{len(same)}", flush=True)

    # 4. int8 vs float tokens and WER, production front-end (causal clamp), at 5 s buckets (+guards) and at 30 s.
    refs = [r["text"] for r in speech]
    results: dict[str, dict] = {}
    tokens_json: dict[str, dict] = {}
    timings = {"encoder_ms": [], "decoder_ms": [], "frontend_ms": [], "decoder_steps": []}
    for name, pack in [("float", flt), ("int8", int8)]:
        plain, guarded, fallbacks, full = {}, {}, 0, {}
        for r in rows:
            t0 = time.perf_counter()
            features = frontend.mfcc(r["audio"])
            t1 = time.perf_counter()
            k, v = pack.encode(pack.pad(features))
            t2 = time.perf_counter()
            ids, no_speech = pack.greedy(k, v)
            t3 = time.perf_counter()
            plain[r["id"]] = ids
            if name == "int8" and r["kind"] == "speech" and len(ids) < 100:
                timings["frontend_ms"].append(1e3 * (t1 - t0))
                timings["encoder_ms"].append(1e3 * (t2 - t1))
                timings["decoder_ms"].append(1e3 * (t3 - t2))
                timings["decoder_steps"].append(len(ids) + 1)
            guarded[r["id"]], tripped = decode_guarded(pack, r["audio"])
            fallbacks += tripped
            full[r["id"]], _ = pack.transcribe(r["audio"], bucket_frames=3000)
            tokens_json.setdefault(r["id"], {"file": r["file"], "kind": r["kind"], "text": r["text"]})
            tokens_json[r["id"]][name] = {"tokens": ids, "no_speech_prob": round(no_speech, 6)}
        results[name] = {
            "wer_5s_guarded": textnorm.wer(refs, [pack.detokenize(guarded[r["id"]]) for r in speech]),
            "wer_30s": textnorm.wer(refs, [pack.detokenize(full[r["id"]]) for r in speech]),
            "runaways_5s_plain": sum(len(plain[r["id"]]) > 100 for r in speech),
            "fallbacks_5s": fallbacks,
            "plain": plain, "guarded": guarded, "full": full,
        }
        print(f"{name}: WER 5 s+guards {results[name]['wer_5s_guarded']:.2f}, 30 s {results[name]['wer_30s']:.2f}, "
              f"plain 5 s runaways {results[name]['runaways_5s_plain']}, fallbacks {fallbacks}", flush=True)
    agree = [results["int8"]["plain"][r["id"]] == results["float"]["plain"][r["id"]] for r in clean]
    agree_guarded = [results["int8"]["guarded"][r["id"]] == results["float"]["guarded"][r["id"]] for r in speech]
    report["int8_vs_float_identical_clean_5s"] = [sum(agree), len(agree)]
    report["int8_vs_float_identical_all_speech_guarded"] = [sum(agree_guarded), len(agree_guarded)]
    for name in ("float", "int8"):
        report[f"{name}_wer_5s_guarded"] = results[name]["wer_5s_guarded"]
        report[f"{name}_wer_30s"] = results[name]["wer_30s"]
        report[f"{name}_runaways_5s_plain"] = results[name]["runaways_5s_plain"]
        report[f"{name}_fallbacks_5s"] = results[name]["fallbacks_5s"]
    report["int8_nonspeech_no_speech_prob"] = {r["id"]: tokens_json[r["id"]]["int8"]["no_speech_prob"] for r in rows if r["kind"] == "nonspeech"}
    report["int8_speech_no_speech_prob_max"] = max(tokens_json[r["id"]]["int8"]["no_speech_prob"] for r in speech)

    # 5. Causal clamp cost: the same int8 pack and guards with the reference whole-window clamp.
    window_hyps = []
    for r in speech:
        ids, _ = int8.greedy(*int8.encode(int8.pad(frontend.mfcc(r["audio"], causal=False), 3000)))
        window_hyps.append(int8.detokenize(ids))
    report["int8_wer_30s_whole_window_clamp"] = textnorm.wer(refs, window_hyps)

    # 6. faster-whisper int8 and float32 WER on the same corpus (its own front-end, 30 s window, greedy).
    fw8 = faster_whisper_tokens(source_dir(), speech, "int8")
    report["faster_whisper_int8_wer"] = textnorm.wer(refs, [int8.detokenize(fw8[r["id"]]) for r in speech])
    report["faster_whisper_float32_wer"] = textnorm.wer(refs, [int8.detokenize(fw32[r["id"]]) for r in speech])
    report["timings_python_ort_2_threads"] = {k: statistics.median(v) for k, v in timings.items()}
    report["machine"] = f"{platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}"
    print(json.dumps({k: v for k, v in report.items()}, indent=1), flush=True)

    # Fixtures for the Rust side.
    for r in rows:
        if r["id"] in MFCC_FIXTURES:
            np.save(args.fixtures / f"{r['id']}.mfcc.npy", frontend.mfcc(r["audio"]))
    for r in rows:
        tokens_json[r["id"]]["int8"]["text"] = int8.detokenize(tokens_json[r["id"]]["int8"]["tokens"])
        tokens_json[r["id"]]["int8_guarded_tokens"] = results["int8"]["guarded"][r["id"]]
    meta = {
        "about": ABOUT,
        "mfcc_fixtures": {c: f"{c}.mfcc.npy" for c in MFCC_FIXTURES},
        "clips": tokens_json,
    }
    (args.fixtures / "tokens.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    (args.pack / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (args.pack / "REPORT.md").write_text(render_report(report), encoding="utf-8")
    print(f"wrote {args.fixtures}, {args.pack / 'report.json'} and {args.pack / 'REPORT.md'}")


if __name__ == "__main__":
    main()
