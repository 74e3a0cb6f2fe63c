"""The `classifier` command: thin typer wrappers around the library."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from classifier import __version__
from classifier.benchmark import PARTIAL_GOLD
from classifier.config import DEFAULT_CHUNK_DOCS, DEFAULT_GLOB, DEFAULT_SEED, DEFAULT_TEXT_COLUMN
from classifier.errors import ClassifierError, InputError
from classifier.readers import FLAGGED, InputFormat
from classifier.types import Profile
from classifier.write import OutputFormat

app = typer.Typer(
    help="Label every paragraph of scraped news text with its language and what it is "
    "(article content or a named kind of noise), and turn corpora into datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Markdown reflows a docstring's paragraphs to the terminal; rich keeps the source's line
    # breaks, which at 80 columns cut every long line in two. Help text with <, * or __ goes in `backticks`.
    rich_markup_mode="markdown",
)
err = Console(stderr=True)


def _fail(error: ClassifierError) -> None:
    err.print(f"[red]Error:[/red] {error}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(1)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"classifier {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
) -> None:
    """Label every paragraph of scraped news text with its language and relevance."""


ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        help="Model folder written by `classifier train`. Default: $CLASSIFIER_MODEL, else the model shipped with the package.",
    ),
]

# The arguments and options of the commands that read a labelled table (export, stats).
LabelledArgument = Annotated[
    str,
    typer.Argument(
        help="Output of `classifier label` (.jsonl, .csv or .parquet; compressed too: .jsonl.gz, .csv.zst; - for JSONL on standard input)."
    ),
]
TableFormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="How to read LABELLED: jsonl, csv or parquet. Default: by its extension; JSONL on standard input.",
    ),
]
QuietProgressOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]


def _progress(quiet: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=False,
    )


@app.command()
def label(
    corpus: Annotated[
        str,
        typer.Argument(
            help="A text file, a folder (searched recursively, see --glob), a .jsonl/.csv/.parquet file, a Common Crawl WET file (.warc.wet.gz: each record a document, its URL the id), or - for standard input. Text, JSONL, CSV and WET files may be compressed: .jsonl.gz, .jsonl.zst, .csv.bz2, .txt.xz."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file; its extension picks the format (.jsonl, .csv, .parquet; .jsonl.gz, .csv.gz, .jsonl.zst and .csv.zst are compressed). Default: JSONL on standard output.",
        ),
    ] = None,
    format: Annotated[
        OutputFormat | None, typer.Option("--format", "-f", help="Output format, overriding the extension.")
    ] = None,
    profile: Annotated[
        Profile,
        typer.Option(
            help="Which units are kept: strict = article content only; lenient = also captions, bylines, author bios and reader comments."
        ),
    ] = Profile.STRICT,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Keep only units in this language (ISO 639-1, e.g. en). Default: each document's own language.",
        ),
    ] = None,
    model: ModelOption = None,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            "--input-format",
            help="How to read CORPUS; default: by extension, under .gz/.bz2/.xz/.zst (.txt and others are plain text).",
        ),
    ] = None,
    text_column: Annotated[
        str, typer.Option(help="Column holding the text in JSONL/CSV/Parquet input.")
    ] = DEFAULT_TEXT_COLUMN,
    id_column: Annotated[str | None, typer.Option(help="Column holding a document id; default: file:row.")] = None,
    glob: Annotated[str, typer.Option(help="Files to read when CORPUS is a folder.")] = DEFAULT_GLOB,
    on_error: Annotated[
        str,
        typer.Option(
            help="A malformed JSONL line or CSV row: 'fail' stops with its file and line, 'skip' skips it and reports it."
        ),
    ] = "fail",
    chunk_docs: Annotated[
        int,
        typer.Option(
            min=1, help="Documents labelled together; line repetition across documents is counted within a chunk."
        ),
    ] = DEFAULT_CHUNK_DOCS,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=1, help="Worker processes; the output is the same, in the same order, for any number."
        ),
    ] = 1,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Carry on an interrupted run with the same options: finished chunks are kept, not redone."
        ),
    ] = False,
    log: Annotated[
        Path | None,
        typer.Option("--log", help="Where to list skipped and flagged input. Default: OUT.log when there is any."),
    ] = None,
    members: Annotated[
        bool,
        typer.Option(
            help="Average the model's members (the same model trained with other seeds): steadier labels. "
            "--no-members labels in about 40% less time with the first model alone."
        ),
    ] = True,
    compiled: Annotated[
        bool,
        typer.Option(
            "--compiled",
            help="Compile the model's boosters to machine code (needs pip install 'classifier\\[fast]'): the same "
            "labels in about a fifth less time, after a one-off compile of about 30 s cached per machine and model. "
            "Worth it for large corpora.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
) -> None:
    """Label every unit (paragraph, or line of a mixed paragraph) of a corpus.

    One row per unit: doc_id, unit, start, end, text, lang, lang_score, doc_lang,
    lang_mismatch, label, role, label_score, keep.

    Output files appear whole or not at all; an interrupted run keeps its finished chunks in
    OUT.parts/ and continues with --resume.

    Example: classifier label data/sample -o labels.csv
    """
    from classifier.pipeline import Settings
    from classifier.run import label_to_file
    from classifier.write import output_format

    try:
        fmt = output_format(output, format)
        settings = Settings(
            model_dir=model,
            profile=profile,
            target_lang=lang,
            chunk_docs=chunk_docs,
            use_members=members,
            compiled_boosters=compiled,
        )
        read_options = {
            "format": input_format,
            "text_column": text_column,
            "id_column": id_column,
            "glob": glob,
            "on_error": on_error,
        }
        with _progress(quiet) as bar:
            task = bar.add_task("labelling documents", total=None)
            result = label_to_file(
                corpus,
                output,
                fmt,
                settings,
                jobs=jobs,
                resume=resume,
                log_path=log,
                read_options=read_options,
                on_document=lambda: bar.advance(task),
                warn=lambda message: err.print(f"[yellow]Warning:[/yellow] {message}", highlight=False),
            )
    except ClassifierError as error:
        _fail(error)
    if not quiet:
        _print_summary(result.summary, output)
        if result.resumed_documents:
            err.print(
                f"resumed after {result.resumed_documents} documents labelled by the interrupted run", highlight=False
            )
        if result.log_path:
            err.print(f"skipped and flagged input listed in {result.log_path}", highlight=False)


def _print_summary(summary, output) -> None:
    share = summary.kept_characters / summary.characters if summary.characters else 0.0
    err.print(
        f"{summary.documents} documents, {summary.units} units, kept {summary.kept_units} units "
        f"({share:.0%} of characters)" + (f" -> {output}" if output else ""),
        highlight=False,
    )
    err.print("labels: " + ", ".join(f"{k} {v}" for k, v in summary.labels.items()), highlight=False)
    err.print("languages: " + ", ".join(f"{k} {v}" for k, v in summary.languages.items()), highlight=False)
    flagged = sum(message.endswith(FLAGGED) for message in summary.skipped)
    counts = {"skipped": len(summary.skipped) - flagged, "flagged (undecodable bytes replaced, labelled)": flagged}
    shown = ", ".join(f"{name}: {n}" for name, n in counts.items() if n)
    if shown:
        err.print(f"{shown} (see warnings above)", highlight=False)


@app.command()
def train(
    data: Annotated[
        Path,
        typer.Option(help="Benchmark data folder with `<dataset>.jsonl` and `txt/` (see ../shared/data/README.md)."),
    ] = Path("../shared/data"),
    gold: Annotated[Path | None, typer.Option(help="The project's fine-grained gold (line labels).")] = Path(
        "data/gold/gold.csv"
    ),
    output: Annotated[Path, typer.Option("--output", "-o", help="Model folder to write.")] = Path("models"),
    seed: Annotated[int, typer.Option(help="Random seed; the same seed and data give the same model.")] = DEFAULT_SEED,
    max_pages: Annotated[
        int | None, typer.Option(help="Use at most this many pages per dataset and split (quick runs).")
    ] = None,
    members: Annotated[
        bool,
        typer.Option(
            help="Also train the same model with seed 7 into a sub-folder and average the two: steadier "
            "figures, twice the training time, labelling takes about 60% longer."
        ),
    ] = True,
    language_only: Annotated[
        bool,
        typer.Option(
            help="Train only the und model (names, handles and brands have no language) from the gold's "
            "languages, into the existing model folder OUTPUT: about a minute."
        ),
    ] = False,
) -> None:
    """Train the relevance model on the benchmark pages' train split and the gold labels.

    The test split is never read. Writes content.ftz, labels.ftz, the gzipped LightGBM
    models and meta.json into OUTPUT (and a member model in a sub-folder); the dev split
    picks the content threshold. With gold languages, it also learns which short lines are
    names, handles or brands (language und): lang_und.gbm.txt.gz.

    Example: classifier train --data ../shared/data -o models
    """
    from classifier.train import TrainSettings, train_relevance, train_und

    progress = lambda message: err.print(f"[dim]{message}[/dim]")  # noqa: E731
    if language_only:
        if gold is None:
            _fail(InputError("--language-only learns from the gold's languages: pass --gold."))
        try:
            und = train_und(gold, data, output, seed, progress)
        except ClassifierError as error:
            _fail(error)
        typer.echo(json.dumps({"model": str(output), "und": und}, indent=2))
        return
    settings = TrainSettings(data_dir=data, gold_path=gold, out_dir=output, seed=seed, max_pages=max_pages)
    try:
        result = train_relevance(
            settings if members else replace(settings, member_seeds=()),
            progress=progress,
        )
    except ClassifierError as error:
        _fail(error)
    typer.echo(
        json.dumps(
            {"model": str(result.out_dir), "threshold": result.threshold, "dev": result.dev, "lines": result.lines},
            indent=2,
        )
    )


@app.command()
def evaluate(
    gold: Annotated[
        Path | None,
        typer.Argument(
            help="Labelled file (.csv/.jsonl/.parquet) with doc_id, start, end, label and text (or dataset references, with --data). Leave out with --benchmark."
        ),
    ] = None,
    model: ModelOption = None,
    data: Annotated[
        Path | None, typer.Option(help="Benchmark data folder, for gold files that refer to its pages.")
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="Only gold rows (or benchmark pages) of this split, e.g. test.")
    ] = None,
    benchmark: Annotated[
        bool,
        typer.Option(
            "--benchmark", help="Score body vs noise on the benchmark pages of --split (default test) in --data."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Measure the model against gold labels: per-label precision/recall/F1, macro-F1,
    keep/drop F1 by line and by character, a confusion matrix, and breakdowns by dataset
    and language.

    Example: classifier evaluate data/gold/gold.csv --data ../shared/data --split test
    """
    from classifier.evaluate import evaluate as run_evaluate
    from classifier.evaluate import evaluate_benchmark, read_gold
    from classifier.pipeline import Labeller, Settings

    try:
        labeller = Labeller(Settings(model_dir=model))
        if benchmark:
            if data is None:
                raise ClassifierError("--benchmark needs the benchmark folder: add --data ../shared/data.")
            report = evaluate_benchmark(data, labeller, split=split or "test")
            if as_json:
                typer.echo(json.dumps(report.to_dict(), indent=2))
            else:
                _print_benchmark(report)
            return
        if gold is None:
            raise ClassifierError("Give a GOLD file, or --benchmark --data DIR to score the benchmark pages.")
        documents = read_gold(gold, data, [split] if split else None)
        report = run_evaluate(documents, labeller)
    except ClassifierError as error:
        _fail(error)
    if as_json:
        typer.echo(report.to_json())
    else:
        _print_report(report)


