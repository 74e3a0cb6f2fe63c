"""Choose the benchmark pages that get fine-grained gold labels, and who labels them.

Deterministic: pages are ordered by a hash of their key, so re-running gives the same list (the
batches ranked by the model give it only with the same model; see Batch.ranked_by).
Writes data/gold/pages.csv. Usage: python scripts/select_gold_pages.py ../shared/data
"""

import csv
import functools
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from classifier.benchmark import page_split
from classifier.config import default_model_dir

# Pages per dataset and split: enough test pages for a stable per-label F1.
PLAN = {
    "l3s-gn1": {"train": 7, "dev": 2, "test": 4},
    "dragnet": {"train": 7, "dev": 2, "test": 5},
    "cleaneval": {"train": 6, "dev": 2, "test": 4},
    "cleanportaleval": {"train": 5, "dev": 1, "test": 3},
    "trafilatura-eval": {"train": 9, "dev": 2, "test": 5},
}
# Most trafilatura-eval pages are German: give pages in other languages a head start.
FOREIGN_FIRST = 6
COMMON_LANGS = ("de", "en")
MIN_LINES, MAX_LINES = 25, 90
ANNOTATORS = "ABCDEF"
SECOND_EVERY = 5  # every fifth page is labelled twice, independently


def main(data_dir: Path) -> None:
    chosen = []
    for dataset, quota in PLAN.items():
        candidates = []
        for line in (data_dir / f"{dataset}.jsonl").open(encoding="utf-8"):
            record = json.loads(line)
            text = (data_dir / record["txt_file"]).read_text(encoding="utf-8")
            lines = sum(1 for x in text.split("\n") if x.strip())
            if not MIN_LINES <= lines <= MAX_LINES:
                continue
            split = page_split(dataset, record["doc_id"], record.get("split"))
            rank = hashlib.sha1(f"gold/{dataset}/{record['doc_id']}".encode()).hexdigest()
            candidates.append((rank, record["doc_id"], record["txt_file"], split, lines, record.get("lang")))
        candidates.sort()
        foreign = [c for c in candidates if c[5] and c[5] not in COMMON_LANGS][:FOREIGN_FIRST]
        candidates = foreign + [c for c in candidates if c not in foreign]
        taken = {s: 0 for s in quota}
        for _rank, doc_id, txt_file, split, lines, lang in candidates:
            if taken[split] < quota[split]:
                taken[split] += 1
                chosen.append([dataset, doc_id, txt_file, split, lines, lang])
    with (Path("data/gold/pages.csv")).open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["dataset", "doc_id", "txt_file", "split", "lines", "page_lang", "annotator", "second_annotator"]
        )
        for i, row in enumerate(chosen):
            first = ANNOTATORS[i % len(ANNOTATORS)]
            second = ANNOTATORS[(i + 1) % len(ANNOTATORS)] if i % SECOND_EVERY == 0 else ""
            writer.writerow(row + [first, second])
    print(f"{len(chosen)} pages, {sum(r[4] for r in chosen)} lines")


# Later batches, appended so that earlier rows and annotators stay as they were:
#   python scripts/select_gold_pages.py DATA --batch N
# Each batch's settings are one Batch in BATCHES, at the end; its plan and its cues come first.
# Batches 2-4: train pages only, labelled once each.
BATCH_2_3 = {"l3s-gn1": 14, "dragnet": 20, "cleaneval": 14, "cleanportaleval": 6, "trafilatura-eval": 22}
BATCH_4 = {"l3s-gn1": 16, "dragnet": 22, "cleaneval": 10, "cleanportaleval": 6, "trafilatura-eval": 18}
# Batch 5 doubles the fine-grained test and dev splits (per-label F1 on the rare labels
# rested on a handful of lines) and adds train pages; a fifth of it is labelled twice.
BATCH_5 = {
    "test": {"l3s-gn1": 4, "dragnet": 5, "cleaneval": 4, "cleanportaleval": 3, "trafilatura-eval": 4},
    "dev": {"l3s-gn1": 2, "dragnet": 3, "cleaneval": 2, "cleanportaleval": 2, "trafilatura-eval": 3},
    "train": {"l3s-gn1": 6, "dragnet": 8, "cleaneval": 5, "cleanportaleval": 3, "trafilatura-eval": 6},
}
# Batches 4 and 5 favour pages likely to hold the rarest labels (captions, author bios, paywalls),
# found by words in the page, so that those labels get enough training examples.
RARE_LABEL_CUES = re.compile(
    r"photo:|\(ap photo|getty images|reuters/|about the author|subscribe to continue|subscribers only|"
    r"already a subscriber|log in to read|foto:|bildquelle|über den autor|suscr[ií]bete",
    re.IGNORECASE,
)


