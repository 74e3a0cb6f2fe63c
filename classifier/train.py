"""Train the relevance model from benchmark pages and the project's fine-grained gold.

Reproducible: fixed seed, single-threaded fastText, deterministic LightGBM, pages in a
fixed order. The held-out test pages are never read here.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import multiprocessing
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np

from classifier.benchmark import BenchmarkPage, read_benchmark, unit_interval
from classifier.config import DEFAULT_CHUNK_DOCS, DEFAULT_SEED, UND
from classifier.errors import InputError
from classifier.features import corpus_repetition, line_features, line_keys
from classifier.lang import (
    UND_FEATURES,
    UND_MODEL_FILE,
    FastTextLID,
    LangdetectLID,
    identify,
    letter_count,
    und_candidates,
    und_matrix,
)
from classifier.relevance import (
    FASTTEXT_PREFIX,
    LABELS,
    STACK_FILES,
    TEXT_FORMAT,
    RelevanceModel,
    assemble_features,
    combine,
    content_score,
    feature_names,
    ft_content_scores,
    ft_label_scores,
    model_text,
    second_stage,
    stack_names,
    stacked_matrix,
)
from classifier.segment import Line, reading_lines, split_lines
from classifier.types import Label, Role

LABEL_INDEX = {label.value: i for i, label in enumerate(LABELS)}
IGNORE = -1
# Benchmark gold classes that name one of our labels (the rest only say "noise").
WEAK_CLASSES = {
    ("l3s-gn1", "headline"): Label.HEADING,
    ("l3s-gn1", "fulltext"): Label.BODY,
    ("l3s-gn1", "supplemental"): Label.CAPTION,
    ("l3s-gn1", "related"): Label.RELATED,
    ("l3s-gn1", "comments"): Label.USER_COMMENT,
    ("dragnet", "comments"): Label.USER_COMMENT,
}
WEAK_WEIGHT = 0.05  # a benchmark-derived label counts this much against a hand label
GOLD_WEIGHT = 2.0  # a hand label against a benchmark-derived label, in the label model
# In the content model a hand label also outweighs the benchmarks' body/noise label: the
# benchmarks' gold differs from our label guide (captions and bylines kept, for one).
GOLD_CONTENT_WEIGHT = 2.0
WEAK_CAP_PER_LABEL = 15000
GOLD_REPEAT = 3  # hand labels are few: the fastText label model sees each this often


@dataclass
class TrainingPage:
    key: str
    split: str
    text: str
    lines: list[Line]
    content: np.ndarray  # 1 content, 0 not, -1 unknown
    label: np.ndarray  # index into LABELS, or -1
    weight: np.ndarray  # weight of the label target
    dataset: str = ""


@dataclass(frozen=True)
class TrainSettings:
    data_dir: Path | None
    gold_path: Path | None
    out_dir: Path
    seed: int = DEFAULT_SEED
    epoch: int = 5
    lr: float = 0.5
    dim: int = 32
    # Character n-grams (minn, maxn; (0, 0) for none) triple fastText's prediction time (18.6 ->
    # 6.2 us a line). The content model does as well without them on the benchmark's dev pages;
    # the label model loses on short lines without them (gold dev macro-F1 0.583 -> 0.556).
    content_char_ngrams: tuple[int, int] = (0, 0)
    label_char_ngrams: tuple[int, int] = (2, 4)
    # Half the rounds at twice the rate scored as well on dev (benchmark line F1 0.860 -> 0.868,
    # gold label accuracy 0.787 -> 0.790) and predict in half the time (61 -> 30 us a line).
    content_rounds: int = 100
    label_rounds: int = 40
    learning_rate: float = 0.2
    max_pages: int | None = None  # per dataset and split; for quick runs and tests
    datasets: tuple[str, ...] = ()
    # Leaves of at least 100 lines: with 20, whole comment threads flipped between content and
    # comment from one training to the next, and dev line F1 moved with the seed (0.862 / 0.875
    # for two seeds; 0.874 / 0.890 with 100; 300 loses on the labels).
    min_data_in_leaf: int = 100
    stack: bool = True  # a second stage over the first stage's predictions of the neighbours
    # The boosters see training pages a second time with their blank lines taken away, as
    # corpora that put one line break between paragraphs (Common Crawl's WET files) look:
    # this share of the pages, chosen by a hash of the page. Dev line F1 over seeds 0 and 7,
    # pages as written / with single line breaks: none 0.882 / 0.764, half 0.878 / 0.871,
    # all 0.872 / 0.866.
    single_break_share: float = 0.5
    # ... and this many short excerpts of every training page (one to three of its paragraphs,
    # chosen by a hash) as documents of their own: a corpus of single paragraphs or snippets
    # looks like no whole page. Given the dev pages' body paragraphs one to a document, a model
    # without excerpts kept 79% of their characters, with one excerpt a page 90%, with two 91%;
    # dev benchmark line F1 0.879 / 0.882 / 0.889, gold label accuracy 0.802 / 0.799 / 0.786.
    excerpts_per_page: int = 1
    # Further models, trained as the first with these seeds, whose beliefs are averaged with
    # its own: a model's figures move with its seed (dev benchmark line F1 0.890 / 0.872 for
    # seeds 0 / 7, gold macro-F1 0.539 / 0.531); the two averaged scored 0.893 / 0.544. A
    # member doubles the training time; labelling with it takes 1.6 times as long (20 MB on
    # one core: 45.5 s against 28.1 s).
    member_seeds: tuple[int, ...] = (7,)


@dataclass(frozen=True)
class TrainResult:
    out_dir: Path
    pages: dict[str, int]
    lines: dict[str, int]
    dev: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.5


EXCERPT_MARK = "#excerpt"  # an excerpt's key: its page's key, this mark and its number


def _fold(key: str) -> int:
    """The page's half of the training pages; an excerpt ("<page key>#excerpt<k>") is in its page's."""
    return hashlib.sha1(key.partition(EXCERPT_MARK)[0].encode()).digest()[0] % 2


def _gold_lines(path: Path | None) -> dict[str, dict[int, tuple[str, str]]]:
    """Hand labels by page key and line start offset."""
    if path is None:
        return {}
    if not path.is_file():
        raise InputError(f"Gold file {path} not found. It is data/gold/gold.csv in the repository; pass --gold.")
    pages: dict[str, dict[int, tuple[str, str]]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            pages.setdefault(f"{row['dataset']}/{row['doc_id']}", {})[int(row["start"])] = (row["label"], row["split"])
    return pages


def page_from_benchmark(page: BenchmarkPage, gold: dict[int, tuple[str, str]] | None) -> TrainingPage:
    lines = split_lines(page.text)
    content = np.full(len(lines), IGNORE, dtype=np.int8)
    label = np.full(len(lines), IGNORE, dtype=np.int16)
    weight = np.zeros(len(lines), dtype=np.float32)
    spans = page.paragraphs
    j = 0
    for i, line in enumerate(lines):
        while j < len(spans) and spans[j].end <= line.start:
            j += 1
        if gold and line.start in gold:
            name = gold[line.start][0]
            content[i] = Label(name).role is Role.CONTENT
            label[i] = LABEL_INDEX[name]
            weight[i] = GOLD_WEIGHT
            continue
        if j >= len(spans) or spans[j].start > line.start:
            continue
        paragraph = spans[j]
        if paragraph.label == "body":
            content[i] = 1
        elif paragraph.label == "noise":
            content[i] = 0
        weak = WEAK_CLASSES.get((page.dataset, paragraph.gold_class or ""))
        if paragraph.label == "body" and weak is None:
            weak = Label.HEADING if paragraph.is_title else Label.BODY
        if weak is not None and paragraph.label in ("body", "noise"):
            label[i] = LABEL_INDEX[weak.value]
            weight[i] = WEAK_WEIGHT
    return TrainingPage(page.key, page.split, page.text, lines, content, label, weight, page.dataset)


def page_from_gold_only(key: str, text: str, gold: dict[int, tuple[str, str]], split: str) -> TrainingPage:
    """A page that exists only in the project's gold (the seeds)."""
    lines = split_lines(text)
    content = np.full(len(lines), IGNORE, dtype=np.int8)
    label = np.full(len(lines), IGNORE, dtype=np.int16)
    weight = np.zeros(len(lines), dtype=np.float32)
    for i, line in enumerate(lines):
        if line.start in gold:
            name = gold[line.start][0]
            content[i] = Label(name).role is Role.CONTENT
            label[i] = LABEL_INDEX[name]
            weight[i] = GOLD_WEIGHT
    return TrainingPage(key, split, text, lines, content, label, weight, key.split("/")[0])