def _print_benchmark(report) -> None:
    console = Console()
    table = Table(title=f"Body vs noise, {report.split} split: {report.pages} pages, {report.lines} lines")
    table.add_column("dataset", no_wrap=True)
    for column in ("lines", "P line", "R line", "F1 line", "P char", "R char", "F1 char"):
        table.add_column(column, justify="right")
    rows = list(report.by_dataset.items()) + [
        ("all", {"lines": report.lines, "by_line": report.overall_by_line, "by_char": report.overall_by_char})
    ]
    for name, figures in rows:
        line, char = figures["by_line"], figures["by_char"]
        table.add_row(
            name,
            str(figures["lines"]),
            *(f"{line[k]:.3f}" for k in ("precision", "recall", "f1")),
            *(f"{char[k]:.3f}" for k in ("precision", "recall", "f1")),
        )
        if name in PARTIAL_GOLD:
            alone = figures["alone_by_line"]
            table.add_row(
                "  one-line paras",
                str(figures["alone_lines"]),
                *(f"{alone[k]:.3f}" for k in ("precision", "recall", "f1")),
                *("" for _ in range(3)),
            )
    console.print(table)
    if any(name in PARTIAL_GOLD for name in report.by_dataset):
        console.print(
            f"{', '.join(PARTIAL_GOLD)}: partial gold marks a whole paragraph body or noise for a snippet in it; "
            "its one-line paragraphs are where the gold says which line it meant."
        )


