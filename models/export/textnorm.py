"""The WER text normalizer (the Rust engine's `wer` module implements the same rules).

1. lowercase; "$N" -> "N dollars"; "%" -> " percent"; "dr." -> "doctor", "mr." -> "mister", "mrs." -> "missus";
2. a "." or ":" between digits becomes a space ("9.30" -> "9 30"); "," between digits is dropped ("1,000");
3. every other character that is not a letter, digit, apostrophe or space becomes a space;
4. digit runs become number words ("42" -> "forty two", "420" -> "four hundred twenty");
5. "and" right after "hundred" or "thousand" is dropped; British "-our" spellings of the few words in the corpus are
   not special-cased (they count as errors for every system alike).
"""

from __future__ import annotations

import re

ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
       "seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> list[str]:
    if n < 20:
        return [ONES[n]]
    if n < 100:
        return [TENS[n // 10]] + ([ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [ONES[n // 100], "hundred"] + (number_words(n % 100) if n % 100 else [])
    if n < 1_000_000:
        return number_words(n // 1000) + ["thousand"] + (number_words(n % 1000) if n % 1000 else [])
    return [ONES[int(d)] for d in str(n)]


def normalize(text: str) -> list[str]:
    t = text.lower()
    t = re.sub(r"\$(\d[\d,]*)", r"\1 dollars", t)
    t = t.replace("%", " percent")
    t = re.sub(r"\bdr\.", "doctor", t)
    t = re.sub(r"\bmrs\.", "missus", t)
    t = re.sub(r"\bmr\.", "mister", t)
    t = re.sub(r"(?<=\d),(?=\d)", "", t)
    t = re.sub(r"(?<=\d)[.:](?=\d)", " ", t)
    t = re.sub(r"[^a-z0-9' ]", " ", t)
    words: list[str] = []
    for w in t.split():
        w = w.strip("'")
        if not w:
            continue
        if w.isdigit():
            words.extend(number_words(int(w)))
        else:
            words.append(w)
    return [w for i, w in enumerate(words) if not (w == "and" and i > 0 and words[i - 1] in ("hundred", "thousand"))]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def wer(refs: list[str], hyps: list[str]) -> float:
    """Corpus WER in percent: total word edits / total reference words."""
    errors = sum(edit_distance(normalize(r), normalize(h)) for r, h in zip(refs, hyps))
    words = sum(len(normalize(r)) for r in refs)
    return 100.0 * errors / max(words, 1)
