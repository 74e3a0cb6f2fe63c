"""Read the output of ``classifier label`` and export it as training data or cleaned text.

Three public functions, each wrapped by one CLI command:

* :func:`read_labelled` reads a labelled table (JSONL, CSV or Parquet) and checks it;
* :func:`export_dataset` filters the units, splits them **by document** and writes a
  Hugging Face ``datasets`` layout (``parquet`` / ``jsonl``), fastText lines (``fasttext``)
  or cleaned documents (``text``);
* :func:`corpus_stats` counts units, documents and characters by label, role, language and
  source.

Every file is written atomically (a temporary file in the same folder, then ``os.replace``),
so a crash never leaves half a file behind. Functions are silent and return data; they raise
:class:`~classifier.errors.InputError` or :class:`~classifier.errors.OutputError`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from classifier.config import DEFAULT_PROFILE, DEFAULT_SEED, UND
from classifier.errors import InputError, OutputError
from classifier.readers import COMPRESSION_OPENERS, DECOMPRESSION_ERRORS
from classifier.types import RECORD_COLUMNS, Label, Profile, Role
from classifier.write import FORMAT_EXTENSIONS, atomic_path, compression_of, format_of

# --- vocabulary and defaults -------------------------------------------------------------

INPUT_FORMATS = ("jsonl", "csv", "parquet")
EXPORT_FORMATS = ("parquet", "jsonl", "fasttext", "text")
SPLITS = ("train", "dev", "test")
DEDUPE_MODES = ("none", "exact", "near")
TARGETS = ("relevance", "language")
TEXT_LAYOUTS = ("files", "jsonl")
ALL_LABELS = "all"  # profile value: every label, no role filter

DEFAULT_RATIOS = (0.8, 0.1, 0.1)
DEFAULT_MIN_CHARS = 0
DEFAULT_DEDUPE = "none"
RATIO_TOLERANCE = 1e-6
# Rows read, checked and written at a time by export and stats: their memory is that of one
# piece, whatever the size of the table.
CHUNK_ROWS = 20_000
# Longest readable stem of a text-export file name (a hash suffix follows it).
MAX_STEM = 80

INT_COLUMNS = ("unit", "paragraph", "start", "end")
FLOAT_COLUMNS = ("lang_score", "label_score")
BOOL_COLUMNS = ("lang_mismatch", "keep")
STR_COLUMNS = ("doc_id", "text", "lang", "doc_lang", "label", "role", "source")
# Columns an older or hand-made table may lack, with the value they get.
OPTIONAL_COLUMNS = {"source": ""}

COLUMN_DOCS = {
    "doc_id": ("string", "document id (path, URL or id column of the corpus)"),
    "unit": ("int64", "index of the unit in its document"),
    "paragraph": ("int64", "index of the blank-line block the unit came from (of its line, without blank lines)"),
    "start": ("int64", "character offset of the unit's start in the document"),
    "end": ("int64", "character offset of the unit's end in the document"),
    "text": ("string", "the unit's text"),
    "lang": ("string", "ISO 639 code of the unit's language, or `und`"),
    "lang_score": ("float64", "confidence of `lang`"),
    "doc_lang": ("string", "main language of the document"),
    "lang_mismatch": ("bool", "`lang` and `doc_lang` are both known (not `und`) and differ"),
    "label": ("string", "one of the 13 labels (docs/labels.md)"),
    "role": ("string", "content, peripheral or boilerplate"),
    "label_score": ("float64", "confidence of `label`"),
    "keep": ("bool", "kept by the profile used at labelling time"),
    "source": ("string", "file the document came from (may be empty)"),
}

_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What :func:`export_dataset` wrote.

    ``rows`` counts units per split (lines for fastText, kept units for text), ``documents``
    counts documents per split, ``dropped`` counts units removed by each filter, by the first
    filter that removed them, always with the keys ``profile``, ``lang``, ``und`` (fastText
    language target only), ``min_chars``, ``empty`` (fastText only) and ``duplicate``; and
    ``empty_documents`` counts documents that lost all their units and so were not written
    (text export only). ``groups`` is the number of distinct split keys (documents, sites or
    column values): 1 means everything landed in one split.
    """

    out_dir: Path
    format: str
    paths: tuple[Path, ...]
    rows: Mapping[str, int]
    documents: Mapping[str, int]
    dropped: Mapping[str, int]
    groups: int
    empty_documents: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (paths as strings)."""
        return {
            "out_dir": str(self.out_dir),
            "format": self.format,
            "paths": [str(p) for p in self.paths],
            "rows": dict(self.rows),
            "documents": dict(self.documents),
            "dropped": dict(self.dropped),
            "groups": self.groups,
            "empty_documents": self.empty_documents,
            "options": dict(self.options),
        }


@dataclass(frozen=True, slots=True)
class StatsRow:
    """One value of one breakdown (a label, a role, a language or a source)."""

    value: str
    units: int
    share: float  # of all units
    documents: int  # documents with at least one such unit
    characters: int
    kept_units: int


@dataclass(frozen=True, slots=True)
class StatsReport:
    """Counts for a labelled corpus; shares are fractions of all units (0 when empty)."""

    units: int
    documents: int
    characters: int
    kept_units: int
    kept_characters: int
    kept_share: float
    by_label: tuple[StatsRow, ...]
    by_role: tuple[StatsRow, ...]
    by_lang: tuple[StatsRow, ...]
    by_source: tuple[StatsRow, ...]

    _BREAKDOWNS = ("label", "role", "lang", "source")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: totals, then one list of rows per breakdown."""
        out: dict[str, Any] = {
            "units": self.units,
            "documents": self.documents,
            "characters": self.characters,
            "kept_units": self.kept_units,
            "kept_characters": self.kept_characters,
            "kept_share": self.kept_share,
        }
        for name in self._BREAKDOWNS:
            out[f"by_{name}"] = [_stats_row_dict(name, row) for row in getattr(self, f"by_{name}")]
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """``{"totals", "label", "role", "lang", "source"}`` -> DataFrame, for printing."""
        totals = pd.DataFrame(
            {
                "measure": ["units", "documents", "characters", "kept units", "kept characters", "kept share"],
                "value": [
                    self.units,
                    self.documents,
                    self.characters,
                    self.kept_units,
                    self.kept_characters,
                    round(self.kept_share, 4),
                ],
            }
        )
        out = {"totals": totals}
        columns = ["units", "share", "documents", "characters", "kept_units"]
        for name in self._BREAKDOWNS:
            rows = [_stats_row_dict(name, row) for row in getattr(self, f"by_{name}")]
            out[name] = pd.DataFrame(rows, columns=[name, *columns])
        return out


def _stats_row_dict(name: str, row: StatsRow) -> dict[str, Any]:
    return {
        name: row.value,
        "units": row.units,
        "share": round(row.share, 4),
        "documents": row.documents,
        "characters": row.characters,
        "kept_units": row.kept_units,
    }