def _print_report(report) -> None:
    console = Console()
    table = Table(title=f"{report.units} gold units in {report.documents} documents; macro-F1 {report.macro_f1:.3f}")
    for column in ("label", "support", "precision", "recall", "F1"):
        table.add_column(column, justify="right" if column != "label" else "left")
    for name, figures in report.per_label.items():
        table.add_row(
            name,
            str(figures["support"]),
            f"{figures['precision']:.3f}",
            f"{figures['recall']:.3f}",
            f"{figures['f1']:.3f}",
        )
    console.print(table)
    console.print(
        f"keep/drop (content) F1: by line {report.keep_by_line['f1']:.3f}, by character {report.keep_by_char['f1']:.3f}"
    )
    console.print("language: " + ", ".join(f"{k} {v}" for k, v in report.language.items()))
    labels = list(report.per_label)
    confusion = Table(title="Confusion (rows: gold, columns: predicted)")
    confusion.add_column("gold")
    short = [name[:6] for name in labels]
    for name in short:
        confusion.add_column(name, justify="right")
    for gold_label in labels:
        row = report.confusion.get(gold_label, {})
        if row:
            confusion.add_row(gold_label, *(str(row.get(p, "")) for p in labels))
    console.print(confusion)
    by = Table(title="By dataset and language")
    for column in ("group", "units", "label accuracy", "keep F1 (line)"):
        by.add_column(column)
    for prefix, groups in (("dataset", report.by_dataset), ("lang", report.by_language)):
        for name, figures in groups.items():
            by.add_row(
                f"{prefix}={name}",
                str(figures["units"]),
                f"{figures['label_accuracy']:.3f}",
                f"{figures['keep_f1_line']:.3f}",
            )
    console.print(by)


