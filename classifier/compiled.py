"""LightGBM boosters compiled to machine code by lleaves (``pip install .[fast]``, ``--compiled``).

LightGBM walks its trees node by node; lleaves compiles a model's trees with LLVM into one
function that gives the same probabilities (within 1e-14) three to four times faster. The
boosters are about 40% of the labelling time; a large run takes about a fifth less time
(measured). Compiling costs seconds per booster (about 30 s for the shipped model's nine), so it is opt-in,
for large corpora, and the machine code is cached, keyed by the model text, the CPU and the
lleaves and llvmlite versions, under ``$CLASSIFIER_CACHE`` (else ``~/.cache/classifier``): a
machine pays it once per model. When compiling fails, LightGBM predicts, with a warning.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import tempfile
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

from classifier.errors import ModelError

CACHE_ENV = "CLASSIFIER_CACHE"
# Inlining the trees' node functions more than doubles the compile time for a fifth less
# prediction time (measured on the 13-class label booster: 12 s against 5 s, 4 against 5 µs a row).
INLINE = False


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "classifier") / "compiled"


class CompiledBooster:
    """A compiled booster with the ``predict(rows, num_threads=...)`` of a LightGBM one."""

    def __init__(self, model) -> None:
        self._model = model

    def predict(self, rows: np.ndarray, num_threads: int = 0) -> np.ndarray:
        # 0 means what it means to LightGBM: OpenMP's default number of threads.
        threads = num_threads or int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
        return self._model.predict(rows, n_jobs=threads)


def require_lleaves() -> None:
    """Raise a ModelError that says how to install lleaves, when it is not installed."""
    if importlib.util.find_spec("lleaves") is None:
        raise ModelError(
            "Compiled boosters (--compiled) need lleaves, which is not installed. "
            "Install it with: pip install 'classifier[fast]' (or pip install .[fast] in a checkout)."
        )


def load_booster(path: Path, compiled: bool = False):
    """The gzipped LightGBM model at ``path``, compiled when ``compiled`` (see ``require_lleaves``),
    else a LightGBM booster; either predicts with ``predict(rows, num_threads=...)``."""
    import lightgbm

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    return (compile_booster(text) if compiled else None) or lightgbm.Booster(model_str=text)


def compile_booster(model_text: str, directory: Path | None = None) -> CompiledBooster | None:
    """The booster of ``model_text`` (LightGBM's text format) compiled, from the cache or
    compiled now into it; ``None`` (with a warning) when lleaves cannot compile it here."""
    require_lleaves()
    import lleaves
    import llvmlite
    import llvmlite.binding as llvm

    directory = directory or cache_dir()
    key = hashlib.sha256(
        "\n".join(
            [
                model_text,
                version("lleaves"),
                llvmlite.__version__,
                llvm.get_host_cpu_name(),
                llvm.get_host_cpu_features().flatten(),
                str(INLINE),
            ]
        ).encode("utf-8")
    ).hexdigest()[:32]
    cached = directory / f"{key}.o"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory) as scratch:
            source = Path(scratch) / "model.txt"
            source.write_text(model_text, encoding="utf-8")
            model = lleaves.Model(model_file=str(source))
            if cached.is_file():
                model.compile(cache=str(cached), finline=INLINE)
            else:
                # Compiled beside the cache, then renamed: a process that dies mid-way, or
                # another worker compiling the same model, never leaves half a file there.
                fresh = Path(scratch) / "model.o"
                model.compile(cache=str(fresh), finline=INLINE)
                os.replace(fresh, cached)
    except Exception as error:  # noqa: BLE001 - any failure of the optional compiler falls back
        warnings.warn(f"lleaves could not compile a model booster ({error}); LightGBM predicts instead.", stacklevel=2)
        return None
    return CompiledBooster(model)
