"""Memory benchmark: label a corpus of several GB and watch resident memory stay flat.

  python scripts/memory.py --data ../shared/data --gb 2 [--jobs 2] [--keep DIR]

Builds a JSONL corpus of the requested size by repeating the benchmark pages (each copy
with its own id), runs `classifier label CORPUS -o OUT.parquet --jobs N` and samples the
resident memory (RSS) of the labeller and its worker processes every second from /proc
(Linux only). Prints the memory at each tenth of the run, the peak, and the same for a
corpus a tenth of the size: flat memory means the two peaks are about the same.

  python scripts/memory.py --data ../shared/data --gb 1 --tables

does the same for `classifier export` (to Parquet) and `classifier stats`: it labels 10 MB of
the pages once, repeats the labelled rows (each copy with its own document ids) into a JSONL
table of the requested size and of a tenth of it, and watches both commands read each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from throughput import build_corpus, label_command  # scripts/ is on the path when run as a script


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        stack += _children(current)
    return total / 1024


def watch(command: list[str]) -> tuple[float, list[tuple[float, float]]]:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    samples = []
    while process.poll() is None:
        samples.append((time.perf_counter() - started, tree_rss_mb(process.pid)))
        if len(samples) % 60 == 0:
            print(f"  {samples[-1][0]:.0f} s: RSS {samples[-1][1]:.0f} MB", flush=True)
        time.sleep(1.0)
    if process.returncode:
        raise SystemExit(f"{' '.join(command[2:4])} failed with exit status {process.returncode}")
    return time.perf_counter() - started, samples


def report(name: str, size: int, seconds: float, samples: list[tuple[float, float]]) -> float:
    peak = max((rss for _, rss in samples), default=0.0)
    print(f"{name}: {size / 1e9:.2f} GB in {seconds:.0f} s ({size / 1e6 / seconds:.2f} MB/s), peak RSS {peak:.0f} MB")
    if samples:
        marks = [samples[min(len(samples) - 1, round(i * (len(samples) - 1) / 10))] for i in range(11)]
        print("  RSS by elapsed time: " + ", ".join(f"{t:.0f}s {rss:.0f} MB" for t, rss in marks))
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--gb", type=float, default=2.0, help="corpus size in GB of text")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    parser.add_argument("--tables", action="store_true", help="measure export and stats on labelled tables")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.tables:
            return measure_tables(args.data, args.gb, work)
        peaks = []
        for name, gigabytes in (("small", args.gb / 10), ("large", args.gb)):
            corpus = work / f"{name}.jsonl"
            documents, _paragraphs, size = build_corpus(args.data, gigabytes * 1000, corpus)
            seconds, samples = watch(label_command(corpus, work / f"{name}.parquet", args.jobs))
            print(f"{name} corpus: {documents} documents")
            peaks.append(report(name, size, seconds, samples))
            corpus.unlink()
        print(f"peak RSS, large against small corpus: {peaks[1]:.0f} MB against {peaks[0]:.0f} MB (--jobs {args.jobs})")


def build_table(labelled: Path, gigabytes: float, out: Path) -> tuple[int, int]:
    """A labelled JSONL table of about ``gigabytes``: the rows of ``labelled`` again and again,
    each copy's document ids suffixed with its number."""
    rows = [json.loads(line) for line in labelled.open(encoding="utf-8")]
    size = written = copy = 0
    with out.open("w", encoding="utf-8") as handle:
        while size < gigabytes * 1e9:
            for row in rows:
                line = json.dumps({**row, "doc_id": f"{row['doc_id']}-{copy}"}, ensure_ascii=False) + "\n"
                handle.write(line)
                size += len(line.encode("utf-8"))
                written += 1
            copy += 1
    return written, size


def measure_tables(data: Path, gigabytes: float, work: Path) -> None:
    corpus, labelled = work / "pages.jsonl", work / "labelled.jsonl"
    build_corpus(data, 10, corpus)
    subprocess.run(label_command(corpus, labelled, 2), check=True)
    peaks: dict[str, list[float]] = {"export": [], "stats": []}
    for name, size in (("small", gigabytes / 10), ("large", gigabytes)):
        table = work / f"{name}.jsonl"
        rows, size_bytes = build_table(labelled, size, table)
        print(f"{name} table: {rows} rows")
        commands = {
            "export": [sys.executable, "-m", "classifier", "export", str(table), "-o", str(work / f"{name}-export")]
            + ["--as", "parquet", "--dedupe", "near", "--overwrite", "-q"],
            "stats": [sys.executable, "-m", "classifier", "stats", str(table), "--json", "-q"],
        }
        for command_name, command in commands.items():
            seconds, samples = watch(command)
            peaks[command_name].append(report(f"{command_name} {name}", size_bytes, seconds, samples))
            print(f"  {rows / seconds:,.0f} rows/s")
        table.unlink()
    for command_name, (small, large) in peaks.items():
        print(f"peak RSS of {command_name}, large against small table: {large:.0f} MB against {small:.0f} MB")


if __name__ == "__main__":
    main()