@app.command()
def export(
    labelled: LabelledArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write; must be empty unless --overwrite.")],
    as_: Annotated[
        str,
        typer.Option(
            "--as",
            help="parquet | jsonl: Hugging Face datasets layout (train/dev/test + README card); fasttext: `__label__X text` lines; text: cleaned documents.",
        ),
    ] = "parquet",
    profile: Annotated[
        str | None,
        typer.Option(
            help="strict (content), lenient (+ captions, bylines, bios, comments), all, or labels separated by commas, e.g. body,heading. Default: strict; all for --as fasttext --target relevance."
        ),
    ] = None,
    lang: Annotated[
        str | None, typer.Option(help="Keep units in this language only. Default: each document's own language.")
    ] = None,
    min_chars: Annotated[int, typer.Option(min=0, help="Drop units shorter than this many characters.")] = 0,
    dedupe: Annotated[
        str,
        typer.Option(
            help="none | exact | near: drop later repeats of a unit's text across the corpus (near: ignoring case, digits, punctuation and spacing)."
        ),
    ] = "none",
    ratios: Annotated[
        str, typer.Option(help="Shares of train,dev,test; documents, not units, are split.")
    ] = "0.8,0.1,0.1",
    seed: Annotated[int, typer.Option(help="Changes which documents go to which split.")] = DEFAULT_SEED,
    group_by: Annotated[
        str | None,
        typer.Option(help="Keep groups in one split: site (URL host or parent folder) or a column name, e.g. source."),
    ] = None,
    target: Annotated[
        str, typer.Option(help="With --as fasttext: relevance (`__label__<label>`) or language (`__label__<lang>`).")
    ] = "relevance",
    text_layout: Annotated[
        str, typer.Option(help="With --as text: files (one .txt per document) or jsonl (id, text).")
    ] = "files",
    overwrite: Annotated[bool, typer.Option(help="Allow writing into a folder that is not empty.")] = False,
    table_format: TableFormatOption = None,
    quiet: QuietProgressOption = False,
) -> None:
    """Turn labelled units into a dataset: training splits, fastText files or cleaned text.

    Splits are made by document (or by --group-by), so a document never straddles two.
    The table is read and written in pieces, so memory stays flat whatever its size.

    Example: classifier export labels.parquet -o dataset --as jsonl --profile lenient --dedupe near
    """
    from classifier.export import export_dataset

    try:
        if target != "relevance" and as_ != "fasttext":
            raise ClassifierError("--target applies to --as fasttext only.")
        if text_layout != "files" and as_ != "text":
            raise ClassifierError("--text-layout applies to --as text only.")
        try:
            split_ratios = tuple(float(x) for x in ratios.split(","))
        except ValueError:
            raise ClassifierError(f"--ratios {ratios!r}: want three numbers like 0.8,0.1,0.1.") from None
        with _progress(quiet) as bar:
            task = bar.add_task("units read", total=None)
            result = export_dataset(
                labelled,
                output,
                as_=as_,
                profile=profile,
                lang=lang,
                min_chars=min_chars,
                dedupe=dedupe,
                ratios=split_ratios,
                seed=seed,
                group_by=group_by,
                target=target,
                text_layout=text_layout,
                command="classifier " + " ".join(sys.argv[1:]),
                overwrite=overwrite,
                format=table_format,
                progress=lambda units: bar.update(task, completed=units),
            )
    except ClassifierError as error:
        _fail(error)
    summary = result.to_dict()
    typer.echo(
        json.dumps(
            {k: summary[k] for k in ("out_dir", "rows", "documents", "dropped") if k in summary}, indent=2, default=str
        )
    )


@app.command()
def stats(
    labelled: LabelledArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    table_format: TableFormatOption = None,
    quiet: QuietProgressOption = False,
) -> None:
    """Counts and shares of units by label, role, language and source.

    Example: classifier stats labels.parquet --json
    """
    from classifier.export import corpus_stats

    try:
        with _progress(quiet) as bar:
            task = bar.add_task("units read", total=None)
            report = corpus_stats(
                labelled, format=table_format, progress=lambda units: bar.update(task, completed=units)
            )
    except ClassifierError as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
        return
    console = Console()
    for name, frame in report.tables().items():
        table = Table(title=name)
        for column in frame.columns:
            table.add_column(str(column))
        for row in frame.itertuples(index=False):
            table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
        console.print(table)


if __name__ == "__main__":  # pragma: no cover
    app(prog_name="classifier")
