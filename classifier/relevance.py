"""The relevance model: what each line is (13 labels) and how likely it is article content.

Three parts, stored together in one model folder:
- two fastText text classifiers over word and character n-grams: ``content.ftz``
  (content or not) and ``labels.ftz`` (the 13 labels);
- two LightGBM models (gzipped text) over layout and context features plus the text models' scores of the
  line and its neighbours: ``content.gbm.txt.gz`` decides content vs not, ``labels.gbm.txt``
  decides which label within the chosen side;
- ``meta.json``: feature names, label order, the decision threshold, training figures, and
  the sub-folders of member models trained with other seeds, whose beliefs are averaged in.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from pathlib import Path

import numpy as np

from classifier.compiled import load_booster
from classifier.config import MODEL_TEXT_CHARS
from classifier.errors import ModelError
from classifier.features import (
    LINE_FEATURES,
    context_features,
    context_names,
    corpus_repetition,
    is_residue,
    line_features,
    line_keys,
    text_stats,
    window_mean,
)
from classifier.segment import Line, batches, distinct, normalise
from classifier.types import Label, Role

LABELS = tuple(Label)
NAVIGATION_INDEX = LABELS.index(Label.NAVIGATION)
CONTENT_LABELS = np.array([label.role is Role.CONTENT for label in LABELS])
MODEL_FILES = ("meta.json", "content.ftz", "labels.ftz", "content.gbm.txt.gz", "labels.gbm.txt.gz")
# A second stage reads the first stage's predictions of each line's neighbourhood.
STACK_FILES = ("stack_content.gbm.txt.gz", "stack_labels.gbm.txt.gz")
FASTTEXT_PREFIX = "__label__"
CONTENT_TEXT_LABEL = FASTTEXT_PREFIX + "content"
PREDICT_BATCH_LINES = 4096


# Once a page has shown a comment form or a list of links, what follows is seldom article.
RUNNING_BEFORE = (Label.COMMENT_PROMPT, Label.USER_COMMENT, Label.RELATED, Label.LEGAL, Label.PROMO, Label.BODY)
RUNNING_AFTER = (Label.BODY, Label.HEADING)
LABEL_WINDOW = 3


def feature_names() -> list[str]:
    names = list(LINE_FEATURES) + list(context_names("ft_content"))
    names += [f"ft_{label.value}" for label in LABELS]
    names += [f"ft_prev_{label.value}" for label in LABELS]
    names += [f"ft_next_{label.value}" for label in LABELS]
    names += [f"ft_window_{label.value}" for label in LABELS]
    names += [f"ft_max_before_{label.value}" for label in RUNNING_BEFORE]
    names += [f"ft_max_after_{label.value}" for label in RUNNING_AFTER]
    return names


def stack_names() -> list[str]:
    """Second-stage features: the first stage's beliefs about each line and its neighbours."""
    names: list[str] = []
    for column in ["content"] + [label.value for label in LABELS]:
        names += context_names(f"s1_{column}")
    names += [f"s1_max_before_{label.value}" for label in RUNNING_BEFORE]
    names += [f"s1_max_after_{label.value}" for label in RUNNING_AFTER]
    return names


