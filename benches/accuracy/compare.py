#!/usr/bin/env python3
"""WER per group for earshot and the reference engines on the same Whisper tiny.en weights, in one run (issue 14).

    compare.py MANIFEST --whisper-cpp BIN --ggml DIR [--faster-whisper CT2_DIR] [--earshot BIN]
               [--only REGEX] [--earshot-arg ARG ...] [--json OUT]

MANIFEST: TSV with a header naming `file` and `text`, and optionally `group` (else `kind`, else one group "all") and
`content`; paths relative to the manifest. Engines:
- earshot `transcribe` (default profile: greedy, low-confidence finals searched again with beam 5; and --beam 5),
  and its streaming path: `listen --replay FILE --fast --json`, the finals' text joined (the same stream a
  microphone feeds, partials on);
- whisper.cpp `whisper-cli` greedy (`-bs 1 -bo 1`) and beam 5, with `-nt` and greedy with timestamps, on
  DIR/ggml-model-q8_0.bin (16 kHz mono 16-bit input made with sox);
- faster-whisper int8 greedy and beam 5 when CT2_DIR is given.
`--only REGEX` runs the engines whose name matches; `--earshot-arg` passes an argument to every earshot run (e.g.
`--earshot-arg=--profile --earshot-arg=accurate`), for stage-by-stage experiments.

WER after Whisper's English normalizer (PyPI whisper-normalizer), summed per group (errors / reference words); the
groups are the `group` values, `content:` values, `short` (everything but long and long-form speech and non-speech)
and `all`. Clips with an empty reference (non-speech) count as a group of their own: how many came out with text.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wer import edit_distance, normalize  # noqa: E402

NOT_SHORT = {"long", "longform", "nonspeech"}


def load(manifest):
    lines = manifest.read_text().splitlines()
    head = lines[0].split("\t")
    col = {name: head.index(name) for name in head}
    group = col.get("group", col.get("kind"))
    clips = []
    for line in lines[1:]:
        f = line.split("\t")
        clips.append({"path": manifest.parent / f[col["file"]], "text": f[col["text"]],
                      "group": f[group] if group is not None else "all",
                      "content": f[col["content"]] if "content" in col else None})
    return clips


def earshot(binary, extra, clips, beam):
    with tempfile.TemporaryDirectory() as out:
        cmd = [binary, "transcribe", "-q", "--beam", str(beam), "-o", out] + extra + [str(c["path"]) for c in clips]
        subprocess.run(cmd, check=True)
        return [(Path(out) / (c["path"].stem + ".txt")).read_text().strip() for c in clips]


def earshot_streaming(binary, extra, clips):
    texts = []
    for c in clips:
        cmd = [binary, "listen", "-q", "--json", "--fast", "--replay", str(c["path"])] + extra
        lines = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
        finals = [e["text"] for e in map(json.loads, lines) if e["event"] == "final"]
        texts.append(" ".join(t.strip() for t in finals))
    return texts


def whisper_cpp(binary, model, clips, beam, timestamps, tmp):
    texts = []
    for c in clips:
        wav = Path(tmp) / (c["path"].stem + ".16k.wav")
        if not wav.exists():
            subprocess.run(["sox", str(c["path"]), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
        args = [binary, "-m", str(model), "-f", str(wav), "-t", "2", "-l", "en", "-np"]
        args += [] if timestamps else ["-nt"]
        args += ["-bs", "1", "-bo", "1"] if beam == 1 else ["-bs", str(beam)]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        if timestamps:  # "[00:00:00.000 --> 00:00:02.000]   text"
            out = re.sub(r"^\[[^\]]*\]", "", out, flags=re.M)
        texts.append(" ".join(out.split()))
    return texts


def faster_whisper(model_dir, clips, beam):
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
    texts = []
    for c in clips:
        segments, _ = model.transcribe(str(c["path"]), language="en", beam_size=beam)
        texts.append(" ".join(s.text.strip() for s in segments))
    return texts


def score(clips, texts):
    """{group: {words, errors, wer}} and, for clips without reference words, {clips, with_text}."""
    table = {}
    for c, text in zip(clips, texts):
        ref, hyp = normalize(c["text"]).split(), normalize(text).split()
        keys = [c["group"], "all"]
        keys += [f"content:{c['content']}"] if c["content"] and ref else []
        keys += ["short"] if c["group"] not in NOT_SHORT else []
        for key in keys:
            cell = table.setdefault(key, {"words": 0, "errors": 0, "clips": 0, "with_text": 0})
            cell["words"] += len(ref)
            cell["errors"] += edit_distance(ref, hyp)
            cell["clips"] += 1
            cell["with_text"] += bool(hyp) and not ref
    for cell in table.values():
        cell["wer"] = 100 * cell["errors"] / max(cell["words"], 1)
    return table


def markdown(table):
    """One row per engine; a group without reference words (non-speech) shows the clips that came out with text."""
    first = next(iter(table.values()))
    order = sorted(first, key=lambda g: (g == "all", g == "short", g.startswith("content:"), g))
    cell = lambda c: f"{c['wer']:.2f}" if c["words"] else f"{c['with_text']}/{c['clips']} with text"
    head = lambda g: f"{g} ({first[g]['words']} words)" if first[g]["words"] else f"{g} ({first[g]['clips']} clips)"
    lines = ["| engine | " + " | ".join(head(g) for g in order) + " |", "|---" * (len(order) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(cell(groups[g]) for g in order) + " |" for name, groups in table.items()]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--earshot", default=str(Path(__file__).resolve().parents[2] / "target/release/earshot"))
    ap.add_argument("--earshot-arg", action="append", default=[])
    ap.add_argument("--whisper-cpp")
    ap.add_argument("--ggml", type=Path)
    ap.add_argument("--faster-whisper", type=Path)
    ap.add_argument("--only", default="")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    clips = load(a.manifest)
    ex = a.earshot_arg
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("earshot greedy", lambda: earshot(a.earshot, ex, clips, 1)),
                ("earshot beam 5", lambda: earshot(a.earshot, ex, clips, 5)),
                ("earshot streaming finals greedy", lambda: earshot_streaming(a.earshot, ex, clips))]
        if a.whisper_cpp:
            q8 = a.ggml / "ggml-model-q8_0.bin"
            runs += [("whisper.cpp q8_0 greedy -nt", lambda: whisper_cpp(a.whisper_cpp, q8, clips, 1, False, tmp)),
                     ("whisper.cpp q8_0 greedy, timestamps", lambda: whisper_cpp(a.whisper_cpp, q8, clips, 1, True, tmp)),
                     ("whisper.cpp q8_0 beam 5 -nt", lambda: whisper_cpp(a.whisper_cpp, q8, clips, 5, False, tmp))]
        if a.faster_whisper:
            runs += [("faster-whisper int8 greedy", lambda: faster_whisper(a.faster_whisper, clips, 1)),
                     ("faster-whisper int8 beam 5", lambda: faster_whisper(a.faster_whisper, clips, 5))]
        engines = {}
        for name, run in runs:
            if not re.search(a.only, name):
                continue
            started = time.monotonic()
            engines[name] = {"texts": run(), "seconds": time.monotonic() - started}
            print(f"{name}: {engines[name]['seconds']:.1f} s", file=sys.stderr)
    table = {name: score(clips, e["texts"]) for name, e in engines.items()}
    print(markdown(table))
    if a.json:
        a.json.write_text(json.dumps({"manifest": str(a.manifest), "earshot_args": ex, "wer": table,
                                      "seconds": {n: e["seconds"] for n, e in engines.items()},
                                      "texts": {n: e["texts"] for n, e in engines.items()}}, indent=1))


if __name__ == "__main__":
    main()
