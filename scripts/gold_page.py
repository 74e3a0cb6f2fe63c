"""Helpers for line-by-line gold labelling of a page.

  python scripts/gold_page.py show DATASET DOC_ID      numbered non-empty lines of the page
  python scripts/gold_page.py check FILE.tsv           validate one annotation file

A page is ``txt/<dataset>/...`` under ../shared/data (see data/gold/pages.csv), or, for
dataset ``seeds``, ``data/sample/<doc_id>.txt``. Annotation files hold one row per line or
line range: ``12<TAB>navigation<TAB>en`` or ``12-30<TAB>navigation<TAB>en``; every
non-empty line of the page must be covered exactly once. Blank lines inside a range are ignored.
"""

import csv
import sys
from pathlib import Path

LABELS = {
    "body",
    "heading",
    "caption",
    "byline",
    "author_bio",
    "user_comment",
    "navigation",
    "related",
    "promo",
    "paywall",
    "comment_prompt",
    "legal",
    "other",
}
DATA = Path(__file__).resolve().parent.parent / "data"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def page_path(dataset: str, doc_id: str) -> Path:
    if dataset == "seeds":
        return DATA / "sample" / f"{doc_id}.txt"
    for row in csv.DictReader((DATA / "gold" / "pages.csv").open(encoding="utf-8")):
        if row["dataset"] == dataset and row["doc_id"] == doc_id:
            return SHARED / row["txt_file"]
    raise SystemExit(f"{dataset}/{doc_id} is not in data/gold/pages.csv")


def page_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def show(dataset: str, doc_id: str) -> None:
    lines = page_lines(page_path(dataset, doc_id))
    previous_blank = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            previous_blank = True
            continue
        if previous_blank:
            print()
        previous_blank = False
        shown = line if len(line) <= 600 else line[:600] + f" [... {len(line) - 600} more chars]"
        print(f"{number}\t{shown}")


def parse_annotation(path: Path) -> dict[int, tuple[str, str]]:
    labels: dict[int, tuple[str, str]] = {}
    for row_number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) != 3:
            raise SystemExit(f"{path}:{row_number}: want LINE<TAB>LABEL<TAB>LANG, got {raw!r}")
        span, label, lang = (p.strip() for p in parts)
        if label not in LABELS:
            raise SystemExit(f"{path}:{row_number}: unknown label {label!r}; allowed: {sorted(LABELS)}")
        if not (lang == "und" or (lang.isalpha() and lang.islower() and 2 <= len(lang) <= 3)):
            raise SystemExit(f"{path}:{row_number}: language {lang!r} is not an ISO 639 code or 'und'")
        first, _, last = span.partition("-")
        for number in range(int(first), int(last or first) + 1):
            if number in labels:
                raise SystemExit(f"{path}:{row_number}: line {number} labelled twice")
            labels[number] = (label, lang)
    return labels


def check(path: Path) -> None:
    dataset, _, doc_id = path.stem.partition("__")
    lines = page_lines(page_path(dataset, doc_id))
    labels = parse_annotation(path)
    wanted = {n for n, line in enumerate(lines, start=1) if line.strip()}
    missing = sorted(wanted - set(labels))
    # Ranges may run over blank lines; a label past the end of the page is an error.
    extra = sorted(n for n in labels if n > len(lines))
    if missing or extra:
        raise SystemExit(f"{path}: unlabelled lines {missing[:20]}; labelled blank or absent lines {extra[:20]}")
    print(f"{path}: ok, {len(labels)} lines")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "show":
        show(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check(Path(sys.argv[2]))
    else:
        raise SystemExit(__doc__)
