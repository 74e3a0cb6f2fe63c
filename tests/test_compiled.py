from __future__ import annotations

import importlib.util

import lightgbm
import numpy as np
import pytest
from typer.testing import CliRunner

from classifier import compiled
from classifier.cli import app
from classifier.errors import ModelError
from classifier.pipeline import Labeller, Settings
from classifier.types import Document
from tests.conftest import SAMPLE

lleaves = pytest.importorskip("lleaves")


def test_compiled_boosters_label_exactly_like_lightgbm(tiny_model):
    documents = [Document(id=p.name, text=p.read_text(encoding="utf-8")) for p in sorted(SAMPLE.glob("*.txt"))]
    records = [
        [u.to_record() for units in Labeller(settings).label_chunk(documents) for u in units]
        for settings in (Settings(model_dir=tiny_model), Settings(model_dir=tiny_model, compiled_boosters=True))
    ]
    assert len(records[0]) > 100 and records[0] == records[1]


def test_compiled_code_is_cached_and_reused(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv(compiled.CACHE_ENV, str(tmp_path))
    compiles = []
    real = lleaves.compiler.compile_to_module
    monkeypatch.setattr(lleaves.compiler, "compile_to_module", lambda *a, **k: compiles.append(1) or real(*a, **k))
    path = tiny_model / "labels.gbm.txt.gz"
    rows = np.random.default_rng(0).random((50, lightgbm.Booster(model_str=_text(path)).num_feature()))
    first = compiled.load_booster(path, compiled=True)
    second = compiled.load_booster(path, compiled=True)
    assert isinstance(first, compiled.CompiledBooster) and len(compiles) == 1
    assert [p.suffix for p in (tmp_path / "compiled").iterdir()] == [".o"]
    expected = lightgbm.Booster(model_str=_text(path)).predict(rows)
    assert np.allclose(first.predict(rows), expected, atol=1e-12)
    assert np.allclose(second.predict(rows, num_threads=1), expected, atol=1e-12)


def test_a_failed_compile_falls_back_to_lightgbm_with_a_warning(tiny_model, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("no target machine")

    monkeypatch.setattr(lleaves.Model, "compile", fail)
    with pytest.warns(UserWarning, match="no target machine.*LightGBM predicts instead"):
        booster = compiled.load_booster(tiny_model / "content.gbm.txt.gz", compiled=True)
    assert isinstance(booster, lightgbm.Booster)


def test_without_lleaves_compiled_is_an_error_that_says_how_to_install_it(tiny_model, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "lleaves" else find_spec(name, *a)
    )
    with pytest.raises(ModelError, match=r"pip install 'classifier\[fast\]'"):
        Labeller(Settings(model_dir=tiny_model, compiled_boosters=True))
    result = CliRunner().invoke(app, ["label", str(SAMPLE), "-m", str(tiny_model), "--compiled"])
    assert result.exit_code == 1 and "need lleaves" in result.output


def _text(path) -> str:
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return handle.read()
