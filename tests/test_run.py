import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from classifier.errors import InputError, OutputError
from classifier.pipeline import Labeller, Settings
from classifier.run import label_to_file
from classifier.write import OutputFormat

from .conftest import SAMPLE


@pytest.fixture
def corpus(tmp_path):
    """Twelve documents (the seeds, repeated) as JSONL, plus a broken line and an empty text."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE.glob("*.txt"))]
    lines = [json.dumps({"id": f"d{i}", "text": texts[i % 5]}) for i in range(12)]
    lines.insert(3, "{broken")
    lines.append(json.dumps({"id": "empty", "text": ""}))
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(corpus, output, model, fmt=OutputFormat.JSONL, **kwargs):
    settings = Settings(model_dir=model, chunk_docs=kwargs.pop("chunk_docs", 3))
    options = {"id_column": "id", "on_error": "skip"}
    return label_to_file(str(corpus), output, fmt, settings, read_options=options, **kwargs)


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_output_is_whole_identical_and_logged(tiny_model, corpus, tmp_path, fmt):
    first = run(corpus, tmp_path / f"a.{fmt.value}", tiny_model, fmt)
    second = run(corpus, tmp_path / f"b.{fmt.value}", tiny_model, fmt)
    assert (tmp_path / f"a.{fmt.value}").read_bytes() == (tmp_path / f"b.{fmt.value}").read_bytes()
    assert not (tmp_path / f"a.{fmt.value}.parts").exists()
    assert first.summary.documents == 13 and first.summary.units == second.summary.units > 100
    assert len(first.summary.skipped) == 1 and ":4: not a JSON object" in first.summary.skipped[0]
    assert first.log_path == tmp_path / f"a.{fmt.value}.log"
    assert ":4: not a JSON object" in first.log_path.read_text(encoding="utf-8")
    reader = {"jsonl": lambda p: pd.read_json(p, lines=True), "csv": pd.read_csv, "parquet": pd.read_parquet}[fmt.value]
    frame = reader(tmp_path / f"a.{fmt.value}")
    assert len(frame) == first.summary.units and frame["doc_id"].nunique() == 12


def test_interrupted_run_resumes_without_redoing_or_duplicating(tiny_model, corpus, tmp_path, monkeypatch):
    expected = tmp_path / "full.jsonl"
    run(corpus, expected, tiny_model)
    calls = {"n": 0}
    original = Labeller.iter_chunk

    def failing(self, documents):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, documents)

    monkeypatch.setattr(Labeller, "iter_chunk", failing)
    output = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(corpus, output, tiny_model)
    assert not output.exists() and len(list((tmp_path / "out.jsonl.parts").glob("part-*.jsonl"))) == 2
    labelled = []
    monkeypatch.setattr(
        Labeller, "iter_chunk", lambda self, docs: labelled.extend(d.id for d in docs) or original(self, docs)
    )
    result = run(corpus, output, tiny_model, resume=True)
    assert result.resumed_documents == 6 and "d0" not in labelled and "d6" in labelled
    assert output.read_bytes() == expected.read_bytes()
    assert result.summary.documents == 13


def test_resume_refuses_other_settings(tiny_model, corpus, tmp_path):
    parts = tmp_path / "out.jsonl.parts"
    parts.mkdir()
    (parts / "run.json").write_text('{"fingerprint": "other"}', encoding="utf-8")
    with pytest.raises(InputError, match="unfinished run with other input or settings"):
        run(corpus, tmp_path / "out.jsonl", tiny_model, resume=True)


def test_unwritable_output(tiny_model, corpus, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(OutputError, match="Cannot write"):
            run(corpus, locked / "out.jsonl", tiny_model)
    finally:
        locked.chmod(0o700)


def test_killed_process_resumes(tiny_model, corpus, tmp_path):
    """SIGKILL in the middle of a run, then --resume: the same rows as an uninterrupted run."""
    expected = tmp_path / "full.jsonl"
    run(corpus, expected, tiny_model, chunk_docs=1)
    output = tmp_path / "out.jsonl"
    args = [
        sys.executable,
        "-m",
        "classifier",
        "label",
        str(corpus),
        "--id-column",
        "id",
        "--on-error",
        "skip",
        "-m",
        str(tiny_model),
        "-o",
        str(output),
        "-q",
        "--chunk-docs",
        "1",
    ]
    process = subprocess.Popen(args)
    parts = tmp_path / "out.jsonl.parts"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parts.glob("part-*.json"))) < 2 and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if output.exists():
        pytest.skip("the run finished before it could be killed")
    finished = len(list(parts.glob("part-*.json")))
    assert finished >= 2
    resumed = subprocess.run(args + ["--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert output.read_bytes() == expected.read_bytes()


def test_a_single_100_mb_line_is_labelled_whole(tiny_model, tmp_path):
    # One line of 100 MB between a title and an end line: it must come out as one unit with
    # exact offsets, and the models must read only its beginning (seconds, not minutes).
    huge = "The article goes on and on, sentence after sentence. " * 1_900_000
    text = f"Title\n\n{huge}\n\nEnd\n"
    corpus = tmp_path / "huge.txt"
    corpus.write_text(text, encoding="utf-8")
    output = tmp_path / "huge.jsonl"
    result = label_to_file(str(corpus), output, OutputFormat.JSONL, Settings(model_dir=tiny_model))
    rows = [json.loads(line) for line in output.open(encoding="utf-8")]
    assert len(huge) > 100_000_000 and result.summary.units == len(rows) == 3
    big = rows[1]
    assert (big["start"], big["end"]) == (7, 7 + len(huge)) and big["text"] == huge
    assert big["lang"] == "en"