# Batch 6 again favours the rarest labels, now also inline "see also" teasers, paywall notices
# and odd lines (label `other`), for all three splits: on the test split these labels had
# too few lines for a stable F1.
BATCH_6 = {
    "test": {"l3s-gn1": 2, "dragnet": 2, "cleaneval": 2, "cleanportaleval": 1, "trafilatura-eval": 3},
    "dev": {"l3s-gn1": 1, "dragnet": 2, "cleaneval": 1, "cleanportaleval": 1, "trafilatura-eval": 1},
    "train": {"l3s-gn1": 6, "dragnet": 7, "cleaneval": 5, "cleanportaleval": 3, "trafilatura-eval": 7},
}
BATCH_6_CUES = re.compile(
    RARE_LABEL_CUES.pattern + r"|see also|read more:|also read|related:|lesen sie auch|mehr zum thema|"
    r"lea también|subscribe now|paywall|premium content|to continue reading|weiterlesen mit",
    re.IGNORECASE,
)
# Batch 7 aims at the labels still scoring lowest on the test split (caption, author_bio,
# paywall, other): picture credits, contributor notes, subscription notices, leaked code.
BATCH_7 = {
    "test": {"l3s-gn1": 2, "dragnet": 2, "cleaneval": 1, "cleanportaleval": 1, "trafilatura-eval": 2},
    "dev": {"l3s-gn1": 1, "dragnet": 1, "cleaneval": 1, "trafilatura-eval": 1},
    "train": {"l3s-gn1": 5, "dragnet": 6, "cleaneval": 4, "cleanportaleval": 2, "trafilatura-eval": 7},
}
BATCH_7_CUES = re.compile(
    RARE_LABEL_CUES.pattern + r"|photograph:|image:|credit:|bild:|fotos?:|\(photo|staff writer|is a reporter|"
    r"is a writer|is an editor|writes about|contributor|subscribe|subscription|abonnieren|abonnement|"
    r"function\(|var [a-z_]+ ?=|</?[a-z]+>|\{[^}]*:[^}]*;",
    re.IGNORECASE,
)
# Batch 8 aims at reader comment threads (user_comment scored 0.14 on dev and test) and again
# at captions, author bios and paywalls.
BATCH_8 = {
    "test": {"l3s-gn1": 1, "dragnet": 2, "cleaneval": 1, "cleanportaleval": 1, "trafilatura-eval": 1},
    "dev": {"l3s-gn1": 1, "dragnet": 1, "cleaneval": 1, "trafilatura-eval": 1},
    "train": {"l3s-gn1": 5, "dragnet": 8, "cleaneval": 5, "cleanportaleval": 3, "trafilatura-eval": 7},
}
BATCH_8_CUES = re.compile(
    BATCH_7_CUES.pattern + r"| says:| wrote:|\breply\b|\b\d+ (?:minutes?|hours?|days?|weeks?) ago|"
    r"comments? \(\d|\bresponses? to\b|antworten|kommentare? \(\d|comentarios? \(\d",
    re.IGNORECASE,
)
# Batch 9 takes only pages with a line that opens like an inline teaser ("See also: ...",
# "Related: ...", "Lea también: ..."): modern news pages set them between the article's
# paragraphs, the guide calls them `related`, the benchmarks mostly body, and the gold had
# few. Such pages are often long, so up to 150 lines.
BATCH_9 = {
    "test": {"dragnet": 1, "cleaneval": 1, "trafilatura-eval": 1},
    "dev": {"l3s-gn1": 1, "cleanportaleval": 1, "trafilatura-eval": 1},
    "train": {"l3s-gn1": 2, "dragnet": 5, "cleaneval": 2, "cleanportaleval": 1, "trafilatura-eval": 6},
}
BATCH_9_CUES = re.compile(
    r"^\W{0,3}(?:see also|read also|also read|also see|read more:|related:|related (?:stories|articles?):|"
    r"more:|watch:|further reading|you may also like|recommended:|lea (?:también|más|aquí|además)|"
    r"(?:le|te) puede interesar|vea también|ver también|lesen sie auch|lies auch|mehr zum thema|"
    r"auch interessant|(?:à )?lire aussi|voir aussi|leia também|leggi anche|czytaj (?:też|także|również)|"
    r"zobacz (?:też|także))",
    re.IGNORECASE | re.MULTILINE,
)
# Batch 10 picks its train pages by the model itself (uncertainty sampling, as in active
# learning): the pages on which the shipped model expects the most lines of the labels that
# still score lowest (caption, author_bio, user_comment, paywall, other), summing its
# probabilities of them over the page's lines. Whether the model is right or wrong there,
# those are the pages whose labels teach it most. Its dev and test pages are chosen by cues,
# not by the model, so that the held-out figures are not drawn to where it already looks.
BATCH_10 = {
    "test": {"l3s-gn1": 1, "dragnet": 1, "cleaneval": 1, "trafilatura-eval": 1},
    "dev": {"l3s-gn1": 1, "dragnet": 1, "trafilatura-eval": 1},
    "train": {"l3s-gn1": 3, "dragnet": 5, "cleaneval": 3, "cleanportaleval": 1, "trafilatura-eval": 4},
}
# Batch 11 ranks again, without user_comment (batch 10 doubled its train lines, to 943, while
# the other four gained 24 lines between them); its dev and test pages are taken by hash alone.
BATCH_11 = {
    "test": {"l3s-gn1": 1, "dragnet": 1, "cleaneval": 1, "cleanportaleval": 1, "trafilatura-eval": 2},
    "dev": {"l3s-gn1": 1, "dragnet": 1, "trafilatura-eval": 1},
    "train": {"l3s-gn1": 7, "dragnet": 8, "cleaneval": 6, "cleanportaleval": 3, "trafilatura-eval": 8},
}
# Batch 12 takes only pages with words of a subscription wall (paywall had 8 test lines and
# 1 dev line): every such page not yet labelled, in every split, up to 150 lines.
BATCH_12 = {
    "test": {"l3s-gn1": 4, "cleaneval": 1, "trafilatura-eval": 4},
    "dev": {"l3s-gn1": 2, "cleaneval": 1, "trafilatura-eval": 2},
    "train": {"l3s-gn1": 5, "dragnet": 2, "cleaneval": 1, "trafilatura-eval": 16},
}
PAYWALL_CUES = re.compile(
    r"subscribe to (?:continue|read)|subscribers? only|for subscribers|already a subscriber|to continue reading|"
    r"continue reading with|premium (?:content|article)|für abonnenten|abonnenten lesen|weiterlesen mit|"
    r"mit \w*plus|suscr[ií]bete|para suscriptores|réservé aux abonnés|pour lire la suite|sign in to read|"
    r"register to read|log in to read|to read the full|read the full (?:article|story) (?:with|by)|abonnement|paywall",
    re.IGNORECASE,
)
# Batch 13: the next train pages by the same ranking as batch 11; dev and test pages that hold
# words of captions, bios or leaked code come first (batch 7's cues), for steadier test F1.
BATCH_13 = {
    "test": {"l3s-gn1": 2, "dragnet": 2, "cleaneval": 1, "trafilatura-eval": 2},
    "dev": {"l3s-gn1": 1, "dragnet": 1, "trafilatura-eval": 1},
    "train": {"l3s-gn1": 7, "dragnet": 9, "cleaneval": 6, "cleanportaleval": 2, "trafilatura-eval": 8},
}
# Batch 14: train pages ranked as in batch 11, by the model retrained with batches 10-13
# (commit 0d4da7d's), and a few dev pages by hash (dev had 6 lines of `other`, 16 of author_bio).
BATCH_14 = {
    "dev": {"dragnet": 1, "cleaneval": 1, "trafilatura-eval": 1},
    "train": {"l3s-gn1": 7, "dragnet": 9, "cleaneval": 6, "cleanportaleval": 2, "trafilatura-eval": 8},
}
# Batch 15: train pages only, ranked again, by the model retrained with batch 14 (batch 14 lifted
# the held-out line F1 from 0.788 to 0.807).
BATCH_15 = {
    "train": {"l3s-gn1": 8, "dragnet": 10, "cleaneval": 7, "cleanportaleval": 3, "trafilatura-eval": 10},
}
# Batch 16: train pages only, ranked by the model retrained with batch 15.
BATCH_16 = {
    "train": {"l3s-gn1": 8, "dragnet": 10, "cleaneval": 7, "cleanportaleval": 3, "trafilatura-eval": 10},
}
# Batch 17: the same, ranked by the model retrained with batch 16 (no cleanportaleval train
# page of the line limit is left).
BATCH_17 = {
    "train": {"l3s-gn1": 9, "dragnet": 11, "cleaneval": 8, "trafilatura-eval": 10},
}
# The labels by which the model ranks a batch's train pages (see _by_expected_low_labels). The
# ranking reads the model in use when the batch was chosen (commit 367fd59's for batches 10, 11
# and 13, 0d4da7d's for batch 14, the one batch 14 trained for batch 15, fc430ff's for batch
# 16, 7f8cb75's for batch 17); after a retraining the same command picks other pages, so
# data/gold/pages.csv is the record.
LOW_LABELS = ("caption", "author_bio", "paywall", "other")


