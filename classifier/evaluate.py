"""Measure the labeller against gold: fine-grained labels, keep/drop, language.

Two kinds of gold:
- the project's own format: a table (CSV / JSONL / Parquet) with ``doc_id, start, end,
  label`` and optionally ``lang``, ``text`` and ``dataset``: the output of ``classifier
  label`` with its labels corrected is such a file. Documents are rebuilt from the units'
  text at their offsets, or read from the benchmark folder (``--data``) when the file holds
  references (``dataset`` + ``doc_id``) instead of text, as data/gold/gold.csv does;
- the benchmark pages' binary body/noise labels (``evaluate_benchmark``).
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifier.benchmark import DATASETS, read_benchmark
from classifier.errors import InputError
from classifier.pipeline import Labeller
from classifier.segment import split_lines
from classifier.types import Document, Label, LabelledUnit, Role

REQUIRED_GOLD_COLUMNS = ("doc_id", "start", "end", "label")


@dataclass(frozen=True)
class GoldDocument:
    doc_id: str
    dataset: str
    text: str
    units: tuple[tuple[int, int, str, str], ...]  # start, end, label, lang
    split: str = ""  # the file's split column, where it has one


def _read_table(path: Path):
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype={"doc_id": str}, keep_default_na=False)
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype={"doc_id": str})
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except ValueError as error:
        raise InputError(f"{path}: cannot be read as {suffix[1:]} ({error}).") from error
    raise InputError(f"Gold file {path}: unknown format. Use .csv, .jsonl or .parquet.")


def read_gold(
    path: str | Path, data_dir: Path | None = None, splits: Sequence[str] | None = None
) -> list[GoldDocument]:
    """Gold documents from a labelled file; ``splits`` filters a ``split`` column."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Gold file {path} not found.")
    table = _read_table(path)
    missing = [c for c in REQUIRED_GOLD_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"{path} lacks column(s) {', '.join(missing)}. Found: {', '.join(map(str, table.columns))}. "
            f"A gold file needs {', '.join(REQUIRED_GOLD_COLUMNS)} and either text or dataset."
        )
    bad = sorted(set(table["label"]) - {label.value for label in Label})
    if bad:
        raise InputError(
            f"{path}: unknown label(s) {', '.join(map(str, bad[:5]))}. Allowed: {', '.join(label.value for label in Label)}."
        )
    if splits is not None and "split" in table.columns:
        table = table[table["split"].isin(list(splits))]
    if "dataset" not in table.columns:
        table = table.assign(dataset="")
    if "lang" not in table.columns:
        table = table.assign(lang="")
    texts: dict[tuple[str, str], str] = {}
    if "text" not in table.columns:
        wanted = {(d, i) for d, i in zip(table["dataset"], table["doc_id"], strict=True)}
        texts = _benchmark_texts(wanted, data_dir, path)
    documents = []
    for (dataset, doc_id), rows in table.groupby(["dataset", "doc_id"], sort=True):
        rows = rows.sort_values("start")
        units = tuple(
            (int(s), int(e), str(label), str(lang) or "")
            for s, e, label, lang in zip(rows["start"], rows["end"], rows["label"], rows["lang"], strict=True)
        )
        if "text" in rows.columns:
            text = _rebuild(rows)
        else:
            text = texts[(dataset, doc_id)]
        split = str(rows["split"].iloc[0]) if "split" in rows.columns else ""
        documents.append(GoldDocument(str(doc_id), str(dataset), text, units, split))
    return documents


def _rebuild(rows) -> str:
    """The document from its units: each text at its offset, gaps as line breaks."""
    parts, cursor = [], 0
    for start, text in zip(rows["start"], rows["text"], strict=True):
        start = int(start)
        if start > cursor:
            # The original gap held only line breaks and spaces: keep its length, so the
            # gold offsets stay valid in the rebuilt text.
            parts.append("\n" * (start - cursor))
        parts.append(str(text))
        cursor = start + len(str(text))
    return "".join(parts)


