"""Cut a document into lines and paragraphs, and join labelled lines back into units.

Lines are what the models label: a blank-line block often mixes kinds (a date, a
breadcrumb and a title), and the label of each line decides where a block is cut.
Offsets always point into the original text; nothing is normalised here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from classifier.types import Document, Unit

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line: its offsets (without the line break) and its block."""

    start: int
    end: int
    paragraph: int
    text: str


def split_lines(text: str) -> list[Line]:
    """Non-blank lines of ``text``, each with the index of its blank-line-separated block."""
    lines: list[Line] = []
    paragraph = 0
    blank_run = True
    for match in _LINE.finditer(text):
        raw = match.group()
        if not raw:
            break
        body = raw.rstrip("\r\n")
        if not body.strip():
            blank_run = True
            continue
        if blank_run and lines:
            paragraph += 1
        blank_run = False
        lines.append(Line(match.start(), match.start() + len(body), paragraph, body))
    return lines


def normalise(text: str) -> str:
    """Text as the models see it: NFKC, no zero-width characters, one line, single spaces."""
    if not text.isascii():  # NFKC and the invisible characters change no ASCII text
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    # str.split's white space is every kind of space (NBSP, em space, ideographic space...).
    return " ".join(text.split())


def distinct(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct texts in order of first appearance, and each text's index among them: a
    site's menus and share boxes repeat on every page, and each copy need be read once."""
    first: dict[str, int] = {}
    inverse = np.fromiter((first.setdefault(text, len(first)) for text in texts), dtype=np.int64, count=len(texts))
    return list(first), inverse


def batches(line_counts: Sequence[int], max_lines: int) -> Iterator[range]:
    """Consecutive documents (by index) in batches of about ``max_lines`` lines: models read
    a few thousand lines at a time, so that their working memory stays small."""
    start = total = 0
    for i, count in enumerate(line_counts):
        total += count
        if total >= max_lines or i == len(line_counts) - 1:
            yield range(start, i + 1)
            start, total = i + 1, 0


def join_units(document: Document, lines: Sequence[Line], keys: Sequence[object]) -> list[Unit]:
    """Merge consecutive lines of one block that share a key (label, language) into units."""
    units: list[Unit] = []
    group_start = 0
    for i in range(1, len(lines) + 1):
        if i < len(lines) and lines[i].paragraph == lines[group_start].paragraph and keys[i] == keys[group_start]:
            continue
        first, last = lines[group_start], lines[i - 1]
        units.append(
            Unit(
                doc_id=document.id,
                index=len(units),
                paragraph=first.paragraph,
                start=first.start,
                end=last.end,
                text=document.text[first.start : last.end],
            )
        )
        group_start = i
    return units
