#!/usr/bin/env python3
"""WER, CER and language identification per language for earshot's Whisper base pack and the reference engines on
the same weights, in one run (issue 30).

    compare.py MANIFEST --model-dir CT2_DIR --whisper-cpp BIN --ggml GGML_Q8_0 [--earshot BIN] [--only REGEX]
               [--languages de,fr,...] [--one-voice] [--json OUT] [--merge OTHER.json ...]

MANIFEST: benches/languages/make_corpus.py's manifest.tsv (file, language, group, text). CT2_DIR: the CTranslate2
base model folder the pack is exported from (models/export/base_reference.py assembles it: model.bin, config.json,
tokenizer.json, vocabulary.json). Engines, each on every clip, the language given unless the name says `auto`:
- earshot `transcribe --model whisper-base-int8` with the default profile (greedy; a low-confidence final searched
  again with beam 5), with `--beam 5`, and with `--language auto` (identification: the first segment's language);
- faster-whisper int8 greedy and beam 5 (its defaults otherwise: temperature fallback), and its language
  identification alone (`detect_language`, what its `transcribe` runs when no language is given; no text);
- whisper.cpp `whisper-cli` greedy (`-bs 1 -bo 1`, `-nt`) on the q8_0 conversion of the same weights
  (benches/accuracy/ggml_weights.py, then whisper-quantize).
Text is normalized with Whisper's basic normalizer (PyPI whisper-normalizer: lower case, punctuation and symbols
removed by Unicode category, so accents and non-Latin scripts are kept); WER over words, CER over characters (spaces
included), summed per language and group (errors / reference length). `--one-voice` keeps one voice per sentence
(the two in turn), `--languages` some languages: faster-whisper takes about 2 s per clip here. Runs accumulate in
`--json` (a run of the same name is replaced), so engines can be run apart; `--merge` adds the runs of other files
(made on the same clips, e.g. at the same time); the tables cover every run.
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wer import edit_distance  # noqa: E402
from whisper_normalizer.basic import BasicTextNormalizer  # noqa: E402

NORMALIZE = BasicTextNormalizer()


def normalize(text):
    return " ".join(NORMALIZE(text).split())


def load(manifest):
    lines = manifest.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t")), path=manifest.parent / line.split("\t")[0]) for line in lines[1:]]


def by_language(clips):
    groups = {}
    for i, c in enumerate(clips):
        groups.setdefault(c["language"], []).append(i)
    return groups


def earshot(binary, clips, flags, given):
    """Texts and detected languages; with `given`, one run per language with --language."""
    texts, spoken = [""] * len(clips), [None] * len(clips)
    batches = by_language(clips).items() if given else [(None, range(len(clips)))]
    with tempfile.TemporaryDirectory() as out:
        for language, indices in batches:
            cmd = [binary, "transcribe", "-q", "--model", "whisper-base-int8", "--format", "json", "-o", out] + flags
            cmd += ["--language", language] if language else ["--language", "auto"]
            subprocess.run(cmd + [str(clips[i]["path"]) for i in indices], check=True)
            for i in indices:
                result = json.loads((Path(out) / (clips[i]["path"].stem + ".json")).read_text(encoding="utf-8"))
                texts[i] = result["text"]
                segments = result["segments"]
                spoken[i] = segments[0]["language"]["code"] if segments else None
    return texts, spoken


def faster_whisper(model_dir, clips, beam):
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
    texts, spoken = [], []
    for c in clips:
        segments, info = model.transcribe(str(c["path"]), language=c["language"], beam_size=beam)
        texts.append(" ".join(s.text.strip() for s in segments))
        spoken.append(info.language)
    return texts, spoken


def faster_whisper_language(model_dir, clips):
    from faster_whisper import WhisperModel, decode_audio

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
    return None, [model.detect_language(decode_audio(str(c["path"])))[0] for c in clips]


def whisper_cpp(binary, model, clips):
    texts = [""] * len(clips)
    with tempfile.TemporaryDirectory() as tmp:
        for language, indices in by_language(clips).items():
            links = []
            for i in indices:
                link = Path(tmp) / clips[i]["path"].name
                link.symlink_to(clips[i]["path"].resolve())
                links.append(link)
            args = [binary, "-m", str(model), "-t", "2", "-l", language, "-np", "-nt", "-bs", "1", "-bo", "1", "-otxt"]
            for link in links:
                args += ["-f", str(link)]
            subprocess.run(args, check=True, capture_output=True)
            for i, link in zip(indices, links):
                texts[i] = " ".join(Path(str(link) + ".txt").read_text(encoding="utf-8", errors="replace").split())
    return texts, [None] * len(clips)


def score(clips, texts, spoken):
    """{language: {group: {words, word_errors, chars, char_errors, wer, cer}}, plus `identified` when known}."""
    table = {}
    for c, text, code in zip(clips, texts or [""] * len(clips), spoken):
        ref, hyp = normalize(c["text"]), normalize(text)
        for group in [c["group"], "all"]:
            for language in [c["language"], "all"]:
                cell = table.setdefault(language, {}).setdefault(group, {
                    "words": 0, "word_errors": 0, "chars": 0, "char_errors": 0, "clips": 0, "identified": 0})
                cell["words"] += len(ref.split())
                cell["word_errors"] += edit_distance(ref.split(), hyp.split())
                cell["chars"] += len(ref)
                cell["char_errors"] += edit_distance(list(ref), list(hyp))
                cell["clips"] += 1
                cell["identified"] += code == c["language"]
    for groups in table.values():
        for cell in groups.values():
            cell["wer"] = 100 * cell["word_errors"] / max(cell["words"], 1)
            cell["cer"] = 100 * cell["char_errors"] / max(cell["chars"], 1)
    return table


def markdown(results, languages, group, key):
    head = "| engine | " + " | ".join(languages) + " |"
    lines = [head, "|---" * (len(languages) + 1) + "|"]
    for name, r in results.items():
        if key != "identified" and r["texts"] is None:
            continue  # identification only
        cells = []
        for lang in languages:
            cell = r["score"][lang][group]
            cells.append(f"{100 * cell['identified'] / cell['clips']:.0f} %" if key == "identified"
                         else f"{cell[key]:.1f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--earshot", default=str(Path(__file__).resolve().parents[2] / "target/release/earshot"))
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--whisper-cpp")
    ap.add_argument("--ggml", type=Path)
    ap.add_argument("--only", default="")
    ap.add_argument("--languages", help="comma-separated codes (default: all in the manifest)")
    ap.add_argument("--one-voice", action="store_true", help="sentence i spoken by voice i mod 2 only")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--merge", type=Path, nargs="*", default=[])
    a = ap.parse_args()
    clips = load(a.manifest)
    if a.languages:
        clips = [c for c in clips if c["language"] in a.languages.split(",")]
    if a.one_voice:
        clips = [c for c in clips if int(c["file"][2:4]) % 2 == int(c["file"].split("_v")[1][0])]
    runs = [
        ("earshot greedy", lambda: earshot(a.earshot, clips, [], True)),
        ("earshot beam 5", lambda: earshot(a.earshot, clips, ["--beam", "5"], True)),
        ("earshot greedy, auto", lambda: earshot(a.earshot, clips, [], False)),
        ("faster-whisper int8 greedy", lambda: faster_whisper(a.model_dir, clips, 1)),
        ("faster-whisper int8 beam 5", lambda: faster_whisper(a.model_dir, clips, 5)),
        ("faster-whisper int8 language ID, auto", lambda: faster_whisper_language(a.model_dir, clips)),
        ("whisper.cpp q8_0 greedy", lambda: whisper_cpp(a.whisper_cpp, a.ggml, clips)),
    ]
    results = {}
    for path in [a.json] * bool(a.json and a.json.exists()) + a.merge:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if [c["file"] for c in saved["clips"]] != [c["file"] for c in clips]:
            sys.exit(f"{path} holds runs on other clips")
        results.update(saved["results"])
    for name, run in runs:
        if not re.search(a.only, name):
            continue
        started = time.monotonic()
        texts, spoken = run()
        seconds = time.monotonic() - started
        results[name] = {"seconds": seconds, "texts": texts, "spoken": spoken, "score": score(clips, texts, spoken)}
        print(f"{name}: {seconds:.0f} s, WER {results[name]['score']['all']['all']['wer']:.2f} %"
              f", language right {results[name]['score']['all']['all']['identified']} clips", flush=True)
        if a.json:
            save(a.json, clips, results)
    languages = list(dict.fromkeys(c["language"] for c in clips)) + ["all"]
    for group in dict.fromkeys(c["group"] for c in clips):
        print(f"\nWER % ({group})\n" + markdown(results, languages, group, "wer"))
        print(f"\nCER % ({group})\n" + markdown(results, languages, group, "cer"))
    if a.json:
        save(a.json, clips, results)  # with the merged runs
    auto = {name: r for name, r in results.items() if name.endswith("auto")}
    print("\nlanguage identified (all clips)\n" + markdown(auto, languages, "all", "identified"))
    ours, theirs = "earshot greedy", "faster-whisper int8 greedy"
    if ours in results and theirs in results:
        for group in dict.fromkeys(c["group"] for c in clips):
            print(f"\nword errors, {ours} minus {theirs}, {group}: sum (mean per clip ± standard error)\n"
                  + "| pair | " + " | ".join(languages) + " |\n" + "|---" * (len(languages) + 1) + "|\n"
                  + paired(clips, results, ours, theirs, languages, group))
    ours, theirs = "earshot greedy, auto", "faster-whisper int8 language ID, auto"
    if ours in results and theirs in results:
        only_ours, only_theirs = identified_apart(clips, results, ours, theirs)
        print(f"\nlanguage right for {ours} only: {only_ours} clips; for {theirs} only: {only_theirs} clips")


def paired(clips, results, ours, theirs, languages, group):
    """Per language: word errors of `ours` minus `theirs` summed over the same clips, and the mean per-clip
    difference with its standard error (is the gap bigger than the corpus can resolve?)."""
    cells = []
    for lang in languages:
        diffs = []
        for c, a, b in zip(clips, results[ours]["texts"], results[theirs]["texts"]):
            if lang in (c["language"], "all") and c["group"] == group:
                ref = normalize(c["text"]).split()
                diffs.append(edit_distance(ref, normalize(a).split()) - edit_distance(ref, normalize(b).split()))
        mean = statistics.mean(diffs)
        se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
        cells.append(f"{sum(diffs):+d} ({mean:+.2f} ± {se:.2f})")
    return f"| {ours} - {theirs} | " + " | ".join(cells) + " |"


def identified_apart(clips, results, ours, theirs):
    """Clips only `ours` identifies right, and clips only `theirs` does."""
    right = [[code == c["language"] for c, code in zip(clips, results[name]["spoken"])] for name in (ours, theirs)]
    return sum(a and not b for a, b in zip(*right)), sum(b and not a for a, b in zip(*right))


def save(path, clips, results):
    path.write_text(json.dumps({"clips": [{k: str(v) for k, v in c.items()} for c in clips], "results": results},
                               ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
