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
_URL = re.compile(r"https?://|www\.|\.(?:com|org|net|de|uk)\b", re.I)
# An e-mail address; "\S+@" written as "\S@" finds the same lines without backtracking over
# every word of the line.
_EMAIL = re.compile(r"\S@\S+\.\w{2,}")
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
    """Mean of each value and up to ``reach`` neighbours on each side (down each column of
    a matrix)."""
    n = len(values)
    sums = np.cumsum(values, axis=0, dtype=np.float64)
    sums = np.concatenate([np.zeros((1, *sums.shape[1:])), sums])
    index = np.arange(n)
    low, high = np.maximum(index - reach, 0), np.minimum(index + reach + 1, n)
    counts = (high - low).reshape(-1, *([1] * (values.ndim - 1)))
    return (sums[high] - sums[low]) / counts


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


# Character classes, one bit each, as the patterns above and str methods define them; a
# character's bits are worked out the first time a text holds it.
_IS_WORD_LETTER, _IS_DIGIT, _IS_UPPER, _IS_SPACE, _IS_SEPARATOR, _IS_ALPHA, _KNOWN = (1 << k for k in range(7))
_WORD_LETTER = re.compile(r"[^\W\d_]")
_SEPARATOR_CHARS = "|•»·/›>"
_CLASSES = np.zeros(0x110000, dtype=np.uint8)


def _class_bits(char: str) -> int:
    return (
        _KNOWN
        | _IS_WORD_LETTER * bool(_WORD_LETTER.match(char))
        | _IS_DIGIT * bool(_DIGIT.match(char))
        | _IS_UPPER * char.isupper()
        | _IS_SPACE * bool(_SPACE.match(char))
        | _IS_SEPARATOR * (char in _SEPARATOR_CHARS)
        | _IS_ALPHA * char.isalpha()
    )


_CLASSES[:128] = [_class_bits(chr(code)) for code in range(128)]


def _classes_of(codes: np.ndarray) -> np.ndarray:
    high = codes[codes >= 128]
    if len(high):
        new = np.unique(high)
        for code in new[_CLASSES[new] == 0].tolist():
            _CLASSES[code] = _class_bits(chr(code))
    return _CLASSES[codes]


# Patterns run once over all lines joined by "\n": none may match across a line break, so
# their white space is any but "\n" (the line-by-line definitions are in the tests).
_JOINED_BULLET = re.compile(r"^[^\S\n]*(?:[•*·‣▪◦●■□>›»\-–—]|\d{1,3}[.)])[^\S\n]", re.M)
_JOINED_SENTENCE_END = re.compile(r"[.!?。！？][\"”’)]?[^\S\n]+\S")
_JOINED_COPYRIGHT = re.compile(r"©|\([cC]\)")
TEXT_STATS = LINE_FEATURES[: LINE_FEATURES.index("rel_line_pos")] + ("no_letters",)


