"""Tests for classifier.export: reading labelled tables, filters, splits, writers, stats."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier import export
from classifier.errors import InputError, OutputError
from classifier.export import (
    SPLITS,
    HashSet,
    assign_splits,
    atomic_write,
    corpus_stats,
    document_text,
    export_dataset,
    fasttext_line,
    near_key,
    read_labelled,
    resolve_profile,
    safe_name,
    site_of,
    split_of,
    validate_ratios,
)
from classifier.pipeline import in_target_language
from classifier.types import RECORD_COLUMNS, Label
from classifier.write import OutputFormat, write_records

# --- builders ----------------------------------------------------------------------------


def _unit(
    doc_id="doc",
    unit=0,
    text="Some article text.",
    label="body",
    lang="en",
    doc_lang="en",
    paragraph=None,
    keep=None,
    source="",
    **extra,
) -> dict:
    role = Label(label).role.value
    record = {
        "doc_id": doc_id,
        "unit": unit,
        "paragraph": unit if paragraph is None else paragraph,
        "start": 0,
        "end": len(text),
        "text": text,
        "lang": lang,
        "lang_score": 0.9,
        "doc_lang": doc_lang,
        "lang_mismatch": "und" not in (lang, doc_lang) and lang != doc_lang,
        "label": label,
        "role": role,
        "label_score": 0.75,
        "keep": (role == "content" and in_target_language(lang, doc_lang)) if keep is None else keep,
        "source": source,
    }
    record.update(extra)
    return record


def _frame(*records: dict) -> pd.DataFrame:
    return pd.DataFrame(list(records), columns=list(RECORD_COLUMNS))


def _page(doc_id: str, n: int = 0, source: str = "") -> list[dict]:
    """One scraped page: menu, headline, two body lines in one paragraph, a Spanish paywall
    notice, a Tagalog author bio, a counter."""
    rows = [
        ("Menu", "navigation", "en", 0),
        (f"Prisoner swap sparks optimism, part {n}", "heading", "en", 1),
        (f"Russia released schoolteacher Marc Fogel — día {n}, naïve café.", "body", "en", 2),
        (f"Officials said talks would continue ({n}).", "body", "en", 2),
        ("Tu suscripción se está usando en otro dispositivo", "paywall", "es", 3),
        ("Si Venus L Peñaflor ay naging editor-in-chief ng pahayagan", "author_bio", "tl", 4),
        ("Photo: Aaron Schwartz / POOL (EFE)", "caption", "en", 5),
        ("37", "navigation", "und", 6),
    ]
    return [
        _unit(doc_id, i, text, label, lang, paragraph=para, source=source)
        for i, (text, label, lang, para) in enumerate(rows)
    ]


@pytest.fixture
def corpus() -> pd.DataFrame:
    records = []
    for n in range(12):
        records += _page(f"https://www.site{n % 3}.example/news/{n}", n)
    return _frame(*records)


def _read_split(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_json(path, lines=True, dtype=False) if path.stat().st_size else pd.DataFrame()


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame[list(RECORD_COLUMNS)].to_dict("records")
    ]


# --- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_read_labelled_round_trip(tmp_path, corpus, fmt):
    path = tmp_path / f"labels.{fmt}"
    if fmt == "jsonl":
        corpus.to_json(path, orient="records", lines=True, force_ascii=False)
    elif fmt == "csv":
        corpus.to_csv(path, index=False)
    else:
        corpus.to_parquet(path, index=False)
    back = read_labelled(path)
    assert list(back.columns) == list(RECORD_COLUMNS)
    assert _records(back) == _records(corpus)
    assert back["unit"].dtype == "int64" and back["keep"].dtype == bool
    assert back["lang_score"].dtype == "float64"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_read_labelled_after_an_editor_added_a_byte_order_mark(tmp_path, corpus, fmt):
    path = tmp_path / f"corrected.{fmt}"
    text = (
        corpus.to_json(orient="records", lines=True, force_ascii=False)
        if fmt == "jsonl"
        else corpus.to_csv(index=False)
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert _records(read_labelled(path)) == _records(corpus)


@pytest.mark.parametrize("table", ["jsonl", "csv"])
@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_read_labelled_compressed_and_a_cut_one(tmp_path, corpus, monkeypatch, table, suffix):
    from classifier.readers import COMPRESSION_OPENERS

    fmt = OutputFormat(table)
    plain, packed = tmp_path / f"labels.{table}", tmp_path / f"labels.{table}{suffix}"
    for path in (plain, packed):
        write_records(iter(_records(corpus)), path, fmt)
    with COMPRESSION_OPENERS[suffix](packed, "rb") as handle:
        assert handle.read() == plain.read_bytes()
    monkeypatch.setattr(export, "CHUNK_ROWS", 10)
    assert read_labelled(packed).equals(read_labelled(plain))
    assert corpus_stats(packed) == corpus_stats(plain)
    cut = tmp_path / f"cut.{table}{suffix}"
    cut.write_bytes(packed.read_bytes()[: len(packed.read_bytes()) // 2])
    with pytest.raises(
        InputError,
        match=rf"cut\.{table}\{suffix}: truncated or corrupt compressed file",
    ):
        read_labelled(cut)


def test_read_labelled_explicit_format_and_stdin(tmp_path, corpus, monkeypatch):
    path = tmp_path / "labels.txt"
    corpus.to_csv(path, index=False)
    assert len(read_labelled(path, format="csv")) == len(corpus)
    data = corpus.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert _records(read_labelled("-", format="jsonl")) == _records(corpus)


def test_read_labelled_stdin_defaults_to_jsonl(corpus, monkeypatch):
    data = corpus.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert len(read_labelled("-")) == len(corpus)


def test_read_labelled_parquet_float32_scores(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.Table.from_pandas(_frame(_unit(), _unit(unit=1)), preserve_index=False)
    for column in ("lang_score", "label_score"):
        index = table.schema.get_field_index(column)
        table = table.set_column(index, column, table[column].cast(pa.float32()))
    table = table.set_column(1, "unit", table["unit"].cast(pa.int32()))
    path = tmp_path / "labels.pq"
    pq.write_table(table, path)
    back = read_labelled(path)
    assert back["lang_score"].tolist() == [0.9, 0.9]
    assert back["label_score"].tolist() == [0.75, 0.75]
    assert back["unit"].tolist() == [0, 1] and back["unit"].dtype == "int64"


def test_read_labelled_source_column_is_optional(tmp_path):
    record = _unit()
    del record["source"]
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert read_labelled(path)["source"].tolist() == [""]


def test_read_labelled_keeps_empty_csv_text_and_the_word_nan(tmp_path):
    path = tmp_path / "labels.csv"
    _frame(_unit(text=""), _unit(unit=1, text="nan"), _unit(unit=2, text="NA")).to_csv(path, index=False)
    assert read_labelled(path)["text"].tolist() == ["", "nan", "NA"]


def test_missing_column_lists_found_and_required(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"doc_id": "a", "text": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_labelled(path)
    message = str(error.value)
    assert str(path) in message
    assert "lacks the column(s) unit, paragraph, start, end, lang" in message
    assert "Found: doc_id, text, source." in message
    assert "Required: " + ", ".join(RECORD_COLUMNS) in message


def test_bad_jsonl_line_names_file_line_and_column(tmp_path):
    path = tmp_path / "labels.jsonl"
    good = json.dumps(_unit())
    path.write_text(f'{good}\n\n{good}\n{{"doc_id": "a",,}}\n', encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_labelled(path)
    assert str(error.value) == (
        f"{path} line 4 column 16: invalid JSON (Expecting property name enclosed in double "
        "quotes). Each line must be one JSON object as written by 'classifier label'; fix or "
        "remove that line."
    )


def test_jsonl_line_that_is_not_an_object(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(_unit()) + "\n[1, 2]\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_labelled(path)
    assert str(error.value).startswith(f"{path} line 2: expected a JSON object, found list.")


def test_bad_value_names_line_and_column(tmp_path):
    path = tmp_path / "labels.jsonl"
    lines = [json.dumps(_unit()), json.dumps(_unit(unit="two"))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_labelled(path)
    assert str(error.value).startswith(f"{path} line 2 (column 'unit'): expected an integer, found 'two'.")


def test_unknown_label_value_in_table(tmp_path):
    path = tmp_path / "labels.csv"
    frame = _frame(_unit(), _unit(unit=1))
    frame.loc[1, "label"] = "advert"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as error:
        read_labelled(path)
    assert str(error.value).startswith(
        f"{path} row 2 after the header (column 'label'): unknown label 'advert'. Allowed: body,"
    )


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("labels.xlsx", None, "Cannot tell the format of"),
        ("-", "parquet", "Parquet cannot be read from standard input."),
        ("labels.jsonl", "xml", "Unknown input format 'xml'. Allowed: jsonl, csv, parquet."),
        ("missing.jsonl", None, "not found"),
    ],
)
def test_read_labelled_argument_errors(tmp_path, name, fmt, expected):
    path = name if name == "-" else tmp_path / name
    if name == "labels.xlsx":
        Path(path).write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=expected.replace(".", r"\.")):
        read_labelled(path, format=fmt)


def test_not_parquet(tmp_path):
    path = tmp_path / "labels.parquet"
    path.write_text("not parquet", encoding="utf-8")
    with pytest.raises(InputError, match="could not be read as Parquet"):
        read_labelled(path)


# --- Hugging Face layout -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_hf_export_round_trips_through_pandas(tmp_path, corpus, fmt):
    result = export_dataset(corpus, tmp_path / "out", as_=fmt, profile="all", lang=None)
    ext = "parquet" if fmt == "parquet" else "jsonl"
    parts = {s: _read_split(tmp_path / "out" / f"{s}.{ext}") for s in SPLITS}
    assert {p.name for p in result.paths} == {f"{s}.{ext}" for s in SPLITS} | {"README.md"}
    written = [r for s in SPLITS if len(parts[s]) for r in _records(parts[s])]
    # profile all + each unit's doc_lang: only the Spanish and Tagalog units are dropped
    expected = _records(corpus[~corpus["lang"].isin(["es", "tl"])])
    key = lambda r: (r["doc_id"], r["unit"])  # noqa: E731
    assert sorted(written, key=key) == sorted(expected, key=key)
    assert result.dropped == {"profile": 0, "lang": 24, "und": 0, "min_chars": 0, "empty": 0, "duplicate": 0}
    assert sum(result.rows.values()) == len(expected)
    for split in SPLITS:
        assert result.rows[split] == len(parts[split])


def test_hf_export_loads_with_datasets(tmp_path, corpus, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    for fmt in ("parquet", "jsonl"):
        out = tmp_path / fmt
        result = export_dataset(corpus, out, as_=fmt, ratios=(0.5, 0.25, 0.25), seed=3)
        loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
        non_empty = [s for s in SPLITS if result.rows[s]]
        assert sorted(loaded.keys()) == sorted(non_empty)
        ext = "parquet" if fmt == "parquet" else "jsonl"
        for split in non_empty:
            expected = _records(_read_split(out / f"{split}.{ext}"))
            assert loaded[split].to_list() == expected


def test_dataset_card_front_matter_and_counts(tmp_path, corpus):
    command = "classifier export labels.jsonl -o out --as parquet --profile lenient"
    result = export_dataset(corpus, tmp_path / "out", as_="parquet", profile="lenient", command=command, seed=1)
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    front, body = card.split("---\n")[1], card.split("---\n", 2)[2]
    assert "configs:\n- config_name: default\n  data_files:\n" in front
    for split in SPLITS:
        if result.rows[split]:
            assert f'  - split: {split}\n    path: "{split}.parquet"\n' in front
    assert 'language:\n- "en"\n' in front
    assert f"```\n{command}\n```" in body
    assert "| profile | lenient |" in body
    caption_row = next(line for line in body.splitlines() if line.startswith("| caption |"))
    cells = [c.strip() for c in caption_row.strip("|").split("|")]
    assert cells == ["caption", *[str(result.documents[s]) for s in SPLITS], "12"]
    assert "| `lang_mismatch` | bool |" in body


def test_out_dir_must_be_empty_unless_overwrite(tmp_path, corpus):
    out = tmp_path / "out"
    export_dataset(corpus, out, as_="jsonl")
    with pytest.raises(OutputError, match=r"is not empty\. Choose a new or empty folder"):
        export_dataset(corpus, out, as_="jsonl")
    result = export_dataset(corpus, out, as_="jsonl", overwrite=True, profile="body")
    assert set(pd.concat([_read_split(p) for p in result.paths[:3]])["label"]) == {"body"}


def test_out_dir_that_is_a_file(tmp_path, corpus):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        export_dataset(corpus, tmp_path / "file", as_="jsonl")


# --- filters -----------------------------------------------------------------------------


def _kept_labels(tmp_path, frame, **options) -> list[str]:
    out = Path(tempfile.mkdtemp(dir=tmp_path))
    result = export_dataset(frame, out, as_="jsonl", ratios=(1, 0, 0), overwrite=True, **options)
    part = _read_split(out / "train.jsonl")
    assert result.rows["train"] == len(part)
    return part["text"].tolist() if len(part) else []


def test_profile_strict_keeps_content_only(tmp_path, corpus):
    texts = _kept_labels(tmp_path, corpus, profile="strict")
    kept = corpus[corpus["text"].isin(texts)]
    assert set(kept["label"]) == {"body", "heading"}
    assert len(kept) == 36


def test_profile_lenient_adds_peripheral_but_not_boilerplate(tmp_path, corpus):
    frame = corpus[corpus["lang"] == "en"]
    texts = _kept_labels(tmp_path, frame, profile="lenient")
    assert set(frame[frame["text"].isin(texts)]["label"]) == {"body", "heading", "caption"}
    assert "Menu" not in texts


def test_profile_default_is_strict_and_keep_column_is_ignored(tmp_path):
    frame = _frame(
        _unit(unit=0, text="Body kept although keep is false.", keep=False),
        _unit(unit=1, text="Caption dropped although keep is true.", label="caption", keep=True),
    )
    assert _kept_labels(tmp_path, frame) == ["Body kept although keep is false."]


def test_profile_explicit_label_list(tmp_path, corpus):
    texts = _kept_labels(tmp_path, corpus, profile=["caption", "navigation"])
    assert set(corpus[corpus["text"].isin(texts)]["label"]) == {"caption", "navigation"}
    assert _kept_labels(tmp_path, corpus, profile="heading, caption") == _kept_labels(
        tmp_path, corpus, profile=["caption", "heading"]
    )


def test_profile_unknown_label_is_explained():
    with pytest.raises(InputError) as error:
        resolve_profile(["body", "advert"])
    assert str(error.value) == (
        "Unknown label(s) 'advert' in the profile. Allowed: strict, lenient, all, or a "
        "comma-separated list of labels from: body, heading, caption, byline, author_bio, "
        "user_comment, navigation, related, promo, paywall, comment_prompt, legal, other."
    )
    with pytest.raises(InputError, match="Empty label list"):
        resolve_profile([])


def test_lang_default_keeps_units_in_their_documents_language_and_und(tmp_path):
    frame = _frame(
        _unit("en-doc", 0, "An English sentence.", lang="en"),
        _unit("en-doc", 1, "Una cita en español.", lang="es"),
        _unit("en-doc", 2, "2025", lang="und"),
        _unit("es-doc", 0, "Un artículo en español.", lang="es", doc_lang="es"),
    )
    assert _kept_labels(tmp_path, frame, profile="all") == ["An English sentence.", "2025", "Un artículo en español."]


def test_a_document_whose_language_cannot_be_told_keeps_every_language(tmp_path):
    frame = _frame(
        _unit("und-doc", 0, "Oslo", lang="no", doc_lang="und"),
        _unit("und-doc", 1, "Bergen", lang="und", doc_lang="und"),
        _unit("en-doc", 0, "Una cita en español.", lang="es"),
    )
    assert _kept_labels(tmp_path, frame, profile="all") == ["Oslo", "Bergen"]


def test_lang_target_keeps_that_language_only(tmp_path):
    frame = _frame(
        _unit("en-doc", 0, "An English sentence.", lang="en"),
        _unit("en-doc", 1, "Una cita en español.", lang="es"),
        _unit("en-doc", 2, "2025", lang="und"),
        _unit("es-doc", 0, "Un artículo en español.", lang="es", doc_lang="es"),
        _unit("es-doc", 1, "12", lang="und", doc_lang="es"),
    )
    assert _kept_labels(tmp_path, frame, profile="all", lang="es") == [
        "Una cita en español.",
        "Un artículo en español.",
        "12",
    ]


def test_min_chars_boundary(tmp_path):
    frame = _frame(_unit(unit=0, text="  abcde  "), _unit(unit=1, text="abcd"))
    assert _kept_labels(tmp_path, frame, min_chars=5) == ["  abcde  "]
    assert _kept_labels(tmp_path, frame, min_chars=4) == ["  abcde  ", "abcd"]
    with pytest.raises(InputError, match="Invalid min_chars -1"):
        export_dataset(frame, tmp_path / "x", as_="jsonl", min_chars=-1)


def test_exact_dedupe_drops_later_exact_repeats_only(tmp_path):
    frame = _frame(
        _unit("a", 0, "Sign up for daily updates!"),
        _unit("b", 0, "Sign up for daily updates!"),
        _unit("c", 0, "sign up for DAILY updates 2025"),
    )
    assert _kept_labels(tmp_path, frame, dedupe="none") == [
        "Sign up for daily updates!",
        "Sign up for daily updates!",
        "sign up for DAILY updates 2025",
    ]
    assert _kept_labels(tmp_path, frame, dedupe="exact") == [
        "Sign up for daily updates!",
        "sign up for DAILY updates 2025",
    ]


def test_near_dedupe_ignores_case_digits_punctuation_and_width(tmp_path):
    frame = _frame(
        _unit("a", 0, "Sign up for daily updates!"),
        _unit("b", 0, "sign up  for DAILY updates 2025"),
        _unit("c", 0, "Ｓｉｇｎ up for daily updates."),  # full-width letters (NFKC)
        _unit("d", 0, "Sign up for weekly updates!"),
    )
    assert _kept_labels(tmp_path, frame, dedupe="near") == ["Sign up for daily updates!", "Sign up for weekly updates!"]
    assert near_key("Señor  GARCÍA, 12:30!") == "señor garcía"


def test_near_dedupe_compares_letterless_units_exactly(tmp_path):
    frame = _frame(_unit("a", 0, "37"), _unit("b", 0, "12"), _unit("c", 0, "37"))
    assert _kept_labels(tmp_path, frame, dedupe="near") == ["37", "12"]


def test_dedupe_counts_and_unknown_mode(tmp_path, corpus):
    result = export_dataset(corpus, tmp_path / "o", as_="jsonl", profile="all", dedupe="exact")
    # Menu, the Spanish, Tagalog, caption and "37" units repeat on all 12 pages
    assert result.dropped == {"profile": 0, "lang": 24, "und": 0, "min_chars": 0, "empty": 0, "duplicate": 33}
    with pytest.raises(InputError, match="Unknown dedupe mode 'fuzzy'. Allowed: none, exact"):
        export_dataset(corpus, tmp_path / "p", as_="jsonl", dedupe="fuzzy")


# --- splits ------------------------------------------------------------------------------


@pytest.mark.parametrize("ratios", [(0.8, 0.1), (0.5, 0.5, 0.5), (1.2, -0.1, -0.1), (0.8, 0.1, 0.11), (1, 0, "0")])
def test_invalid_ratios(ratios):
    with pytest.raises(InputError, match="Invalid split ratios"):
        validate_ratios(ratios)


def test_ratios_within_tolerance_are_accepted():
    assert validate_ratios((0.7, 0.2, 0.1 + 5e-7)) == pytest.approx((0.7, 0.2, 0.1), abs=1e-6)


def test_split_of_is_stable_and_uses_seed():
    assert split_of("doc-1", (0.8, 0.1, 0.1), 0) == split_of("doc-1", [0.8, 0.1, 0.1], 0)
    keys = [f"doc-{i}" for i in range(200)]
    by_seed = [[split_of(k, (0.5, 0.25, 0.25), seed) for k in keys] for seed in (0, 1)]
    assert by_seed[0] != by_seed[1]
    assert {split_of(k, (1, 0, 0)) for k in keys} == {"train"}
    assert {split_of(k, (0, 0, 1)) for k in keys} == {"test"}
    shares = [by_seed[0].count(s) / len(keys) for s in SPLITS]
    assert shares == pytest.approx([0.5, 0.25, 0.25], abs=0.1)


doc_ids = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=25, unique=True)
ratio_st = st.sampled_from([(0.8, 0.1, 0.1), (0.5, 0.5, 0.0), (0.34, 0.33, 0.33), (1, 0, 0)])


def _docs_frame(ids: list[str], sources: list[str] | None = None) -> pd.DataFrame:
    records = []
    for i, doc_id in enumerate(ids):
        source = sources[i] if sources else ""
        records += [
            _unit(doc_id, 0, f"Título {i}", "heading", source=source),
            _unit(doc_id, 1, f"Cuerpo ñ {i}", source=source),
        ]
    return _frame(*records)


@given(ids=doc_ids, extra=doc_ids, ratios=ratio_st, seed=st.integers(0, 5))
@settings(max_examples=60, deadline=None)
def test_split_is_complete_disjoint_and_stable_under_adding_documents(ids, extra, ratios, seed):
    splits = assign_splits(_docs_frame(ids), ratios=ratios, seed=seed)
    assert set(splits) == set(ids)  # complete, and a dict gives each document one split
    assert set(splits.values()) <= {s for s, r in zip(SPLITS, ratios, strict=True) if r > 0}
    more = ids + [d for d in extra if d not in ids]
    grown = assign_splits(_docs_frame(more), ratios=ratios, seed=seed)
    assert {d: grown[d] for d in ids} == splits


@given(
    docs=st.lists(
        st.tuples(st.sampled_from(["a.example", "b.example", "c.example", "d.example"]), st.integers(0, 10_000)),
        min_size=1,
        max_size=30,
        unique=True,
    ),
    seed=st.integers(0, 3),
)
@settings(max_examples=50, deadline=None)
def test_site_group_never_straddles_splits(docs, seed):
    ids = [f"https://www.{host}/story/{n}" for host, n in docs]
    splits = assign_splits(_docs_frame(ids), ratios=(0.4, 0.3, 0.3), seed=seed, group_by="site")
    by_site: dict[str, set[str]] = {}
    for doc_id, split in splits.items():
        by_site.setdefault(site_of(doc_id), set()).add(split)
    assert all(len(s) == 1 for s in by_site.values())


@given(ids=doc_ids, seed=st.integers(0, 3))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_exported_splits_are_disjoint_and_complete(ids, seed):
    frame = _docs_frame(ids)
    with tempfile.TemporaryDirectory() as tmp:
        result = export_dataset(frame, tmp, as_="jsonl", seed=seed, overwrite=True)
        parts = {s: _read_split(Path(tmp) / f"{s}.jsonl") for s in SPLITS}
    docs = {s: set(p["doc_id"].astype(str)) if len(p) else set() for s, p in parts.items()}
    assert docs["train"].isdisjoint(docs["dev"]) and docs["dev"].isdisjoint(docs["test"])
    assert docs["train"].isdisjoint(docs["test"])
    assert docs["train"] | docs["dev"] | docs["test"] == set(ids)
    assert sum(result.rows.values()) == 2 * len(ids)
    assert {s: len(d) for s, d in docs.items()} == result.documents


def test_group_by_column_and_unknown_column(corpus):
    frame = corpus.assign(source=corpus["doc_id"].str.extract(r"(site\d)")[0])
    splits = assign_splits(frame, ratios=(0.34, 0.33, 0.33), group_by="source")
    for site in ("site0", "site1", "site2"):
        assert len({s for d, s in splits.items() if site in d}) == 1
    with pytest.raises(InputError, match="Cannot group by 'host': no such column. Use site"):
        assign_splits(frame, group_by="host")


@pytest.mark.parametrize(
    ("doc_id", "source", "site"),
    [
        ("https://www.Example.com/a/b?x=1", "", "example.com"),
        ("corpus.jsonl:3", "https://news.example.org/feed", "news.example.org"),
        ("pages/rappler/story-1.txt", "pages/rappler/story-1.txt", "pages/rappler"),
        ("corpus.jsonl:7", "data/elpais.jsonl", "data"),
        ("42", "", "42"),
    ],
)
def test_site_of(doc_id, source, site):
    assert site_of(doc_id, source) == site


def test_group_count_in_result(tmp_path, corpus):
    assert export_dataset(corpus, tmp_path / "a", as_="jsonl", group_by="site").groups == 3
    assert export_dataset(corpus, tmp_path / "b", as_="jsonl").groups == 12


# --- fastText ----------------------------------------------------------------------------


def test_fasttext_line_is_one_line():
    assert fasttext_line("body", "First line\nsecond line\r\nthird\u2028fourth ") == (
        "__label__body First line second line third fourth"
    )


def test_fasttext_relevance_has_every_label_regardless_of_keep(tmp_path, corpus):
    result = export_dataset(corpus, tmp_path / "ft", as_="fasttext", ratios=(1, 0, 0))
    lines = (tmp_path / "ft" / "train.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12 * 6 == result.rows["train"]  # every English and "und" unit
    assert lines[:3] == [
        "__label__navigation Menu",
        "__label__heading Prisoner swap sparks optimism, part 0",
        "__label__body Russia released schoolteacher Marc Fogel — día 0, naïve café.",
    ]
    assert "__label__caption Photo: Aaron Schwartz / POOL (EFE)" in lines
    assert result.options["profile"] == "all"
    assert (tmp_path / "ft" / "dev.txt").read_text() == ""


def test_fasttext_relevance_honours_an_explicit_profile(tmp_path, corpus):
    export_dataset(corpus, tmp_path / "ft", as_="fasttext", ratios=(1, 0, 0), profile="strict")
    lines = (tmp_path / "ft" / "train.txt").read_text(encoding="utf-8").splitlines()
    assert {line.split(" ", 1)[0] for line in lines} == {"__label__body", "__label__heading"}


def test_fasttext_language_target(tmp_path, corpus):
    result = export_dataset(
        corpus,
        tmp_path / "ft",
        as_="fasttext",
        target="language",
        profile="all",
        ratios=(1, 0, 0),
        dedupe="exact",
    )
    lines = (tmp_path / "ft" / "train.txt").read_text(encoding="utf-8").splitlines()
    assert "__label__es Tu suscripción se está usando en otro dispositivo" in lines
    assert "__label__tl Si Venus L Peñaflor ay naging editor-in-chief ng pahayagan" in lines
    assert not any(line.startswith("__label__und") for line in lines)
    assert result.dropped["und"] == 12
    assert result.dropped["lang"] == 0


def test_fasttext_drops_empty_units(tmp_path):
    frame = _frame(_unit(unit=0, text="   "), _unit(unit=1, text="Text."))
    result = export_dataset(frame, tmp_path / "ft", as_="fasttext", ratios=(1, 0, 0))
    assert (tmp_path / "ft" / "train.txt").read_text() == "__label__body Text.\n"
    assert result.dropped["empty"] == 1


# --- text --------------------------------------------------------------------------------


def test_document_text_paragraph_structure():
    frame = _frame(
        _unit(unit=2, paragraph=1, text="Second paragraph, line one."),
        _unit(unit=0, paragraph=0, text="Headline"),
        _unit(unit=3, paragraph=1, text="Second paragraph, line two.\n"),
        _unit(unit=5, paragraph=4, text="Último párrafo."),
    )
    assert document_text(frame) == (
        "Headline\n\nSecond paragraph, line one.\nSecond paragraph, line two.\n\nÚltimo párrafo."
    )


def test_text_export_files(tmp_path, corpus):
    result = export_dataset(corpus, tmp_path / "txt", as_="text", profile="lenient", ratios=(1, 0, 0))
    files = sorted((tmp_path / "txt" / "train").glob("*.txt"))
    assert len(files) == result.documents["train"] == 12
    first = next(p for p in result.paths if p.suffix == ".txt")
    assert first.read_text(encoding="utf-8") == (
        "Prisoner swap sparks optimism, part 0\n\n"
        "Russia released schoolteacher Marc Fogel — día 0, naïve café.\n"
        "Officials said talks would continue (0).\n\n"
        "Photo: Aaron Schwartz / POOL (EFE)\n"
    )
    assert first.name.startswith("https_www.site0.example_news_0-")


def test_text_export_jsonl_and_empty_documents(tmp_path):
    frame = _frame(
        _unit("a", 0, "Headline A", "heading"),
        _unit("a", 1, "Body A.", paragraph=1),
        _unit("b", 0, "Menu", "navigation"),
    )
    result = export_dataset(frame, tmp_path / "t", as_="text", text_layout="jsonl", ratios=(1, 0, 0))
    lines = (tmp_path / "t" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == [{"id": "a", "text": "Headline A\n\nBody A."}]
    assert result.empty_documents == 1
    assert result.documents == {"train": 1, "dev": 0, "test": 0}


def test_safe_names_are_collision_proof():
    taken: set[str] = set()
    names = [safe_name(d, taken) for d in ["a/b", "a_b", "a b", "A_B", "../../etc/passwd", "ñ"]]
    assert len({n.lower() for n in names}) == len(names)
    assert all("/" not in n and not n.startswith(".") for n in names)
    assert safe_name("a/b") == safe_name("a/b")
    assert safe_name("x" * 500).startswith("x" * 80 + "-")


def test_text_overwrite_removes_stale_documents(tmp_path):
    frame = _frame(_unit("a", 0, "A."), _unit("b", 0, "B."))
    export_dataset(frame, tmp_path / "t", as_="text", ratios=(1, 0, 0))
    export_dataset(frame[frame["doc_id"] == "a"], tmp_path / "t", as_="text", ratios=(1, 0, 0), overwrite=True)
    assert [p.read_text() for p in (tmp_path / "t" / "train").glob("*.txt")] == ["A.\n"]


def test_unknown_export_format(tmp_path, corpus):
    with pytest.raises(InputError, match="Unknown export format 'csv'. Allowed: parquet, jsonl"):
        export_dataset(corpus, tmp_path / "o", as_="csv")


def test_export_reads_a_path(tmp_path, corpus):
    path = tmp_path / "labels.jsonl"
    corpus.to_json(path, orient="records", lines=True, force_ascii=False)
    result = export_dataset(path, tmp_path / "o", as_="jsonl", command="cmd")
    assert f"Input: `{path}`" in (tmp_path / "o" / "README.md").read_text(encoding="utf-8")
    assert sum(result.rows.values()) == 36


# --- atomic writing ----------------------------------------------------------------------


def test_atomic_write_keeps_old_file_when_writer_fails(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("old\n")

    def broken(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.txt"]
    atomic_write(path, lambda tmp: tmp.write_text("new\n"))
    assert path.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.txt"]
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# --- round trip property -----------------------------------------------------------------

unit_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)


@given(texts=st.lists(unit_text, min_size=1, max_size=8), fmt=st.sampled_from(["parquet", "jsonl"]))
@settings(max_examples=40, deadline=None)
def test_hf_export_is_lossless_for_any_text(texts, fmt):
    frame = _frame(*[_unit(f"d{i % 3}", i, t, lang="tl", doc_lang="tl") for i, t in enumerate(texts)])
    with tempfile.TemporaryDirectory() as tmp:
        export_dataset(frame, tmp, as_=fmt, overwrite=True)
        ext = "parquet" if fmt == "parquet" else "jsonl"
        parts = [_read_split(Path(tmp) / f"{s}.{ext}") for s in SPLITS]
    back = pd.concat([p for p in parts if len(p)]).sort_values("unit")
    assert back["text"].tolist() == texts


# --- reading in pieces -------------------------------------------------------------------


def _written(out: Path) -> dict[str, object]:
    """Every file under ``out`` by relative path: Parquet as its records, others as bytes."""
    files: dict[str, object] = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != "README.md":
            rel = str(path.relative_to(out))
            files[rel] = _records(pd.read_parquet(path)) if path.suffix == ".parquet" else path.read_bytes()
    return files


@pytest.mark.parametrize(
    "as_, options",
    [
        ("parquet", {}),
        ("jsonl", {"dedupe": "near", "profile": "lenient"}),
        ("fasttext", {"dedupe": "exact"}),
        ("fasttext", {"target": "language"}),
        ("text", {"group_by": "site", "profile": "lenient"}),
        ("text", {"text_layout": "jsonl", "min_chars": 20}),
    ],
)
def test_a_file_read_in_small_pieces_exports_as_when_read_whole(tmp_path, corpus, monkeypatch, as_, options):
    path = tmp_path / "labels.jsonl"
    corpus.to_json(path, orient="records", lines=True, force_ascii=False)
    whole = export_dataset(path, tmp_path / "whole", as_=as_, ratios=(0.5, 0.25, 0.25), **options)
    # 5 rows a piece: most of the 12 eight-unit documents straddle two pieces.
    monkeypatch.setattr(export, "CHUNK_ROWS", 5)
    read = []
    pieces = export_dataset(
        path, tmp_path / "pieces", as_=as_, ratios=(0.5, 0.25, 0.25), progress=read.append, **options
    )
    assert read == list(range(5, 96, 5)) + [96]
    assert _written(tmp_path / "pieces") == _written(tmp_path / "whole")
    assert len(_written(tmp_path / "whole")) >= 3
    for name in ("rows", "documents", "dropped", "groups", "empty_documents"):
        assert getattr(pieces, name) == getattr(whole, name)
    if options.get("dedupe"):
        assert whole.dropped["duplicate"] > 0
    card = (tmp_path / "pieces" / "README.md").read_text(encoding="utf-8")
    assert card == (tmp_path / "whole" / "README.md").read_text(encoding="utf-8").replace("whole", "pieces")


def test_interleaved_documents_are_gathered_but_standard_input_names_the_row(tmp_path, corpus, monkeypatch):
    # The first document's first unit moved to the end: its units are no longer together.
    shuffled = corpus.iloc[[*range(1, len(corpus)), 0]]
    path = tmp_path / "labels.jsonl"
    shuffled.to_json(path, orient="records", lines=True, force_ascii=False)
    monkeypatch.setattr(export, "CHUNK_ROWS", 7)
    result = export_dataset(path, tmp_path / "file", as_="text", profile="all", lang="en")
    expected = export_dataset(corpus, tmp_path / "frame", as_="text", profile="all", lang="en")
    assert _written(tmp_path / "file") == _written(tmp_path / "frame")
    assert (result.rows, result.documents) == (expected.rows, expected.documents)
    assert corpus_stats(path) == corpus_stats(corpus)

    data = path.read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    out = tmp_path / "stdin"
    with pytest.raises(
        InputError, match=r"^standard input row 96: document 'https://www.site0.example/news/0' comes back"
    ):
        export_dataset("-", out, as_="jsonl")
    assert list(out.iterdir()) == []  # the splits written so far are gone, not left half-written


def test_an_extra_column_that_changes_type_between_pieces_is_kept(tmp_path, corpus, monkeypatch):
    frame = corpus.assign(note=[None] * 10 + [f"checked {i}" for i in range(len(corpus) - 10)])
    path = tmp_path / "labels.jsonl"
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    monkeypatch.setattr(export, "CHUNK_ROWS", 10)
    export_dataset(path, tmp_path / "out", as_="parquet", profile="all", lang="en", ratios=(1, 0, 0))
    back = pd.read_parquet(tmp_path / "out" / "train.parquet")
    assert len(back) == len(frame[frame["lang"].isin(["en", "und"])])
    assert back["note"].dropna().str.startswith("checked").all() and back["note"].notna().sum() > 50


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(max_size=3), max_size=12), max_size=6))
def test_hash_set_marks_the_first_of_each_value_once(batches):
    hashes, reference = HashSet(), set()
    for batch in batches:
        expected = []
        for value in batch:
            expected.append(value not in reference)
            reference.add(value)
        assert hashes.add(batch).tolist() == expected
    assert hashes.size == len(reference)


@pytest.mark.parametrize("rows", [1, 3, 8, 1000])
def test_corpus_stats_in_pieces_equal_stats_of_the_whole(tmp_path, corpus, monkeypatch, rows):
    path = tmp_path / "labels.csv"
    corpus.to_csv(path, index=False)
    monkeypatch.setattr(export, "CHUNK_ROWS", rows)
    assert corpus_stats(path) == corpus_stats(corpus)


# --- stats -------------------------------------------------------------------------------


def test_corpus_stats_counts_and_shares(corpus):
    report = corpus_stats(corpus)
    assert (report.units, report.documents) == (96, 12)
    assert report.characters == int(corpus["text"].str.len().sum())
    assert report.kept_units == 12 * 3 and report.kept_share == pytest.approx(36 / 96)
    labels = {row.value: row for row in report.by_label}
    assert list(labels) == [lab.value for lab in Label]
    assert (labels["navigation"].units, labels["navigation"].documents) == (24, 12)
    assert labels["promo"].units == 0 and labels["promo"].share == 0.0
    assert labels["body"].kept_units == 24
    assert [(r.value, r.units) for r in report.by_role] == [("content", 36), ("peripheral", 24), ("boilerplate", 36)]
    assert [(r.value, r.units) for r in report.by_lang] == [("en", 60), ("es", 12), ("tl", 12), ("und", 12)]
    assert sum(r.share for r in report.by_source) == pytest.approx(1.0)


def test_corpus_stats_json_and_tables(tmp_path, corpus):
    path = tmp_path / "labels.parquet"
    corpus.to_parquet(path, index=False)
    report = corpus_stats(path)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["by_lang"][1] == {
        "lang": "es",
        "units": 12,
        "share": 0.125,
        "documents": 12,
        "characters": 12 * 49,
        "kept_units": 0,
    }
    tables = report.tables()
    assert set(tables) == {"totals", "label", "role", "lang", "source"}
    assert list(tables["label"].columns) == ["label", "units", "share", "documents", "characters", "kept_units"]
    assert len(tables["label"]) == 13


def test_corpus_stats_empty_table():
    report = corpus_stats(_frame())
    assert (report.units, report.kept_share, report.by_lang) == (0, 0.0, ())
