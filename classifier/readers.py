"""Read corpora into Documents: text files, folders, standard input, JSONL, CSV, Parquet and
WET (Common Crawl's extracted text); text, JSONL, CSV and WET files may be compressed (.gz,
.bz2, .xz, .zst)."""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import gzip
import io
import json
import lzma
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path

try:  # Python 3.14 has Zstandard in the standard library; before, its backport (the same API)
    from compression import zstd
except ImportError:
    from backports import zstd

from classifier.config import DEFAULT_GLOB, DEFAULT_TEXT_COLUMN
from classifier.errors import InputError
from classifier.types import Document

BINARY_SNIFF_BYTES = 8192
ERROR_QUOTE_CHARS = 160
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class InputFormat(str, Enum):
    TEXT = "text"
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"
    WET = "wet"


SUFFIX_FORMATS = {
    ".txt": InputFormat.TEXT,
    ".text": InputFormat.TEXT,
    ".jsonl": InputFormat.JSONL,
    ".ndjson": InputFormat.JSONL,
    ".csv": InputFormat.CSV,
    ".parquet": InputFormat.PARQUET,
    ".wet": InputFormat.WET,
}

Warn = Callable[[str], None]


def _ignore(message: str) -> None:
    return None


# Scraped corpora are often stored compressed (`pages.jsonl.gz`; large training corpora
# mostly as `.jsonl.zst`): read as they stream.
COMPRESSION_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".zst": zstd.open}
# What a truncated or corrupt compressed file raises while it is read.
DECOMPRESSION_ERRORS = (EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile, zstd.ZstdError, OSError)


def sniff_format(path: Path) -> InputFormat:
    """The format named by the file's extension, under a compression suffix if any."""
    if path.suffix.lower() in COMPRESSION_OPENERS:
        path = path.with_suffix("")
    return SUFFIX_FORMATS.get(path.suffix.lower(), InputFormat.TEXT)


def _opener(path: Path) -> Callable:
    return COMPRESSION_OPENERS.get(path.suffix.lower(), open)


# Ends the warning of a document whose undecodable bytes were replaced: it is labelled, not
# skipped, and the run's summary counts it apart from the skipped input.
FLAGGED = "document flagged."


def decode(data: bytes) -> tuple[str, bool]:
    """The text of a file, UTF-8 unless a byte-order mark says UTF-16 (Windows' "Unicode"
    text), and whether bytes had to be replaced (the document is flagged, not lost)."""
    encoding = "utf-16" if data.startswith(UTF16_BOMS) else "utf-8-sig"
    try:
        return data.decode(encoding), False
    except UnicodeDecodeError:
        return data.decode(encoding, errors="replace"), True


def looks_binary(data: bytes) -> bool:
    """NUL bytes near the start, which text never holds (UTF-16 aside, known by its mark)."""
    return not data.startswith(UTF16_BOMS) and b"\x00" in data[:BINARY_SNIFF_BYTES]


def _text_file(path: Path, doc_id: str, warn: Warn, on_error: str = "fail") -> Iterator[Document]:
    try:
        with _opener(path)(path, "rb") as handle:
            data = handle.read()
    except DECOMPRESSION_ERRORS as error:
        _read_failed(path, error, on_error, warn, "Skipped.")
        return
    if looks_binary(data):
        warn(f"{path}: skipped, looks binary (NUL bytes); only text files are labelled.")
        return
    text, replaced = decode(data)
    if replaced:
        _flag(str(path), warn)
    yield Document(id=doc_id, text=text, source=str(path), decode_errors=replaced)


def _flag(where: str, warn: Warn) -> None:
    warn(f"{where}: invalid UTF-8 (or unpaired surrogates), replaced by U+FFFD; {FLAGGED}")


