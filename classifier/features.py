"""Layout and context features of lines, for the relevance model.

Pure functions of the text: no models here. Text-model scores are added by
``relevance`` as context features, using ``context_features`` below.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from classifier.config import MODEL_TEXT_CHARS
from classifier.segment import Line

LONG_LINE_CHARS = 150  # a line this long is almost never menu residue
WINDOW = 5
_TERMINAL = tuple('.!?:;"”’»)…。！？')
_BULLET = re.compile(r"^\s*(?:[•*·‣▪◦●■□>›»\-–—]|\d{1,3}[.)])\s")
_URL = re.compile(r"https?://|www\.|\S+@\S+\.\w{2,}|\.(?:com|org|net|de|uk)\b", re.I)
_SEPARATORS = re.compile(r"[|•»·/›>]")
_SENTENCE_END = re.compile(r"[.!?。！？][\"”’)]?\s+\S")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s")
_DIGITS = re.compile(r"\d+")

LINE_FEATURES = (
    "log_chars",
    "log_words",
    "frac_alpha",
    "frac_digit",
    "frac_upper",
    "frac_punct",
    "ends_terminal",
    "starts_bullet",
    "title_ratio",
    "has_url",
    "separators_per_word",
    "mean_word_len",
    "sentences",
    "has_copyright",
    "indented",
    "rel_line_pos",
    "rel_char_pos",
    "block_lines",
    "pos_in_block",
    "block_mean_chars",
    "doc_lines",
    "doc_chars",
    "dup_in_doc",
    "dup_across_docs",
    "before_first_long",
    "after_last_long",
    "dist_long",
    "long_density",
    "prev_chars",
    "next_chars",
    "first_copy",
    "copy_distance",
    "no_letters",
)


RESIDUE_MAX_CHARS = 12


def is_residue(text: str) -> bool:
    """Short residue without letters ("0", "37", "_", "|", "»"): navigation by the label
    guide, whatever the models make of its neighbours."""
    stripped = text.strip()
    return len(stripped) <= RESIDUE_MAX_CHARS and not any(c.isalpha() for c in stripped)


def window_mean(values: np.ndarray, reach: int) -> np.ndarray:
    """Mean of each value and up to ``reach`` neighbours on each side."""
    n = len(values)
    sums = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    index = np.arange(n)
    low, high = np.maximum(index - reach, 0), np.minimum(index + reach + 1, n)
    return (sums[high] - sums[low]) / (high - low)


def repetition_key(text: str) -> str:
    """Lines that differ only in case, digits or spacing repeat the same template (judged on
    their beginning: two lines that share their first thousand characters are copies)."""
    return " ".join(_DIGITS.sub("0", text[:MODEL_TEXT_CHARS].lower()).split())


def line_keys(lines: Sequence[Line]) -> list[str]:
    return [repetition_key(line.text) for line in lines]


def corpus_repetition(keys_per_document: Sequence[Sequence[str]]) -> Counter:
    """In how many documents of the chunk each line template occurs (see ``line_keys``)."""
    counts: Counter = Counter()
    for keys in keys_per_document:
        counts.update(set(keys))
    return counts


# For ASCII text: per count, the bytes to delete so that only the counted ones are left.
_ASCII_UPPER = bytes(range(65, 91))
_DELETE_ALL_BUT = tuple(
    bytes(b for b in range(256) if b not in keep)
    for keep in (_ASCII_UPPER + bytes(range(97, 123)), b"0123456789", _ASCII_UPPER, b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")
)


def _unicode_char_counts(text: str) -> tuple[int, int, int, int]:
    n = len(text)
    return (
        n - len(_LETTER.sub("", text)),
        n - len(_DIGIT.sub("", text)),
        sum(map(str.isupper, text)),
        n - len(_SPACE.sub("", text)),
    )


def _char_counts(text: str) -> tuple[int, int, int, int]:
    """Letters, digits, upper-case letters and white space in ``text``; counted by deleting
    the others, so that the loop over characters runs in C (bytes.translate for ASCII)."""
    if not text.isascii():
        return _unicode_char_counts(text)
    data = text.encode("ascii")
    return tuple(len(data.translate(None, table)) for table in _DELETE_ALL_BUT)


def _text_stats(full_text: str) -> list[float]:
    # Shares and shapes are read off a line's first thousand characters; only its length is
    # taken whole, so a single huge line costs no more than a paragraph.
    text = full_text[:MODEL_TEXT_CHARS]
    n = len(text)
    stripped = text.strip()
    n_words = len(stripped.split())
    if len(full_text) > n:
        n_words = round(n_words * len(full_text) / max(n, 1))
    letters, digits, upper, spaces = _char_counts(text)
    punct = n - letters - digits - spaces
    alpha_words = _WORD.findall(stripped)
    capitalised = sum(w[0].isupper() for w in alpha_words)
    return [
        math.log1p(len(full_text)),
        math.log1p(n_words),
        letters / n if n else 0.0,
        digits / n if n else 0.0,
        upper / letters if letters else 0.0,
        punct / n if n else 0.0,
        float(full_text[-MODEL_TEXT_CHARS:].rstrip().endswith(_TERMINAL)),
        float(bool(_BULLET.match(text))),
        capitalised / len(alpha_words) if alpha_words else 0.0,
        float(bool(_URL.search(text))),
        len(_SEPARATORS.findall(text)) / max(n_words, 1),
        (sum(map(len, alpha_words)) / len(alpha_words)) if alpha_words else 0.0,
        float(len(_SENTENCE_END.findall(stripped))),
        float("©" in text or "(c)" in text.lower()),
        float(text[:1].isspace()),
    ]


def line_features(
    lines: Sequence[Line], text_length: int, repetition: Counter | None = None, keys: Sequence[str] | None = None
) -> np.ndarray:
    """One row of ``LINE_FEATURES`` per line of one document; ``keys`` are its ``line_keys``
    when the caller has them already."""
    n = len(lines)
    matrix = np.zeros((n, len(LINE_FEATURES)), dtype=np.float32)
    if not n:
        return matrix
    lengths = np.array([len(line.text.strip()) for line in lines], dtype=np.float32)
    keys = keys if keys is not None else line_keys(lines)
    in_doc = Counter(keys)
    blocks: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        blocks.setdefault(line.paragraph, []).append(i)
    long_idx = np.flatnonzero(lengths >= LONG_LINE_CHARS)
    first_long = long_idx[0] if len(long_idx) else n
    last_long = long_idx[-1] if len(long_idx) else -1
    is_long = (lengths >= LONG_LINE_CHARS).astype(np.float32)
    window_long = window_mean(is_long, WINDOW)
    doc_chars = float(lengths.sum())
    block_mean = {p: math.log1p(float(lengths[idx].mean())) for p, idx in blocks.items()}
    if len(long_idx):
        positions = np.arange(n)
        nearest = np.searchsorted(long_idx, positions).clip(0, len(long_idx) - 1)
        before = long_idx[(nearest - 1).clip(0)]
        distance_to_long = (
            np.minimum(np.abs(long_idx[nearest] - positions), np.abs(before - positions)).clip(max=50) / 50
        )
    else:
        distance_to_long = np.ones(n)
    # A headline the page repeats (breadcrumb, caption, share box) is a heading only once.
    seen: dict[str, int] = {}
    first_copy = np.zeros(n, dtype=np.float32)
    copy_distance = np.full(n, 50.0, dtype=np.float32)
    for i, key in enumerate(keys):
        if key in seen:
            j = seen[key]
            copy_distance[i] = min(copy_distance[i], i - j)
            copy_distance[j] = min(copy_distance[j], i - j)
        else:
            first_copy[i] = 1.0
        seen[key] = i
    for i, line in enumerate(lines):
        block = blocks[line.paragraph]
        matrix[i] = _text_stats(line.text) + [
            i / n,
            line.start / max(text_length, 1),
            math.log1p(len(block)),
            (i - block[0]) / len(block),
            block_mean[line.paragraph],
            math.log1p(n),
            math.log1p(doc_chars),
            float(min(in_doc[keys[i]] - 1, 10)),
            math.log1p(max((repetition[keys[i]] - 1) if repetition else 0, 0)),
            float(i < first_long),
            float(i > last_long),
            float(distance_to_long[i]),
            float(window_long[i]),
            math.log1p(float(lengths[i - 1])) if i > 0 else -1.0,
            math.log1p(float(lengths[i + 1])) if i + 1 < n else -1.0,
            first_copy[i] if in_doc[keys[i]] > 1 else -1.0,
            min(float(copy_distance[i]), 50.0) / 50,
            float(not any(c.isalpha() for c in line.text[:MODEL_TEXT_CHARS])),
        ]
    return matrix


def context_names(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}_{name}" for name in ("self", "prev1", "next1", "prev2", "next2", "block", "window", "doc"))


def context_features(scores: np.ndarray, lines: Sequence[Line]) -> np.ndarray:
    """Neighbourhood of per-line scores: itself, neighbours, its block, a window, the page.

    ``scores`` is one score per line, or one column per score; the result has the eight
    ``context_names`` columns of the first score, then of the second, and so on.
    """
    matrix = scores[:, None] if scores.ndim == 1 else scores
    n, k = matrix.shape
    out = np.full((n, k, 8), -1.0, dtype=np.float32)
    if not n:
        return out.reshape(n, k * 8)
    out[:, :, 0] = matrix
    out[1:, :, 1] = matrix[:-1]
    out[:-1, :, 2] = matrix[1:]
    out[2:, :, 3] = matrix[:-2]
    out[:-2, :, 4] = matrix[2:]
    paragraphs = np.fromiter((line.paragraph for line in lines), dtype=np.int64, count=n)
    block_sizes = np.maximum(np.bincount(paragraphs), 1)
    for j in range(k):
        column = matrix[:, j]
        out[:, j, 5] = (np.bincount(paragraphs, weights=column) / block_sizes)[paragraphs]
        out[:, j, 6] = window_mean(column, WINDOW)
        out[:, j, 7] = column.mean()
    return out.reshape(n, k * 8)
