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

import gzip
import hashlib
import json
import math
import re
import sys
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from classifier.config import DEFAULT_PROFILE, DEFAULT_SEED, UND
from classifier.errors import InputError, OutputError
from classifier.types import RECORD_COLUMNS, Label, Profile, Role
from classifier.write import FORMAT_EXTENSIONS, atomic_path, format_of, is_gzip

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
    "paragraph": ("int64", "index of the blank-line block the unit came from"),
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

    Raises InputError naming the file, line or row and column of anything that cannot be read.
    """
    name = str(path)
    fmt = _input_format(name, format)
    if name != "-" and not Path(name).is_file():
        raise InputError(
            f"Labelled file {name} not found. Give the path of a file written by "
            "'classifier label' (.jsonl, .csv or .parquet; .jsonl.gz, .csv.gz), or '-' for standard input."
        )
    lines: list[int] | None = None
    if fmt == "jsonl":
        records, lines = _read_jsonl(name)
        frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
        if not records:
            frame = pd.DataFrame({c: [] for c in RECORD_COLUMNS})
    elif fmt == "csv":
        frame = _read_csv(name)
    else:
        try:
            frame = pd.read_parquet(name)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise InputError(
                f"{name} could not be read as Parquet ({exc}). Check the file, or give its "
                "format with --format jsonl or --format csv."
            ) from exc
    return _validate(frame, name, fmt, lines)


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
            f"Allowed: {', '.join(FORMAT_EXTENSIONS)}, and .jsonl.gz / .csv.gz. Rename the file or use --format."
        )
    return fmt.value


def _read_jsonl(name: str) -> tuple[list[dict], list[int]]:
    records: list[dict] = []
    lines: list[int] = []
    opener = gzip.open if is_gzip(name) else open
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
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            f"{name}: truncated or corrupt gzip file after {len(lines)} rows ({exc}). Label the corpus again."
        ) from exc
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return records, lines


def _read_csv(name: str) -> pd.DataFrame:
    source = sys.stdin if name == "-" else name
    try:
        # utf-8-sig: a labelled CSV corrected in Excel comes back with a byte-order mark.
        return pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        return pd.DataFrame({c: [] for c in RECORD_COLUMNS})
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            f"{name} could not be read as CSV: {exc}. Check the quoting of that line, or write the labels as JSONL."
        ) from exc


def _validate(frame: pd.DataFrame, name: str, fmt: str, lines: list[int] | None) -> pd.DataFrame:
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
            return f"{name} row {i + 1} after the header (column '{column}')"
        return f"{name} row {i + 1} (column '{column}')"

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
) -> tuple[pd.Series, dict[str, int]]:
    """A boolean mask of the units that pass, and the drop counts by (first) reason."""
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
        seen: set[str] = set()
        duplicate = pd.Series(False, index=frame.index)
        for index, text in frame.loc[mask, "text"].items():
            key = near_key(text) if dedupe == "near" else text
            if dedupe == "near" and not key:
                key = "\x00" + text  # nothing left to compare: fall back to the exact text
            if key in seen:
                duplicate[index] = True
            else:
                seen.add(key)
        dropped["duplicate"] = int(duplicate.sum())
        mask &= ~duplicate
    return mask, dropped


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


def _write_lines(path: Path, lines: Iterable[str]) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            for line in lines:
                handle.write(line)
                handle.write("\n")

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

    The ``keep`` column written by ``label`` is not used: the export applies its own profile
    and language, so one labelling can be exported both strict and lenient.
    """
    _validate_choice(as_, EXPORT_FORMATS, "export format")
    _validate_choice(dedupe, DEDUPE_MODES, "dedupe mode")
    _validate_choice(target, TARGETS, "fastText target")
    _validate_choice(text_layout, TEXT_LAYOUTS, "text layout")
    if isinstance(min_chars, bool) or not isinstance(min_chars, int) or min_chars < 0:
        raise InputError(f"Invalid min_chars {min_chars!r}. Allowed: an integer of 0 or more.")
    validate_ratios(ratios)
    frame, input_name = _load(labelled, format)

    language_target = as_ == "fasttext" and target == "language"
    if profile is None and as_ == "fasttext" and target == "relevance":
        profile = ALL_LABELS
    profile_name, labels = resolve_profile(profile)
    mask, dropped = _filter_units(
        frame,
        labels=labels,
        lang=lang,
        drop_und=language_target and lang is None,
        min_chars=min_chars,
        dedupe=dedupe,
        drop_empty=as_ == "fasttext",
    )
    splits = assign_splits(frame, ratios=ratios, seed=seed, group_by=group_by)
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

    out = _prepare_out_dir(Path(out_dir), overwrite)
    kept = frame.loc[mask].copy()
    kept["split"] = kept["doc_id"].map(splits)
    groups = len(set(_group_keys(frame, group_by)))
    context = _Context(out, kept, frame, splits, options, dropped, groups, input_name, command)
    if as_ in ("parquet", "jsonl"):
        return _export_hf(context, as_)
    if as_ == "fasttext":
        return _export_fasttext(context, target)
    return _export_text(context, text_layout, overwrite)