# --- reading -----------------------------------------------------------------------------


def read_labelled(path: Path | str, format: str | None = None) -> pd.DataFrame:
    """Read a table written by ``classifier label`` and check its columns and values.

    ``format`` is ``jsonl``, ``csv`` or ``parquet``; by default it comes from the file's
    extension (``.jsonl``/``.ndjson``/``.json``, ``.csv``, ``.parquet``/``.pq``). ``"-"``
    reads standard input, as JSONL unless ``format="csv"``. The result has the columns of
    ``classifier.types.RECORD_COLUMNS`` first (any extra columns follow), with integer, float,
    boolean and string dtypes; ``source`` may be missing from the input and is then ``""``.
    The whole table is held in memory: :func:`iter_labelled` reads it piece by piece.

    Raises InputError naming the file, line or row and column of anything that cannot be read.
    """
    pieces = list(iter_labelled(path, format))
    return pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)


def iter_labelled(path: Path | str, format: str | None = None, rows: int | None = None) -> Iterator[pd.DataFrame]:
    """:func:`read_labelled` in pieces of at most ``rows`` rows (default :data:`CHUNK_ROWS`), each checked as it is read,
    so that a table of any size is read in the memory of one piece. Yields at least one
    piece (empty when the table is); rows are numbered across pieces in error messages."""
    name = str(path)
    fmt = _input_format(name, format)
    if name != "-" and not Path(name).is_file():
        raise InputError(
            f"Labelled file {name} not found. Give the path of a file written by "
            "'classifier label' (.jsonl, .csv or .parquet; .jsonl.gz, .csv.zst), or '-' for standard input."
        )
    readers = {"jsonl": _jsonl_pieces, "csv": _csv_pieces, "parquet": _parquet_pieces}
    pieces = readers[fmt](name, rows or CHUNK_ROWS)
    read = 0
    for frame, lines in pieces:
        yield _validate(frame, name, fmt, lines, read)
        read += len(frame)
    if not read:
        yield _validate(pd.DataFrame({c: [] for c in RECORD_COLUMNS}), name, fmt, [], 0)


def _input_format(name: str, format: str | None) -> str:
    if format is not None:
        fmt = format.lower().lstrip(".")
        if fmt not in INPUT_FORMATS:
            raise InputError(f"Unknown input format '{format}'. Allowed: {', '.join(INPUT_FORMATS)}.")
        if name == "-" and fmt == "parquet":
            raise InputError(
                "Parquet cannot be read from standard input. Save it to a file and give its "
                "path, or pipe JSONL or CSV with --format jsonl or --format csv."
            )
        return fmt
    if name == "-":
        return "jsonl"  # what `classifier label` writes to standard output
    fmt = format_of(name)  # what `classifier label -o` writes, .jsonl.gz and .csv.gz included
    if fmt is None:
        raise InputError(
            f"Cannot tell the format of {name} from its extension '{Path(name).suffix}'. "
            f"Allowed: {', '.join(FORMAT_EXTENSIONS)}, compressed too (.jsonl.gz, .csv.zst). "
            "Rename the file or use --format."
        )
    return fmt.value


def _jsonl_pieces(name: str, rows: int) -> Iterator[tuple[pd.DataFrame, list[int] | None]]:
    records: list[dict] = []
    lines: list[int] = []
    read = 0
    opener = COMPRESSION_OPENERS.get(compression_of(name) or "", open)
    stream = sys.stdin.buffer if name == "-" else opener(name, "rb")
    try:
        for number, raw in enumerate(stream, start=1):
            try:
                # utf-8-sig: a byte-order mark (an editor's) before the first line is no data.
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{name} line {number}: not UTF-8 (byte {exc.start + 1}). "
                    "Labelled files are UTF-8; re-encode the file."
                ) from exc
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{name} line {number} column {exc.colno}: invalid JSON ({exc.msg}). "
                    "Each line must be one JSON object as written by 'classifier label'; "
                    "fix or remove that line."
                ) from exc
            if not isinstance(record, dict):
                raise InputError(
                    f"{name} line {number}: expected a JSON object, found "
                    f"{type(record).__name__}. Each line must be one object with the columns "
                    f"{', '.join(RECORD_COLUMNS)}."
                )
            records.append(record)
            lines.append(number)
            if len(records) == rows:
                yield pd.DataFrame.from_records(records), lines
                read += len(records)
                records, lines = [], []
    except DECOMPRESSION_ERRORS as exc:
        raise InputError(
            f"{name}: truncated or corrupt compressed file after {read + len(records)} rows ({exc}). "
            "Label the corpus again."
        ) from exc
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if records:
        yield pd.DataFrame.from_records(records), lines


def _csv_pieces(name: str, rows: int) -> Iterator[tuple[pd.DataFrame, list[int] | None]]:
    compression = compression_of(name)
    with ExitStack() as stack:
        if name == "-":
            source: Any = sys.stdin
        elif compression:
            opener = COMPRESSION_OPENERS[compression]
            source = stack.enter_context(opener(name, "rt", encoding="utf-8-sig", newline=""))
        else:
            source = name
        try:
            # utf-8-sig: a labelled CSV corrected in Excel comes back with a byte-order mark.
            reader = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig", chunksize=rows)
            with reader:
                yield from ((frame, None) for frame in reader)
        except pd.errors.EmptyDataError:
            return
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{name} could not be read as CSV: {exc}. Check the quoting of that line, or write the labels as JSONL."
            ) from exc
        except DECOMPRESSION_ERRORS as exc:
            raise InputError(f"{name}: truncated or corrupt compressed file ({exc}). Label the corpus again.") from exc


def _parquet_pieces(name: str, rows: int) -> Iterator[tuple[pd.DataFrame, list[int] | None]]:
    import pyarrow.parquet as pq

    def unreadable(exc: Exception) -> InputError:
        return InputError(
            f"{name} could not be read as Parquet ({exc}). Check the file, or give its "
            "format with --format jsonl or --format csv."
        )

    try:
        for batch in pq.ParquetFile(name).iter_batches(batch_size=rows):
            yield batch.to_pandas(), None
    except Exception as exc:  # pyarrow raises several unrelated types
        raise unreadable(exc) from exc


