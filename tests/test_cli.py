import itertools
import json
import re
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from classifier.cli import app
from classifier.train import HELD_OUT_MARK

from .conftest import SAMPLE, one_page_benchmark

runner = CliRunner()


def commands():
    return [c.name or c.callback.__name__ for c in app.registered_commands]


@pytest.mark.parametrize("command", ["label", "train", "evaluate", "export", "stats"])
def test_every_command_has_help_with_an_example(command):
    assert command in commands()
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


@pytest.mark.parametrize("command", ["label", "train", "evaluate", "export", "stats"])
def test_help_reflows_the_docstring_to_the_terminal_and_keeps_every_word(command):
    callback = next(c.callback for c in app.registered_commands if (c.name or c.callback.__name__) == command)
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0
    shown = result.output.splitlines()
    assert all(len(line) <= 80 for line in shown)
    flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())
    for paragraph in callback.__doc__.split("\n\n"):
        assert " ".join(paragraph.replace("`", "").split()) in flat
    # A paragraph is wrapped once, at the terminal's width, not also where the source broke
    # it: a line of the description ends early only where its next word would not fit.
    description = [line.rstrip() for line in shown[: next(i for i, line in enumerate(shown) if "╭" in line)]]
    for line, following in itertools.pairwise(description):
        if line.strip() and following.strip():
            assert len(line) + 1 + len(following.split()[0]) > 80 - 2, (line, following)