def _benchmark_texts(wanted: set[tuple[str, str]], data_dir: Path | None, gold: Path) -> dict:
    texts = {}
    repo_sample = gold.resolve().parent.parent / "sample"
    for dataset, doc_id in wanted:
        if dataset == "seeds":
            texts[(dataset, doc_id)] = (repo_sample / f"{doc_id}.txt").read_text(encoding="utf-8")
    rest = {d for d, _ in wanted if d != "seeds"}
    if rest:
        if data_dir is None:
            raise InputError(
                f"{gold} refers to benchmark pages without their text; pass the benchmark folder with --data ../shared/data."
            )
        for page in read_benchmark(data_dir, datasets=tuple(d for d in DATASETS if d in rest)):
            if (page.dataset, page.doc_id) in wanted:
                texts[(page.dataset, page.doc_id)] = page.text
    missing = wanted - set(texts)
    if missing:
        raise InputError(f"{len(missing)} gold page(s) not found under {data_dir}, e.g. {sorted(missing)[0]}.")
    return texts


def _prf(tp: float, fp: float, fn: float) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _binary(truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    tp = float(np.sum(weights * (truth & predicted)))
    fp = float(np.sum(weights * (~truth & predicted)))
    fn = float(np.sum(weights * (truth & ~predicted)))
    return _prf(tp, fp, fn) | {
        "accuracy": round(float(np.sum(weights * (truth == predicted)) / max(weights.sum(), 1)), 4)
    }


@dataclass(frozen=True)
class EvalReport:
    units: int
    documents: int
    per_label: dict[str, dict[str, float]]
    macro_f1: float
    keep_by_line: dict[str, float]
    keep_by_char: dict[str, float]
    confusion: dict[str, dict[str, int]]
    by_dataset: dict[str, dict[str, float]]
    by_language: dict[str, dict[str, float]]
    language: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _predicted_at(units: list[LabelledUnit], starts: Sequence[int]) -> list[LabelledUnit | None]:
    """The predicted unit that covers each gold start offset."""
    out, j = [], 0
    for start in starts:
        while j < len(units) and units[j].unit.end <= start:
            j += 1
        out.append(units[j] if j < len(units) and units[j].unit.start <= start else None)
    return out


def evaluate(
    gold: Sequence[GoldDocument], labeller: Labeller, progress: Callable[[int], None] = lambda n: None
) -> EvalReport:
    """Compare the labeller's units with gold units, line by line."""
    truth, predicted, sizes, datasets, langs, pred_langs = [], [], [], [], [], []
    labelled_docs = labeller.label_chunk([Document(id=g.doc_id, text=g.text) for g in gold]) if gold else []
    for doc, units in zip(gold, labelled_docs, strict=True):
        # A gold unit may span several lines; score it line by line.
        for start, end, label, lang in doc.units:
            for line in split_lines(doc.text[start:end]) or [None]:
                offset = start + (line.start if line else 0)
                size = len(line.text) if line else max(end - start, 1)
                unit = _predicted_at(units, [offset])[0]
                truth.append(label)
                predicted.append(unit.verdict.label.value if unit else Label.OTHER.value)
                pred_langs.append(unit.lang.lang if unit else "und")
                langs.append(lang)
                sizes.append(size)
                datasets.append(doc.dataset or "-")
        progress(1)
    truth_a, pred_a = np.array(truth), np.array(predicted)
    sizes_a = np.array(sizes, dtype=np.float64)
    per_label = {}
    for label in Label:
        t, p = truth_a == label.value, pred_a == label.value
        per_label[label.value] = _prf(float(np.sum(t & p)), float(np.sum(~t & p)), float(np.sum(t & ~p))) | {
            "support": int(t.sum())
        }
    present = [v for v in per_label.values() if v["support"]]
    macro = round(float(np.mean([v["f1"] for v in present])), 4) if present else 0.0
    content = {label.value for label in Label if label.role is Role.CONTENT}
    keep_t = np.isin(truth_a, list(content))
    keep_p = np.isin(pred_a, list(content))
    confusion: dict[str, dict[str, int]] = defaultdict(dict)
    for (t, p), n in Counter(zip(truth, predicted, strict=True)).items():
        confusion[t][p] = n
    by_dataset, by_language = {}, {}
    for name, keys in (("dataset", np.array(datasets)), ("language", np.array(langs))):
        target = by_dataset if name == "dataset" else by_language
        for key in sorted(set(keys)):
            mask = keys == key
            target[key] = {
                "units": int(mask.sum()),
                "label_accuracy": round(float(np.mean(truth_a[mask] == pred_a[mask])), 4),
                "keep_f1_line": _binary(keep_t[mask], keep_p[mask], np.ones(mask.sum()))["f1"],
            }
    lang_t, lang_p = np.array(langs), np.array(pred_langs)
    has_lang = lang_t != ""
    english_body = has_lang & (lang_t == "en") & np.isin(truth_a, list(content))
    language = {
        "accuracy": round(float(np.mean(lang_t[has_lang] == lang_p[has_lang])), 4) if has_lang.any() else 0.0,
        "english_content_called_foreign": int(np.sum(english_body & ~np.isin(lang_p, ["en", "und"]))),
    }
    for code in sorted(set(lang_t[has_lang])):
        mask = lang_t == code
        language[f"recall_{code}"] = round(float(np.mean(lang_p[mask] == code)), 4)
    if (lang_p[has_lang] == "und").any():
        # Of the lines called und, the share that are: und taken for too many names costs languages.
        language["precision_und"] = round(float(np.mean(lang_t[has_lang & (lang_p == "und")] == "und")), 4)
    return EvalReport(
        units=len(truth),
        documents=len(gold),
        per_label=per_label,
        macro_f1=macro,
        keep_by_line=_binary(keep_t, keep_p, np.ones(len(truth))),
        keep_by_char=_binary(keep_t, keep_p, sizes_a),
        confusion=dict(confusion),
        by_dataset=by_dataset,
        by_language=by_language,
        language=language,
    )


@dataclass(frozen=True)
class BenchmarkReport:
    split: str
    pages: int
    lines: int
    overall_by_line: dict[str, float]
    overall_by_char: dict[str, float]
    by_dataset: dict[str, dict[str, dict[str, float]]]

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def rewritten(text: str, line_breaks: str | None = None, wrap_width: int | None = None) -> tuple[str, np.ndarray]:
    """``text`` written otherwise, and for each non-blank line of the new text the index of the
    line of ``text`` it comes from. ``line_breaks`` joins the non-blank lines with it;
    ``wrap_width`` breaks every line longer than that into lines of at most that many
    characters within its paragraph, as text dumpers (lynx, html2text) write pages."""
    lines = split_lines(text)
    if wrap_width is None:
        if line_breaks is not None:
            text = line_breaks.join(line.text for line in lines)
        return text, np.arange(len(lines))
    blocks: list[list[str]] = []
    owner: list[int] = []
    for i, line in enumerate(lines):
        # A piece of only no-break spaces would be a blank line: such a line stays whole.
        pieces = [piece for piece in textwrap.wrap(line.text, wrap_width) if piece.strip()] or [line.text]
        if not blocks or line.paragraph != lines[i - 1].paragraph:
            blocks.append([])
        blocks[-1] += pieces
        owner += [i] * len(pieces)
    return "\n\n".join("\n".join(block) for block in blocks), np.array(owner, dtype=np.int64)


def _per_source_line(flags: Sequence[bool], owner: np.ndarray, sizes: Sequence[int], lines: int) -> list[bool]:
    """A source line's flag from the lines it was written as: the flag of most of its characters."""
    weights = np.asarray(sizes, dtype=np.float64) + 1
    kept = np.bincount(owner, weights=weights * np.asarray(flags, dtype=np.float64), minlength=lines)
    total = np.bincount(owner, weights=weights, minlength=lines)
    return (kept * 2 > total).tolist()


def evaluate_benchmark(
    data_dir: Path,
    labeller: Labeller,
    split: str = "test",
    datasets: Sequence[str] | None = None,
    progress: Callable[[int], None] = lambda n: None,
    predictor: Callable[[list[Document]], list[list[bool]]] | None = None,
    line_breaks: str | None = None,
    wrap_width: int | None = None,
) -> BenchmarkReport:
    """Body-vs-noise on the benchmark pages of ``split``, by line and by character.

    Every line of a paragraph labelled body or noise counts (ambiguous and unlabelled
    paragraphs are left out). A line is predicted body when its unit's role is content.
    ``predictor`` replaces the labeller (for baselines): it returns, per document, one
    keep flag per non-blank line. ``line_breaks`` (``"\\n"`` or ``"\\n\\n"``) rewrites each
    page with its non-blank lines joined by it, as corpora written otherwise look;
    ``wrap_width`` breaks its long lines (see ``rewritten``). The same lines are scored.

    Each dataset's figures come also for the lines that are a paragraph of their own
    (``alone_by_line``), which is what tells which line the gold meant in the datasets of
    ``PARTIAL_GOLD``.
    """
    truth, predicted, sizes, names, alone = [], [], [], [], []
    pages = list(read_benchmark(data_dir, datasets=tuple(datasets) if datasets else None, splits=(split,)))
    chunk = labeller.settings.chunk_docs if labeller else 200
    for begin in range(0, len(pages), chunk):
        batch = pages[begin : begin + chunk]
        written = [rewritten(p.text, line_breaks, wrap_width) for p in batch]
        documents = [Document(id=p.key, text=text) for p, (text, _) in zip(batch, written, strict=True)]
        if predictor is not None:
            flags_per_doc = predictor(documents)
        else:
            flags_per_doc = []
            for doc, units in zip(documents, labeller.label_chunk(documents), strict=True):
                lines = split_lines(doc.text)
                covering = _predicted_at(units, [line.start for line in lines])
                flags_per_doc.append([u is not None and u.verdict.role is Role.CONTENT for u in covering])
        for page, flags, doc, (_, owner) in zip(batch, flags_per_doc, documents, written, strict=True):
            lines = split_lines(page.text)
            if wrap_width is not None:
                sizes_written = [len(line.text) for line in split_lines(doc.text)]
                flags = _per_source_line(flags, owner, sizes_written, len(lines))
            one_line = ["\n" not in page.text[q.start : q.end].strip() for q in page.paragraphs]
            j = 0
            for line, flag in zip(lines, flags, strict=True):
                while j < len(page.paragraphs) and page.paragraphs[j].end <= line.start:
                    j += 1
                if j >= len(page.paragraphs) or page.paragraphs[j].label not in ("body", "noise"):
                    continue
                truth.append(page.paragraphs[j].label == "body")
                predicted.append(flag)
                sizes.append(len(line.text.strip()))
                names.append(page.dataset)
                alone.append(one_line[j])
        progress(len(batch))
    t, p = np.array(truth, dtype=bool), np.array(predicted, dtype=bool)
    s, n, a = np.array(sizes, dtype=np.float64), np.array(names), np.array(alone, dtype=bool)
    by_dataset = {}
    for name in sorted(set(names)):
        mask = n == name
        single = mask & a
        by_dataset[name] = {
            "lines": int(mask.sum()),
            "by_line": _binary(t[mask], p[mask], np.ones(mask.sum())),
            "by_char": _binary(t[mask], p[mask], s[mask]),
            "alone_lines": int(single.sum()),
            "alone_by_line": _binary(t[single], p[single], np.ones(single.sum())),
        }
    return BenchmarkReport(split, len(pages), len(truth), _binary(t, p, np.ones(len(t))), _binary(t, p, s), by_dataset)
