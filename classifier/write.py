"""Write labelled units as JSONL, CSV or Parquet, streaming, and atomically for files;
JSONL and CSV compressed when the file name ends in .gz (gzip) or .zst (Zstandard)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

from classifier.errors import OutputError
from classifier.readers import COMPRESSION_OPENERS, zstd
from classifier.types import RECORD_COLUMNS

PARQUET_BATCH_ROWS = 20_000


class OutputFormat(str, Enum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


# Compressions an output file may have, by its last extension; any of COMPRESSION_OPENERS's
# (.bz2 and .xz too) is read back.
OUTPUT_COMPRESSIONS = (".gz", ".zst")
# File extensions and the format each names; under .gz or .zst, JSONL and CSV are compressed.
FORMAT_EXTENSIONS = {
    ".jsonl": OutputFormat.JSONL,
    ".ndjson": OutputFormat.JSONL,
    ".json": OutputFormat.JSONL,
    ".csv": OutputFormat.CSV,
    ".parquet": OutputFormat.PARQUET,
    ".pq": OutputFormat.PARQUET,
}


def format_of(path: str | Path) -> OutputFormat | None:
    """The format a file name's extension names (``labels.jsonl.gz``: JSONL), if any;
    Parquet is never compressed again, as it compresses itself."""
    named = Path(path).with_suffix("") if compression_of(path) else Path(path)
    fmt = FORMAT_EXTENSIONS.get(named.suffix.lower())
    return None if fmt is OutputFormat.PARQUET and named != Path(path) else fmt


def output_format(path: str | Path | None, explicit: OutputFormat | str | None = None) -> OutputFormat:
    """The format named by ``explicit``, else by the file's extension; JSONL on stdout."""
    compression = compression_of(path)
    if compression and compression not in OUTPUT_COMPRESSIONS:
        raise OutputError(
            f"{path}: cannot write {compression} files. Compress JSONL or CSV output with "
            f"{' or '.join(OUTPUT_COMPRESSIONS)} (labels.jsonl.zst), or write it plain."
        )
    if explicit:
        return OutputFormat(explicit)
    if path is None or str(path) == "-":
        return OutputFormat.JSONL
    fmt = format_of(path)
    if fmt is None and compression and format_of(Path(path).with_suffix("")) is OutputFormat.PARQUET:
        raise OutputError(f"{path}: Parquet compresses itself; write it as {Path(path).with_suffix('')}.")
    if fmt is None:
        raise OutputError(
            f"Cannot tell the output format of {path} from its extension. Use .jsonl, .csv or .parquet "
            "(.jsonl.gz, .csv.gz, .jsonl.zst or .csv.zst to compress), or pass --format."
        )
    return fmt


def compression_of(path: str | Path | None) -> str | None:
    """The compression a file name's last extension names (``.gz``, ``.zst``, ...), if any."""
    if path is None or str(path) == "-":
        return None
    suffix = Path(path).suffix.lower()
    return suffix if suffix in COMPRESSION_OPENERS else None


@contextmanager
def _text_output(tmp: Path, compression: str | None) -> Iterator[io.TextIOBase]:
    """A text stream into ``tmp``, compressed as ``compression`` names (``.gz`` or ``.zst``);
    gzip without a time or a name in its header, so that the same rows give the same bytes
    (Zstandard's frames hold neither)."""
    with tmp.open("wb") as raw:
        if compression is None:
            with io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
                yield handle
            return
        if compression == ".gz":
            packer = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0)
        else:
            packer = zstd.ZstdFile(raw, mode="wb")
        with packer as packed, io.TextIOWrapper(packed, encoding="utf-8", newline="") as handle:
            yield handle


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it only when the block succeeds,
    so ``path`` is always either the old file or the complete new one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created here rather than by mkstemp so it gets the usual 0666-minus-umask mode.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as error:
        raise OutputError(f"Cannot write {path}: {error.strerror}. Choose a folder you can write to.") from error
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as error:
        raise OutputError(
            f"Cannot write {path}: {error.strerror}. Choose a folder you can write to with enough free space."
        ) from error
    finally:
        tmp.unlink(missing_ok=True)


def _write_jsonl(records: Iterable[dict], handle: io.TextIOBase) -> int:
    count = 0
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False))
        handle.write("\n")
        count += 1
    return count


def _write_csv(records: Iterable[dict], handle: io.TextIOBase) -> int:
    writer = csv.DictWriter(handle, fieldnames=RECORD_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow(record)
        count += 1
    return count


def _parquet_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("doc_id", pa.string()),
            ("unit", pa.int32()),
            ("paragraph", pa.int32()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("text", pa.string()),
            ("lang", pa.string()),
            ("lang_score", pa.float32()),
            ("doc_lang", pa.string()),
            ("lang_mismatch", pa.bool_()),
            ("label", pa.string()),
            ("role", pa.string()),
            ("label_score", pa.float32()),
            ("keep", pa.bool_()),
            ("source", pa.string()),
        ]
    )


def _write_parquet(records: Iterable[dict], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        batch: list[dict] = []
        for record in records:
            batch.append(record)
            if len(batch) >= PARQUET_BATCH_ROWS:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
                batch = []
        if batch or count == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


def write_records(records: Iterable[dict], path: str | Path | None, fmt: OutputFormat) -> int:
    """Stream ``records`` to ``path`` (``None`` or ``-``: standard output); returns the row count."""
    if path is None or str(path) == "-":
        if fmt is OutputFormat.PARQUET:
            raise OutputError("Parquet cannot go to standard output. Give a file with -o out.parquet.")
        handle = sys.stdout
        count = _write_jsonl(records, handle) if fmt is OutputFormat.JSONL else _write_csv(records, handle)
        handle.flush()
        return count
    with atomic_path(Path(path)) as tmp:
        if fmt is OutputFormat.PARQUET:
            return _write_parquet(records, tmp)
        with _text_output(tmp, compression_of(path)) as handle:
            return _write_jsonl(records, handle) if fmt is OutputFormat.JSONL else _write_csv(records, handle)


def merge_parts(parts: list[Path], output: Path, fmt: OutputFormat) -> None:
    """Join part files (written by ``write_records``) into ``output``, atomically."""
    with atomic_path(Path(output)) as tmp:
        if fmt is OutputFormat.PARQUET:
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp, _parquet_schema(), compression="zstd") as writer:
                for part in parts:
                    # Batch by batch, so that joining needs no more memory than writing did.
                    for batch in pq.ParquetFile(part).iter_batches(batch_size=PARQUET_BATCH_ROWS):
                        writer.write_batch(batch)
                if not parts:
                    writer.write_table(_parquet_schema().empty_table())
            return
        with _text_output(tmp, compression_of(output)) as text_out:
            out = text_out.buffer
            if fmt is OutputFormat.CSV and not parts:
                out.write((",".join(RECORD_COLUMNS) + "\r\n").encode("utf-8"))
            for number, part in enumerate(parts):
                with part.open("rb") as handle:
                    if fmt is OutputFormat.CSV and number > 0:
                        handle.readline()  # each part repeats the header
                    shutil.copyfileobj(handle, out)