def test_label_writes_csv_and_summary(tiny_model, tmp_path):
    out = tmp_path / "labels.csv"
    result = runner.invoke(app, ["label", str(SAMPLE), "-m", str(tiny_model), "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns[:3]) == ["doc_id", "unit", "paragraph"]
    assert frame["doc_id"].nunique() == 5
    assert "5 documents" in result.output and "languages:" in result.output


def test_label_to_stdout_as_jsonl_then_stats_and_export(tiny_model, tmp_path):
    result = runner.invoke(app, ["label", str(SAMPLE / "004_7e6da73c828c1149.txt"), "-m", str(tiny_model), "-q"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["lang"] for r in rows} >= {"en", "es"}
    path = tmp_path / "l.jsonl"
    path.write_text(result.stdout, encoding="utf-8")
    stats = runner.invoke(app, ["stats", str(path), "--json"])
    assert stats.exit_code == 0 and json.loads(stats.stdout)["units"] == len(rows)
    out = tmp_path / "ds"
    exported = runner.invoke(app, ["export", str(path), "-o", str(out), "--as", "fasttext"])
    assert exported.exit_code == 0, exported.output
    lines = (
        (out / "train.txt").read_text(encoding="utf-8").splitlines()
        + (out / "dev.txt").read_text(encoding="utf-8").splitlines()
        + (out / "test.txt").read_text(encoding="utf-8").splitlines()
    )
    in_doc_language = [r for r in rows if r["lang"] in (r["doc_lang"], "und")]
    assert len(lines) == len(in_doc_language) < len(rows)  # Spanish units left out by default
    assert all(line.startswith("__label__") and "\n" not in line for line in lines)
    # A table whose name does not say its format: --format says it, as the error advises.
    renamed = tmp_path / "labels.txt"
    path.rename(renamed)
    unnamed = runner.invoke(app, ["stats", str(renamed), "--json"])
    assert unnamed.exit_code == 1 and "Rename the file or use --format." in unnamed.output
    named = runner.invoke(app, ["stats", str(renamed), "--json", "--format", "jsonl"])
    assert json.loads(named.stdout)["units"] == len(rows)
    again = runner.invoke(
        app, ["export", str(renamed), "-o", str(tmp_path / "ds2"), "--as", "fasttext", "--format", "jsonl"]
    )
    assert again.exit_code == 0 and json.loads(again.stdout)["rows"] == json.loads(exported.stdout)["rows"]


def test_errors_are_one_line_with_the_fix(tiny_model, tmp_path):
    result = runner.invoke(app, ["label", str(tmp_path / "missing.txt"), "-m", str(tiny_model)])
    assert result.exit_code == 1
    assert (
        f"Error: Corpus {tmp_path / 'missing.txt'} not found. Pass a file, a folder, or - for standard input."
        in " ".join(result.output.split())
    )
    result = runner.invoke(app, ["label", str(SAMPLE), "-m", str(tiny_model), "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 1 and "or pass --format" in result.output
    result = runner.invoke(app, ["export", "x.jsonl", "-o", str(tmp_path / "d"), "--target", "language"])
    assert result.exit_code == 1 and "--target applies to --as fasttext only." in result.output


def test_default_model_ships_with_the_package():
    from classifier.config import default_model_dir
    from classifier.lang import UndModel
    from classifier.relevance import RelevanceModel

    RelevanceModel(default_model_dir())
    assert UndModel.from_dir(default_model_dir()) is not None


def test_train_language_only_adds_the_und_model_to_a_model_folder(tiny_model, tmp_path):
    from .test_train import _names_gold

    gold = _names_gold(tmp_path / "gold.csv")
    result = runner.invoke(app, ["train", "--language-only", "--gold", str(gold), "-o", str(tmp_path / "none")])
    assert result.exit_code == 1 and "holds no model" in result.output and "classifier train" in result.output
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    # The held-out figures measure the relevance model, which --language-only leaves alone.
    card = model / "README.md"
    head = card.read_text(encoding="utf-8").split(HELD_OUT_MARK)[0]
    card.write_text(head + HELD_OUT_MARK + "\n## Held-out figures\nline F1 0.123\n", encoding="utf-8")
    result = runner.invoke(app, ["train", "--language-only", "--gold", str(gold), "-o", str(model)])
    assert result.exit_code == 0, result.output
    reported = json.loads(result.stdout[result.stdout.index("{") :])
    assert reported["und"]["train_und"] == 144 and (model / "lang_und.gbm.txt.gz").is_file()
    rewritten = card.read_text(encoding="utf-8")
    assert rewritten.endswith(HELD_OUT_MARK + "\n## Held-out figures\nline F1 0.123\n")
    assert "lang_und.gbm.txt.gz" in rewritten.split(HELD_OUT_MARK)[0]


def test_jobs_give_the_same_output_in_the_same_order(tiny_model, tmp_path):
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"labels{jobs}.jsonl"
        args = ["label", str(SAMPLE), "-m", str(tiny_model), "-o", str(out), "-q", "--jobs", jobs, "--chunk-docs", "2"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") > 100


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_compressed_output_holds_the_same_rows_and_the_same_bytes_every_time(tiny_model, tmp_path, suffix):
    from classifier.export import read_labelled
    from classifier.readers import COMPRESSION_OPENERS

    plain = tmp_path / "labels.csv"
    base = ["label", str(SAMPLE), "-m", str(tiny_model), "-q", "--chunk-docs", "2"]
    assert runner.invoke(app, [*base, "-o", str(plain)]).exit_code == 0
    packed = []
    for jobs in ("1", "2"):  # two parts' files joined into one compressed stream
        out = tmp_path / f"labels{jobs}.csv{suffix}"
        result = runner.invoke(app, [*base, "-o", str(out), "--jobs", jobs])
        assert result.exit_code == 0, result.output
        packed.append(out.read_bytes())
    assert packed[0] == packed[1]
    with COMPRESSION_OPENERS[suffix](tmp_path / f"labels1.csv{suffix}", "rb") as handle:
        assert handle.read() == plain.read_bytes()
    assert read_labelled(tmp_path / f"labels1.csv{suffix}").equals(read_labelled(plain))
    result = runner.invoke(app, [*base, "-o", str(tmp_path / f"labels.parquet{suffix}")])
    assert result.exit_code == 1 and "Parquet compresses itself" in result.output


def test_empty_documents_are_counted(tiny_model, tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": ""}\n{"text": "Menu\\n\\nA line of text."}\n', encoding="utf-8")
    result = runner.invoke(app, ["label", str(corpus), "-m", str(tiny_model), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 0, result.output
    assert "2 documents" in result.output


def test_evaluate_benchmark_prints_the_table_and_the_one_line_figures_of_partial_gold(tmp_path, tiny_model):
    from classifier.benchmark import page_split

    block = "Menu\nThe line that holds the snippet, long enough to keep it.\nLogin"
    paragraphs = [(block, "body"), ("A second body line that is long enough to keep.", "body"), ("Footer", "noise")]
    one_page_benchmark(tmp_path, "trafilatura-eval", "p", paragraphs)
    args = ["evaluate", "--benchmark", "--data", str(tmp_path), "--split", page_split("trafilatura-eval", "p")]
    args += ["-m", str(tiny_model)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["by_dataset"]["trafilatura-eval"]
    assert figures["lines"] == 5 and figures["alone_lines"] == 2
    table = runner.invoke(app, args, terminal_width=200)
    assert table.exit_code == 0, table.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in table.output.splitlines() if "│" in line}
    assert rows["trafilatura-eval"] == "5" and rows["one-line paras"] == "2" and rows["all"] == "5"
    assert "partial gold" in table.output


def test_summary_counts_skipped_and_flagged_input_apart(tiny_model, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("A plain paragraph of English text about the weather today.\n")
    (corpus / "latin1.txt").write_bytes(b"Caf\xe9 au lait is served every morning in the old town.\n")
    (corpus / "image.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    out = tmp_path / "o.csv"
    result = runner.invoke(app, ["label", str(corpus), "-m", str(tiny_model), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "2 documents" in text
    assert "skipped: 1, flagged (undecodable bytes replaced, labelled): 1" in text
    assert len(out.with_name("o.csv.log").read_text().splitlines()) == 2