# JSONL, CSV and standard input are decoded as UTF-8 with or without a byte-order mark (Excel
# writes one before a CSV header) and with ``surrogateescape``: each byte that is not
# UTF-8 becomes a lone surrogate, which valid text never holds, so a row's bad bytes are told
# apart from a U+FFFD the writer put there. A JSON string may also hold an unpaired surrogate
# escape (half an emoji cut off); none of them can be written back as UTF-8.
SURROGATES = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with each surrogate as U+FFFD, one character for one: offsets stay."""
    return SURROGATES.sub("\ufffd", text) if SURROGATES.search(text) else text


def _repaired(decoded: str, where: str, warn: Warn) -> tuple[str, bool]:
    """``decoded`` with its undecodable bytes and unpaired surrogates replaced by U+FFFD, and
    whether it had any (then warned)."""
    repaired = without_surrogates(decoded)
    if repaired is not decoded:
        _flag(where, warn)
    return repaired, repaired is not decoded


def _read_failed(path: Path, error: Exception, on_error: str, warn: Warn, skipped: str) -> None:
    """Raise for a file that cannot be read; a truncated or corrupt compressed file is
    reported and skipped instead (``skipped`` says what of it) with ``on_error='skip'``."""
    if isinstance(error, OSError) and error.strerror:
        raise InputError(f"Cannot read {path}: {error.strerror}. Check the path and its permissions.") from error
    compressed = path.suffix.lower() in COMPRESSION_OPENERS
    problem = f"{path}: truncated or corrupt {'compressed ' if compressed else ''}file ({error})."
    if on_error == "skip":
        warn(f"{problem} {skipped}")
        return
    fix = "Decompress it to see what is left" if compressed else "Fetch the file again"
    raise InputError(f"{problem} {fix}, or pass --on-error skip.") from error


def _record_document(
    record: dict, text_column: str, id_column: str | None, where: str, fallback_id: str, source: str, warn: Warn
) -> Document:
    """The document of a JSONL or CSV record; ``where`` (file:line) names it in errors and warnings."""
    if text_column not in record:
        raise InputError(
            f"Column '{text_column}' not found in {where}. Available: {', '.join(map(str, record))}. Use --text-column."
        )
    if id_column is not None and id_column not in record:
        raise InputError(
            f"Column '{id_column}' not found in {where}. Available: {', '.join(map(str, record))}. "
            "Use --id-column, or leave it out to number the rows."
        )
    value = record[text_column]
    text, flagged = _repaired("" if value is None else str(value), where, warn)
    doc_id = without_surrogates(str(record[id_column])) if id_column else fallback_id
    return Document(id=doc_id, text=text, source=source, decode_errors=flagged)


def _jsonl(
    stream: io.TextIOBase, name: str, text_column: str, id_column: str | None, on_error: str, warn: Warn
) -> Iterator[Document]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            message = f"{name}:{number}: not a JSON object ({error}). Each line must be one JSON object; fix the line or use --on-error skip."
            if on_error == "skip":
                warn(message)
                continue
            raise InputError(message) from error
        where = f"{name}:{number}"
        yield _record_document(record, text_column, id_column, where, where, name, warn)


def _csv(
    stream: io.TextIOBase, name: str, text_column: str, id_column: str | None, on_error: str, warn: Warn
) -> Iterator[Document]:
    csv.field_size_limit(sys.maxsize)
    # Strict: a quote left open would otherwise swallow every row after it into one field.
    reader = csv.DictReader(stream, strict=True)
    number = 1  # rows read, the header included: a document's fallback id is file:row
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            number += 1
            # The reader counts the lines of a row only once it has parsed the row.
            _bad_row(f"{name}:{reader.line_num + 1}: not a readable CSV row ({error})", on_error, warn)
            continue
        number += 1
        problem = None
        if None in record:
            problem = "more fields than the header has; quote fields that contain commas"
        elif text_column in record and (
            record[text_column] is None or (id_column in record and record[id_column] is None)
        ):
            problem = "fewer fields than the header has"
        if problem:
            _bad_row(f"{name}:{reader.line_num}: {problem}", on_error, warn)
            continue
        where = f"{name}:{reader.line_num}"
        yield _record_document(record, text_column, id_column, where, f"{name}:{number}", name, warn)


def _bad_row(problem: str, on_error: str, warn: Warn) -> None:
    """Stop on a malformed row, or (``on_error='skip'``) report it and go on."""
    if on_error == "skip":
        warn(f"{problem}; row skipped.")
        return
    raise InputError(f"{problem}. Fix the row, or pass --on-error skip to skip such rows.")


def _wet(path: Path, on_error: str, warn: Warn) -> Iterator[Document]:
    """The text records (WARC-Type ``conversion``) of a WET file, as Common Crawl writes the
    text it extracts from each page it fetched; the page's URL is the document's id. warcio
    reads a record cut short by the end of the file as if whole: its Content-Length tells."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    read = 0
    try:
        with _opener(path)(path, "rb") if str(path) != "-" else contextlib.nullcontext(sys.stdin.buffer) as handle:
            records = ArchiveIterator(handle)
            for record in records:
                if record.rec_type != "conversion":
                    continue
                headers = record.rec_headers
                data = record.content_stream().read()
                if len(data) < int(headers.get_header("Content-Length") or 0):
                    raise EOFError(f"the record at byte {records.get_record_offset()} is cut short")
                where = f"{path}@{records.get_record_offset()}"
                text, flagged = decode(data)
                if flagged:
                    _flag(where, warn)
                doc_id = headers.get_header("WARC-Target-URI") or headers.get_header("WARC-Record-ID") or where
                read += 1
                yield Document(id=doc_id, text=text, source=str(path), decode_errors=flagged)
    except ArchiveLoadFailed as error:
        # warcio quotes the line it could not read, which may be a whole megabyte-long page.
        problem = f"{path}: not a readable WET file after {read} records ({str(error)[:ERROR_QUOTE_CHARS]})"
        if on_error == "skip":
            warn(f"{problem}; skipped the rest of the file.")
            return
        raise InputError(f"{problem}. Check that it is a WET file, or pass --on-error skip.") from error
    except DECOMPRESSION_ERRORS as error:
        _read_failed(path, error, on_error, warn, f"Skipped the rest after {read} records.")