def _validate(frame: pd.DataFrame, name: str, fmt: str, lines: list[int] | None, offset: int = 0) -> pd.DataFrame:
    """The frame checked and typed; ``lines`` are its rows' line numbers in a JSONL file,
    ``offset`` the number of rows before it in the table (both only for error messages)."""
    frame = frame.copy()
    for column, default in OPTIONAL_COLUMNS.items():
        if column not in frame.columns:
            frame[column] = default
    missing = [c for c in RECORD_COLUMNS if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "(none)"
        raise InputError(
            f"{name} lacks the column(s) {', '.join(missing)}. Found: {found}. "
            f"Required: {', '.join(RECORD_COLUMNS)}. Give the output of 'classifier label'."
        )
    frame = frame.reset_index(drop=True)
    for column in FLOAT_COLUMNS:
        if frame[column].dtype == "float32":
            # Parquet from `label` stores scores as float32: give back 0.9, not 0.8999999761.
            frame[column] = [float(str(v)) for v in frame[column].to_numpy()]

    def where(i: int, column: str) -> str:
        if lines is not None:
            return f"{name} line {lines[i]} (column '{column}')"
        if fmt == "csv":
            return f"{name} row {offset + i + 1} after the header (column '{column}')"
        return f"{name} row {offset + i + 1} (column '{column}')"

    types = pd.api.types
    for column in INT_COLUMNS:
        if not (types.is_integer_dtype(frame[column]) and not types.is_bool_dtype(frame[column])):
            frame[column] = _coerce(frame[column], _as_int, "an integer", where)
        frame[column] = frame[column].astype("int64")
    for column in FLOAT_COLUMNS:
        if not types.is_float_dtype(frame[column]) or frame[column].isna().any():
            frame[column] = _coerce(frame[column], _as_float, "a number", where)
        frame[column] = frame[column].astype("float64")
    for column in BOOL_COLUMNS:
        if not types.is_bool_dtype(frame[column]) or frame[column].isna().any():
            frame[column] = _coerce(frame[column], _as_bool, "true or false", where)
        frame[column] = frame[column].astype(bool)
    for column in STR_COLUMNS:
        fill = OPTIONAL_COLUMNS.get(column)
        series = frame[column]
        if (
            types.is_string_dtype(series)
            and not series.isna().any()
            and (series.dtype != object or series.map(type).eq(str).all())
        ):
            frame[column] = series.astype(object)
            continue
        frame[column] = _coerce(series, lambda v, fill=fill: _as_str(v, fill), "a string", where).astype(object)
    _check_vocabulary(frame, "label", [x.value for x in Label], where)
    _check_vocabulary(frame, "role", [x.value for x in Role], where)
    extras = [c for c in frame.columns if c not in RECORD_COLUMNS]
    return frame[[*RECORD_COLUMNS, *extras]]


def _coerce(
    series: pd.Series,
    convert: Callable[[Any], Any],
    expected: str,
    where: Callable[[int, str], str],
) -> pd.Series:
    values = []
    for i, value in enumerate(series.tolist()):
        try:
            values.append(convert(value))
        except (TypeError, ValueError):
            raise InputError(
                f"{where(i, str(series.name))}: expected {expected}, found {value!r}. "
                "Fix the value, or relabel the corpus with 'classifier label'."
            ) from None
    return pd.Series(values, index=series.index, name=series.name, dtype=object)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_int(value: Any) -> int:
    if _is_missing(value) or isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        value = value.strip()
        return int(float(value)) if re.fullmatch(r"-?\d+\.0*", value) else int(value)
    number = float(value)
    if number != int(number):
        raise ValueError
    return int(number)


def _as_float(value: Any) -> float:
    if _is_missing(value) or isinstance(value, bool):
        raise ValueError
    return float(value)


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if _is_missing(value):
        raise ValueError
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if hasattr(value, "item"):  # numpy scalar from Parquet
        return _as_bool(value.item())
    raise ValueError


def _as_str(value: Any, fill: str | None) -> str:
    if _is_missing(value):
        if fill is None:
            raise ValueError
        return fill
    if isinstance(value, dict | list):
        raise ValueError
    return value if isinstance(value, str) else str(value)


def _check_vocabulary(frame: pd.DataFrame, column: str, allowed: list[str], where: Callable[[int, str], str]) -> None:
    bad = ~frame[column].isin(allowed)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{where(i, column)}: unknown {column} '{frame[column].iat[i]}'. Allowed: {', '.join(allowed)}."
        )


def _load(labelled: pd.DataFrame | Path | str, format: str | None) -> tuple[pd.DataFrame, str]:
    if isinstance(labelled, pd.DataFrame):
        return _validate(labelled, "the labelled table", "frame", None), ""
    return read_labelled(labelled, format), str(labelled)


# --- filters -----------------------------------------------------------------------------


def resolve_profile(profile: Profile | str | Sequence[str] | None) -> tuple[str, frozenset[str]]:
    """Turn a profile into ``(description, allowed label values)``.

    ``"strict"`` keeps the content labels, ``"lenient"`` also the peripheral ones, ``"all"``
    every label; anything else is a list of labels (a sequence, or one comma-separated
    string), each checked against :class:`~classifier.types.Label`.
    """
    if profile is None:
        profile = DEFAULT_PROFILE
    if isinstance(profile, Profile):
        profile = profile.value
    if isinstance(profile, str):
        name = profile.strip().lower()
        if name in (p.value for p in Profile):
            roles = Profile(name).roles
            return name, frozenset(lab.value for lab in Label if lab.role in roles)
        if name == ALL_LABELS:
            return ALL_LABELS, frozenset(lab.value for lab in Label)
        items = [part.strip() for part in profile.split(",")]
    else:
        items = [str(part).strip() for part in profile]
    items = [item for item in items if item]
    allowed = [lab.value for lab in Label]
    unknown = [item for item in items if item not in allowed]
    if unknown or not items:
        what = f"Unknown label(s) {', '.join(repr(u) for u in unknown)}" if unknown else ("Empty label list")
        raise InputError(
            f"{what} in the profile. Allowed: strict, lenient, {ALL_LABELS}, or a "
            f"comma-separated list of labels from: {', '.join(allowed)}."
        )
    ordered = [lab for lab in allowed if lab in items]
    return ",".join(ordered), frozenset(ordered)


