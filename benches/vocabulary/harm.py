#!/usr/bin/env python3
"""What a term list does where its terms are said, and where they are not (issue 31), in one run.

    python benches/vocabulary/harm.py HARM_DIR [--lists 30,100,1000] [--terms DIR] [--earshot BIN] [--json OUT]
        [-- EARSHOT_ARGS]

Transcribes, with no list and with each list of benches/vocabulary/lists/ (`--vocabulary-file`), two sets with
`earshot transcribe --format json`: the term-free utterances (HARM_DIR from make_harm_set.py, plus the 42 plain
utterances of tests/fixtures/vocabulary) and the 43 utterances of tests/fixtures/vocabulary that say 60 of the 30
terms (or, with `--terms DIR`, the utterances with terms of DIR/manifest.tsv instead: e.g. the same sentences with
the names said as people say them, `models/export/make_vocabulary_set.py --said`). EARSHOT_ARGS go to every run
(e.g. `--profile raspberry-pi-zero-2w`, `--beam 5`). Reports per list:
- term recall: spoken terms whose words appear in the transcript (lower case, punctuation dropped);
- on the term-free utterances: WER after Whisper's English normalizer (whisper-normalizer), listed terms inserted
  (a listed term in the transcript that neither the reference nor the transcript without a list holds: the list
  put it there), and text changed at all against the run without a list (the exact string: punctuation and casing
  count), per group (clean, noise, plain);
- decoder time summed over every segment of both sets (`decoder_time`, includes the term check).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VOCAB = ROOT / "tests/fixtures/vocabulary"
sys.path.insert(0, str(HERE.parent))
from wer import edit_distance, normalize  # noqa: E402
from make_harm_set import words  # noqa: E402


def read_terms(path: Path) -> list[str]:
    return [t.strip() for t in path.read_text().splitlines() if t.strip() and not t.startswith("#")]


def vocabulary_clips(folder: Path) -> list[dict]:
    """The clips of a make_vocabulary_set.py manifest: dicts of path, group, text, terms."""
    out = []
    for line in (folder / "manifest.tsv").read_text().splitlines()[1:]:
        f = line.split("\t")
        terms = [t for t in (f[3] if len(f) > 3 else "").split("|") if t]
        out.append({"path": folder / f[0], "group": "plain", "text": f[2], "terms": terms})
    return out


def clips(harm: Path, terms: Path) -> tuple[list[dict], list[dict]]:
    """(term-free clips, clips with terms)."""
    free = []
    for line in (harm / "manifest.tsv").read_text().splitlines()[1:]:
        file, group, _voice, text = line.split("\t")
        free.append({"path": harm / file, "group": group, "text": text, "terms": []})
    free += [c for c in vocabulary_clips(VOCAB) if not c["terms"]]
    return free, [c for c in vocabulary_clips(terms) if c["terms"]]


def transcribe(earshot: str, paths: list[Path], extra: list[str], out: Path) -> dict[Path, dict]:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([earshot, "transcribe", "-q", "--format", "json", "-o", str(out), *extra, *map(str, paths)],
                   check=True)
    results = {}
    for p in paths:
        doc = json.loads((out / f"{p.stem}.json").read_text())
        results[p] = {"text": doc["text"].strip(),
                      "decoder_s": sum(s["decoder_time"] for s in doc["segments"]) / 1000}
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("harm", type=Path)
    ap.add_argument("--lists", default="30,100,1000")
    ap.add_argument("--terms", type=Path, default=VOCAB, help="folder of the utterances with terms (manifest.tsv)")
    ap.add_argument("--earshot", default=str(ROOT / "target/release/earshot"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("extra", nargs="*", help="arguments for every earshot run (after --)")
    a = ap.parse_args()
    free, with_terms = clips(a.harm, a.terms)
    paths = [c["path"] for c in free + with_terms]
    configs = [("none", [])] + [(n, ["--vocabulary-file", str(HERE / "lists" / f"{n}.txt")])
                                for n in a.lists.split(",")]
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in configs:
            runs[name] = transcribe(a.earshot, paths, a.extra + args, Path(tmp) / name)
            print(f"{name}: done", file=sys.stderr)
    table = {}
    for name, args in configs:
        listed = read_terms(HERE / "lists" / f"{name}.txt") if args else []
        res = runs[name]
        row = {"decoder_s": round(sum(r["decoder_s"] for r in res.values()), 2)}
        hits = [words(t) in words(res[c["path"]]["text"]) for c in with_terms for t in c["terms"]]
        row["recall"] = [sum(hits), len(hits)]
        for group in ["all", "clean", "noise", "plain"]:
            chosen = [c for c in free if group == "all" or c["group"].startswith(group)]
            errors = n_words = inserted = changed = 0
            examples = []
            for c in chosen:
                text = res[c["path"]]["text"]
                ref, hyp = normalize(c["text"]).split(), normalize(text).split()
                errors += edit_distance(ref, hyp)
                n_words += len(ref)
                base = runs["none"][c["path"]]["text"]
                ins = [t for t in listed if words(t) in words(text)
                       and words(t) not in words(c["text"]) and words(t) not in words(base)]
                inserted += len(ins)
                if text != base:
                    changed += 1
                    examples.append({"file": c["path"].name, "none": base, "list": text, "inserted": ins})
            row[group] = {"clips": len(chosen), "wer": round(100 * errors / max(n_words, 1), 2),
                          "errors": errors, "words": n_words, "inserted": inserted, "changed": changed}
            if group == "all":
                row["changed_examples"] = examples
        table[name] = row
    print("| list | term recall | term-free WER (clean / noise / plain) | listed terms inserted | text changed "
          "| decoder time |")
    print("|---|---|---|---|---|---|")
    for name, row in table.items():
        r, al = row["recall"], row["all"]
        groups = " / ".join(f"{row[g]['wer']:.2f}" for g in ["clean", "noise", "plain"])
        print(f"| {name} | {r[0]}/{r[1]} ({100 * r[0] / r[1]:.1f} %) | {al['wer']:.2f} % ({al['errors']}/{al['words']};"
              f" {groups}) | {al['inserted']} | {al['changed']}/{al['clips']} ({100 * al['changed'] / al['clips']:.1f} %)"
              f" | {row['decoder_s']:.1f} s |")
    if a.json:
        a.json.write_text(json.dumps({"extra": a.extra, "terms": str(a.terms), "results": table,
                                      "texts": {n: {str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p.name): r["text"]
                                                    for p, r in res.items()} for n, res in runs.items()}}, indent=1))


if __name__ == "__main__":
    main()
