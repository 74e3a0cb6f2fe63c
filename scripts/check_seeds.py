"""Check the five seed pages line by line against their hand labels.

  python scripts/check_seeds.py [--model DIR]

Prints every line whose keep decision (strict profile) or language differs from the gold,
and the counts the issue asks for: lines with the right keep, Spanish and Tagalog lines
found, English content lines called foreign. Exit status 1 when any keep is wrong.
"""

import argparse
import csv
import sys
from pathlib import Path

from classifier.pipeline import Labeller, Settings
from classifier.segment import split_lines
from classifier.types import Document, Label, Role

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    gold: dict[str, dict[int, tuple[str, str]]] = {}
    with (ROOT / "data" / "gold" / "gold.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["dataset"] == "seeds":
                gold.setdefault(row["doc_id"], {})[int(row["start"])] = (row["label"], row["lang"])
    labeller = Labeller(Settings(model_dir=args.model))
    docs = [
        Document(id=d, text=(ROOT / "data" / "sample" / f"{d}.txt").read_text(encoding="utf-8")) for d in sorted(gold)
    ]
    lines_total = keep_right = foreign_found = foreign_total = english_called_foreign = 0
    for doc, units in zip(docs, labeller.label_chunk(docs), strict=True):
        for line in split_lines(doc.text):
            unit = next(u for u in units if u.unit.start <= line.start < u.unit.end)
            label, lang = gold[doc.id][line.start]
            gold_keep = Label(label).role is Role.CONTENT and lang in ("en", "und")
            lines_total += 1
            keep_right += unit.keep == gold_keep
            if lang in ("es", "tl"):
                foreign_total += 1
                foreign_found += unit.lang.lang == lang
            if lang == "en" and Label(label).role is Role.CONTENT and unit.lang.lang not in ("en", "und"):
                english_called_foreign += 1
            if unit.keep != gold_keep or (lang in ("es", "tl") and unit.lang.lang != lang):
                print(
                    f"{doc.id[:3]} keep={unit.keep} gold={gold_keep} {unit.verdict.label.value}/{label} "
                    f"{unit.lang.lang}/{lang} {line.text[:60]!r}"
                )
    print(
        f"keep right on {keep_right}/{lines_total} seed lines; Spanish/Tagalog lines with their language: "
        f"{foreign_found}/{foreign_total}; English content lines called foreign: {english_called_foreign}"
    )
    return 0 if keep_right == lines_total and foreign_found == foreign_total and not english_called_foreign else 1


if __name__ == "__main__":
    sys.exit(main())
