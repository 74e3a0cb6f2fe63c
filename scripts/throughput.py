"""Throughput benchmark: label a large corpus built by repeating the benchmark pages.

  python scripts/throughput.py --data ../shared/data [--mb 20] [--jobs 2]

Prints paragraphs (blank-line blocks), lines and units per second and MB per second for
the whole `classifier label ... -o out.parquet` process (reading, labelling, writing, start-up
included), with one process held to one core (also with --no-members, and with --compiled when
lleaves is installed: its one-off compile is timed apart, before) and with --jobs, next to
jusText on the same paragraphs in the same run (each paragraph wrapped as an HTML <p>, English
stop-list).
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq


def build_corpus(data: Path, megabytes: float, out: Path) -> tuple[int, int, int]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((data / "txt").glob("*/*.txt"))]
    size = documents = paragraphs = 0
    with out.open("w", encoding="utf-8") as handle:
        while size < megabytes * 1e6:
            for text in texts:
                handle.write(json.dumps({"id": f"doc{documents}", "text": text}, ensure_ascii=False) + "\n")
                size += len(text.encode("utf-8"))
                documents += 1
                paragraphs += sum(1 for block in text.split("\n\n") if block.strip())
                if size >= megabytes * 1e6:
                    break
    return documents, paragraphs, size


def label_command(corpus: Path, out: Path, jobs: int, members: bool = True, compiled: bool = False) -> list[str]:
    """The `classifier label` run both benchmarks time: the JSONL corpus to Parquet, quietly."""
    command = [sys.executable, "-m", "classifier", "label", str(corpus), "--id-column", "id"]
    command += ["-o", str(out), "-q", "--jobs", str(jobs)] + ([] if members else ["--no-members"])
    return command + (["--compiled"] if compiled else [])


def run_label(corpus: Path, out: Path, jobs: int, members: bool = True, compiled: bool = False) -> float:
    # One process is held to one core (LightGBM would spread over all of them), so that its
    # figure is the per-core one; with --jobs each worker runs one thread anyway.
    env = {**os.environ, "OMP_NUM_THREADS": "1"} if jobs == 1 else None
    started = time.perf_counter()
    subprocess.run(label_command(corpus, out, jobs, members, compiled), check=True, env=env)
    return time.perf_counter() - started


def run_justext(corpus: Path, limit_seconds: float) -> tuple[int, float]:
    import justext

    stoplist = justext.get_stoplist("English")
    started = time.perf_counter()
    paragraphs = 0
    with corpus.open(encoding="utf-8") as handle:
        for line in handle:
            blocks = [b for b in json.loads(line)["text"].split("\n\n") if b.strip()]
            page = "<html><body>" + "".join(f"<p>{html.escape(b)}</p>" for b in blocks) + "</body></html>"
            justext.justext(page.encode("utf-8"), stoplist, encoding="utf-8")
            paragraphs += len(blocks)
            if time.perf_counter() - started > limit_seconds:
                break
    return paragraphs, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in MB of text")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        documents, paragraphs, size = build_corpus(args.data, args.mb, corpus)
        print(f"corpus: {documents} documents, {paragraphs} paragraphs, {size / 1e6:.1f} MB")
        runs = [(jobs, True, False) for jobs in sorted({1, args.jobs})] + [(1, False, False)]
        if importlib.util.find_spec("lleaves"):
            runs += [(1, True, True), (args.jobs, True, True)]
            # The one-off compile (cached per machine and model), on a one-document corpus.
            one = Path(tmp) / "one.jsonl"
            one.write_text(corpus.open(encoding="utf-8").readline(), encoding="utf-8")
            seconds = run_label(one, Path(tmp) / "one.parquet", 1, compiled=True)
            print(f"--compiled: compiling the boosters (or reading them from the cache) took {seconds:.1f} s")
        for jobs, members, compiled in runs:
            out = Path(tmp) / f"out{jobs}{members}{compiled}.parquet"
            seconds = run_label(corpus, out, jobs, members, compiled)
            units = pq.ParquetFile(out).metadata.num_rows
            options = ("" if members else " --no-members") + (" --compiled" if compiled else "")
            print(
                f"classifier --jobs {jobs}{options}{' (one core)' if jobs == 1 else ''}: "
                f"{seconds:.1f} s, "
                f"{paragraphs / seconds:,.0f} paragraphs/s, "
                f"{units / seconds:,.0f} units/s, {size / 1e6 / seconds:.2f} MB/s"
            )
        done, seconds = run_justext(corpus, limit_seconds=60)
        print(f"jusText (1 process, first {done} paragraphs): {done / seconds:,.0f} paragraphs/s")


if __name__ == "__main__":
    main()