def near_key(text: str) -> str:
    """The key near-duplicate detection compares: NFKC, casefolded, without digits or
    punctuation, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "NP")
    return " ".join(kept.split())


def _validate_choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise InputError(f"Unknown {what} '{value}'. Allowed: {', '.join(allowed)}.")
    return value


def _filter_units(
    frame: pd.DataFrame,
    *,
    labels: frozenset[str],
    lang: str | None,
    drop_und: bool,
    min_chars: int,
    dedupe: str,
    drop_empty: bool,
    seen: HashSet | None = None,
) -> tuple[pd.Series, dict[str, int]]:
    """A boolean mask of the units that pass, and the drop counts by (first) reason;
    ``seen`` holds the dedupe keys of units kept before this frame (and gets this frame's)."""
    everything = pd.Series(True, index=frame.index)
    reasons: list[tuple[str, pd.Series]] = [("profile", frame["label"].isin(labels))]
    if lang is not None or not drop_und:
        # A unit of unknown language ("und", e.g. "37" or "|") takes its document's language.
        effective = frame["lang"].where(frame["lang"] != UND, frame["doc_lang"])
        if lang is None:  # each document's own language; one that cannot be told filters nothing
            reasons.append(("lang", (effective == frame["doc_lang"]) | (frame["doc_lang"] == UND)))
        else:
            reasons.append(("lang", effective == lang))
    else:
        reasons.append(("lang", everything))
    reasons.append(("und", frame["lang"] != UND if drop_und else everything))
    length = frame["text"].str.strip().str.len()
    reasons.append(("min_chars", length >= min_chars))
    reasons.append(("empty", length > 0 if drop_empty else everything))

    mask = everything.copy()
    dropped: dict[str, int] = {}
    for reason, passes in reasons:
        failing = mask & ~passes.astype(bool)
        dropped[reason] = int(failing.sum())
        mask &= ~failing
    dropped["duplicate"] = 0
    if dedupe != "none":
        texts = frame.loc[mask, "text"]
        keys = [_dedupe_key(text, dedupe) for text in texts]
        first = (seen if seen is not None else HashSet()).add(keys)
        duplicate = pd.Series(False, index=frame.index)
        duplicate[texts.index[~first]] = True
        dropped["duplicate"] = int(duplicate.sum())
        mask &= ~duplicate
    return mask, dropped


def _dedupe_key(text: str, dedupe: str) -> str:
    if dedupe == "exact":
        return text
    # nothing left to compare (a unit of digits or punctuation): fall back to the exact text
    return near_key(text) or "\x00" + text


class HashSet:
    """A set of strings kept as 64-bit hashes in sorted numpy runs: about 8 bytes a string,
    so that export can remember every document and every kept unit of a large table. Two
    different strings share a hash with odds of about n²/2⁶⁵ (1 in 3,700 for 100 million)."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []
        self.size = 0

    @staticmethod
    def hashes(values: Sequence[str]) -> np.ndarray:
        series = pd.Series(list(values), dtype=object)
        return pd.util.hash_pandas_object(series, index=False).to_numpy(dtype=np.uint64)

    def add(self, values: Sequence[str]) -> np.ndarray:
        """Add the values; true for each that is new: not in the set before, and the first
        of its kind among ``values``."""
        hashes = self.hashes(values)
        new = np.zeros(len(hashes), dtype=bool)
        new[np.unique(hashes, return_index=True)[1]] = True
        for run in self._runs:
            at = np.minimum(np.searchsorted(run, hashes), len(run) - 1)
            new &= run[at] != hashes
        if new.any():
            self._runs.append(np.sort(hashes[new]))
            self.size += int(new.sum())
            # Runs of like size are merged, so there are about log2(size) of them to search.
            while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
                last = self._runs.pop()
                self._runs[-1] = np.union1d(self._runs[-1], last)
        return new


# --- splits ------------------------------------------------------------------------------


def validate_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    """Check that there are three non-negative ratios summing to 1 (within 1e-6)."""
    values = tuple(ratios)
    ok = len(values) == 3 and all(isinstance(r, int | float) and math.isfinite(r) and r >= 0 for r in values)
    if not ok or abs(sum(values) - 1.0) > RATIO_TOLERANCE:
        raise InputError(
            f"Invalid split ratios {values!r}. Allowed: three non-negative numbers for train, "
            "dev and test that sum to 1, for example 0.8,0.1,0.1."
        )
    total = sum(values)
    return (values[0] / total, values[1] / total, values[2] / total)


def split_of(key: str, ratios: Sequence[float] = DEFAULT_RATIOS, seed: int = DEFAULT_SEED) -> str:
    """The split (``train``/``dev``/``test``) of a document or group key.

    A SHA-256 of ``seed`` and ``key`` places the key in [0, 1); the ratios cut that interval.
    It depends on nothing else, so adding documents never moves existing ones.
    """
    r = validate_ratios(ratios)
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    bound = 0.0
    for name, share in zip(SPLITS, r, strict=True):
        bound += share
        if share > 0 and point < bound:
            return name
    return next(name for name, share in reversed(list(zip(SPLITS, r, strict=True))) if share > 0)


def site_of(doc_id: str, source: str = "") -> str:
    """The site a document belongs to, for ``group_by="site"``.

    The host name (lower-case, without ``www.``) when ``doc_id`` or ``source`` is a URL;
    else the parent folder of ``source``, else of ``doc_id``; else ``doc_id`` itself (the
    document is its own group).
    """
    for value in (doc_id, source):
        host = _url_host(value)
        if host:
            return host
    for value in (source, doc_id):
        if value:
            parent = str(PurePosixPath(value.replace("\\", "/")).parent)
            if parent not in (".", "", "/"):
                return parent
    return doc_id


def _url_host(value: str) -> str:
    if "://" not in value:
        return ""
    try:
        host = urlsplit(value.strip()).hostname or ""
    except ValueError:
        return ""
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def assign_splits(
    frame: pd.DataFrame,
    *,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = DEFAULT_SEED,
    group_by: str | None = None,
) -> dict[str, str]:
    """``{doc_id: split}`` for every document of a labelled table.

    Documents are split whole. With ``group_by="site"`` (see :func:`site_of`) or a column
    name, documents with the same key (the column's value on the document's first unit) share
    a split.
    """
    validate_ratios(ratios)
    firsts = frame.drop_duplicates("doc_id")
    if group_by is None:
        keys = firsts["doc_id"]
    elif group_by == "site":
        keys = pd.Series(
            [site_of(d, s) for d, s in zip(firsts["doc_id"], firsts["source"], strict=True)],
            index=firsts.index,
        )
    elif group_by in frame.columns:
        keys = firsts[group_by].astype(str)
    else:
        raise InputError(
            f"Cannot group by '{group_by}': no such column. Use site, or one of the columns: "
            f"{', '.join(map(str, frame.columns))}."
        )
    return {doc_id: split_of(str(key), ratios, seed) for doc_id, key in zip(firsts["doc_id"], keys, strict=True)}


# --- atomic writing ----------------------------------------------------------------------


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then move it in place."""
    with atomic_path(Path(path)) as tmp:
        write(tmp)
    return Path(path)


def _write_text(path: Path, text: str) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)

    return atomic_write(path, write)


def _jsonl_lines(frame: pd.DataFrame) -> Iterable[str]:
    for record in frame.to_dict("records"):
        yield json.dumps({k: _native(v) for k, v in record.items()}, ensure_ascii=False)


