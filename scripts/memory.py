"""Memory benchmark: label a corpus of several GB and watch resident memory stay flat.

  python scripts/memory.py --data ../shared/data --gb 2 [--jobs 2] [--keep DIR]

Builds a JSONL corpus of the requested size by repeating the benchmark pages (each copy
with its own id), runs `classifier label CORPUS -o OUT.parquet --jobs N` and samples the
resident memory (RSS) of the labeller and its worker processes every second from /proc
(Linux only). Prints the memory at each tenth of the run, the peak, and the same for a
corpus a tenth of the size: flat memory means the two peaks are about the same.
"""

from __future__ import annotations

import argparse
import subprocess
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


def watch(corpus: Path, out: Path, jobs: int) -> tuple[float, list[tuple[float, float]]]:
    started = time.perf_counter()
    process = subprocess.Popen(label_command(corpus, out, jobs))
    samples = []
    while process.poll() is None:
        samples.append((time.perf_counter() - started, tree_rss_mb(process.pid)))
        if len(samples) % 60 == 0:
            print(f"  {samples[-1][0]:.0f} s: RSS {samples[-1][1]:.0f} MB", flush=True)
        time.sleep(1.0)
    if process.returncode:
        raise SystemExit(f"classifier label failed with exit status {process.returncode}")
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        peaks = []
        for name, gigabytes in (("small", args.gb / 10), ("large", args.gb)):
            corpus = work / f"{name}.jsonl"
            documents, _paragraphs, size = build_corpus(args.data, gigabytes * 1000, corpus)
            seconds, samples = watch(corpus, work / f"{name}.parquet", args.jobs)
            print(f"{name} corpus: {documents} documents")
            peaks.append(report(name, size, seconds, samples))
            corpus.unlink()
        print(f"peak RSS, large against small corpus: {peaks[1]:.0f} MB against {peaks[0]:.0f} MB (--jobs {args.jobs})")


if __name__ == "__main__":
    main()
