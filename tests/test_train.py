import json

from classifier.relevance import (
    LINE_START,
    MODEL_FILES,
    STACK_FILES,
    TEXT_FORMAT,
    RelevanceModel,
    feature_names,
    stack_names,
)
from classifier.train import fit_model

from .conftest import SEED_HELD_OUT, seed_pages, tiny_settings


def test_model_folder_has_every_file_and_a_card(tiny_model):
    for name in MODEL_FILES + STACK_FILES + ("README.md",):
        assert (tiny_model / name).is_file(), name
    meta = json.loads((tiny_model / "meta.json").read_text(encoding="utf-8"))
    assert meta["features"] == feature_names()
    assert meta["stack"] and meta["stack_features"] == stack_names()
    assert meta["lines"]["train_hand_labels"] > 100
    assert meta["text_format"] == TEXT_FORMAT
    card = (tiny_model / "README.md").read_text(encoding="utf-8")
    assert "Held-out" not in card
    model = RelevanceModel(tiny_model)
    # Each text model reads the character n-grams its settings name, and the card says so.
    for text_model, name in zip(model._fasttext, ("content", "labels"), strict=True):
        low, high = meta["char_ngrams"][name]
        args = text_model.f.getArgs()
        assert (args.minn, args.maxn) == (low, high)
        # Every training line began with the start-of-line token.
        assert LINE_START in text_model.words
        assert (f"character {low}–{high}-grams" in card) == (high > 0)


def test_training_is_reproducible(tmp_path):
    pages = seed_pages(exclude=(SEED_HELD_OUT,))
    first = tiny_settings(tmp_path / "a")
    second = tiny_settings(tmp_path / "b")
    fit_model(pages, [], first)
    fit_model(pages, [], second)
    for name in ("content.gbm.txt.gz", "labels.gbm.txt.gz", "content.ftz", "labels.ftz") + STACK_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_tiny_model_learns_the_seed_pages(tiny_model):
    """Trained on four seed pages, the model keeps and drops most lines of the fifth right."""
    import pandas as pd

    from classifier.evaluate import GoldDocument, evaluate
    from classifier.pipeline import Labeller, Settings

    from .conftest import GOLD, SAMPLE

    table = pd.read_csv(GOLD, dtype={"doc_id": str})
    rows = table[(table["dataset"] == "seeds") & (table["doc_id"] == SEED_HELD_OUT)]
    text = (SAMPLE / f"{SEED_HELD_OUT}.txt").read_text(encoding="utf-8")
    units = tuple((int(r.start), int(r.end), r.label, r.lang) for r in rows.itertuples())
    report = evaluate([GoldDocument(SEED_HELD_OUT, "seeds", text, units)], Labeller(Settings(model_dir=tiny_model)))
    assert report.units == len(rows) == 42
    assert report.keep_by_line["f1"] >= 0.9  # keeping everything would score 0.57
    assert report.language["recall_es"] == 1.0