def text_stats(texts: Sequence[str]) -> np.ndarray:
    """The ``TEXT_STATS`` columns of each line (which holds no line break): shares and shapes
    read off its first thousand characters, its length taken whole, so that a single huge line
    costs no more than a paragraph. All lines are read at once, as one array of characters and
    one pass of each pattern, so that no Python runs per line or per character."""
    n = len(texts)
    out = np.zeros((n, len(TEXT_STATS)), dtype=np.float32)
    if not n:
        return out
    heads = [text[:MODEL_TEXT_CHARS] for text in texts]
    joined = "\n".join(heads)
    if joined.count("\n") >= n:  # a line holding "\n": read as the "\r" it counts as
        heads = [head.replace("\n", "\r") for head in heads]
        joined = "\n".join(heads)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    classes = _classes_of(codes)
    sizes = np.fromiter(map(len, heads), dtype=np.int64, count=n)
    starts = np.concatenate([[0], np.cumsum(sizes + 1)[:-1]])
    line_of = np.repeat(np.arange(n), sizes + 1)[: len(codes)]
    classes[starts[1:] - 1] = 0  # the joining line breaks belong to no line

    def per_line(mask: np.ndarray) -> np.ndarray:
        return np.bincount(line_of[mask], minlength=n).astype(np.float64)

    def matches(pattern: re.Pattern) -> np.ndarray:
        found = np.fromiter((m.start() for m in pattern.finditer(joined)), dtype=np.int64)
        return np.bincount(line_of[found], minlength=n).astype(np.float64)

    def starts_of_runs(inside: np.ndarray) -> np.ndarray:
        return inside & ~np.concatenate([[False], inside[:-1]])

    word_letter = (classes & _IS_WORD_LETTER) > 0
    space = (classes & _IS_SPACE) > 0
    letters = per_line(word_letter)
    digits = per_line((classes & _IS_DIGIT) > 0)
    upper = per_line((classes & _IS_UPPER) > 0)
    spaces = per_line(space)
    word_starts = starts_of_runs(word_letter)
    alpha_words = per_line(word_starts)
    capitalised = per_line(word_starts & ((classes & _IS_UPPER) > 0))
    full_sizes = np.fromiter(map(len, texts), dtype=np.float64, count=n)
    head_words = per_line(starts_of_runs(~space & (classes > 0)))
    # A truncated line's words are estimated from its head's.
    n_words = np.where(full_sizes > sizes, np.round(head_words * full_sizes / np.maximum(sizes, 1)), head_words)
    has_url = matches(_URL) > 0
    if "@" in joined:
        has_url |= matches(_EMAIL) > 0
    chars = sizes.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = [
            np.log1p(full_sizes),
            np.log1p(n_words),
            np.where(chars > 0, letters / chars, 0.0),
            np.where(chars > 0, digits / chars, 0.0),
            np.where(letters > 0, upper / letters, 0.0),
            np.where(chars > 0, (chars - letters - digits - spaces) / chars, 0.0),
            [text[-MODEL_TEXT_CHARS:].rstrip().endswith(_TERMINAL) for text in texts],
            matches(_JOINED_BULLET) > 0,
            np.where(alpha_words > 0, capitalised / alpha_words, 0.0),
            has_url,
            per_line((classes & _IS_SEPARATOR) > 0) / np.maximum(n_words, 1),
            np.where(alpha_words > 0, letters / alpha_words, 0.0),
            matches(_JOINED_SENTENCE_END),
            matches(_JOINED_COPYRIGHT) > 0,
            np.where(sizes > 0, classes[np.minimum(starts, len(codes) - 1)] & _IS_SPACE, 0) > 0,
            per_line((classes & _IS_ALPHA) > 0) == 0,
        ]
    out[:] = np.column_stack(columns)
    return out


def line_features(
    lines: Sequence[Line],
    text_length: int,
    repetition: Counter | None = None,
    keys: Sequence[str] | None = None,
    stats: np.ndarray | None = None,
) -> np.ndarray:
    """One row of ``LINE_FEATURES`` per line of one document; ``keys`` (its ``line_keys``) and
    ``stats`` (its lines' ``text_stats``) when the caller has them already: ``text_stats`` of
    many documents' lines at once costs less than one call per document."""
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
    stats = text_stats(texts) if stats is None else stats
    matrix[:, : len(TEXT_STATS) - 1] = stats[:, :-1]
    matrix[:, len(TEXT_STATS) - 1 :] = np.column_stack(
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
            stats[:, -1],
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
    block_sums = np.zeros((len(block_sizes), k))
    np.add.at(block_sums, paragraphs, matrix)
    out[:, :, 5] = (block_sums / block_sizes[:, None])[paragraphs]
    out[:, :, 6] = window_mean(matrix, WINDOW)
    # Each column's mean summed as a row of its own: the same float32 sums as column by column.
    out[:, :, 7] = np.ascontiguousarray(matrix.T).mean(axis=1)
    return out.reshape(n, k * 8)