def load_pages(settings: TrainSettings, splits: tuple[str, ...]) -> list[TrainingPage]:
    gold = _gold_lines(settings.gold_path)
    pages: list[TrainingPage] = []
    taken: Counter = Counter()
    kwargs = {"datasets": settings.datasets} if settings.datasets else {}
    benchmark = read_benchmark(settings.data_dir, splits=splits, **kwargs) if settings.data_dir else ()
    for page in benchmark:
        if settings.max_pages is not None:
            if taken[(page.dataset, page.split)] >= settings.max_pages:
                continue
            taken[(page.dataset, page.split)] += 1
        pages.append(page_from_benchmark(page, gold.get(page.key)))
    repo_data = settings.gold_path.parent.parent if settings.gold_path else None
    for key, lines in gold.items():
        dataset, _, doc_id = key.partition("/")
        split = next(iter(lines.values()))[1]
        if dataset == "seeds" and split in splits and repo_data is not None:
            path = repo_data / "sample" / f"{doc_id}.txt"
            if not path.is_file():
                raise InputError(
                    f"{settings.gold_path} labels the seed page {doc_id}, whose text is read from {path}, "
                    "which does not exist. Keep the gold file in data/gold/ beside data/sample/, "
                    "or copy the seed pages there."
                )
            text = path.read_text(encoding="utf-8")
            pages.append(page_from_gold_only(key, text, lines, split))
    return pages