def _group_keys(frame: pd.DataFrame, group_by: str | None) -> list[str]:
    firsts = frame.drop_duplicates("doc_id")
    if group_by is None:
        return firsts["doc_id"].tolist()
    if group_by == "site":
        return [site_of(d, s) for d, s in zip(firsts["doc_id"], firsts["source"], strict=True)]
    return firsts[group_by].astype(str).tolist()


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


@dataclass(slots=True)
class _Context:
    out: Path
    kept: pd.DataFrame  # units that passed the filters, with a "split" column
    frame: pd.DataFrame  # all units
    splits: dict[str, str]
    options: dict[str, Any]
    dropped: dict[str, int]
    groups: int
    input_name: str
    command: str

    def split_frame(self, split: str) -> pd.DataFrame:
        part = self.kept[self.kept["split"] == split]
        return part.drop(columns="split").reset_index(drop=True)

    def result(
        self,
        fmt: str,
        paths: list[Path],
        rows: dict[str, int],
        documents: dict[str, int],
        empty_documents: int = 0,
    ) -> ExportResult:
        return ExportResult(
            out_dir=self.out,
            format=fmt,
            paths=tuple(paths),
            rows=rows,
            documents=documents,
            dropped=dict(self.dropped),
            groups=self.groups,
            empty_documents=empty_documents,
            options=dict(self.options),
        )


def _export_splits(
    ctx: _Context, fmt: str, write_split: Callable[[str, pd.DataFrame], Path], data_files: dict[str, str] | None
) -> ExportResult:
    """Write each split with ``write_split``, then the dataset card."""
    paths: list[Path] = []
    rows: dict[str, int] = {}
    documents: dict[str, int] = {}
    parts: dict[str, pd.DataFrame] = {}
    for split in SPLITS:
        part = ctx.split_frame(split)
        parts[split] = part
        paths.append(write_split(split, part))
        rows[split] = len(part)
        documents[split] = int(part["doc_id"].nunique())
    card = _dataset_card(ctx, parts, data_files, rows, documents)
    paths.append(_write_text(ctx.out / "README.md", card))
    return ctx.result(fmt, paths, rows, documents)


def _export_hf(ctx: _Context, fmt: str) -> ExportResult:
    ext = "parquet" if fmt == "parquet" else "jsonl"

    def write_split(split: str, part: pd.DataFrame) -> Path:
        path = ctx.out / f"{split}.{ext}"
        if ext == "parquet":
            table = part.astype({c: "string" for c in STR_COLUMNS})
            return atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))
        return _write_lines(path, _jsonl_lines(part))

    return _export_splits(ctx, fmt, write_split, {s: f"{s}.{ext}" for s in SPLITS})


def fasttext_line(label: str, text: str) -> str:
    """``__label__<label> <text>`` with the text on one line (line breaks become spaces)."""
    return f"__label__{label} " + " ".join(text.splitlines()).strip()


def _export_fasttext(ctx: _Context, target: str) -> ExportResult:
    column = "label" if target == "relevance" else "lang"

    def write_split(split: str, part: pd.DataFrame) -> Path:
        lines = [fasttext_line(x, t) for x, t in zip(part[column], part["text"], strict=True)]
        return _write_lines(ctx.out / f"{split}.txt", lines)

    return _export_splits(ctx, "fasttext", write_split, None)


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


def _export_text(ctx: _Context, layout: str, overwrite: bool) -> ExportResult:
    paths: list[Path] = []
    rows: dict[str, int] = {}
    documents: dict[str, int] = {}
    parts: dict[str, pd.DataFrame] = {}
    all_docs = set(ctx.frame["doc_id"])
    for split in SPLITS:
        part = ctx.split_frame(split)
        parts[split] = part
        texts = [(doc_id, document_text(units)) for doc_id, units in part.groupby("doc_id", sort=False)]
        if layout == "jsonl":
            lines = (json.dumps({"id": d, "text": t}, ensure_ascii=False) for d, t in texts)
            paths.append(_write_lines(ctx.out / f"{split}.jsonl", lines))
        else:
            folder = ctx.out / split
            folder.mkdir(exist_ok=True)
            if overwrite:
                for old in folder.glob("*.txt"):
                    old.unlink()
            taken: set[str] = set()
            for doc_id, text in texts:
                path = folder / f"{safe_name(str(doc_id), taken)}.txt"
                paths.append(_write_text(path, text + "\n"))
        rows[split] = len(part)
        documents[split] = len(texts)
    empty = len(all_docs) - sum(documents.values())
    data_files = {s: f"{s}.jsonl" for s in SPLITS} if layout == "jsonl" else None
    card = _dataset_card(ctx, parts, data_files, rows, documents, empty_documents=empty)
    paths.append(_write_text(ctx.out / "README.md", card))
    return ctx.result("text", paths, rows, documents, empty_documents=empty)


