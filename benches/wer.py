"""Word error counting shared by the bench scripts: Whisper's English normalizer (PyPI whisper-normalizer) and the
word-level edit distance."""
from whisper_normalizer.english import EnglishTextNormalizer

normalize = EnglishTextNormalizer()


def edit_distance(a, b):
    """Substitutions + insertions + deletions turning word list `a` into `b`."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]