def _native(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


# --- exporting ---------------------------------------------------------------------------


def export_dataset(
    labelled: pd.DataFrame | Path | str,
    out_dir: Path | str,
    *,
    as_: str,
    profile: Profile | str | Sequence[str] | None = None,
    lang: str | None = None,
    min_chars: int = DEFAULT_MIN_CHARS,
    dedupe: str = DEFAULT_DEDUPE,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = DEFAULT_SEED,
    group_by: str | None = None,
    target: str = "relevance",
    text_layout: str = "files",
    command: str = "",
    format: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int], None] = lambda units: None,
) -> ExportResult:
    """Filter a labelled table, split it by document and write it to ``out_dir``.

    Args:
        labelled: a DataFrame of ``RECORD_COLUMNS``, or the path of a labelled file
            (read with :func:`read_labelled` and ``format``).
        out_dir: the folder to write; created if missing. It must be empty unless
            ``overwrite`` is true.
        as_: ``parquet`` or ``jsonl`` (Hugging Face ``datasets`` layout: ``train``, ``dev``
            and ``test`` files plus a ``README.md`` card), ``fasttext`` (``train.txt``... with
            ``__label__X text`` lines) or ``text`` (cleaned documents).
        profile: which labels are kept: ``strict`` (content), ``lenient`` (content and
            peripheral), ``all``, or a list of labels. ``None`` means ``strict``, except
            for fastText relevance data, where it means ``all``: a relevance model needs the
            noise labels too.
        lang: target language: keep units whose language is ``lang`` (a unit of language
            ``und`` counts as its document's language). ``None`` keeps each unit that is in
            its document's language, except for fastText language data, where ``None`` keeps
            every language and drops only ``und`` units.
        min_chars: drop units shorter than this, counting characters after stripping.
        dedupe: ``none``; ``exact`` drops every later unit whose text equals an earlier kept
            one; ``near`` compares texts after NFKC, casefolding, removing digits and
            punctuation and collapsing whitespace.
        ratios: shares of train, dev and test; non-negative, summing to 1.
        seed: changes the assignment of documents to splits.
        group_by: ``None`` (each document alone), ``site`` (host name or parent folder, see
            :func:`site_of`) or a column name; a group never straddles two splits.
        target: fastText only: ``relevance`` (``__label__<label>``) or ``language``
            (``__label__<lang>``).
        text_layout: text only: ``files`` (``<split>/<name>.txt``, one per document) or
            ``jsonl`` (``<split>.jsonl`` with ``id`` and ``text``).
        command: the command line that made the export, recorded in the card.
        format: the input format when ``labelled`` is a path.
        overwrite: allow a non-empty ``out_dir``; files of the same names are replaced and,
            for the text ``files`` layout, old ``.txt`` files in the split folders removed.
        progress: called with the number of units read so far after each piece.

    The ``keep`` column written by ``label`` is not used: the export applies its own profile
    and language, so one labelling can be exported both strict and lenient.

    A file is read and written in pieces (:data:`CHUNK_ROWS` rows), so memory stays flat
    whatever its size: beyond one piece, only about 8 bytes per document (and per distinct
    kept unit with ``dedupe``) are remembered. That needs each document's units together, as
    ``label`` writes them; a file whose documents are interleaved is read whole instead
    (standard input cannot be: it is an error naming the line).
    """
    _validate_choice(as_, EXPORT_FORMATS, "export format")
    _validate_choice(dedupe, DEDUPE_MODES, "dedupe mode")
    _validate_choice(target, TARGETS, "fastText target")
    _validate_choice(text_layout, TEXT_LAYOUTS, "text layout")
    if isinstance(min_chars, bool) or not isinstance(min_chars, int) or min_chars < 0:
        raise InputError(f"Invalid min_chars {min_chars!r}. Allowed: an integer of 0 or more.")
    validate_ratios(ratios)
    if format is not None or not isinstance(labelled, pd.DataFrame):
        _input_format(str(labelled), format)  # an unknown format is reported before anything is written

    language_target = as_ == "fasttext" and target == "language"
    if profile is None and as_ == "fasttext" and target == "relevance":
        profile = ALL_LABELS
    profile_name, labels = resolve_profile(profile)
    options = {
        "as": as_,
        "profile": profile_name,
        "lang": lang if lang is not None else ("any" if language_target else "doc_lang"),
        "min_chars": min_chars,
        "dedupe": dedupe,
        "ratios": list(validate_ratios(ratios)),
        "seed": seed,
        "group_by": group_by,
    }
    if as_ == "fasttext":
        options["target"] = target
    if as_ == "text":
        options["text_layout"] = text_layout
    plan = _Plan(
        filters={
            "labels": labels,
            "lang": lang,
            "drop_und": language_target and lang is None,
            "min_chars": min_chars,
            "dedupe": dedupe,
            "drop_empty": as_ == "fasttext",
        },
        ratios=ratios,
        seed=seed,
        group_by=group_by,
    )
    out = _prepare_out_dir(Path(out_dir), overwrite)
    if as_ == "text" and text_layout == "files" and overwrite:
        for split in SPLITS:
            for old in (out / split).glob("*.txt"):
                old.unlink()

    def sink() -> _Sink:
        if as_ in ("parquet", "jsonl"):
            return _HFSink(out, as_)
        if as_ == "fasttext":
            return _FastTextSink(out, "label" if target == "relevance" else "lang")
        return _TextSink(out, text_layout)

    input_name = "" if isinstance(labelled, pd.DataFrame) else str(labelled)
    if isinstance(labelled, pd.DataFrame):
        pieces: Iterable[pd.DataFrame] = [_grouped(_validate(labelled, "the labelled table", "frame", None))]
    else:
        pieces = iter_labelled(labelled, format)
    try:
        tally = _stream_export(pieces, plan, sink(), progress)
    except _NeedsWholeTable as problem:
        if input_name == "-":
            raise InputError(
                f"standard input {problem}, and export reads standard input only once. Save the table "
                "to a file and give its path."
            ) from None
        # A hand-made or concatenated table: read it whole, documents gathered in order.
        tally = _stream_export([_grouped(read_labelled(labelled, format))], plan, sink(), progress)
    card = _dataset_card(out, options, tally, input_name, command)
    paths = [*tally.paths, _write_text(out / "README.md", card)]
    return ExportResult(
        out_dir=out,
        format=as_,
        paths=tuple(paths),
        rows=dict(tally.rows),
        documents=dict(tally.documents),
        dropped=dict(tally.dropped),
        groups=tally.groups,
        empty_documents=tally.empty_documents if as_ == "text" else 0,
        options=options,
    )


def _prepare_out_dir(out: Path, overwrite: bool) -> Path:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file. Give a folder to export into (it is created).")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OutputError(
            f"{out} is not empty. Choose a new or empty folder, or use --overwrite to replace the export in it."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create {out}: {exc.strerror or exc}. Choose a folder you can write to.") from exc
    return out