def _running_max(values: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Max over the lines strictly before each line (or after, with ``reverse``)."""
    if reverse:
        return _running_max(values[::-1])[::-1]
    shifted = np.concatenate([[0.0], values[:-1]]) if len(values) else values
    return np.maximum.accumulate(shifted) if len(values) else values


# The text models read each line after this token, so that "start of line + first word" is a
# word bigram: what a line opens with ("See also", "By", "Photo:", "©") often says what it is.
# On the dev pages it raised line F1 from 0.867 to 0.881; an end-of-line token added nothing.
LINE_START = "_bol_"
# Written to meta.json: a model trained on text written otherwise must not be used.
TEXT_FORMAT = f"{LINE_START} + normalised line"


def model_text(line: Line) -> str:
    return f"{LINE_START} {normalise(line.text[:MODEL_TEXT_CHARS]) or '_'}"


def ft_content_scores(model, texts: Sequence[str]) -> np.ndarray:
    labels, probs = model.predict(list(texts), k=2)
    if not len(texts):
        return np.zeros(0, dtype=np.float32)
    # Each line's labels come most likely first: the content probability is the first or the
    # second (a model that knows one label gives one, and the other is its complement).
    first_is_content = np.fromiter((ls[0] for ls in labels), dtype=object, count=len(texts)) == CONTENT_TEXT_LABEL
    probs = np.vstack(probs)
    second = probs[:, 1] if probs.shape[1] > 1 else 1.0 - probs[:, 0]
    return np.where(first_is_content, probs[:, 0], second).astype(np.float32)


def ft_label_scores(model, texts: Sequence[str]) -> np.ndarray:
    labels, probs = model.predict(list(texts), k=len(LABELS))
    out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    if not len(texts):
        return out
    # Each line's labels come in its own order (most likely first); scattered into columns at
    # once. A model trained without some label (a tiny one) gives fewer than 13.
    position = {FASTTEXT_PREFIX + label.value: j for j, label in enumerate(LABELS)}
    index = {name: position.get(name, -1) for name in model.get_labels()}
    counts = np.fromiter(map(len, labels), dtype=np.int64, count=len(texts))
    columns = np.fromiter(map(index.__getitem__, chain.from_iterable(labels)), dtype=np.int64, count=counts.sum())
    rows = np.repeat(np.arange(len(texts)), counts)
    known = columns >= 0
    out[rows[known], columns[known]] = np.concatenate(probs)[known]
    return out


def assemble_features(
    lines: Sequence[Line], layout: np.ndarray, content: np.ndarray, label_probs: np.ndarray
) -> np.ndarray:
    """All model features of one document's lines, given the text models' scores."""
    previous = (
        np.vstack([np.full((1, len(LABELS)), -1.0, dtype=np.float32), label_probs[:-1]]) if len(lines) else label_probs
    )
    following = (
        np.vstack([label_probs[1:], np.full((1, len(LABELS)), -1.0, dtype=np.float32)]) if len(lines) else label_probs
    )
    window = window_mean(label_probs, LABEL_WINDOW) if len(lines) else label_probs
    running = _running_columns(lines, label_probs)
    return np.hstack(
        [layout, context_features(content, lines), label_probs, previous, following, window, running]
    ).astype(np.float32)


def _running_columns(lines: Sequence[Line], label_probs: np.ndarray) -> np.ndarray:
    if not len(lines):
        return np.zeros((0, len(RUNNING_BEFORE) + len(RUNNING_AFTER)), dtype=np.float32)
    before = [_running_max(label_probs[:, LABELS.index(label)]) for label in RUNNING_BEFORE]
    after = [_running_max(label_probs[:, LABELS.index(label)], reverse=True) for label in RUNNING_AFTER]
    return np.column_stack(before + after)


def stack_features(lines: Sequence[Line], content_prob: np.ndarray, label_probs: np.ndarray) -> np.ndarray:
    """Features of one document's lines from the first stage's predictions: each belief of the
    line itself, its neighbours, its block, a window and the page, and running maxima (a
    comment thread's lines follow a line the first stage saw as a comment form)."""
    beliefs = np.column_stack([content_prob, label_probs]) if len(lines) else np.zeros((0, 1 + len(LABELS)))
    return np.hstack([context_features(beliefs, lines), _running_columns(lines, label_probs)]).astype(np.float32)


def content_score(content_prob: np.ndarray, label_probs: np.ndarray) -> np.ndarray:
    """Both models' belief that a line is content, averaged: on the dev split the average
    beats either model alone (line F1 0.871 against 0.852 and 0.672)."""
    return (content_prob + label_probs[:, CONTENT_LABELS].sum(axis=1)) / 2


def combine(content_prob: np.ndarray, label_probs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Label index and its score per line: the side (content or not) from both models, the
    label within that side from the label model."""
    content_prob = content_score(content_prob, label_probs)
    is_content = content_prob >= threshold
    side = np.where(is_content[:, None], CONTENT_LABELS[None, :], ~CONTENT_LABELS[None, :])
    within = np.where(side, label_probs, 0.0)
    within = within / np.maximum(within.sum(axis=1, keepdims=True), 1e-9)
    best = within.argmax(axis=1)
    side_prob = np.where(is_content, content_prob, 1.0 - content_prob)
    return best, side_prob * within[np.arange(len(best)), best]


def second_stage(
    boosters: tuple,
    matrix: np.ndarray,
    lines_per_doc: Sequence[Sequence[Line]],
    content_prob: np.ndarray,
    label_probs: np.ndarray,
    **predict_options,
) -> tuple[np.ndarray, np.ndarray]:
    """The second stage's (content, label) predictions for the rows of ``matrix`` (the first
    stage's features of several documents' lines, in order), given the first stage's ones;
    ``predict_options`` go to LightGBM's predict."""
    rows = np.hstack([matrix, stacked_matrix(lines_per_doc, content_prob, label_probs)])
    return boosters[0].predict(rows, **predict_options), boosters[1].predict(rows, **predict_options)


def stacked_matrix(
    lines_per_doc: Sequence[Sequence[Line]], content_prob: np.ndarray, label_probs: np.ndarray
) -> np.ndarray:
    """``stack_features`` of several documents whose lines' predictions are concatenated."""
    blocks, offset = [], 0
    for lines in lines_per_doc:
        n = len(lines)
        blocks.append(stack_features(lines, content_prob[offset : offset + n], label_probs[offset : offset + n]))
        offset += n
    return np.vstack(blocks) if blocks else np.zeros((0, len(stack_names())), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class LinePrediction:
    content_prob: np.ndarray  # per line
    label_index: np.ndarray  # per line, into LABELS
    label_score: np.ndarray


class RelevanceModel:
    """Loads a model folder lazily; predicts a chunk of documents at once."""

    def __init__(self, directory: Path, threads: int = 0, members: bool = True, compiled: bool = False) -> None:
        self.directory = Path(directory)
        # Boosters compiled to machine code when lleaves is installed (see classifier.compiled).
        self.compiled = compiled
        # Threads of the boosters' predictions; 0: OpenMP's default.
        self.predict_options = {"num_threads": threads} if threads else {}
        missing = [name for name in MODEL_FILES if not (self.directory / name).is_file()]
        if missing:
            raise ModelError(
                f"Model folder {self.directory} lacks {', '.join(missing)}. A model folder is what "
                "`classifier train` writes; pass one with --model or set $CLASSIFIER_MODEL."
            )
        self.meta = json.loads((self.directory / "meta.json").read_text(encoding="utf-8"))
        self.stacked = bool(self.meta.get("stack"))
        # What the model was trained on against what this version feeds it.
        expected = [
            ("features", feature_names(), "with other features than this version computes"),
            ("text_format", TEXT_FORMAT, "on text written otherwise than this version feeds its text models"),
        ]
        if self.stacked:
            expected.append(
                ("stack_features", stack_names(), "with other second-stage features than this version computes")
            )
        for key, value, mismatch in expected:
            if self.meta.get(key) != value:
                raise ModelError(
                    f"Model in {self.directory} was trained {mismatch}. Retrain it with `classifier train`."
                )
        # With its members the model decides at the threshold chosen for their average;
        # without them, at the one chosen for it alone.
        use_members = members and bool(self.meta.get("members"))
        self.threshold = float(
            self.meta["threshold"] if use_members else self.meta.get("own_threshold", self.meta["threshold"])
        )
        if self.stacked and not all((self.directory / name).is_file() for name in STACK_FILES):
            raise ModelError(f"Model folder {self.directory} lacks {' or '.join(STACK_FILES)}; retrain it.")
        # Models trained like this one with other seeds, in sub-folders: their beliefs are
        # averaged with this one's before the decision (see TrainSettings.member_seeds).
        self.members = tuple(
            RelevanceModel(self.directory / name, threads, compiled=compiled)
            for name in self.meta.get("members", [])
            if use_members
        )

    @cached_property
    def _fasttext(self):
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None
        return (
            fasttext.load_model(str(self.directory / "content.ftz")),
            fasttext.load_model(str(self.directory / "labels.ftz")),
        )

    @cached_property
    def _boosters(self):
        def load(name: str):
            return load_booster(self.directory / name, self.compiled)

        first = (load("content.gbm.txt.gz"), load("labels.gbm.txt.gz"))
        second = (load(STACK_FILES[0]), load(STACK_FILES[1])) if self.stacked else None
        return first, second

    def predict(self, documents: Sequence[tuple[Sequence[Line], int]]) -> list[LinePrediction]:
        """Predictions for each (lines, text length) of a chunk; line repetition is counted
        across the chunk's documents."""
        out: list[LinePrediction] = []
        for batch, (content_prob, label_probs) in self._batches(documents):
            out += self._decide([documents[j][0] for j in batch], content_prob, label_probs)
        return out

    def beliefs(self, documents: Sequence[tuple[Sequence[Line], int]]) -> tuple[np.ndarray, np.ndarray]:
        """Every line's content probability and 13 label probabilities (averaged over the
        members), all documents' lines in order: what ``predict`` decides from."""
        parts = [probabilities for _, probabilities in self._batches(documents)]
        if not parts:
            return np.zeros(0), np.zeros((0, len(LABELS)))
        return np.concatenate([p[0] for p in parts]), np.vstack([p[1] for p in parts])

    def _batches(self, documents: Sequence[tuple[Sequence[Line], int]]):
        keys_per_doc = [line_keys(lines) for lines, _ in documents]
        repetition = corpus_repetition(keys_per_doc)
        for batch in batches([len(lines) for lines, _ in documents], PREDICT_BATCH_LINES):
            chosen = [documents[j] for j in batch]
            yield batch, self._batch_beliefs(chosen, [keys_per_doc[j] for j in batch], repetition)

    def _batch_beliefs(
        self, documents: Sequence[tuple[Sequence[Line], int]], keys_per_doc: Sequence[list[str]], repetition: Counter
    ) -> tuple[np.ndarray, np.ndarray]:
        texts, inverse = distinct([model_text(line) for lines, _ in documents for line in lines])
        if not texts:
            return np.zeros(0), np.zeros((0, len(LABELS)))
        lines_per_doc = [lines for lines, _ in documents]
        # Layout features do not depend on the model: computed once for all members.
        stats = text_stats([line.text for lines in lines_per_doc for line in lines])
        layouts, offset = [], 0
        for (lines, length), keys in zip(documents, keys_per_doc, strict=True):
            n = len(lines)
            layouts.append(line_features(lines, length, repetition, keys, stats[offset : offset + n]))
            offset += n
        beliefs = [model._member_beliefs(texts, inverse, lines_per_doc, layouts) for model in (self, *self.members)]
        if len(beliefs) == 1:
            return beliefs[0]
        return np.mean([b[0] for b in beliefs], axis=0), np.mean([b[1] for b in beliefs], axis=0)

    def _member_beliefs(
        self, texts: list[str], inverse: np.ndarray, lines_per_doc: Sequence[Sequence[Line]], layouts: list[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """This model's own beliefs (not its members'), given the lines' distinct texts and layouts."""
        ft_content, ft_labels = self._fasttext
        content_text = ft_content_scores(ft_content, texts)[inverse]
        label_text = ft_label_scores(ft_labels, texts)[inverse]
        blocks, offset = [], 0
        for lines, layout in zip(lines_per_doc, layouts, strict=True):
            n = len(lines)
            blocks.append(
                assemble_features(lines, layout, content_text[offset : offset + n], label_text[offset : offset + n])
            )
            offset += n
        matrix = np.vstack(blocks)
        (gbm_content, gbm_labels), second = self._boosters
        content_prob = gbm_content.predict(matrix, **self.predict_options)
        label_probs = gbm_labels.predict(matrix, **self.predict_options)
        if second is not None:
            content_prob, label_probs = second_stage(
                second, matrix, lines_per_doc, content_prob, label_probs, **self.predict_options
            )
        return content_prob, label_probs

    def _decide(
        self, lines_per_doc: Sequence[Sequence[Line]], content_prob: np.ndarray, label_probs: np.ndarray
    ) -> list[LinePrediction]:
        if not len(content_prob):
            return [LinePrediction(np.zeros(0), np.zeros(0, dtype=int), np.zeros(0)) for _ in lines_per_doc]
        best, score = combine(content_prob, label_probs, self.threshold)
        residue = np.fromiter(
            (is_residue(line.text) for lines in lines_per_doc for line in lines), dtype=bool, count=len(content_prob)
        )
        best[residue] = NAVIGATION_INDEX
        score[residue] = 1.0
        content_prob = np.where(residue, 0.0, content_prob)
        out, offset = [], 0
        for lines in lines_per_doc:
            n = len(lines)
            out.append(
                LinePrediction(content_prob[offset : offset + n], best[offset : offset + n], score[offset : offset + n])
            )
            offset += n
        return out
