#!/usr/bin/env python3
"""Score transcripts of the vocabulary dev set (tests/fixtures/vocabulary): term recall, listed terms inserted into
the plain utterances, and the WER after Whisper's English normalizer of the plain utterances and of the ones with
terms (where wrong terms placed into garbled text show).

    score.py OUT_DIR [--list]     (OUT_DIR holds STEM.txt per clip, as `earshot transcribe -o OUT_DIR` writes)

A term counts as recognised when its words appear in the transcript after lower-casing and dropping punctuation.
"""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wer import edit_distance, normalize  # noqa: E402

SET = Path(__file__).resolve().parents[2] / "tests/fixtures/vocabulary"


def words(text):
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())




def main():
    out = Path(sys.argv[1])
    show = "--list" in sys.argv
    terms = [t for t in (SET / "terms.txt").read_text().splitlines() if t.strip() and not t.startswith("#")]
    hits = total = plain_words = plain_errors = inserted = term_words = term_errors = 0
    for line in (SET / "manifest.tsv").read_text().splitlines()[1:]:
        f = line.split("\t")
        text = (out / (Path(f[0]).stem + ".txt")).read_text().strip()
        spoken = [t for t in (f[3] if len(f) > 3 else "").split("|") if t]
        if not spoken:
            ref, hyp = normalize(f[2]).split(), normalize(text).split()
            plain_words += len(ref)
            e = edit_distance(ref, hyp)
            plain_errors += e
            ins = [t for t in terms if f" {words(t)} " in f" {words(text)} "]
            inserted += len(ins)
            if show and (e or ins):
                print(f"plain {f[0]}: {e} errors, inserted {ins}: {text!r} (ref {f[2]!r})")
        else:
            ref = normalize(f[2]).split()
            term_words += len(ref)
            term_errors += edit_distance(ref, normalize(text).split())
        for term in spoken:
            total += 1
            ok = f" {words(term)} " in f" {words(text)} "
            hits += ok
            if show and not ok:
                print(f"miss  {f[0]} {term!r}: {text!r}")
    print(f"recall {hits}/{total} ({100 * hits / total:.1f} %)  plain WER {100 * plain_errors / plain_words:.2f} % "
          f"({plain_errors}/{plain_words})  inserted {inserted}  term-utterance WER "
          f"{100 * term_errors / term_words:.2f} % ({term_errors}/{term_words})")


if __name__ == "__main__":
    main()
