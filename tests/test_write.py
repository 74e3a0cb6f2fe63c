import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.errors import OutputError
from classifier.types import RECORD_COLUMNS
from classifier.write import OutputFormat, output_format, write_records

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
record = st.fixed_dictionaries(
    {
        "doc_id": text,
        "unit": st.integers(0, 1000),
        "paragraph": st.integers(0, 100),
        "start": st.integers(0, 10**6),
        "end": st.integers(0, 10**6),
        "text": text,
        "lang": st.sampled_from(["en", "es", "tl", "und"]),
        "lang_score": st.floats(0, 1, width=32),
        "doc_lang": st.sampled_from(["en", "de"]),
        "lang_mismatch": st.booleans(),
        "label": st.sampled_from(["body", "navigation", "paywall"]),
        "role": st.sampled_from(["content", "boilerplate"]),
        "label_score": st.floats(0, 1, width=32),
        "keep": st.booleans(),
        "source": text,
    }
)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(record, max_size=5), fmt=st.sampled_from(list(OutputFormat)))
def test_round_trip_every_format(tmp_path, rows, fmt):
    path = tmp_path / f"out.{fmt.value}"
    assert write_records(iter(rows), path, fmt) == len(rows)
    if fmt is OutputFormat.JSONL:
        back = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
        assert back == rows
    elif fmt is OutputFormat.PARQUET:
        frame = pd.read_parquet(path)
        assert list(frame.columns) == list(RECORD_COLUMNS)
        assert frame["text"].tolist() == [r["text"] for r in rows]
        assert frame["keep"].tolist() == [r["keep"] for r in rows]
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert frame["text"].tolist() == [r["text"] for r in rows]
        assert frame["unit"].astype(int).tolist() == [r["unit"] for r in rows]
    assert not list(tmp_path.glob(".*.tmp"))


def test_format_from_extension_and_errors(tmp_path):
    assert output_format(tmp_path / "x.parquet") is OutputFormat.PARQUET
    assert output_format(None) is OutputFormat.JSONL
    assert output_format(tmp_path / "x.txt", "csv") is OutputFormat.CSV
    assert output_format(tmp_path / "x.jsonl.gz") is OutputFormat.JSONL
    assert output_format(tmp_path / "x.CSV.GZ") is OutputFormat.CSV
    assert output_format(tmp_path / "x.jsonl.zst") is OutputFormat.JSONL
    with pytest.raises(
        OutputError, match=r"x\.jsonl\.bz2: cannot write \.bz2 files\. Compress JSONL or CSV output with \.gz or \.zst"
    ):
        output_format(tmp_path / "x.jsonl.bz2")
    with pytest.raises(OutputError, match=r"Parquet compresses itself"):
        output_format(tmp_path / "x.parquet.zst")
    with pytest.raises(OutputError, match=r"Parquet compresses itself; write it as .*x\.parquet\."):
        output_format(tmp_path / "x.parquet.gz")
    with pytest.raises(OutputError, match=r"format of .*x\.gz from its extension"):
        output_format(tmp_path / "x.gz")
    with pytest.raises(OutputError, match=r"Use \.jsonl, \.csv or \.parquet \(\.jsonl\.gz, \.csv\.gz, .*--format"):
        output_format(tmp_path / "x.txt")


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "out.jsonl"

    def rows():
        yield {"doc_id": "a"}
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_records(rows(), path, OutputFormat.JSONL)
    assert not path.exists() and not list(tmp_path.iterdir())