def team(letter: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A batch's annotators, named by its letter: six first ones and two second ones."""
    return tuple(f"{letter}{i}" for i in range(1, 7)), (f"{letter}7", f"{letter}8")


@dataclass(frozen=True)
class Batch:
    plans: dict[str, dict[str, int]]  # split -> dataset -> pages
    annotators: tuple[str, ...]
    second: tuple[str, ...] = ()  # second annotators of every fifth page; none: labelled once
    cues: re.Pattern | None = None  # pages whose text matches come first
    cues_required: bool = False  # take no page without a cue
    max_lines: int = MAX_LINES
    ranked_by: tuple[str, ...] = ()  # labels by which the model ranks the train pages; none: by hash


BATCHES = {
    2: Batch({"train": BATCH_2_3}, tuple("GHIJKL")),
    3: Batch({"train": BATCH_2_3}, tuple("MNOPQR")),
    4: Batch({"train": BATCH_4}, tuple("STUVWX"), cues=RARE_LABEL_CUES),
    5: Batch(BATCH_5, *team("Z"), cues=RARE_LABEL_CUES),
    6: Batch(BATCH_6, *team("W"), cues=BATCH_6_CUES),
    7: Batch(BATCH_7, *team("V"), cues=BATCH_7_CUES),
    8: Batch(BATCH_8, *team("U"), cues=BATCH_8_CUES),
    9: Batch(BATCH_9, *team("T"), cues=BATCH_9_CUES, cues_required=True, max_lines=150),
    10: Batch(
        BATCH_10,
        *team("S"),
        cues=BATCH_8_CUES,
        max_lines=120,
        ranked_by=LOW_LABELS + ("user_comment",),
    ),
    11: Batch(BATCH_11, *team("R"), max_lines=120, ranked_by=LOW_LABELS),
    12: Batch(BATCH_12, *team("Q"), cues=PAYWALL_CUES, cues_required=True, max_lines=150),
    13: Batch(BATCH_13, *team("P"), cues=BATCH_7_CUES, max_lines=120, ranked_by=LOW_LABELS),
    14: Batch(BATCH_14, *team("O"), cues=BATCH_7_CUES, max_lines=120, ranked_by=LOW_LABELS),
    15: Batch(BATCH_15, *team("N"), cues=BATCH_7_CUES, max_lines=120, ranked_by=LOW_LABELS),
    16: Batch(BATCH_16, *team("M"), cues=BATCH_7_CUES, max_lines=120, ranked_by=LOW_LABELS),
    17: Batch(BATCH_17, *team("L"), cues=BATCH_7_CUES, max_lines=120, ranked_by=LOW_LABELS),
}


def add_batch(data_dir: Path, batch: int) -> None:
    settings = BATCHES[batch]
    plans, annotators, second = settings.plans, settings.annotators, settings.second
    path = Path("data/gold/pages.csv")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    taken = {(r[0], r[1]) for r in rows[1:]}
    added = []
    for split, plan in plans.items():
        added += _choose(data_dir, batch, split, plan, taken)
    with path.open("a", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        for i, row in enumerate(added):
            again = second[(i // SECOND_EVERY) % len(second)] if second and i % SECOND_EVERY == 0 else ""
            writer.writerow(row + [annotators[i % len(annotators)], again])
    print(f"added {len(added)} pages, {sum(r[4] for r in added)} lines")


def _choose(data_dir: Path, batch: int, split: str, plan: dict[str, int], taken: set) -> list[list]:
    settings, added = BATCHES[batch], []
    for dataset, quota in plan.items():
        candidates = []
        for line in (data_dir / f"{dataset}.jsonl").open(encoding="utf-8"):
            record = json.loads(line)
            if (dataset, record["doc_id"]) in taken:
                continue
            if page_split(dataset, record["doc_id"], record.get("split")) != split:
                continue
            text = (data_dir / record["txt_file"]).read_text(encoding="utf-8")
            lines = sum(1 for x in text.split("\n") if x.strip())
            if not MIN_LINES <= lines <= settings.max_lines:
                continue
            has_cue = settings.cues is not None and settings.cues.search(text) is not None
            if settings.cues_required and not has_cue:
                continue
            rank = hashlib.sha1(f"gold{batch}/{dataset}/{record['doc_id']}".encode()).hexdigest()
            if settings.cues is not None and not has_cue:
                rank = "z" + rank  # pages with cues come first
            candidates.append((rank, record["doc_id"], record["txt_file"], lines, record.get("lang")))
        if split == "train" and settings.ranked_by:
            candidates = _by_expected_low_labels(data_dir, candidates, settings.ranked_by)
        candidates.sort()
        foreign = [c for c in candidates if c[4] and c[4] not in COMMON_LANGS][: quota // 3]
        chosen = foreign + [c for c in candidates if c not in foreign][: quota - len(foreign)]
        added += [[dataset, doc_id, txt_file, split, lines, lang] for _, doc_id, txt_file, lines, lang in chosen]
    return added


@functools.cache
def _model():
    from classifier.relevance import RelevanceModel

    return RelevanceModel(default_model_dir())


def _by_expected_low_labels(data_dir: Path, candidates: list[tuple], labels: tuple[str, ...]) -> list[tuple]:
    """The candidates re-ranked (first field) by the model's expected count of lines of ``labels``."""
    from classifier.relevance import LABELS
    from classifier.segment import split_lines

    model = _model()
    columns = [i for i, label in enumerate(LABELS) if label.value in labels]
    ranked = []
    for candidate in candidates:
        text = (data_dir / candidate[2]).read_text(encoding="utf-8")
        _, label_probs = model.beliefs([(split_lines(text), len(text))])
        ranked.append((-float(label_probs[:, columns].sum()),) + candidate[1:])
    return ranked


if __name__ == "__main__":
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    if sys.argv[2:3] == ["--batch"]:
        add_batch(data, int(sys.argv[3]))
    else:
        main(data)


# Second, independent labels for every fourth page of batches 2-4 (annotators Y1-Y6), so
# that about a fifth of all gold lines are labelled twice; set in data/gold/pages.csv by
#   rows = batch 2-4 rows; rows[::4] get second annotators Y1..Y6 in turn.
