"""Build data/gold/gold.csv from the annotators' line labels, and report agreement.

  python scripts/build_gold.py [../shared/data]

Each page of data/gold/pages.csv is labelled by its annotator; every fifth page also by a
second annotator, independently. Agreement (Cohen's kappa over the doubly labelled lines)
is printed and written to data/gold/agreement.json. Disagreements are settled in
data/gold/settled.tsv (``dataset, doc_id, line, label, lang``: the label chosen by the
guide after reading both); unsettled ones take the first annotator's label.
The output stores offsets and labels only, never page text.
"""

import csv
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gold_page import page_path, parse_annotation  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "data" / "gold"


def kappa(pairs: list[tuple[str, str]]) -> float:
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def main() -> None:
    pages = list(csv.DictReader((GOLD / "pages.csv").open(encoding="utf-8")))
    settled: dict[tuple[str, str, int], tuple[str, str]] = {}
    settled_path = GOLD / "settled.tsv"
    if settled_path.is_file():
        for row in csv.DictReader(settled_path.open(encoding="utf-8"), delimiter="\t"):
            settled[(row["dataset"], row["doc_id"], int(row["line"]))] = (row["label"], row["lang"])
    rows, label_pairs, lang_pairs, role_pairs = [], [], [], []
    disagreements = []
    from classifier.types import Label

    for page in pages:
        dataset, doc_id = page["dataset"], page["doc_id"]
        path = GOLD / "annotations" / page["annotator"] / f"{dataset}__{doc_id}.tsv"
        if not path.is_file():
            print(f"missing: {path}")
            continue
        first = parse_annotation(path)
        second = {}
        if page["second_annotator"]:
            other = GOLD / "annotations" / page["second_annotator"] / f"{dataset}__{doc_id}.tsv"
            if other.is_file():
                second = parse_annotation(other)
        text = page_path(dataset, doc_id).read_text(encoding="utf-8")
        offset = 0
        for number, line in enumerate(text.split("\n"), start=1):
            start, end = offset, offset + len(line)
            offset = end + 1
            if not line.strip():
                continue
            label, lang = first[number]
            if number in second:
                other_label, other_lang = second[number]
                label_pairs.append((label, other_label))
                lang_pairs.append((lang, other_lang))
                role_pairs.append((Label(label).role.value, Label(other_label).role.value))
                if (label, lang) != (other_label, other_lang):
                    disagreements.append((dataset, doc_id, number, label, lang, other_label, other_lang))
            label, lang = settled.get((dataset, doc_id, number), (label, lang))
            rows.append([dataset, doc_id, page["split"], number, start, end, label, lang])
    with (GOLD / "gold.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["dataset", "doc_id", "split", "line", "start", "end", "label", "lang"])
        writer.writerows(rows)
    with (GOLD / "disagreements.tsv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter="\t")
        writer.writerow(["dataset", "doc_id", "line", "label_1", "lang_1", "label_2", "lang_2"])
        writer.writerows(disagreements)
    report = {
        "units": len(rows),
        "pages": len({(r[0], r[1]) for r in rows}),
        "double_labelled_units": len(label_pairs),
        "label_agreement": round(sum(a == b for a, b in label_pairs) / len(label_pairs), 4),
        "label_kappa": round(kappa(label_pairs), 4),
        "role_kappa": round(kappa(role_pairs), 4),
        "lang_kappa": round(kappa(lang_pairs), 4),
        "settled": len(settled),
        "labels": dict(Counter(r[6] for r in rows).most_common()),
        "splits": dict(Counter(r[2] for r in rows)),
    }
    (GOLD / "agreement.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
