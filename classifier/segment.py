"""Cut a document into lines and paragraphs, and join labelled lines back into units.

Lines are what the models label: a blank-line block often mixes kinds (a date, a
breadcrumb and a title), and the label of each line decides where a block is cut. A
paragraph hard-wrapped at a fixed width is read as one line (``reading_lines``).
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


# Text dumpers (lynx, html2text, w3m) and mail archives break every paragraph into lines of
# at most a fixed width. Read line by line, such a paragraph is a run of short lines that
# look like menu items, and the labeller drops most of it: on the dev pages hard-wrapped at 78
# characters, line F1 0.846 against 0.896 as written. Its lines are joined back first, where
# a line was broken because the next word would not fit: a line ends within WRAP_SLACK
# characters of the document's longest line and the next line's first word would have taken
# it past. A document counts as wrapped when no line is longer than WRAP_MAX_WIDTH and at
# least WRAP_MIN_BREAKS (and WRAP_MIN_SHARE of its lines) were broken so. On the dev pages:
# none of the 337 pages as written is taken for wrapped; wrapped at 60 / 78 / 100 characters,
# 271 / 232 / 174 are (the others hold few long paragraphs), and at 78 line / character F1 go
# from 0.846 / 0.940 to 0.890 / 0.970. Of the 2,560 train pages as written one is taken for
# wrapped, and is: a story set in fixed-width lines.
WRAP_MAX_WIDTH = 160
WRAP_SLACK = 20
WRAP_MIN_BREAKS = 3
WRAP_MIN_SHARE = 0.2
# A list of short items (a menu, a column of headlines) has lines of nearly one length too,
# but wrap widths are seldom under 40, and a wrapped sentence goes on in lower case after
# many of its breaks, where a list's next item starts with a capital.
WRAP_MIN_WIDTH = 40
WRAP_MIN_LOWER_SHARE = 0.3
_FIRST_WORD = re.compile(r"\s*(\S*)")


def _wrap_breaks(lines: Sequence[Line]) -> list[bool] | None:
    """For each line but the last, whether it was broken by a fixed-width wrap before the
    next; None when the document is not hard-wrapped."""
    if len(lines) <= WRAP_MIN_BREAKS:
        return None
    lengths = [len(line.text.rstrip()) for line in lines]
    width = max(lengths)
    # Most documents have a line longer than any wrap width.
    if not WRAP_MIN_WIDTH <= width <= WRAP_MAX_WIDTH:
        return None
    breaks = []
    lower = 0
    for i in range(len(lines) - 1):
        following = lines[i + 1]
        first_word = _FIRST_WORD.match(following.text).group(1)
        broken = (
            following.paragraph == lines[i].paragraph
            and lengths[i] >= width - WRAP_SLACK
            and lengths[i] + 1 + len(first_word) > width
        )
        breaks.append(broken)
        lower += broken and first_word[:1].islower()
    count = sum(breaks)
    if count < WRAP_MIN_BREAKS or count < WRAP_MIN_SHARE * len(lines) or lower < WRAP_MIN_LOWER_SHARE * count:
        return None
    return breaks


def reading_lines(text: str) -> list[Line]:
    """The lines the models label: the non-blank lines of ``text`` (``split_lines``), with
    the lines of a hard-wrapped paragraph joined into one (its text keeps its line breaks)."""
    lines = split_lines(text)
    breaks = _wrap_breaks(lines)
    if breaks is None:
        return lines
    joined: list[Line] = []
    i = 0
    while i < len(lines):
        last = i
        while last < len(breaks) and breaks[last]:
            last += 1
        first = lines[i]
        end = lines[last].end
        joined.append(first if last == i else Line(first.start, end, first.paragraph, text[first.start : end]))
        i = last + 1
    return joined


def without_invisible(text: str) -> str:
    """Text without zero-width characters and soft hyphens, which cut words in two for
    whatever reads words (``comme\u200bnts``)."""
    return text if text.isascii() else text.translate(_INVISIBLE)


def normalise(text: str) -> str:
    """Text as the models see it: NFKC, no zero-width characters, one line, single spaces."""
    if not text.isascii():  # NFKC and the invisible characters change no ASCII text
        text = without_invisible(unicodedata.normalize("NFKC", text))
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


def unit_paragraphs(lines: Sequence[Line]) -> list[int]:
    """Each line's paragraph, as units count them: its blank-line block; but where a document
    has no blank line between its lines at all (Common Crawl's WET files and most JSONL corpora
    write a page so, one paragraph a line), each line is a paragraph of its own, so that units
    stay paragraphs instead of runs of like paragraphs. The models still read the block."""
    if len(lines) > 1 and lines[-1].paragraph == lines[0].paragraph:
        return list(range(len(lines)))
    return [line.paragraph for line in lines]


def join_units(document: Document, lines: Sequence[Line], keys: Sequence[object]) -> list[Unit]:
    """Merge consecutive lines of one paragraph (``unit_paragraphs``) that share a key (label,
    language) into units."""
    units: list[Unit] = []
    paragraphs = unit_paragraphs(lines)
    group_start = 0
    for i in range(1, len(lines) + 1):
        if i < len(lines) and paragraphs[i] == paragraphs[group_start] and keys[i] == keys[group_start]:
            continue
        first, last = lines[group_start], lines[i - 1]
        units.append(
            Unit(
                doc_id=document.id,
                index=len(units),
                paragraph=paragraphs[group_start],
                start=first.start,
                end=last.end,
                text=document.text[first.start : last.end],
            )
        )
        group_start = i
    return units