def _grouped(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with each document's units together, documents in order of first appearance."""
    order = pd.factorize(frame["doc_id"])[0]
    return frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


class _NeedsWholeTable(Exception):
    """A document's units are not together, or a later piece of the table does not fit the
    first; the table cannot be exported in one pass."""


@dataclass(frozen=True, slots=True)
class _Plan:
    filters: dict[str, Any]  # keyword arguments of _filter_units
    ratios: Sequence[float]
    seed: int
    group_by: str | None


@dataclass(slots=True)
class _Tally:
    """What an export has read and written so far."""

    rows: Counter = field(default_factory=Counter)
    documents: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    labels: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})
    langs: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})
    columns: list[str] = field(default_factory=list)
    all_documents: int = 0
    groups: int = 0
    paths: list[Path] = field(default_factory=list)

    @property
    def empty_documents(self) -> int:
        return self.all_documents - sum(self.documents.values())


def _stream_export(pieces: Iterable[pd.DataFrame], plan: _Plan, sink: _Sink, progress: Callable[[int], None]) -> _Tally:
    tally = _Tally(rows=Counter(dict.fromkeys(SPLITS, 0)), documents=Counter(dict.fromkeys(SPLITS, 0)))
    runs = _DocumentRuns(plan)
    seen = HashSet() if plan.filters["dedupe"] != "none" else None
    last_kept = None
    read = 0
    with ExitStack() as stack:
        try:
            for frame in pieces:
                if not tally.columns:
                    tally.columns = list(frame.columns)
                    sink.open(stack, frame)
                elif list(frame.columns) != tally.columns:
                    raise _NeedsWholeTable(f"row {read + 1}: its columns differ from the first rows'")
                split = runs.splits(frame, read)
                mask, dropped = _filter_units(frame, **plan.filters, seen=seen)
                tally.dropped.update(dropped)
                kept = frame.loc[mask]
                kept_split = split[mask.to_numpy()]
                parts = {name: kept[kept_split == name] for name in SPLITS}
                for name, part in parts.items():
                    tally.rows[name] += len(part)
                    tally.labels[name].update(part["label"])
                    tally.langs[name].update(part["lang"])
                ids = kept["doc_id"].to_numpy(dtype=object)
                if len(ids):
                    starts = _run_starts(ids)
                    if ids[0] == last_kept:
                        starts = starts[1:]
                    tally.documents.update(kept_split[starts])
                    last_kept = ids[-1]
                sink.write(kept, kept_split, parts)
                read += len(frame)
                progress(read)
            tally.paths = sink.close()
        except BaseException:
            sink.discard()
            raise
    tally.all_documents, tally.groups = runs.order.documents.size, runs.groups.size
    return tally


def _run_starts(ids: np.ndarray) -> np.ndarray:
    """Where each run of equal document ids starts."""
    return np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, dtype=np.int64)


class _DocumentOrder:
    """Checks, a piece at a time, that each document's units follow one another (a document
    seen again after another one needs the whole table), and counts the documents."""

    def __init__(self) -> None:
        self.documents = HashSet()
        self.last_id: object = None

    def runs(self, ids: np.ndarray, before: int) -> tuple[np.ndarray, bool]:
        """Where the piece's documents start, and whether the first continues the last piece's."""
        starts = _run_starts(ids)
        continued = bool(len(ids)) and ids[0] == self.last_id
        fresh = starts[1:] if continued else starts
        new = self.documents.add(ids[fresh])
        if not new.all():
            row = int(fresh[np.argmin(new)])
            raise _NeedsWholeTable(
                f"row {before + row + 1}: document '{ids[row]}' comes back after other documents "
                "(as 'classifier label' writes them, a document's units follow one another)"
            )
        if len(ids):
            self.last_id = ids[-1]
        return starts, continued


