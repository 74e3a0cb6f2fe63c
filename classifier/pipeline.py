"""Label documents: segment → language → relevance → units, in chunks of documents."""

from __future__ import annotations

import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import TypeVar

import numpy as np

from classifier.compiled import require_lleaves
from classifier.config import DEFAULT_CHUNK_DOCS, DEFAULT_PROFILE, UND, default_model_dir
from classifier.lang import FastTextLID, LangdetectLID, UndModel, identify
from classifier.readers import read_corpus, without_surrogates
from classifier.relevance import LABELS, PREDICT_BATCH_LINES, LinePrediction, RelevanceModel
from classifier.segment import Line, batches, join_units, reading_lines
from classifier.types import Document, LabelledUnit, LangGuess, Profile, Summary, Verdict

CHUNKS_AHEAD_PER_JOB = 2
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Settings:
    model_dir: Path | None = None  # None: $CLASSIFIER_MODEL, then the packaged model
    profile: Profile = DEFAULT_PROFILE
    target_lang: str | None = None  # None: each document's own language
    chunk_docs: int = DEFAULT_CHUNK_DOCS
    use_langdetect: bool = True
    # Threads of the boosters' predictions; 0: OpenMP's default (all cores). Worker
    # processes use one each, so that --jobs N runs N threads, not N times all cores.
    model_threads: int = 0
    # Average the model's members (models trained with other seeds); False: its first model
    # alone, which labels faster and moves more with its training seed.
    use_members: bool = True
    # Compile the boosters to machine code with lleaves (pip install .[fast]): the same labels,
    # about a fifth less time, after a compile of about 30 s that is cached per machine.
    compiled_boosters: bool = False


def in_target_language(lang: str, target: str) -> bool:
    """A unit passes the language filter in its target language or when either language is
    unknown (``und``: "37", "|"; a document whose language cannot be told filters nothing)."""
    return UND in (lang, target) or lang == target


class Labeller:
    """Holds the loaded models; label as many chunks as you like with one instance."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        model_dir = self.settings.model_dir or default_model_dir()
        threads, compiled = self.settings.model_threads, self.settings.compiled_boosters
        if compiled:
            require_lleaves()
        self.relevance = RelevanceModel(model_dir, threads, self.settings.use_members, compiled)
        self.und = UndModel.from_dir(model_dir, threads, compiled)
        self.lid = FastTextLID()
        self.fallback = LangdetectLID() if self.settings.use_langdetect else None

    @cached_property
    def _roles(self):
        return self.settings.profile.roles

    def label_chunk(self, documents: list[Document]) -> list[list[LabelledUnit]]:
        """Labelled units of each document of a chunk (see ``iter_chunk``)."""
        return list(self.iter_chunk(documents))

    def iter_chunk(self, documents: list[Document]) -> Iterator[list[LabelledUnit]]:
        """Labelled units of each document of a chunk, one document at a time; line
        repetition across documents is counted within the chunk."""
        # fastText rejects unpaired surrogates, which a caller's string may hold (the readers
        # replace them): the models read U+FFFD instead, the units keep the caller's text.
        lines_per_doc = [reading_lines(without_surrogates(doc.text)) for doc in documents]
        predictions = self.relevance.predict(
            [(lines, len(doc.text)) for doc, lines in zip(documents, lines_per_doc, strict=True)]
        )
        tops_per_doc = self._language_tops(lines_per_doc)
        for doc, lines, prediction, tops in zip(documents, lines_per_doc, predictions, tops_per_doc, strict=True):
            guesses, doc_lang = identify([line.text for line in lines], self.lid, self.fallback, tops, self.und)
            yield self._labelled_units(doc, lines, prediction, guesses, doc_lang)

    def _labelled_units(
        self, doc: Document, lines: list[Line], prediction: LinePrediction, guesses: list[LangGuess], doc_lang: str
    ) -> list[LabelledUnit]:
        """Join a document's labelled lines into units; a unit's scores are its lines' scores
        weighted by their length."""
        keys = [(int(label), guess.lang) for label, guess in zip(prediction.label_index, guesses, strict=True)]
        units = join_units(doc, lines, keys)
        target = self.settings.target_lang or doc_lang
        first = np.searchsorted([line.end for line in lines], [unit.start for unit in units], side="right")
        weights = np.fromiter((len(line.text) for line in lines), dtype=np.float64, count=len(lines))
        lang_scores = np.fromiter((g.score for g in guesses), dtype=np.float64, count=len(lines))
        totals = _sum_runs(weights, first)
        totals[totals == 0] = 1
        scores = _sum_runs(weights * prediction.label_score, first) / totals
        contents = _sum_runs(weights * prediction.content_prob, first) / totals
        lang_means = _sum_runs(weights * lang_scores, first) / totals
        labelled = []
        for k, unit in enumerate(units):
            line = first[k]
            lang = LangGuess(guesses[line].lang, float(lang_means[k]))
            verdict = Verdict(LABELS[int(prediction.label_index[line])], float(scores[k]), float(contents[k]))
            keep = verdict.role in self._roles and in_target_language(lang.lang, target)
            labelled.append(LabelledUnit(unit, lang, doc_lang, verdict, keep, doc.source))
        return labelled

    def _language_tops(self, lines_per_doc: list[list[Line]]) -> Iterator[list]:
        """fastText's language guesses for each document's lines, asked for a few thousand
        lines at a time: a call per document costs more than it reads."""
        for batch in batches([len(lines) for lines in lines_per_doc], PREDICT_BATCH_LINES):
            tops = iter(self.lid.predict([line.text for i in batch for line in lines_per_doc[i]]))
            for i in batch:
                yield list(islice(tops, len(lines_per_doc[i])))

    def label_documents(self, documents: Iterable[Document], jobs: int = 1) -> Iterator[list[LabelledUnit]]:
        """Labelled units per document (an empty list for an empty document), in input
        order, reading ``chunk_docs`` at a time; ``jobs`` > 1 labels chunks in that many
        worker processes, each loading the models once, with the same output."""
        for labelled in self.label_chunks(chunks_of(documents, self.settings.chunk_docs), jobs):
            yield from labelled

    def label_chunks(self, chunks: Iterable[list[Document]], jobs: int = 1) -> Iterator[list[list[LabelledUnit]]]:
        """Each chunk's labelled documents, chunk by chunk, in order."""
        return self.map_chunks(Labeller.label_chunk, chunks, jobs)

    def map_chunks(self, task: Callable[[Labeller, T], R], items: Iterable[T], jobs: int = 1) -> Iterator[R]:
        """``task(labeller, item)`` for each item, in order. With ``jobs`` > 1 the tasks run in
        that many worker processes, each holding its own ``Labeller`` (models loaded once per
        worker); ``task`` must then be picklable (a module-level function or a partial of one)."""
        if jobs <= 1:
            for item in items:
                yield task(self, item)
            return
        # Pool.imap would read the whole corpus ahead into its task queue; submitting a few
        # items ahead of the consumer keeps memory bounded by the chunk size.
        ahead = CHUNKS_AHEAD_PER_JOB * jobs
        context = multiprocessing.get_context("spawn")
        worker_settings = replace(self.settings, model_threads=1)
        with context.Pool(jobs, initializer=_init_worker, initargs=(worker_settings,)) as pool:
            pending: deque = deque()
            for item in items:
                pending.append(pool.apply_async(_run_in_worker, (task, item)))
                if len(pending) >= ahead:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()


