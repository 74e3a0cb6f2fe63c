import json

import numpy as np
import pandas as pd
import pytest

from classifier.errors import InputError
from classifier.evaluate import _binary, evaluate, evaluate_benchmark, read_gold, rewritten
from classifier.pipeline import Labeller, Settings, label_dataframe

from .conftest import SAMPLE, one_page_benchmark


def test_binary_scores_by_count_and_weight():
    truth = np.array([True, True, False, False])
    predicted = np.array([True, False, True, False])
    assert _binary(truth, predicted, np.ones(4)) == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "accuracy": 0.5}
    by_char = _binary(truth, predicted, np.array([10.0, 30.0, 10.0, 50.0]))
    assert by_char["precision"] == 0.5 and by_char["recall"] == 0.25


def test_labeller_output_scores_perfectly_against_itself(tiny_model, tmp_path):
    """A user's labelled file in the project's own format is valid gold."""
    settings = Settings(model_dir=tiny_model)
    frame = label_dataframe(SAMPLE, settings)
    path = tmp_path / "gold.jsonl"
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    documents = read_gold(path)
    assert len(documents) == 5
    report = evaluate(documents, Labeller(settings))
    assert report.keep_by_line["f1"] == 1.0 and report.keep_by_char["f1"] == 1.0
    assert all(v["f1"] == 1.0 for v in report.per_label.values() if v["support"])
    assert report.macro_f1 == 1.0
    json.loads(report.to_json())
    # a corrected label makes it imperfect
    frame.loc[frame["label"] == "body", "label"] = "promo"
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    worse = evaluate(read_gold(path), Labeller(settings))
    assert worse.per_label["promo"]["recall"] < 1.0 and worse.keep_by_line["f1"] < 1.0


def test_gold_file_errors(tmp_path):
    path = tmp_path / "g.csv"
    pd.DataFrame({"doc_id": ["a"], "start": [0], "label": ["body"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="lacks column\\(s\\) end. Found: doc_id, start, label"):
        read_gold(path)
    pd.DataFrame({"doc_id": ["a"], "start": [0], "end": [1], "label": ["junk"], "text": ["x"]}).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match="unknown label\\(s\\) junk"):
        read_gold(path)
    pd.DataFrame({"doc_id": ["a"], "start": [0], "end": [1], "label": ["body"], "dataset": ["dragnet"]}).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match="pass the benchmark folder with --data"):
        read_gold(path)


# A made-up page written under one of the benchmark's dataset names (no benchmark text).
SYNTHETIC_DATASET = "l3s-gn1"


def test_benchmark_scoring_on_a_tiny_benchmark(tmp_path):
    text = one_page_benchmark(
        tmp_path,
        SYNTHETIC_DATASET,
        "p",
        [("Home", "noise"), ("A body paragraph that is long enough.", "body"), ("Share", "ambiguous")],
    )
    from classifier.benchmark import page_split

    split = page_split("l3s-gn1", "p")

    def keep_long(documents):
        return [[len(line) > 10 for line in d.text.split("\n") if line.strip()] for d in documents]

    report = evaluate_benchmark(tmp_path, None, split=split, datasets=("l3s-gn1",), predictor=keep_long)
    assert report.pages == 1 and report.lines == 2  # the ambiguous paragraph is left out
    assert report.overall_by_line["f1"] == 1.0
    # Rewritten with other line breaks, the same lines are scored; the predictor sees the new text.
    seen = []

    def keep_long_and_look(documents):
        seen.extend(d.text for d in documents)
        return keep_long(documents)

    for breaks in ("\n", "\n\n"):
        rewritten = evaluate_benchmark(
            tmp_path, None, split=split, datasets=("l3s-gn1",), predictor=keep_long_and_look, line_breaks=breaks
        )
        assert rewritten.lines == 2 and rewritten.overall_by_line["f1"] == 1.0
    assert seen == ["Home\nA body paragraph that is long enough.\nShare", text]
    # Hard-wrapped, a source line is kept when most of its characters are: the long body line,
    # broken after "that", is kept by its first piece (21 of its 37 characters) alone.
    wrapped = evaluate_benchmark(
        tmp_path,
        None,
        split=split,
        datasets=("l3s-gn1",),
        predictor=lambda docs: [[len(line) > 20 for line in d.text.split("\n") if line.strip()] for d in docs],
        wrap_width=22,
    )
    assert wrapped.lines == 2 and wrapped.overall_by_line["f1"] == 1.0


def test_rewritten_wraps_long_lines_within_their_paragraph_and_maps_them_back():
    text = "Home | News\n\nA body paragraph that runs past the width.\nShort line\n\n\u00a0\t\u00a0\t1"
    written, owner = rewritten(text, wrap_width=16)
    # A line of no-break spaces and tabs before a number keeps only its number.
    assert written == "Home | News\n\nA body paragraph\nthat runs past\nthe width.\nShort line\n\n1"
    assert owner.tolist() == [0, 1, 1, 1, 2, 3]
    # Every character of the source but white space survives, in order.
    assert "".join(written.split()) == "".join(text.split())
    assert (
        rewritten(text, line_breaks="\n")[0]
        == "Home | News\nA body paragraph that runs past the width.\nShort line\n\u00a0\t\u00a0\t1"
    )


def test_benchmark_scores_one_line_paragraphs_also_on_their_own(tmp_path):
    # A block of three lines whose gold is body for the sake of one snippet line, and two
    # paragraphs of one line each: the "alone" figures count only those two.
    block = "Menu\nThe line that holds the snippet, long enough.\nLogin"
    one_page_benchmark(
        tmp_path,
        SYNTHETIC_DATASET,
        "q",
        [(block, "body"), ("Another body line, long enough to keep.", "body"), ("Footer", "noise")],
    )
    from classifier.benchmark import page_split

    report = evaluate_benchmark(
        tmp_path,
        None,
        split=page_split("l3s-gn1", "q"),
        datasets=("l3s-gn1",),
        predictor=lambda docs: [[len(line) > 10 for line in d.text.split("\n") if line.strip()] for d in docs],
    )
    figures = report.by_dataset["l3s-gn1"]
    assert figures["lines"] == 5 and figures["alone_lines"] == 2
    # All lines: 2 of the 4 gold-body lines kept ("Menu" and "Login" count as missed body).
    assert figures["by_line"]["recall"] == 0.5 and figures["by_line"]["precision"] == 1.0
    assert figures["alone_by_line"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "accuracy": 1.0}


def test_a_benchmark_folder_may_hold_some_datasets_but_not_none(tmp_path):
    from classifier.benchmark import read_benchmark

    with pytest.raises(InputError, match="No benchmark dataset in .*l3s-gn1.jsonl"):
        list(read_benchmark(tmp_path))
    one_page_benchmark(tmp_path, SYNTHETIC_DATASET, "p", [("A body paragraph.", "body")])
    assert [page.key for page in read_benchmark(tmp_path)] == [f"{SYNTHETIC_DATASET}/p"]
    # Named explicitly, a dataset that is not there is an error.
    with pytest.raises(InputError, match="dragnet.jsonl not found"):
        list(read_benchmark(tmp_path, datasets=("dragnet",)))