class _DocumentRuns:
    """Each row's split, a piece at a time: a document's split is set by its first unit."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.order = _DocumentOrder()
        self.groups = HashSet()
        self.last_split = ""

    def splits(self, frame: pd.DataFrame, before: int) -> np.ndarray:
        group_by = self.plan.group_by
        if group_by not in (None, "site") and group_by not in frame.columns:
            raise InputError(
                f"Cannot group by '{group_by}': no such column. Use site, or one of the columns: "
                f"{', '.join(map(str, frame.columns))}."
            )
        ids = frame["doc_id"].to_numpy(dtype=object)
        starts, continued = self.order.runs(ids, before)
        fresh = starts[1:] if continued else starts
        keys = [self._key(frame, row) for row in fresh]
        self.groups.add(keys)
        names = [split_of(key, self.plan.ratios, self.plan.seed) for key in keys]
        if continued:
            names.insert(0, self.last_split)
        if names:
            self.last_split = names[-1]
        lengths = np.diff(np.r_[starts, len(ids)])
        return np.repeat(np.array(names, dtype=object), lengths)

    def _key(self, frame: pd.DataFrame, row: int) -> str:
        group_by = self.plan.group_by
        doc_id = frame["doc_id"].iat[row]
        if group_by is None:
            return doc_id
        if group_by == "site":
            return site_of(doc_id, frame["source"].iat[row])
        return str(frame[group_by].iat[row])


class _Sink:
    """Where an export writes: ``open`` at the first piece, ``write`` each piece's kept units
    (in order, with their splits, and split by split), ``close`` for the paths written;
    ``discard`` after a failure."""

    def open(self, stack: ExitStack, first: pd.DataFrame) -> None:
        raise NotImplementedError

    def write(self, kept: pd.DataFrame, splits: np.ndarray, parts: dict[str, pd.DataFrame]) -> None:
        raise NotImplementedError

    def close(self) -> list[Path]:
        return []

    def discard(self) -> None:
        """Files are written to temporary paths that the failure removes."""


class _LinesSink(_Sink):
    """One text file of lines per split (JSONL or fastText), each written atomically."""

    def __init__(self, out: Path, extension: str) -> None:
        self.paths = [out / f"{split}.{extension}" for split in SPLITS]
        self.handles: dict[str, Any] = {}

    def open(self, stack: ExitStack, first: pd.DataFrame) -> None:
        for split, path in zip(SPLITS, self.paths, strict=True):
            tmp = stack.enter_context(atomic_path(path))
            self.handles[split] = stack.enter_context(open(tmp, "w", encoding="utf-8", newline="\n"))

    def write(self, kept: pd.DataFrame, splits: np.ndarray, parts: dict[str, pd.DataFrame]) -> None:
        for split, part in parts.items():
            if len(part):
                self.handles[split].writelines(line + "\n" for line in self.lines(part))

    def lines(self, part: pd.DataFrame) -> Iterable[str]:
        raise NotImplementedError

    def close(self) -> list[Path]:
        return list(self.paths)


class _HFSink(_LinesSink):
    """Hugging Face layout: ``<split>.parquet`` or ``<split>.jsonl``, one row per unit."""

    def __init__(self, out: Path, fmt: str) -> None:
        super().__init__(out, fmt)
        self.parquet = fmt == "parquet"
        self.writers: dict[str, Any] = {}
        self.schema = None

    def open(self, stack: ExitStack, first: pd.DataFrame) -> None:
        if not self.parquet:
            return super().open(stack, first)
        import pyarrow as pa
        import pyarrow.parquet as pq

        # One schema for all splits, from the first piece: an empty split is still readable.
        self.schema = pa.Schema.from_pandas(self._typed(first), preserve_index=False)
        for split, path in zip(SPLITS, self.paths, strict=True):
            tmp = stack.enter_context(atomic_path(path))
            self.writers[split] = stack.enter_context(pq.ParquetWriter(tmp, self.schema))

    @staticmethod
    def _typed(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.astype({c: "string" for c in STR_COLUMNS})

    def write(self, kept: pd.DataFrame, splits: np.ndarray, parts: dict[str, pd.DataFrame]) -> None:
        if not self.parquet:
            return super().write(kept, splits, parts)
        import pyarrow as pa

        for split, part in parts.items():
            if not len(part):
                continue
            try:
                table = pa.Table.from_pandas(self._typed(part), schema=self.schema, preserve_index=False)
            except (pa.ArrowException, TypeError, ValueError) as exc:
                raise _NeedsWholeTable(f"an extra column's values do not fit the first rows' type ({exc})") from None
            self.writers[split].write_table(table)

    def lines(self, part: pd.DataFrame) -> Iterable[str]:
        return _jsonl_lines(part)


class _FastTextSink(_LinesSink):
    """``<split>.txt`` of ``__label__<label or lang> text`` lines."""

    def __init__(self, out: Path, column: str) -> None:
        super().__init__(out, "txt")
        self.column = column

    def lines(self, part: pd.DataFrame) -> Iterable[str]:
        return map(fasttext_line, part[self.column], part["text"])


class _TextSink(_Sink):
    """Cleaned documents: one ``<split>/<name>.txt`` each, or ``<split>.jsonl`` of id and text.
    A document is written when its last unit has been read."""

    def __init__(self, out: Path, layout: str) -> None:
        self.out = out
        self.jsonl = layout == "jsonl"
        self.lines = _LinesSink(out, "jsonl")
        self.written: dict[str, list[Path]] = {split: [] for split in SPLITS}
        self.taken: dict[str, set[str]] = {split: set() for split in SPLITS}
        self.pending: list[pd.DataFrame] = []  # the units read so far of the last document
        self.pending_split = ""

    def open(self, stack: ExitStack, first: pd.DataFrame) -> None:
        if self.jsonl:
            self.lines.open(stack, first)
        else:
            for split in SPLITS:
                (self.out / split).mkdir(exist_ok=True)

    def write(self, kept: pd.DataFrame, splits: np.ndarray, parts: dict[str, pd.DataFrame]) -> None:
        # Documents in the order read: a document begun in the last piece may go on here.
        if not len(kept):
            return
        ids = kept["doc_id"].to_numpy(dtype=object)
        bounds = np.r_[_run_starts(ids), len(ids)]
        for begin, end in zip(bounds[:-1], bounds[1:], strict=True):
            units = kept.iloc[begin:end]
            if self.pending and self.pending[0]["doc_id"].iat[0] == ids[begin]:
                self.pending.append(units)
                continue
            self._flush()
            self.pending, self.pending_split = [units], splits[begin]

    def _flush(self) -> None:
        if not self.pending:
            return
        units = pd.concat(self.pending) if len(self.pending) > 1 else self.pending[0]
        doc_id, text, split = str(units["doc_id"].iat[0]), document_text(units), self.pending_split
        self.pending = []
        if self.jsonl:
            self.lines.handles[split].write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
        else:
            path = self.out / split / f"{safe_name(doc_id, self.taken[split])}.txt"
            self.written[split].append(_write_text(path, text + "\n"))

    def close(self) -> list[Path]:
        self._flush()
        if self.jsonl:
            return self.lines.close()
        return [path for split in SPLITS for path in self.written[split]]

    def discard(self) -> None:
        for paths in self.written.values():
            for path in paths:
                path.unlink(missing_ok=True)


def fasttext_line(label: str, text: str) -> str:
    """``__label__<label> <text>`` with the text on one line (line breaks become spaces)."""
    return f"__label__{label} " + " ".join(text.splitlines()).strip()


def document_text(units: pd.DataFrame) -> str:
    """Join a document's units in order: ``\\n`` within a paragraph, ``\\n\\n`` between."""
    ordered = units.sort_values("unit", kind="stable")
    paragraphs: list[list[str]] = []
    last = None
    for paragraph, text in zip(ordered["paragraph"], ordered["text"], strict=True):
        if paragraph != last or not paragraphs:
            paragraphs.append([])
            last = paragraph
        paragraphs[-1].append(text.strip("\n"))
    return "\n\n".join("\n".join(lines) for lines in paragraphs)


