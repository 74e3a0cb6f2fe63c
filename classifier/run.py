"""Label a whole corpus into a file: chunk by chunk, resumable, with a summary and a log.

Each chunk of documents is written as its own part file (atomically) in ``OUT.parts/``
with its counts beside it; when all chunks are done the parts are joined into ``OUT``
(atomically) and the folder is removed. A run that was interrupted leaves its finished
parts, and ``resume=True`` carries on after them: no document is labelled twice and no row
is written twice. The same input and settings give byte-identical output.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from classifier.errors import InputError, OutputError
from classifier.pipeline import Labeller, Settings, SummaryCounter, chunks_of
from classifier.readers import read_corpus
from classifier.types import Document, Summary
from classifier.write import OutputFormat, atomic_path, merge_parts, write_records

Notify = Callable[[str], None]


@dataclass(frozen=True)
class RunResult:
    summary: Summary
    log_path: Path | None
    resumed_documents: int


def _fingerprint(corpus: str, settings: Settings, fmt: OutputFormat, read_options: dict) -> str:
    described = {
        "corpus": str(Path(corpus).resolve()) if corpus != "-" else "-",
        "settings": {k: str(v) for k, v in asdict(settings).items()},
        "format": fmt.value,
        "read": {k: str(v) for k, v in sorted(read_options.items())},
    }
    return hashlib.sha1(json.dumps(described, sort_keys=True).encode()).hexdigest()


def _parts_dir(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def label_to_file(
    corpus: str,
    output: Path | None,
    fmt: OutputFormat,
    settings: Settings,
    *,
    jobs: int = 1,
    resume: bool = False,
    log_path: Path | None = None,
    read_options: dict | None = None,
    on_document: Callable[[], None] = lambda: None,
    warn: Notify = lambda message: None,
) -> RunResult:
    """Label ``corpus`` into ``output`` (``None``: standard output) and return the summary.

    Reader warnings (skipped files, bad lines, undecodable bytes) go to ``warn`` as they
    happen, into the summary, and into a log file: ``log_path``, or ``OUT.log`` when there
    is something to log and ``output`` is a file.
    """
    read_options = dict(read_options or {})
    labeller = Labeller(settings)
    counter = SummaryCounter()
    pending: list[str] = []

    def collect(message: str) -> None:
        pending.append(message)
        warn(message)

    if output is None or str(output) == "-":
        if resume:
            raise InputError("--resume needs an output file (-o); standard output cannot be resumed.")
        documents = read_corpus(corpus, **read_options, warn=collect)

        def records() -> Iterator[dict]:
            for chunk in labeller.label_chunks(chunks_of(documents, settings.chunk_docs), jobs):
                for units in chunk:
                    counter.add_document()
                    on_document()
                    for unit in units:
                        counter.add(unit)
                        yield unit.to_record()
            counter.skipped.extend(pending)

        write_records(records(), output, fmt)
        return RunResult(counter.summary(), _write_log(log_path, counter.skipped), 0)

    output = Path(output)
    parts = _parts_dir(output)
    fingerprint = _fingerprint(corpus, settings, fmt, read_options)
    done = _finished_parts(parts, fingerprint) if resume else []
    if not resume and parts.exists():
        shutil.rmtree(parts)
    try:
        parts.mkdir(parents=True, exist_ok=True)
        (parts / "run.json").write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")
    except OSError as error:
        raise OutputError(
            f"Cannot write beside {output}: {error.strerror}. Choose a folder you can write to with -o."
        ) from error
    resumed = 0
    for summary in done:
        counter.merge(summary)
        resumed += summary["documents"]
    # Documents of finished parts are read again (to reach the first new one) but not
    # labelled, and their warnings were logged the first time.
    skip_documents_left = [resumed]
    documents = read_corpus(corpus, **read_options, warn=lambda m: None if skip_documents_left[0] > 0 else collect(m))

    def remaining() -> Iterator[Document]:
        for document in documents:
            if skip_documents_left[0] > 0:
                skip_documents_left[0] -= 1
                continue
            yield document

    # Reader warnings belong to the chunk whose reading raised them: deterministic, and a
    # resumed run neither repeats nor loses them.
    chunk_warnings: deque[list[str]] = deque()

    def part_jobs() -> Iterator[tuple[Path, list[Document]]]:
        for number, chunk in enumerate(chunks_of(remaining(), settings.chunk_docs), start=len(done)):
            chunk_warnings.append(pending[:])
            pending.clear()
            yield parts / f"part-{number:06d}.{fmt.value}", chunk

    index = len(done)
    # Each chunk is labelled and written to its part file in one task (in the workers, with
    # --jobs), so only the counts come back here.
    for part_counts in labeller.map_chunks(functools.partial(_label_part, fmt=fmt), part_jobs(), jobs):
        for _ in range(part_counts["documents"]):
            on_document()
        part_counts["skipped"] = chunk_warnings.popleft()
        # The counts are written last: a part without them is redone on resume.
        with atomic_path(parts / f"part-{index:06d}.json") as tmp:
            tmp.write_text(json.dumps(part_counts), encoding="utf-8")
        counter.merge(part_counts)
        index += 1
    counter.skipped.extend(pending)
    merge_parts([parts / f"part-{i:06d}.{fmt.value}" for i in range(index)], output, fmt)
    shutil.rmtree(parts, ignore_errors=True)
    log = log_path or (output.with_name(output.name + ".log") if counter.skipped else None)
    return RunResult(counter.summary(), _write_log(log, counter.skipped), resumed)


def _label_part(labeller: Labeller, job: tuple[Path, list[Document]], fmt: OutputFormat) -> dict:
    """Label one chunk into its part file, streaming, and return the part's counts."""
    path, chunk = job
    counter = SummaryCounter()

    def records() -> Iterator[dict]:
        for units in labeller.iter_chunk(chunk):
            counter.add_document()
            for unit in units:
                counter.add(unit)
                yield unit.to_record()

    write_records(records(), path, fmt)
    return counter.to_dict()


def _finished_parts(parts: Path, fingerprint: str) -> list[dict]:
    """Counts of the finished parts of an earlier run with the same input and settings."""
    if not parts.is_dir():
        return []
    run = parts / "run.json"
    if not run.is_file() or json.loads(run.read_text(encoding="utf-8")).get("fingerprint") != fingerprint:
        raise InputError(
            f"{parts} holds an unfinished run with other input or settings. "
            "Run again with the same options to resume it, or without --resume to start over."
        )
    summaries = []
    index = 0
    while (parts / f"part-{index:06d}.json").is_file():
        summaries.append(json.loads((parts / f"part-{index:06d}.json").read_text(encoding="utf-8")))
        index += 1
    return summaries


def _write_log(path: Path | None, messages: list[str]) -> Path | None:
    if path is None:
        return None
    with atomic_path(Path(path)) as tmp:
        tmp.write_text("".join(f"{m}\n" for m in messages), encoding="utf-8")
    return Path(path)