# --- dataset card ------------------------------------------------------------------------


def _dataset_card(
    ctx: _Context,
    parts: dict[str, pd.DataFrame],
    data_files: dict[str, str] | None,
    rows: dict[str, int],
    documents: dict[str, int],
    empty_documents: int = 0,
) -> str:
    """A README.md; its YAML front matter tells ``datasets`` which file is which split."""
    fmt = ctx.options["as"]
    languages = sorted({x for part in parts.values() for x in part["lang"]} - {UND})
    front = ["---"]
    # datasets fails on an empty split file, so empty splits are written but not declared.
    declared = [split for split in SPLITS if rows[split]] if data_files else []
    if data_files and declared:
        front += ["configs:", "- config_name: default", "  data_files:"]
        for split in declared:
            front += [f"  - split: {split}", f"    path: {json.dumps(data_files[split])}"]
    if languages:
        front += ["language:"] + [f"- {json.dumps(x)}" for x in languages]
    front += ["pretty_name: " + json.dumps(f"{ctx.out.name} (classifier export)"), "---", ""]

    lines = [f"# {ctx.out.name}", ""]
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
        target = ctx.options["target"]
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

    lines += ["## Command", "", "```", ctx.command or "(not recorded)", "```", ""]
    if ctx.input_name:
        lines += [f"Input: `{ctx.input_name}`", ""]
    lines += ["## Options", "", "| option | value |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in ctx.options.items()]
    lines += ["", "## Splits", "", "| split | units | documents |", "|---|---|---|"]
    lines += [f"| {s} | {rows[s]} | {documents[s]} |" for s in SPLITS]
    lines += ["", f"Groups (split keys): {ctx.groups}."]
    lines += ["", "## Dropped units", "", "| reason | units |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in ctx.dropped.items()]
    if empty_documents:
        lines += ["", f"Documents with no unit left (not written): {empty_documents}."]
    lines += ["", "## Labels per split", ""] + _count_table(parts, "label")
    lines += ["", "## Languages per split", ""] + _count_table(parts, "lang")
    if fmt in ("parquet", "jsonl"):
        lines += ["", "## Schema", "", "| column | type | meaning |", "|---|---|---|"]
        columns = list(next(iter(parts.values())).columns)
        lines += [f"| `{c}` | {COLUMN_DOCS.get(c, ('', ''))[0]} | {COLUMN_DOCS.get(c, ('', ''))[1]} |" for c in columns]
    return "\n".join(front + lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value).replace("|", "\\|")


def _count_table(parts: dict[str, pd.DataFrame], column: str) -> list[str]:
    counts = {s: Counter(part[column]) for s, part in parts.items()}
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


def corpus_stats(labelled: pd.DataFrame | Path | str, format: str | None = None) -> StatsReport:
    """Count units, documents and characters by label, role, language and source.

    ``labelled`` is a DataFrame or the path of a labelled file (``format`` as in
    :func:`read_labelled`). Labels and roles are listed in their fixed order, zeros included;
    languages and sources by number of units, most first. ``kept`` uses the ``keep`` column.
    """
    frame, _ = _load(labelled, format)
    chars = frame["text"].str.len().astype("int64")
    frame = frame.assign(_chars=chars)
    units = len(frame)
    kept = frame["keep"].astype(bool)

    def breakdown(column: str, order: Sequence[str] | None) -> tuple[StatsRow, ...]:
        grouped = frame.groupby(column, sort=False)
        table = pd.DataFrame(
            {
                "units": grouped.size(),
                "documents": grouped["doc_id"].nunique(),
                "characters": grouped["_chars"].sum(),
                "kept_units": grouped["keep"].sum(),
            }
        )
        if order is not None:
            table = table.reindex(list(order), fill_value=0)
        else:
            table = (
                table.reset_index()
                .sort_values(["units", column], ascending=[False, True], kind="stable")
                .set_index(column)
            )
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
        documents=int(frame["doc_id"].nunique()),
        characters=int(chars.sum()),
        kept_units=int(kept.sum()),
        kept_characters=int(chars[kept].sum()),
        kept_share=(int(kept.sum()) / units) if units else 0.0,
        by_label=breakdown("label", [lab.value for lab in Label]),
        by_role=breakdown("role", [role.value for role in Role]),
        by_lang=breakdown("lang", None),
        by_source=breakdown("source", None),
    )
