#!/usr/bin/env python3
"""WER per group for earshot and the reference engines on the same Whisper tiny.en weights, in one run (issue 14).

    compare.py MANIFEST --whisper-cpp BIN --ggml DIR [--faster-whisper CT2_DIR] [--earshot BIN] [--json OUT]

MANIFEST: TSV with a header naming `file` and `text`, and optionally `group` (else `kind`, else one group "all");
paths relative to the manifest. Engines: earshot `transcribe` (default profile, greedy and --beam 5); whisper.cpp
`whisper-cli` greedy (`-bs 1 -bo 1`) and beam 5 with `-nt`, on DIR/ggml-model-q8_0.bin (16 kHz mono 16-bit input
made with sox); faster-whisper int8 greedy and beam 5 when CT2_DIR is given. WER after Whisper's English
normalizer (PyPI whisper-normalizer), summed per group (errors / reference words).
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wer import edit_distance, normalize  # noqa: E402





def load(manifest):
    lines = manifest.read_text().splitlines()
    head = lines[0].split("\t")
    col = {name: head.index(name) for name in head}
    group = col.get("group", col.get("kind"))
    clips = []
    for line in lines[1:]:
        f = line.split("\t")
        clips.append({"path": manifest.parent / f[col["file"]], "text": f[col["text"]],
                      "group": f[group] if group is not None else "all"})
    return clips


def earshot(binary, clips, beam):
    with tempfile.TemporaryDirectory() as out:
        cmd = [binary, "transcribe", "-q", "--beam", str(beam), "-o", out] + [str(c["path"]) for c in clips]
        subprocess.run(cmd, check=True)
        return [(Path(out) / (c["path"].stem + ".txt")).read_text().strip() for c in clips]


def whisper_cpp(binary, model, clips, beam, tmp):
    texts = []
    for c in clips:
        wav = Path(tmp) / (c["path"].stem + ".16k.wav")
        if not wav.exists():
            subprocess.run(["sox", str(c["path"]), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
        args = [binary, "-m", str(model), "-f", str(wav), "-t", "2", "-l", "en", "-nt", "-np"]
        args += ["-bs", "1", "-bo", "1"] if beam == 1 else ["-bs", str(beam)]
        texts.append(" ".join(subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()))
    return texts


def faster_whisper(model_dir, clips, beam):
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
    texts = []
    for c in clips:
        segments, _ = model.transcribe(str(c["path"]), language="en", beam_size=beam)
        texts.append(" ".join(s.text.strip() for s in segments))
    return texts


def markdown(table):
    """The WER table (a group without reference words, such as non-speech, shows the words inserted)."""
    first = next(iter(table.values()))
    cell = lambda c: f"{c['wer']:.2f}" if c["words"] else f"{c['errors']} inserted"
    lines = ["| engine | " + " | ".join(f"{g} ({c['words']} words)" for g, c in first.items()) + " |",
             "|---" * (len(first) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(cell(c) for c in groups.values()) + " |" for name, groups in table.items()]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--earshot", default=str(Path(__file__).resolve().parents[2] / "target/release/earshot"))
    ap.add_argument("--whisper-cpp", required=True)
    ap.add_argument("--ggml", type=Path, required=True)
    ap.add_argument("--faster-whisper", type=Path)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    clips = load(a.manifest)
    engines = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("earshot greedy", lambda: earshot(a.earshot, clips, 1)),
                ("earshot beam 5", lambda: earshot(a.earshot, clips, 5)),
                ("whisper.cpp q8_0 greedy -nt", lambda: whisper_cpp(a.whisper_cpp, a.ggml / "ggml-model-q8_0.bin", clips, 1, tmp)),
                ("whisper.cpp q8_0 beam 5 -nt", lambda: whisper_cpp(a.whisper_cpp, a.ggml / "ggml-model-q8_0.bin", clips, 5, tmp))]
        if a.faster_whisper:
            runs += [("faster-whisper int8 greedy", lambda: faster_whisper(a.faster_whisper, clips, 1)),
                     ("faster-whisper int8 beam 5", lambda: faster_whisper(a.faster_whisper, clips, 5))]
        for name, run in runs:
            started = time.monotonic()
            engines[name] = {"texts": run(), "seconds": time.monotonic() - started}
            print(f"{name}: {engines[name]['seconds']:.1f} s", file=sys.stderr)
    groups = sorted({c["group"] for c in clips}) + ["all"]
    table = {}
    for name, e in engines.items():
        table[name] = {}
        for g in groups:
            words = errors = 0
            for c, text in zip(clips, e["texts"]):
                if g in ("all", c["group"]):
                    ref = normalize(c["text"]).split()
                    words += len(ref)
                    errors += edit_distance(ref, normalize(text).split())
            table[name][g] = {"words": words, "errors": errors, "wer": 100 * errors / max(words, 1)}
    print(markdown(table))
    if a.json:
        a.json.write_text(json.dumps({"manifest": str(a.manifest), "wer": table,
                                      "texts": {n: e["texts"] for n, e in engines.items()}}, indent=1))


if __name__ == "__main__":
    main()
