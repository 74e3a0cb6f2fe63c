import bz2
import codecs
import csv
import gzip
import hashlib
import io
import json
import lzma

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.errors import InputError
from classifier.readers import read_corpus, zstd


def test_text_file_is_one_document_with_its_path_as_id(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Menu\n\nBody.", encoding="utf-8")
    [doc] = read_corpus(path)
    assert doc.id == str(path) and doc.text == "Menu\n\nBody." and not doc.decode_errors


def test_folder_is_read_recursively_in_sorted_order(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.txt").write_text("b", encoding="utf-8")
    (tmp_path / "sub" / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "skip.md").write_text("x", encoding="utf-8")
    assert [d.text for d in read_corpus(tmp_path)] == ["b", "a"]


def test_empty_folder_names_the_glob(tmp_path):
    with pytest.raises(InputError, match=r"No files match '\*\*/\*\.txt' under .*Use --glob"):
        list(read_corpus(tmp_path))


def test_jsonl_with_id_column(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps({"id": 7, "body": "Hola"}) + "\n\n" + json.dumps({"id": 8, "body": "¿Qué?"}) + "\n", encoding="utf-8"
    )
    docs = list(read_corpus(path, text_column="body", id_column="id"))
    assert [(d.id, d.text) for d in docs] == [("7", "Hola"), ("8", "¿Qué?")]


def test_missing_text_column_lists_the_columns(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": 1, "body": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        list(read_corpus(path))
    assert str(error.value) == f"Column 'text' not found in {path}:1. Available: id, body. Use --text-column."


def test_malformed_jsonl_names_file_and_line_or_is_skipped(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "ok"}\n{"text": broken\n{"text": "fine"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{path}:2: not a JSON object .*--on-error skip"):
        list(read_corpus(path))
    warnings = []
    docs = list(read_corpus(path, on_error="skip", warn=warnings.append))
    assert [d.text for d in docs] == ["ok", "fine"]
    assert len(warnings) == 1 and f"{path}:2" in warnings[0]


def test_malformed_csv_rows_name_file_and_line_or_are_skipped(tmp_path):
    path = tmp_path / "c.csv"
    rows = ["id,text", "1,ok", '2,"Quoted" then not', "3,too,many", "4", "5,fine", '6,"left open', "7,lost"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{path}:3: not a readable CSV row .*--on-error skip"):
        list(read_corpus(path, id_column="id"))
    warnings = []
    docs = list(read_corpus(path, id_column="id", on_error="skip", warn=warnings.append))
    assert [(d.id, d.text) for d in docs] == [("1", "ok"), ("5", "fine")]
    # Without an id column a row is named by its place, skipped rows counted.
    assert [d.id for d in read_corpus(path, on_error="skip")] == [f"{path}:2", f"{path}:6"]
    # Every skipped row is reported with its line; the open quote swallowed line 8 with it.
    assert [w.split(": ")[0] for w in warnings] == [f"{path}:{n}" for n in (3, 4, 5, 7)]
    assert "more fields" in warnings[1] and "fewer fields" in warnings[2] and "row skipped" in warnings[3]


def test_compressed_files_are_read_by_their_inner_extension(tmp_path):
    rows = "".join(json.dumps({"id": i, "text": f"Paragraph {i}\n\nNext"}) + "\n" for i in range(3))
    gzip_path, xz_path = tmp_path / "a.jsonl.gz", tmp_path / "b.csv.xz"
    gzip_path.write_bytes(gzip.compress(rows.encode("utf-8")))
    xz_path.write_bytes(lzma.compress(b'id,text\n9,"Uno\n\nDos"\n'))
    (tmp_path / "c.txt.bz2").write_bytes(bz2.compress("Título\n\nCuerpo".encode()))
    # Two Zstandard frames, as parallel compressors (zstd -T, pzstd) write them: both are read.
    frames = [json.dumps({"id": f"z{i}", "text": f"Frame {i}"}).encode() + b"\n" for i in range(2)]
    (tmp_path / "d.jsonl.zst").write_bytes(b"".join(map(zstd.compress, frames)))
    docs = list(read_corpus(tmp_path, glob="*.*", id_column="id"))
    assert [(d.id, d.text) for d in docs] == [(str(i), f"Paragraph {i}\n\nNext") for i in range(3)] + [
        ("9", "Uno\n\nDos"),
        (str(tmp_path / "c.txt.bz2"), "Título\n\nCuerpo"),
        ("z0", "Frame 0"),
        ("z1", "Frame 1"),
    ]


@pytest.mark.parametrize(("suffix", "compress"), [(".gz", gzip.compress), (".zst", zstd.compress)])
def test_truncated_compressed_file_keeps_the_rows_before_the_cut(tmp_path, suffix, compress):
    # Rows that do not compress to nothing, so that half the file holds whole blocks of them.
    texts = [f"Row {i} " + hashlib.sha256(str(i).encode()).hexdigest() * 4 for i in range(2000)]
    rows = "".join(json.dumps({"text": text}) + "\n" for text in texts)
    whole = compress(rows.encode("utf-8"))
    path = tmp_path / f"cut.jsonl{suffix}"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=rf"^{path}: truncated or corrupt compressed file .*--on-error skip"):
        list(read_corpus(path))
    warnings = []
    docs = list(read_corpus(path, on_error="skip", warn=warnings.append))
    assert 0 < len(docs) < len(texts) and [d.text for d in docs] == texts[: len(docs)]
    assert len(warnings) == 1 and f"after {len(docs)} rows" in warnings[0]
    text_path = tmp_path / f"cut.txt{suffix}"
    text_path.write_bytes(whole[:100])
    assert list(read_corpus(text_path, on_error="skip", warn=warnings.append)) == []
    assert str(text_path) in warnings[1]


def test_csv_and_parquet(tmp_path):
    csv_path = tmp_path / "c.csv"
    csv_path.write_text('id,text\n1,"Line one\n\nLine, two"\n2,Zwei\n', encoding="utf-8")
    assert [(d.id, d.text) for d in read_corpus(csv_path, id_column="id")] == [
        ("1", "Line one\n\nLine, two"),
        ("2", "Zwei"),
    ]
    parquet_path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"text": ["Ein Text", "Tagalog: Siya ay"], "url": ["u1", "u2"]}), parquet_path)
    assert [(d.id, d.text) for d in read_corpus(parquet_path, id_column="url")] == [
        ("u1", "Ein Text"),
        ("u2", "Tagalog: Siya ay"),
    ]
    with pytest.raises(InputError, match="Column 'body' not found in .*Available: text, url. Use --text-column."):
        list(read_corpus(parquet_path, text_column="body"))


def test_invalid_utf8_is_replaced_and_flagged_binary_is_skipped(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9 ok")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\x00\x00\x01")
    warnings = []
    docs = list(read_corpus(tmp_path, warn=warnings.append))
    assert [d.text for d in docs] == ["caf\ufffd ok"] and docs[0].decode_errors
    assert any("image.txt: skipped, looks binary" in w for w in warnings)


def test_invalid_utf8_in_jsonl_and_csv_rows_is_flagged_with_its_line(tmp_path):
    jsonl = tmp_path / "rows.jsonl"
    # Rows 2 and 3 hold U+FFFD the writer put there (as an escape, as UTF-8 bytes): not bad
    # bytes. Row 4 holds half an emoji, an unpaired surrogate escape, which no UTF-8 file can hold.
    jsonl.write_bytes(
        b'{"text": "caf\xe9"}\n{"text": "sign \\ufffd"}\n{"text": "raw \xef\xbf\xbd"}\n{"text": "half \\ud83d"}\n'
    )
    csv_file = tmp_path / "rows.csv"
    csv_file.write_bytes(b'id,text\n1,fine\n2,"na\xefve"\n')
    warnings = []
    rows = list(read_corpus(jsonl, warn=warnings.append)) + list(read_corpus(csv_file, warn=warnings.append))
    assert [(d.text, d.decode_errors) for d in rows] == [
        ("caf\ufffd", True),
        ("sign \ufffd", False),
        ("raw \ufffd", False),
        ("half \ufffd", True),
        ("fine", False),
        ("na\ufffdve", True),
    ]
    assert [w.split(": ")[0] for w in warnings] == [f"{jsonl}:1", f"{jsonl}:4", f"{csv_file}:3"]
    assert all(w.endswith("document flagged.") for w in warnings)


def test_a_byte_order_mark_before_a_csv_header_or_a_jsonl_line_is_not_part_of_the_data(tmp_path):
    bom = b"\xef\xbb\xbf"
    (tmp_path / "excel.csv").write_bytes(bom + b'id,text\r\n7,"Saved by Excel, quoted"\r\n')
    (tmp_path / "rows.jsonl").write_bytes(bom + b'{"id": 8, "text": "First row"}\n')
    docs = [d for name in ("excel.csv", "rows.jsonl") for d in read_corpus(tmp_path / name, id_column="id")]
    assert [(d.id, d.text) for d in docs] == [("7", "Saved by Excel, quoted"), ("8", "First row")]


def test_utf16_text_with_its_byte_order_mark_is_read_not_skipped_as_binary(tmp_path):
    text = "Notepad's \u201cUnicode\u201d.\r\n\r\nSecond paragraph."
    (tmp_path / "windows.txt").write_bytes(text.encode("utf-16"))  # little-endian, with its mark
    (tmp_path / "big.txt").write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    warnings = []
    docs = list(read_corpus(tmp_path, warn=warnings.append))
    assert [d.text for d in docs] == [text, text] and not any(d.decode_errors for d in docs) and not warnings


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="not found. Pass a file, a folder, or - for standard input."):
        list(read_corpus(tmp_path / "nope.txt"))


# Any text, surrogates aside (they cannot be written as UTF-8): CRs, NULs, quotes, commas.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(any_text, min_size=1, max_size=4), fmt=st.sampled_from(["jsonl", "csv", "parquet"]))
def test_readers_give_back_every_text_whole(tmp_path, texts, fmt):
    path = tmp_path / f"corpus.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    elif fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text"])
            writer.writerows([t] for t in texts)
    else:
        pq.write_table(pa.table({"text": texts}), path)
    docs = list(read_corpus(path))
    assert [d.text for d in docs] == texts
    assert len({d.id for d in docs}) == len(texts)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=any_text.filter(lambda t: "\x00" not in t))