def _parquet(path: Path, text_column: str, id_column: str | None) -> Iterator[Document]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several kinds for a bad file
        raise InputError(f"{path}: not a readable Parquet file ({error}).") from error
    names = parquet.schema_arrow.names
    for column in filter(None, (text_column, id_column)):
        if column not in names:
            flag = "--text-column" if column == text_column else "--id-column"
            raise InputError(f"Column '{column}' not found in {path}. Available: {', '.join(names)}. Use {flag}.")
    row = 0
    columns = [c for c in (text_column, id_column) if c]
    for batch in parquet.iter_batches(columns=columns, batch_size=1000):
        data = batch.to_pydict()
        for i, value in enumerate(data[text_column]):
            doc_id = str(data[id_column][i]) if id_column else f"{path}:{row}"
            yield Document(id=doc_id, text=value or "", source=str(path))
            row += 1


def read_corpus(
    path: str | Path,
    format: InputFormat | str | None = None,
    *,
    text_column: str = DEFAULT_TEXT_COLUMN,
    id_column: str | None = None,
    glob: str = DEFAULT_GLOB,
    on_error: str = "fail",
    warn: Warn = _ignore,
) -> Iterator[Document]:
    """Yield the documents of a file, a folder (recursively, matching ``glob``) or ``-``.

    Text files are one document each, with their path as id; JSONL / CSV / Parquet hold
    one document per row, identified by ``id_column`` or by ``file:row``.
    """
    if on_error not in ("fail", "skip"):
        raise InputError(f"--on-error must be 'fail' or 'skip', not {on_error!r}.")
    fmt = InputFormat(format) if format else None
    if str(path) == "-":
        fmt = fmt or InputFormat.TEXT
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape")
        if fmt is InputFormat.TEXT:
            text, flagged = _repaired(stream.read(), "<stdin>", warn)
            yield Document(id="-", text=text, source="-", decode_errors=flagged)
        elif fmt is InputFormat.JSONL:
            yield from _jsonl(stream, "<stdin>", text_column, id_column, on_error, warn)
        elif fmt is InputFormat.CSV:
            yield from _csv(stream, "<stdin>", text_column, id_column, on_error, warn)
        elif fmt is InputFormat.WET:
            yield from _wet(Path("-"), on_error, warn)
        else:
            raise InputError("Parquet cannot be read from standard input; pass the file path.")
        return
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob(glob) if p.is_file())
        if not files:
            raise InputError(
                f"No files match {glob!r} under {path}. Use --glob to choose files, e.g. --glob '**/*.jsonl'."
            )
        for file in files:
            yield from read_corpus(
                file, format, text_column=text_column, id_column=id_column, on_error=on_error, warn=warn
            )
        return
    if not path.exists():
        raise InputError(f"Corpus {path} not found. Pass a file, a folder, or - for standard input.")
    fmt = fmt or sniff_format(path)
    if fmt is InputFormat.TEXT:
        yield from _text_file(path, str(path), warn, on_error)
    elif fmt is InputFormat.WET:
        yield from _wet(path, on_error, warn)
    elif fmt is InputFormat.PARQUET:
        if path.suffix.lower() in COMPRESSION_OPENERS:
            raise InputError(f"{path}: Parquet compresses itself and is read uncompressed; decompress the file.")
        yield from _parquet(path, text_column, id_column)
    else:
        yield from _records_file(path, fmt, text_column, id_column, on_error, warn)


def _records_file(
    path: Path, fmt: InputFormat, text_column: str, id_column: str | None, on_error: str, warn: Warn
) -> Iterator[Document]:
    """The rows of a JSONL or CSV file, compressed or not. A compressed file cut short keeps
    the rows before the cut; the cut stops the run, or with ``on_error='skip'`` is logged."""
    read = 0
    try:
        with _opener(path)(path, "rt", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            rows = _jsonl if fmt is InputFormat.JSONL else _csv
            for document in rows(handle, str(path), text_column, id_column, on_error, warn):
                read += 1
                yield document
    except DECOMPRESSION_ERRORS as error:
        _read_failed(path, error, on_error, warn, f"Skipped the rest after {read} rows.")
