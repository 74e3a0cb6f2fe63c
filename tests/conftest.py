"""Shared fixtures: a tiny relevance model trained in-process on the labelled seed pages."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from classifier.train import TrainSettings, fit_model, page_from_gold_only

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
GOLD = ROOT / "data" / "gold" / "gold.csv"
SEED_HELD_OUT = "004_7e6da73c828c1149"


def seed_gold() -> dict[str, dict[int, tuple[str, str]]]:
    pages: dict[str, dict[int, tuple[str, str]]] = {}
    with GOLD.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["dataset"] == "seeds":
                pages.setdefault(row["doc_id"], {})[int(row["start"])] = (row["label"], row["split"])
    return pages


def seed_pages(exclude: tuple[str, ...] = ()):
    pages = []
    for doc_id, gold in sorted(seed_gold().items()):
        if doc_id in exclude:
            continue
        text = (SAMPLE / f"{doc_id}.txt").read_text(encoding="utf-8")
        pages.append(page_from_gold_only(f"seeds/{doc_id}", text, gold, "train"))
    return pages


def tiny_settings(
    out_dir: Path, seed: int = 0, single_break_share: float = 0.0, excerpts_per_page: int = 0
) -> TrainSettings:
    # Four seed pages are too few to learn a second layout from (the held-out seed's keep F1:
    # 0.94 without copies, 0.88 with every page copied), or excerpts; the shipped model learns
    # from 2,500.
    return TrainSettings(
        single_break_share=single_break_share,
        excerpts_per_page=excerpts_per_page,
        data_dir=None,
        gold_path=None,
        out_dir=out_dir,
        seed=seed,
        epoch=40,
        lr=0.5,
        dim=16,
        content_rounds=60,
        label_rounds=40,
        min_data_in_leaf=3,
    )


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A model trained on four seed pages; the fifth stays out for checks."""
    out = tmp_path_factory.mktemp("model")
    fit_model(seed_pages(exclude=(SEED_HELD_OUT,)), [], tiny_settings(out))
    return out


@pytest.fixture(autouse=True)
def _no_model_env(monkeypatch, tmp_path_factory):
    monkeypatch.delenv("CLASSIFIER_MODEL", raising=False)
    # Compiled boosters go to a cache of the test session, not the user's.
    monkeypatch.setenv("CLASSIFIER_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def one_page_benchmark(root: Path, dataset: str, doc_id: str, paragraphs: list[tuple[str, str]]) -> str:
    """A benchmark folder holding one page of ``dataset``, made of ``(text, label)`` paragraphs;
    returns the page's text."""
    text = "\n\n".join(paragraph for paragraph, _ in paragraphs)
    (root / "txt" / dataset).mkdir(parents=True)
    (root / "txt" / dataset / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    record = {
        "dataset": dataset,
        "doc_id": doc_id,
        "lang": "en",
        "txt_file": f"txt/{dataset}/{doc_id}.txt",
        "paragraphs": [{"text": paragraph, "label": label} for paragraph, label in paragraphs],
    }
    (root / f"{dataset}.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    return text
