"""Access to the externally labelled benchmark pages in ``../shared/data``.

The pages stay where they are (several are research-only); this module reads them and
assigns every page to a fixed split, so training never sees the held-out pages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from classifier.errors import InputError

DATASETS = ("l3s-gn1", "dragnet", "cleaneval", "cleanportaleval", "trafilatura-eval")
SPLITS = ("train", "dev", "test")
# Gold of a few snippets a page: a paragraph is body or noise as a whole for the snippet in it,
# so its figures come also over the one-line paragraphs (evaluate_benchmark's alone_by_line).
PARTIAL_GOLD = ("trafilatura-eval",)
# Shares of pages per split for datasets without an official test list.
TEST_SHARE = 0.2
DEV_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class BenchmarkParagraph:
    start: int
    end: int
    label: str  # body | noise | ambiguous | unlabelled
    gold_class: str | None
    is_title: bool


@dataclass(frozen=True, slots=True)
class BenchmarkPage:
    dataset: str
    doc_id: str
    split: str
    lang: str | None
    text: str
    paragraphs: tuple[BenchmarkParagraph, ...]

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.doc_id}"


def unit_interval(key: str) -> float:
    """A number in [0, 1) fixed by ``key``: splits and shares of pages that never move."""
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def page_split(dataset: str, doc_id: str, declared: str | None = None) -> str:
    """The split a benchmark page belongs to; stable across runs and machines.

    Dragnet's own test list is kept as test; every other page is assigned by a hash of
    its key, so a page never moves between splits when data is added.
    """
    fraction = unit_interval(f"{dataset}/{doc_id}")
    if dataset == "dragnet" and declared in ("train", "test"):
        if declared == "test":
            return "test"
        return "dev" if fraction < DEV_SHARE else "train"
    if fraction < TEST_SHARE:
        return "test"
    if fraction < TEST_SHARE + DEV_SHARE:
        return "dev"
    return "train"


def _locate(text: str, paragraph_texts: list[str], source: Path) -> list[tuple[int, int]]:
    spans = []
    cursor = 0
    for chunk in paragraph_texts:
        found = text.find(chunk, cursor)
        if found < 0:
            raise InputError(
                f"{source}: paragraph {len(spans)} is not in the page text. "
                "The benchmark files are out of step; re-fetch ../shared/data."
            )
        spans.append((found, found + len(chunk)))
        cursor = found + len(chunk)
    return spans


def read_benchmark(
    data_dir: Path,
    datasets: tuple[str, ...] | None = None,
    splits: tuple[str, ...] = SPLITS,
) -> Iterator[BenchmarkPage]:
    """Yield the benchmark pages of ``datasets`` that fall in ``splits``; by default, of every
    known dataset whose file is in the folder (a copy may leave out the research-only ones)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(
            f"Benchmark data folder {data_dir} not found. It holds <dataset>.jsonl and txt/; "
            "pass its path (usually ../shared/data) with --data."
        )
    if datasets is None:
        datasets = tuple(d for d in DATASETS if (data_dir / f"{d}.jsonl").is_file())
        if not datasets:
            raise InputError(
                f"No benchmark dataset in {data_dir}: it should hold one or more of "
                f"{', '.join(f'{d}.jsonl' for d in DATASETS)} and their txt/ folder. Pass the "
                "benchmark folder (usually ../shared/data) with --data."
            )
    for dataset in datasets:
        jsonl = data_dir / f"{dataset}.jsonl"
        if not jsonl.is_file():
            raise InputError(f"{jsonl} not found. Known datasets: {', '.join(DATASETS)}.")
        with jsonl.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                split = page_split(dataset, record["doc_id"], record.get("split"))
                if split not in splits:
                    continue
                txt_path = data_dir / record["txt_file"]
                text = txt_path.read_text(encoding="utf-8")
                raw = record["paragraphs"]
                spans = _locate(text, [p["text"] for p in raw], txt_path)
                paragraphs = tuple(
                    BenchmarkParagraph(
                        start=s,
                        end=e,
                        label=p["label"],
                        gold_class=p.get("gold_class"),
                        is_title=bool(p.get("is_title")),
                    )
                    for (s, e), p in zip(spans, raw, strict=True)
                )
                yield BenchmarkPage(
                    dataset=dataset,
                    doc_id=record["doc_id"],
                    split=split,
                    lang=record.get("lang"),
                    text=text,
                    paragraphs=paragraphs,
                )
