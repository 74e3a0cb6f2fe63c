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
_URL = re.compile(r"https?://|www\.|\.(?:com|org|net|de|uk)\b", re.I)
# An e-mail address; "\S+@" written as "\S@" finds the same lines without backtracking over
# every word of the line.
_EMAIL = re.compile(r"\S@\S+\.\w{2,}")
_SEPARATORS = re.compile(r"[|•»·/›>]")
_SENTENCE_END = re.compile(r"[.!?。！？][\"”’)]?\s+\S")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
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

_TEXT_STATS = LINE_FEATURES.index("rel_line_pos")  # the features before it are _text_stats'


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
    for keep in (b"0123456789", _ASCII_UPPER, b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")
)


def _unicode_char_counts(text: str) -> tuple[int, int, int]:
    n = len(text)
    return n - len(_DIGIT.sub("", text)), sum(map(str.isupper, text)), n - len(_SPACE.sub("", text))


def _char_counts(text: str) -> tuple[int, int, int]:
    """Digits, upper-case letters and white space in ``text``; counted by deleting the others,
    so that the loop over characters runs in C (bytes.translate for ASCII)."""
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
    alpha_words = _WORD.findall(stripped)
    letters = sum(map(len, alpha_words))  # _WORD's letters are all the line's letters
    digits, upper, spaces = _char_counts(text)
    punct = n - letters - digits - spaces
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
        float(bool(_URL.search(text) or ("@" in text and _EMAIL.search(text)))),
        len(_SEPARATORS.findall(text)) / max(n_words, 1),
        letters / len(alpha_words) if alpha_words else 0.0,
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
    keys = keys if keys is not None else line_keys(lines)
    texts = [line.text for line in lines]
    lengths = np.fromiter(map(len, map(str.strip, texts)), dtype=np.float32, count=n)
    # Lines as indices of their template, so that the per-line work below is numpy's.
    key_ids: dict[str, int] = {}
    template = np.fromiter((key_ids.setdefault(key, len(key_ids)) for key in keys), dtype=np.int64, count=n)
    in_doc = np.bincount(template)[template]
    across = np.fromiter(map(repetition.__getitem__, keys), dtype=np.float64, count=n) if repetition else np.zeros(n)
    paragraphs = np.fromiter((line.paragraph for line in lines), dtype=np.int64, count=n)
    block_sizes = np.maximum(np.bincount(paragraphs), 1)
    block_first = np.full(len(block_sizes), n, dtype=np.int64)
    np.minimum.at(block_first, paragraphs, np.arange(n))
    mean_chars = (np.bincount(paragraphs, weights=lengths) / block_sizes).astype(np.float32)
    block_mean = np.log1p(mean_chars.astype(np.float64))
    positions = np.arange(n)
    is_long = lengths >= LONG_LINE_CHARS
    long_idx = np.flatnonzero(is_long)
    first_long = long_idx[0] if len(long_idx) else n
    last_long = long_idx[-1] if len(long_idx) else -1
    if len(long_idx):
        nearest = np.searchsorted(long_idx, positions).clip(0, len(long_idx) - 1)
        before = long_idx[(nearest - 1).clip(0)]
        distance_to_long = (
            np.minimum(np.abs(long_idx[nearest] - positions), np.abs(before - positions)).clip(max=50) / 50
        )
    else:
        distance_to_long = np.ones(n)
    # A headline the page repeats (breadcrumb, caption, share box) is a heading only once.
    first_copy, copy_distance = _copies(template)
    log_lengths = np.log1p(lengths.astype(np.float64))
    matrix[:, :_TEXT_STATS] = [_text_stats(text) for text in texts]
    matrix[:, _TEXT_STATS:] = np.column_stack(
        [
            positions / n,
            np.fromiter((line.start for line in lines), dtype=np.float64, count=n) / max(text_length, 1),
            np.log1p(block_sizes[paragraphs]),
            (positions - block_first[paragraphs]) / block_sizes[paragraphs],
            block_mean[paragraphs],
            np.full(n, math.log1p(n)),
            np.full(n, math.log1p(float(lengths.sum()))),
            np.minimum(in_doc - 1, 10),
            np.log1p(np.maximum(across - 1, 0)),
            positions < first_long,
            positions > last_long,
            distance_to_long,
            window_mean(is_long.astype(np.float32), WINDOW),
            np.concatenate([[-1.0], log_lengths[:-1]]),
            np.concatenate([log_lengths[1:], [-1.0]]),
            np.where(in_doc > 1, first_copy, -1.0),
            np.minimum(copy_distance, 50.0) / 50,
            [not any(c.isalpha() for c in text[:MODEL_TEXT_CHARS]) for text in texts],
        ]
    )
    return matrix


def _copies(template: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per line: whether it is the first copy of its template, and the distance in lines to
    its nearest other copy (50 when it has none)."""
    n = len(template)
    first_copy = np.zeros(n, dtype=np.float32)
    copy_distance = np.full(n, 50.0, dtype=np.float32)
    if not n:
        return first_copy, copy_distance
    order = np.lexsort((np.arange(n), template))  # copies of a template together, in order
    same = template[order[1:]] == template[order[:-1]]
    gaps = (order[1:] - order[:-1]).astype(np.float32)
    later, earlier = order[1:][same], order[:-1][same]
    np.minimum.at(copy_distance, later, gaps[same])
    np.minimum.at(copy_distance, earlier, gaps[same])
    first_copy[order[np.concatenate([[True], ~same])]] = 1.0
    return first_copy, copy_distance


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