def _write_rows(rows: Iterable[tuple[str, str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for label, text in rows:
            handle.write(f"{FASTTEXT_PREFIX}{label} {text}\n")
    return path


def _fit_fasttext_file(train_file: str, out_file: str, params: dict, quantize: bool) -> str:
    """Train one fastText model and save it; runs in a fresh process (see ``_fit_fasttext``)."""
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None
    model = fasttext.train_supervised(input=train_file, **params)
    if quantize:
        model.quantize(input=None, qnorm=True, retrain=False, cutoff=50_000)
    model.save_model(out_file)
    return out_file


def _fit_fasttext(jobs: Sequence[tuple[Path, Path, bool, tuple[int, int]]], settings: TrainSettings) -> list:
    """Train fastText models, each in a new process, two at a time.

    fasttext-numpy2 0.10.4 gives different models for the same data and seed from the
    third training in one process on (measured; 0.9.2 does not), so every training gets a
    fresh process: the first training in a process is reproducible.
    """
    import fasttext

    params = {
        "lr": settings.lr,
        "epoch": settings.epoch,
        "wordNgrams": 2,
        "dim": settings.dim,
        "bucket": 200_000,
        "thread": 1,
        "seed": settings.seed,
        "verbose": 0,
    }
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context, max_tasks_per_child=1) as pool:
        futures = [
            pool.submit(_fit_fasttext_file, str(src), str(dst), {**params, "minn": minn, "maxn": maxn}, quantize)
            for src, dst, quantize, (minn, maxn) in jobs
        ]
        paths = [future.result() for future in futures]
    fasttext.FastText.eprint = lambda *args, **kwargs: None
    return [fasttext.load_model(path) for path in paths]


def without_blank_lines(page: TrainingPage) -> TrainingPage:
    """The page written with one line break between all its lines: the same lines and
    targets, in one block."""
    text = "\n".join(line.text for line in page.lines)
    return replace(page, text=text, lines=split_lines(text))


def excerpts(page: TrainingPage, count: int) -> list[TrainingPage]:
    """``count`` runs of one to three consecutive paragraphs of the page, each as a page of
    its own with the same lines and targets."""
    blocks = sorted({line.paragraph for line in page.lines})
    out = []
    for k in range(min(count, len(blocks))):
        draw = unit_interval(f"excerpt{k}/{page.key}")
        first = int(draw * len(blocks))
        size = 1 + int(unit_interval(f"excerpt-size{k}/{page.key}") * 3)
        chosen = set(blocks[first : first + size])
        rows = np.flatnonzero([line.paragraph in chosen for line in page.lines])
        start, end = page.lines[rows[0]].start, page.lines[rows[-1]].end
        text = page.text[start:end]
        lines = split_lines(text)
        if len(lines) != len(rows):  # a line break inside a line cannot happen; skip if it does
            continue
        out.append(
            replace(
                page,
                key=f"{page.key}{EXCERPT_MARK}{k}",
                text=text,
                lines=lines,
                content=page.content[rows],
                label=page.label[rows],
                weight=page.weight[rows],
            )
        )
    return out


def _content_rows(pages: Sequence[TrainingPage]) -> Iterable[tuple[str, str]]:
    for page in pages:
        for line, target in zip(page.lines, page.content, strict=True):
            if target != IGNORE:
                yield ("content" if target else "noise"), model_text(line)


def _label_rows(pages: Sequence[TrainingPage], seed: int) -> list[tuple[str, str]]:
    gold_rows, weak_rows = [], {}
    for page in pages:
        for line, target, weight in zip(page.lines, page.label, page.weight, strict=True):
            if target == IGNORE:
                continue
            row = (LABELS[target].value, model_text(line))
            if weight >= 1:
                gold_rows.append(row)
            else:
                weak_rows.setdefault(row[0], []).append(row)
    rng = np.random.default_rng(seed)
    rows = list(gold_rows) * GOLD_REPEAT
    for label in sorted(weak_rows):
        group = weak_rows[label]
        if len(group) > WEAK_CAP_PER_LABEL:
            group = [group[i] for i in sorted(rng.choice(len(group), WEAK_CAP_PER_LABEL, replace=False))]
        rows.extend(group)
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def _page_features(pages: Sequence[TrainingPage], models_for: Callable[[TrainingPage], tuple]) -> list[np.ndarray]:
    """Feature matrices per page, with the text models chosen per page (cross-fitting)."""
    out: list[np.ndarray] = []
    for start in range(0, len(pages), DEFAULT_CHUNK_DOCS):
        chunk = pages[start : start + DEFAULT_CHUNK_DOCS]
        keys_per_page = [line_keys(p.lines) for p in chunk]
        repetition = corpus_repetition(keys_per_page)
        for page, keys in zip(chunk, keys_per_page, strict=True):
            ft_content, ft_labels = models_for(page)
            texts = [model_text(line) for line in page.lines]
            if not texts:
                out.append(np.zeros((0, len(feature_names())), dtype=np.float32))
                continue
            layout = line_features(page.lines, len(page.text), repetition, keys)
            out.append(
                assemble_features(
                    page.lines, layout, ft_content_scores(ft_content, texts), ft_label_scores(ft_labels, texts)
                )
            )
    return out


def _booster_params(settings: TrainSettings, **extra) -> dict:
    return {
        "learning_rate": settings.learning_rate,
        "num_leaves": 63,
        "min_data_in_leaf": settings.min_data_in_leaf,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": settings.seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 2,
        "verbose": -1,
        **extra,
    }


def _fit_boosters(
    x: np.ndarray, targets: tuple[np.ndarray, np.ndarray, np.ndarray], names: list[str], settings: TrainSettings
) -> tuple:
    """The content booster (content vs not) and the label booster (13 labels) on rows ``x``
    with their (content, label, label weight) targets; rows without a target are left out."""
    import lightgbm

    content_y, label_y, label_w = targets
    has_content, has_label = content_y != IGNORE, label_y != IGNORE
    content_weight = np.where(label_w >= 1, GOLD_CONTENT_WEIGHT, 1.0)
    content_booster = lightgbm.train(
        _booster_params(settings, objective="binary"),
        lightgbm.Dataset(
            x[has_content],
            content_y[has_content].astype(np.float32),
            weight=content_weight[has_content],
            feature_name=names,
        ),
        num_boost_round=settings.content_rounds,
    )
    label_booster = lightgbm.train(
        _booster_params(settings, objective="multiclass", num_class=len(LABELS), num_leaves=15),
        lightgbm.Dataset(
            x[has_label],
            label_y[has_label],
            weight=balanced_weights(label_y[has_label], label_w[has_label]),
            feature_name=names,
        ),
        num_boost_round=settings.label_rounds,
    )
    return content_booster, label_booster


def balanced_weights(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Scale weights so rare labels count: each label's total weight moves halfway (in log
    terms) towards the mean; macro-F1 rewards every label alike."""
    totals = np.bincount(labels, weights=weights, minlength=len(LABELS))
    present = totals > 0
    mean = totals[present].mean()
    factor = np.ones(len(LABELS))
    factor[present] = np.sqrt(mean / totals[present])
    return weights * factor[labels]


def _line_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = float(np.sum(truth & predicted))
    precision = tp / max(predicted.sum(), 1)
    recall = tp / max(truth.sum(), 1)
    return 2 * precision * recall / max(precision + recall, 1e-9)


def dev_threshold(
    dev_pages: Sequence[TrainingPage], content_prob: np.ndarray, label_probs: np.ndarray
) -> tuple[float, dict[str, float]]:
    """The content threshold that maximises line F1 on the dev pages (the one figure tuned on
    dev), and the dev figures at that threshold; 0.5 and none without dev lines."""
    if not len(content_prob):
        return 0.5, {}
    figures = {}
    dev_y = np.concatenate([p.content for p in dev_pages])
    known = dev_y != IGNORE
    score = content_score(content_prob, label_probs)
    candidates = np.round(np.arange(0.1, 0.81, 0.02), 2)
    scores = [_line_f1(dev_y[known] == 1, score[known] >= t) for t in candidates]
    threshold = float(candidates[int(np.argmax(scores))])
    figures["content_line_f1"] = round(float(max(scores)), 4)
    dev_labels = np.concatenate([p.label for p in dev_pages])
    dev_weights = np.concatenate([p.weight for p in dev_pages])
    gold_mask = (dev_labels != IGNORE) & (dev_weights >= 1)
    if gold_mask.any():
        best, _ = combine(content_prob, label_probs, threshold)
        figures["gold_label_accuracy"] = round(float(np.mean(best[gold_mask] == dev_labels[gold_mask])), 4)
    return threshold, figures


MEMBER_PREFIX = "member-seed-"


def train_relevance(settings: TrainSettings, progress: Callable[[str], None] = lambda message: None) -> TrainResult:
    """Train on the benchmark's train split (+ gold) and write a model folder: one model with
    ``settings.seed`` and, in sub-folders, one more for each of ``settings.member_seeds``."""
    progress("reading pages")
    train_pages = load_pages(settings, ("train",))
    dev_pages = load_pages(settings, ("dev",))
    if not train_pages:
        raise InputError(f"No training pages found in {settings.data_dir}.")
    for stale in settings.out_dir.glob(f"{MEMBER_PREFIX}*"):
        if (stale / "meta.json").is_file():
            shutil.rmtree(stale)
    result = fit_model(train_pages, dev_pages, settings, progress)
    if settings.member_seeds:
        names = []
        for seed in settings.member_seeds:
            progress(f"member model with seed {seed}")
            names.append(f"{MEMBER_PREFIX}{seed}")
            member = replace(settings, seed=seed, member_seeds=(), out_dir=settings.out_dir / names[-1])
            fit_model(train_pages, dev_pages, member, progress)
        result = join_members(settings.out_dir, names, dev_pages, progress)
    if settings.gold_path is not None:
        train_und(settings.gold_path, settings.data_dir, settings.out_dir, settings.seed, progress)
    return result


def join_members(
    out_dir: Path, names: list[str], dev_pages: Sequence[TrainingPage], progress: Callable[[str], None]
) -> TrainResult:
    """Make the models in ``out_dir``'s sub-folders ``names`` members of the model in
    ``out_dir``, and choose the threshold of their averaged beliefs on the dev pages."""
    progress("threshold of the averaged models")
    meta_path = out_dir / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["members"] = names
    meta["own_threshold"], meta["own_dev"] = meta["threshold"], meta["dev"]
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    model = RelevanceModel(out_dir)
    content_prob, label_probs = model.beliefs([(p.lines, len(p.text)) for p in dev_pages])
    meta["threshold"], meta["dev"] = dev_threshold(dev_pages, content_prob, label_probs)
    meta["member_seeds"] = [
        json.loads((out_dir / name / "meta.json").read_text(encoding="utf-8"))["seed"] for name in names
    ]
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(model_card(meta), encoding="utf-8")
    return TrainResult(out_dir, meta["pages"], meta["lines"], meta["dev"], meta["threshold"])


def fit_model(
    train_pages: Sequence[TrainingPage],
    dev_pages: Sequence[TrainingPage],
    settings: TrainSettings,
    progress: Callable[[str], None] = lambda message: None,
) -> TrainResult:
    """Fit the text models and the boosters on labelled pages; returns counts and dev figures."""
    train_pages, dev_pages = list(train_pages), list(dev_pages)
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        folds = [[p for p in train_pages if _fold(p.key) == k] for k in (0, 1)]
        content, labels = settings.content_char_ngrams, settings.label_char_ngrams
        jobs = []
        for k in (0, 1):
            # Models for fold k learn from the other fold, so fold k's features are honest.
            other = folds[1 - k] or folds[k]
            content_rows = _write_rows(_content_rows(other), workdir / f"content{k}.txt")
            label_rows = _write_rows(_label_rows(other, settings.seed), workdir / f"labels{k}.txt")
            jobs.append((content_rows, workdir / f"content{k}.bin", False, content))
            jobs.append((label_rows, workdir / f"labels{k}.bin", False, labels))
        content_rows = _write_rows(_content_rows(train_pages), workdir / "content.txt")
        label_rows = _write_rows(_label_rows(train_pages, settings.seed), workdir / "labels.txt")
        jobs.append((content_rows, settings.out_dir / "content.ftz", True, content))
        jobs.append((label_rows, settings.out_dir / "labels.ftz", True, labels))
        progress("text models (6 fastText trainings)")
        models = _fit_fasttext(jobs, settings)
        fold_models = [(models[0], models[1]), (models[2], models[3])]
        ft_content, ft_labels = models[4], models[5]
        progress("features")
        copies = [
            without_blank_lines(p)
            for p in train_pages
            if unit_interval(f"layout/{p.key}") < settings.single_break_share
        ]
        snippets = [excerpt for p in train_pages for excerpt in excerpts(p, settings.excerpts_per_page)]
        booster_pages = train_pages + copies + snippets
        # Copies and excerpts apart from the originals, so that a line and its copy do not count
        # as repeated.
        blocks = [
            _page_features(pages, lambda p: fold_models[_fold(p.key)]) for pages in (train_pages, copies, snippets)
        ]
        train_x = np.vstack([matrix for block in blocks for matrix in block])
        dev_x = np.vstack(_page_features(dev_pages, lambda p: (ft_content, ft_labels))) if dev_pages else None
    content_y = np.concatenate([p.content for p in booster_pages])
    label_y = np.concatenate([p.label for p in booster_pages])
    label_w = np.concatenate([p.weight for p in booster_pages])
    targets = (content_y, label_y, label_w)
    names = feature_names()
    has_content, has_label = content_y != IGNORE, label_y != IGNORE
    progress("first-stage models")
    first = _fit_boosters(train_x, targets, names, settings)
    dev_lines = [p.lines for p in dev_pages]
    dev_prob, dev_label_probs = (
        (first[0].predict(dev_x), first[1].predict(dev_x)) if dev_x is not None else (None, None)
    )
    second = None
    if settings.stack:
        # The second stage learns from first-stage predictions it did not train on: each fold's
        # predictions come from boosters fitted on the other fold.
        progress("second-stage models (first stage again on each fold)")
        row_fold = np.concatenate([np.full(len(p.lines), _fold(p.key)) for p in booster_pages])
        held_content = np.zeros(len(train_x))
        held_labels = np.zeros((len(train_x), len(LABELS)))
        for k in (0, 1):
            fit_rows, predict_rows = row_fold != k, row_fold == k
            if not fit_rows.any():
                fit_rows = predict_rows
            boosters = _fit_boosters(train_x[fit_rows], tuple(t[fit_rows] for t in targets), names, settings)
            held_content[predict_rows] = boosters[0].predict(train_x[predict_rows])
            held_labels[predict_rows] = boosters[1].predict(train_x[predict_rows])
        train_s = np.hstack([train_x, stacked_matrix([p.lines for p in booster_pages], held_content, held_labels)])
        second = _fit_boosters(train_s, targets, names + stack_names(), settings)
        if dev_x is not None:
            dev_prob, dev_label_probs = second_stage(second, dev_x, dev_lines, dev_prob, dev_label_probs)

    threshold, dev_figures = dev_threshold(dev_pages, dev_prob, dev_label_probs) if dev_x is not None else (0.5, {})

    progress("writing model")
    out = settings.out_dir
    files = [(first[0], "content.gbm.txt.gz"), (first[1], "labels.gbm.txt.gz")]
    files += list(zip(second, STACK_FILES, strict=True)) if second else []
    for stale in STACK_FILES:
        (out / stale).unlink(missing_ok=True)
    for booster, name in files:
        # mtime=0: the same training gives byte-identical files.
        with open(out / name, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
            handle.write(booster.model_to_string().encode("utf-8"))
    pages_by = dict(Counter(f"{p.dataset}/{p.split}" for p in train_pages + dev_pages))
    # The pages' own lines, without their copies written with single line breaks.
    own = slice(0, sum(len(p.lines) for p in train_pages))
    lines_by = {
        "train_content_targets": int(has_content[own].sum()),
        "train_label_targets": int(has_label[own].sum()),
        "train_hand_labels": int((label_w[own] >= 1).sum()),
    }
    meta = {
        "features": names,
        "stack": second is not None,
        "stack_features": stack_names() if second is not None else [],
        "labels": [label.value for label in LABELS],
        "text_format": TEXT_FORMAT,
        "threshold": threshold,
        "seed": settings.seed,
        "char_ngrams": {"content": list(settings.content_char_ngrams), "labels": list(settings.label_char_ngrams)},
        "single_break_share": settings.single_break_share,
        "excerpts_per_page": settings.excerpts_per_page,
        "trained": date.today().isoformat(),
        "pages": pages_by,
        "lines": lines_by,
        "dev": dev_figures,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(model_card(meta), encoding="utf-8")
    return TrainResult(out, pages_by, lines_by, dev_figures, threshold)


HELD_OUT_MARK = "<!-- held-out figures: written by scripts/benchmark.py -->"


def _second_stage_line(meta: dict) -> str:
    if not meta.get("stack"):
        return ""
    return f"""- `stack_content.gbm.txt.gz`, `stack_labels.gbm.txt.gz`: the second stage, the same two kinds of
  LightGBM model over those features plus {len(meta["stack_features"])} more: the first stage's
  content and label beliefs about the line, its neighbours, its block, a window and the page.
  It learns from first-stage predictions made by models fitted on the other half of the pages.
"""


def _char_ngrams(meta: dict, model: str) -> str:
    low, high = meta.get("char_ngrams", {}).get(model, (0, 0))
    return f" and character {low}–{high}-grams" if high else ""


def _single_break_line(meta: dict) -> str:
    share = meta.get("single_break_share", 0.0)
    if not share:
        return ""
    return (
        f"- The LightGBM models also learn from {share:.0%} of the training pages written a second time with one\n"
        "  line break between all lines (as Common Crawl's WET files are), so that they do not lean on blank\n"
        "  lines a corpus may not have.\n"
    )


def _excerpts_line(meta: dict) -> str:
    count = meta.get("excerpts_per_page", 0)
    if not count:
        return ""
    return (
        f"- They also learn from {count} excerpt(s) of every training page (one to three paragraphs) as documents\n"
        "  of their own, so that a corpus of single paragraphs or snippets is not read as page residue.\n"
    )


def _members_line(meta: dict) -> str:
    members = meta.get("members", [])
    if not members:
        return ""
    seeds = ", ".join(str(seed) for seed in meta.get("member_seeds", []))
    return (
        f"- {', '.join(f'`{name}/`' for name in members)}: the same model trained with seed(s) {seeds}; each\n"
        "  line's content and label probabilities are the average of this model's and theirs.\n"
    )


def _und_line(meta: dict) -> str:
    und = meta.get("und")
    if not und:
        return ""
    dev = und.get("dev", {})
    measured = (
        f" On the dev gold lines: language accuracy {dev['accuracy_without']} -> {dev['accuracy']}, `und`\n"
        f"  found {dev['und_recall_without']} -> {dev['und_recall']}."
        if dev
        else ""
    )
    return (
        f"- `{UND_MODEL_FILE}` (trained {und.get('trained', meta['trained'])}): a small LightGBM model over\n"
        f"  {len(und['features'])} features of a short line (letters, capitals, how common its words are in the\n"
        "  guessed language) that tells names, handles and brands from words of a language and calls them\n"
        f"  `und` (from probability {und['threshold']}). It learnt from the {und['train_lines']} short gold lines\n"
        f"  (train split) that the language step names a language, {und['train_und']} of them `und` in the\n"
        f"  gold.{measured}\n"
    )


def model_card(meta: dict) -> str:
    pages = "\n".join(f"| {key} | {count} |" for key, count in sorted(meta["pages"].items()))
    dev = ", ".join(f"{k} {v}" for k, v in meta["dev"].items()) or "none"
    return f"""# Relevance model

Trained {meta["trained"]} by `classifier train` (seed {meta["seed"]}); reproducible with the same
command, data and seed.

## What it is
- `content.ftz`: a fastText supervised classifier of each line, content or not, over word
  bigrams{_char_ngrams(meta, "content")}; `labels.ftz`: the same for the 13 labels, over word
  bigrams{_char_ngrams(meta, "labels")}. Both quantised; both read a line after a start-of-line
  token, so that the line's first word makes a bigram of its own ("See also", "By", "Photo:").
- `content.gbm.txt.gz`, `labels.gbm.txt.gz`: LightGBM models over {len(meta["features"])} features:
  layout (length, punctuation, capitalisation, digits, bullets, position, block shape, distance
  to long lines), repetition of the line within the page and across the documents labelled
  together, and the text models' scores of the line, its neighbours, its block, a window and
  the page.
{_second_stage_line(meta)}{_single_break_line(meta)}{_excerpts_line(meta)}{_members_line(meta)}- The content model's probability and the label model's mass on content labels,
  averaged, decide content vs not (threshold {meta["threshold"]}, chosen on the dev split); the
  label model picks the label within that side.
{_und_line(meta)}
## Training data
Pages of `../shared/data` in the train split (the dev split only picks the threshold; the test
split is never read), plus the project's hand labels in `data/gold/gold.csv` (train split)
and the five seed pages. Body/noise targets come from the benchmarks' gold; label targets from
the hand labels and, weighted down, from the benchmarks' gold classes (L3S headline,
full text, supplemental, related, comments; Dragnet comments).

| dataset/split | pages |
|---|---|
{pages}

Lines with a content target: {meta["lines"]["train_content_targets"]}; with a label target:
{meta["lines"]["train_label_targets"]} (of which hand-labelled: {meta["lines"]["train_hand_labels"]}).

## Figures
Dev split: {dev}.

{HELD_OUT_MARK}
Not measured yet: run `python scripts/benchmark.py --data ../shared/data`.
"""


# The und model (see classifier.lang.UND_FEATURES): small, as it reads 16 numbers a unit.
UND_ROUNDS = 100
UND_PARAMS = {"objective": "binary", "num_leaves": 15, "learning_rate": 0.1, "min_data_in_leaf": 20}
# A unit is called `und` when the model gives it at least this. On the dev gold lines (4,024),
# with the model learnt from the train lines: 0.3 / 0.4 / 0.5 / 0.6 gave language accuracy
# 0.904 / 0.914 / 0.914 / 0.913 (0.893 without the model), und found 0.65 / 0.57 / 0.46 / 0.37
# (0.13 without), and 188 / 109 / 58 / 26 lines with a language called und.
UND_THRESHOLD = 0.5


@dataclass(frozen=True)
class UndRows:
    """Gold lines with a language: the und model's features of those it is asked about, and
    what the labeller says without it."""

    features: np.ndarray
    asked: np.ndarray  # bool per gold line: a candidate (has a row in features)
    gold: list[str]
    guessed: list[str]


def _und_rows(documents: Sequence, lid: FastTextLID, fallback: LangdetectLID | None) -> UndRows:
    matrices, asked, gold, guessed = [], [], [], []
    for doc in documents:
        lines = reading_lines(doc.text)  # as the labeller reads them
        starts = [line.start for line in lines]
        texts = [line.text for line in lines]
        tops = lid.predict(texts)
        guesses, doc_lang = identify(texts, lid, fallback, tops)
        letters = [letter_count(text) for text in texts]
        wanted: dict[int, str] = {}
        for start, end, _label, lang in doc.units:
            for line in split_lines(doc.text[start:end]) if lang else ():
                wanted[int(np.searchsorted(starts, start + line.start, side="right")) - 1] = lang
        candidates = set(und_candidates(texts, guesses, letters))
        rows = sorted(i for i in wanted if i in candidates)
        matrices.append(und_matrix(texts, tops, letters, guesses, doc_lang, rows))
        for i in sorted(wanted):
            asked.append(i in candidates)
            gold.append(wanted[i])
            guessed.append(guesses[i].lang)
    width = len(UND_FEATURES)
    features = np.vstack(matrices) if matrices else np.zeros((0, width))
    return UndRows(features, np.array(asked, dtype=bool), gold, guessed)


def _und_figures(rows: UndRows, probabilities: np.ndarray, threshold: float) -> dict[str, float]:
    after = np.array(rows.guessed, dtype=object)
    after[np.flatnonzero(rows.asked)[probabilities >= threshold]] = UND
    gold, before = np.array(rows.gold, dtype=object), np.array(rows.guessed, dtype=object)
    und = gold == UND
    return {
        "gold_lines": len(gold),
        "accuracy_without": round(float((before == gold).mean()), 4),
        "accuracy": round(float((after == gold).mean()), 4),
        "und_recall_without": round(float((before[und] == UND).mean()), 4) if und.any() else 0.0,
        "und_recall": round(float((after[und] == UND).mean()), 4) if und.any() else 0.0,
        "language_lines_called_und": int(((after == UND) & ~und).sum()),
    }


def train_und(
    gold_path: Path, data_dir: Path | None, model_dir: Path, seed: int = DEFAULT_SEED, progress=lambda message: None
) -> dict:
    """Learn which short units are names, handles or brands (language ``und``) from the gold
    file's languages (its train split; the dev split measures), into ``model_dir``: writes
    ``lang_und.gbm.txt.gz`` and the ``und`` part of its meta.json. Returns that part, empty
    when the gold has no ``und`` lines to learn from."""
    import lightgbm

    from classifier.evaluate import read_gold

    meta_path = model_dir / "meta.json"
    if not meta_path.is_file():
        raise InputError(f"{model_dir} holds no model (no meta.json); train one first with `classifier train`.")
    progress("und model: languages of the gold lines")
    documents = read_gold(gold_path, data_dir)
    lid, fallback = FastTextLID(), LangdetectLID()
    train = _und_rows([d for d in documents if d.split in ("train", "")], lid, fallback)
    dev = _und_rows([d for d in documents if d.split == "dev"], lid, fallback)
    target = np.array([lang == UND for lang in train.gold], dtype=bool)[train.asked]
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if not target.any() or target.all():
        meta.pop("und", None)
        (model_dir / UND_MODEL_FILE).unlink(missing_ok=True)
        meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return {}
    progress(f"und model: {len(target)} lines, {int(target.sum())} und")
    params = {**UND_PARAMS, "seed": seed, "deterministic": True, "num_threads": 1, "verbose": -1}
    dataset = lightgbm.Dataset(train.features, target.astype(np.int8), feature_name=list(UND_FEATURES))
    booster = lightgbm.train(params, dataset, num_boost_round=UND_ROUNDS)
    with open(model_dir / UND_MODEL_FILE, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(booster.model_to_string().encode("utf-8"))
    und = {
        "features": list(UND_FEATURES),
        "threshold": UND_THRESHOLD,
        "train_lines": len(target),
        "train_und": int(target.sum()),
        "trained_from": str(gold_path.name),
        "trained": date.today().isoformat(),
    }
    if len(dev.gold):
        und["dev"] = _und_figures(dev, booster.predict(dev.features), UND_THRESHOLD)
    meta["und"] = und
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    _rewrite_card(model_dir / "README.md", meta)
    return und


def _rewrite_card(card: Path, meta: dict) -> None:
    """Write the model card anew but keep its held-out figures: retraining only the und model
    leaves the relevance model they measure as it was (their language lines go stale until
    ``scripts/benchmark.py`` runs again)."""
    held_out = ""
    if card.is_file():
        _, mark, rest = card.read_text(encoding="utf-8").partition(HELD_OUT_MARK)
        held_out = mark + rest
    fresh = model_card(meta)
    if held_out and HELD_OUT_MARK in fresh:
        fresh = fresh.split(HELD_OUT_MARK)[0] + held_out
    card.write_text(fresh, encoding="utf-8")