def test_a_text_file_is_read_back_byte_for_byte(tmp_path, text):
    path = tmp_path / "page.txt"
    path.write_bytes(text.encode("utf-8"))
    [doc] = read_corpus(path)
    assert doc.text == text and not doc.decode_errors


def write_wet(path, pages, compress=False):
    """A WET file as Common Crawl writes one: a warcinfo record, then one conversion record
    (the page's extracted text) per page, each its own gzip member when compressed."""
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=compress)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for url, payload in pages:
            record = writer.create_warc_record(
                url, "conversion", payload=io.BytesIO(payload), warc_content_type="text/plain"
            )
            writer.write_record(record)


def test_wet_records_are_documents_identified_by_their_url(tmp_path):
    path = tmp_path / "CC-MAIN-1.warc.wet"
    pages = [
        ("https://a.example/news/1", b"Menu\nTitle\nBody of the story."),
        ("https://b.example/", b"Caf\xe9"),
    ]
    write_wet(path, pages)
    warnings = []
    docs = list(read_corpus(path, warn=warnings.append))
    assert [(d.id, d.text, d.decode_errors) for d in docs] == [
        ("https://a.example/news/1", "Menu\nTitle\nBody of the story.", False),
        ("https://b.example/", "Caf\ufffd", True),
    ]
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}@") and "flagged" in warnings[0]


def test_truncated_wet_keeps_the_records_before_the_cut_and_garbage_is_an_error(tmp_path):
    pages = [
        (f"https://site.example/{i}", hashlib.sha256(str(i).encode()).hexdigest().encode() * 20) for i in range(50)
    ]
    whole = tmp_path / "whole.warc.wet.gz"
    write_wet(whole, pages, compress=True)
    assert [d.id for d in read_corpus(whole)] == [url for url, _ in pages]
    for name, data in [("cut.warc.wet.gz", whole.read_bytes()), ("cut.wet", gzip.decompress(whole.read_bytes()))]:
        path = tmp_path / name
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(InputError, match=rf"^{path}: truncated or corrupt .*--on-error skip"):
            list(read_corpus(path))
        warnings = []
        docs = list(read_corpus(path, on_error="skip", warn=warnings.append))
        assert 0 < len(docs) < len(pages) and [(d.id, d.text.encode()) for d in docs] == pages[: len(docs)]
        assert len(warnings) == 1 and f"after {len(docs)} records" in warnings[0]
    garbage = tmp_path / "page.wet"
    garbage.write_text("Just some text\n\nthat is not WARC.", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{garbage}: not a readable WET file after 0 records .*--on-error skip"):
        list(read_corpus(garbage))