def _sum_runs(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of ``values`` over the runs that begin at ``starts`` (each to the next)."""
    return np.add.reduceat(values, starts) if len(starts) else np.zeros(0)


def chunks_of(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    iterator = iter(documents)
    while chunk := list(islice(iterator, size)):
        yield chunk


_WORKER: Labeller | None = None


def _init_worker(settings: Settings) -> None:
    global _WORKER
    _WORKER = Labeller(settings)


def _run_in_worker(task: Callable[[Labeller, T], R], item: T) -> R:
    assert _WORKER is not None
    return task(_WORKER, item)


def label_text(text: str, settings: Settings | None = None, doc_id: str = "text") -> list[LabelledUnit]:
    """Label one document given as a string."""
    return Labeller(settings).label_chunk([Document(id=doc_id, text=text)])[0]


def label_corpus(
    path: str | Path,
    settings: Settings | None = None,
    **read_options,
) -> Iterator[LabelledUnit]:
    """Stream the labelled units of a corpus (file, folder or ``-``); see ``read_corpus``."""
    labeller = Labeller(settings)
    for units in labeller.label_documents(read_corpus(path, **read_options)):
        yield from units


def label_dataframe(path_or_texts, settings: Settings | None = None, **read_options):
    """A pandas DataFrame with one row per unit, from a corpus path or a list of texts."""
    import pandas as pd

    from classifier.types import RECORD_COLUMNS

    if isinstance(path_or_texts, (str, Path)):
        units = label_corpus(path_or_texts, settings, **read_options)
    else:
        documents = [Document(id=str(i), text=t) for i, t in enumerate(path_or_texts)]
        units = (u for doc in Labeller(settings).label_documents(documents) for u in doc)
    return pd.DataFrame([u.to_record() for u in units], columns=list(RECORD_COLUMNS))


@dataclass
class SummaryCounter:
    """Accumulates the end-of-run summary while units stream past."""

    documents: int = 0
    units: int = 0
    kept_units: int = 0
    characters: int = 0
    kept_characters: int = 0
    labels: Counter = field(default_factory=Counter)
    languages: Counter = field(default_factory=Counter)
    skipped: list = field(default_factory=list)

    def add_document(self) -> None:
        self.documents += 1

    def add(self, unit: LabelledUnit) -> None:
        self.units += 1
        size = unit.unit.end - unit.unit.start
        self.characters += size
        if unit.keep:
            self.kept_units += 1
            self.kept_characters += size
        self.labels[unit.verdict.label.value] += 1
        self.languages[unit.lang.lang] += 1

    def merge(self, other: dict) -> None:
        """Add the counts of a finished part (see ``to_dict``)."""
        for name, value in other.items():
            mine = getattr(self, name)
            if isinstance(mine, int):
                setattr(self, name, mine + value)
            elif isinstance(mine, Counter):
                mine.update(value)
            else:
                mine.extend(value)

    def to_dict(self) -> dict:
        """Plain JSON-ready counts, most frequent labels and languages first."""
        out = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name] = (
                dict(value.most_common())
                if isinstance(value, Counter)
                else list(value)
                if isinstance(value, list)
                else value
            )
        return out

    def summary(self) -> Summary:
        counts = self.to_dict()
        return Summary(**counts | {"skipped": tuple(counts["skipped"])})