def safe_name(doc_id: str, taken: set[str] | None = None) -> str:
    """A file name stem for ``doc_id``: readable characters plus a hash, unique in ``taken``.

    ``taken`` (lower-cased stems already used) is updated, so names differ even on
    case-insensitive file systems.
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", unicodedata.normalize("NFKD", doc_id))
    stem = stem.strip("._-")[-MAX_STEM:].strip("._-") or "doc"
    digest = hashlib.sha256(doc_id.encode("utf-8")).hexdigest()
    name = f"{stem}-{digest[:10]}"
    if taken is not None:
        extra = 0
        while name.lower() in taken:
            extra += 1
            name = f"{stem}-{digest[:10]}-{extra}"
        taken.add(name.lower())
    return name


# --- dataset card ------------------------------------------------------------------------


def _dataset_card(out: Path, options: dict[str, Any], tally: _Tally, input_name: str, command: str) -> str:
    """A README.md; its YAML front matter tells ``datasets`` which file is which split."""
    fmt = options["as"]
    rows, documents = tally.rows, tally.documents
    if fmt in ("parquet", "jsonl") or options.get("text_layout") == "jsonl":
        extension = "parquet" if fmt == "parquet" else "jsonl"
        data_files: dict[str, str] | None = {s: f"{s}.{extension}" for s in SPLITS}
    else:
        data_files = None
    languages = sorted({x for counts in tally.langs.values() for x in counts} - {UND})
    front = ["---"]
    # datasets fails on an empty split file, so empty splits are written but not declared.
    declared = [split for split in SPLITS if rows[split]] if data_files else []
    if data_files and declared:
        front += ["configs:", "- config_name: default", "  data_files:"]
        for split in declared:
            front += [f"  - split: {split}", f"    path: {json.dumps(data_files[split])}"]
    if languages:
        front += ["language:"] + [f"- {json.dumps(x)}" for x in languages]
    front += ["pretty_name: " + json.dumps(f"{out.name} (classifier export)"), "---", ""]

    lines = [f"# {out.name}", ""]
    lines += [
        "Units of scraped news pages labelled by `classifier` (one of 13 labels and a "
        "language per unit), filtered and split **by document**: a document never appears "
        "in two splits.",
        "",
    ]
    if fmt in ("parquet", "jsonl"):
        lines += [
            'One row per unit. Load it with `datasets.load_dataset("<this folder>")`; '
            "the splits are `train`, `dev` and `test`.",
            "",
        ]
    elif fmt == "fasttext":
        target = options["target"]
        what = "label" if target == "relevance" else "lang"
        lines += [
            f"fastText supervised lines `__label__<{what}> text` in `train.txt`, "
            "`dev.txt` and `test.txt`, one unit per line.",
            "",
        ]
    elif data_files:
        lines += [
            "Cleaned documents, one JSON object (`id`, `text`) per line in "
            "`<split>.jsonl`; paragraphs are separated by a blank line.",
            "",
        ]
    else:
        lines += [
            "Cleaned documents, one UTF-8 file per document in `train/`, `dev/` and "
            "`test/`; paragraphs are separated by a blank line.",
            "",
        ]

    lines += ["## Command", "", "```", command or "(not recorded)", "```", ""]
    if input_name:
        lines += [f"Input: `{input_name}`", ""]
    lines += ["## Options", "", "| option | value |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in options.items()]
    lines += ["", "## Splits", "", "| split | units | documents |", "|---|---|---|"]
    lines += [f"| {s} | {rows[s]} | {documents[s]} |" for s in SPLITS]
    lines += ["", f"Groups (split keys): {tally.groups}."]
    lines += ["", "## Dropped units", "", "| reason | units |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in tally.dropped.items()]
    if fmt == "text" and tally.empty_documents:
        lines += ["", f"Documents with no unit left (not written): {tally.empty_documents}."]
    lines += ["", "## Labels per split", ""] + _count_table(tally.labels, "label")
    lines += ["", "## Languages per split", ""] + _count_table(tally.langs, "lang")
    if fmt in ("parquet", "jsonl"):
        lines += ["", "## Schema", "", "| column | type | meaning |", "|---|---|---|"]
        columns = tally.columns
        lines += [f"| `{c}` | {COLUMN_DOCS.get(c, ('', ''))[0]} | {COLUMN_DOCS.get(c, ('', ''))[1]} |" for c in columns]
    return "\n".join(front + lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value).replace("|", "\\|")


def _count_table(counts: dict[str, Counter], column: str) -> list[str]:
    totals = Counter()
    for count in counts.values():
        totals.update(count)
    values = sorted(totals, key=lambda v: (-totals[v], v))
    if not values:
        return ["(no units)"]
    out = [f"| {column} | " + " | ".join(SPLITS) + " | total |", "|---" * (len(SPLITS) + 2) + "|"]
    for value in values:
        cells = [counts[s][value] for s in SPLITS]
        out.append(f"| {value} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")
    return out


# --- stats -------------------------------------------------------------------------------


def corpus_stats(
    labelled: pd.DataFrame | Path | str,
    format: str | None = None,
    progress: Callable[[int], None] = lambda units: None,
) -> StatsReport:
    """Count units, documents and characters by label, role, language and source.

    ``labelled`` is a DataFrame or the path of a labelled file (``format`` as in
    :func:`read_labelled`). Labels and roles are listed in their fixed order, zeros included;
    languages and sources by number of units, most first. ``kept`` uses the ``keep`` column.
    A file is read in pieces, as :func:`export_dataset` reads it (interleaved documents make
    it read whole); ``progress`` is called with the number of units read after each piece.
    """
    if isinstance(labelled, pd.DataFrame):
        return _stats_of([_grouped(_validate(labelled, "the labelled table", "frame", None))], progress)
    try:
        return _stats_of(iter_labelled(labelled, format), progress)
    except _NeedsWholeTable as problem:
        if str(labelled) == "-":
            raise InputError(
                f"standard input {problem}, and stats reads standard input only once. Save the table "
                "to a file and give its path."
            ) from None
        return _stats_of([_grouped(read_labelled(labelled, format))], progress)


_BREAKDOWNS = ("label", "role", "lang", "source")


def _stats_of(pieces: Iterable[pd.DataFrame], progress: Callable[[int], None]) -> StatsReport:
    order = _DocumentOrder()
    sums = {name: pd.DataFrame(columns=["units", "documents", "characters", "kept_units"]) for name in _BREAKDOWNS}
    # The values of the last document read: a document split between two pieces counts once.
    last_doc, last_values = None, {name: set() for name in _BREAKDOWNS}
    units = characters = kept_units = kept_characters = 0
    for frame in pieces:
        order.runs(frame["doc_id"].to_numpy(dtype=object), units)
        chars = frame["text"].str.len().astype("int64")
        kept = frame["keep"].astype(bool)
        units += len(frame)
        characters += int(chars.sum())
        kept_units += int(kept.sum())
        kept_characters += int(chars[kept].sum())
        frame = frame.assign(_chars=chars, _kept=kept.astype("int64"))
        first_doc = frame["doc_id"].iat[0] if len(frame) else None
        for name in _BREAKDOWNS:
            grouped = frame.groupby(name, sort=False)
            pairs = frame.drop_duplicates(["doc_id", name])
            if first_doc is not None and first_doc == last_doc:
                pairs = pairs[~((pairs["doc_id"] == first_doc) & pairs[name].isin(last_values[name]))]
            part = pd.DataFrame(
                {
                    "units": grouped.size(),
                    "documents": pairs.groupby(name, sort=False).size(),
                    "characters": grouped["_chars"].sum(),
                    "kept_units": grouped["_kept"].sum(),
                }
            ).fillna(0)
            sums[name] = part if sums[name].empty else sums[name].add(part, fill_value=0)
            if len(frame):
                last = frame["doc_id"].iat[-1]
                values = set(frame.loc[frame["doc_id"] == last, name])
                last_values[name] = values | last_values[name] if last == last_doc else values
        if len(frame):
            last_doc = frame["doc_id"].iat[-1]
        progress(units)

    def breakdown(name: str, order: Sequence[str] | None) -> tuple[StatsRow, ...]:
        table = sums[name]
        if order is not None:
            table = table.reindex(list(order), fill_value=0)
        else:
            table = table.rename_axis(name).reset_index()
            table = table.sort_values(["units", name], ascending=[False, True], kind="stable").set_index(name)
        return tuple(
            StatsRow(
                value=str(value),
                units=int(row.units),
                share=(int(row.units) / units) if units else 0.0,
                documents=int(row.documents),
                characters=int(row.characters),
                kept_units=int(row.kept_units),
            )
            for value, row in table.iterrows()
        )

    return StatsReport(
        units=units,
        documents=order.documents.size,
        characters=characters,
        kept_units=kept_units,
        kept_characters=kept_characters,
        kept_share=(kept_units / units) if units else 0.0,
        by_label=breakdown("label", [lab.value for lab in Label]),
        by_role=breakdown("role", [role.value for role in Role]),
        by_lang=breakdown("lang", None),
        by_source=breakdown("source", None),
    )
