import dataclasses
import json
import shutil

import numpy as np
import pytest

from classifier.errors import InputError, ModelError
from classifier.relevance import (
    LINE_START,
    MODEL_FILES,
    STACK_FILES,
    TEXT_FORMAT,
    RelevanceModel,
    feature_names,
    stack_names,
)
from classifier.train import (
    MEMBER_PREFIX,
    _fold,
    excerpts,
    fit_model,
    join_members,
    load_pages,
    without_blank_lines,
)

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
    assert "Held-out" not in card and "written a second time" not in card  # the tiny model has no copies
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
    # With the pages' copies written without blank lines and excerpts, as the shipped model is trained.
    first = tiny_settings(tmp_path / "a", single_break_share=1.0, excerpts_per_page=2)
    second = tiny_settings(tmp_path / "b", single_break_share=1.0, excerpts_per_page=2)
    fit_model(pages, [], first)
    fit_model(pages, [], second)
    for name in ("content.gbm.txt.gz", "labels.gbm.txt.gz", "content.ftz", "labels.ftz") + STACK_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    meta = json.loads((tmp_path / "a" / "meta.json").read_text(encoding="utf-8"))
    assert meta["single_break_share"] == 1.0 and meta["excerpts_per_page"] == 2
    # The card counts the pages' own lines, not their copies as well.
    assert meta["lines"]["train_content_targets"] == sum(int((p.content >= 0).sum()) for p in pages)
    assert meta["lines"]["train_hand_labels"] == sum(int((p.weight >= 1).sum()) for p in pages)
    card = (tmp_path / "a" / "README.md").read_text("utf-8")
    assert "100% of the training pages written a second time" in card and "2 excerpt(s) of every" in card


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


def test_a_page_copied_without_blank_lines_keeps_its_lines_and_targets():
    page = seed_pages()[0]
    copy = without_blank_lines(page)
    assert [line.text for line in copy.lines] == [line.text for line in page.lines]
    assert len({line.paragraph for line in page.lines}) > 1 and {line.paragraph for line in copy.lines} == {0}
    assert "\n\n" not in copy.text and copy.key == page.key
    assert copy.content is page.content and copy.label is page.label and copy.weight is page.weight


def test_an_excerpt_is_a_run_of_paragraphs_with_their_lines_and_targets():
    for page in seed_pages():
        found = excerpts(page, 3)
        assert len(found) == 3 and len({e.key for e in found}) == 3
        for excerpt in found:
            # The excerpt's text is the page's, from one of its lines to a later one, nothing else.
            n = len(excerpt.lines)
            runs = [slice(i, i + n) for i in range(len(page.lines) - n + 1)]
            rows = next(r for r in runs if page.text[page.lines[r][0].start : page.lines[r][-1].end] == excerpt.text)
            assert [line.text for line in excerpt.lines] == [line.text for line in page.lines[rows]]
            assert 1 <= len({line.paragraph for line in excerpt.lines}) <= 3
            for name in ("content", "label", "weight"):
                assert (getattr(excerpt, name) == getattr(page, name)[rows]).all()
            # Cross-fitting: an excerpt is in its page's fold.
            assert excerpt.key.startswith(page.key) and _fold(excerpt.key) == _fold(page.key)
    assert excerpts(seed_pages()[0], 0) == []


def test_members_trained_with_other_seeds_are_averaged_in(tmp_path):
    pages = seed_pages(exclude=(SEED_HELD_OUT,))
    dev = seed_pages(exclude=tuple(p.key.split("/")[1] for p in pages))
    member = f"{MEMBER_PREFIX}1"
    fit_model(pages, dev, tiny_settings(tmp_path))
    fit_model(pages, dev, tiny_settings(tmp_path / member, seed=1))
    documents = [(p.lines, len(p.text)) for p in dev]
    alone = RelevanceModel(tmp_path).beliefs(documents)
    other = RelevanceModel(tmp_path / member).beliefs(documents)
    assert not np.allclose(alone[0], other[0])  # another seed, another model

    result = join_members(tmp_path, [member], dev, lambda message: None)
    joined = RelevanceModel(tmp_path)
    assert [m.directory.name for m in joined.members] == [member]
    content, labels = joined.beliefs(documents)
    np.testing.assert_allclose(content, (alone[0] + other[0]) / 2)
    np.testing.assert_allclose(labels, (alone[1] + other[1]) / 2)
    meta = json.loads((tmp_path / "meta.json").read_text(encoding="utf-8"))
    assert meta["members"] == [member] and meta["member_seeds"] == [1]
    assert meta["threshold"] == result.threshold and meta["dev"] == result.dev and "content_line_f1" in result.dev
    assert f"`{member}/`: the same model trained with seed(s) 1" in (tmp_path / "README.md").read_text("utf-8")
    # Without its members the model is the first one alone, at its own threshold.
    single = RelevanceModel(tmp_path, members=False)
    assert single.members == () and single.threshold == meta["own_threshold"]
    np.testing.assert_allclose(single.beliefs(documents)[0], alone[0])
    # A member folder that went missing is named.
    meta["members"] = ["gone"]
    (tmp_path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="gone lacks meta.json"):
        RelevanceModel(tmp_path)


def test_gold_naming_a_seed_page_whose_text_is_missing_says_where_it_looked(tmp_path):
    gold = tmp_path / "elsewhere" / "gold.csv"
    gold.parent.mkdir()
    gold.write_text(
        "dataset,doc_id,split,line,start,end,label,lang\nseeds,000_abc,train,0,0,5,heading,en\n", encoding="utf-8"
    )
    settings = dataclasses.replace(tiny_settings(tmp_path / "out"), gold_path=gold)
    with pytest.raises(InputError, match=r"seed page 000_abc.*sample.*000_abc\.txt.*does not exist"):
        load_pages(settings, ("train",))


# Names and handles are `und` in the gold, short phrases English; the und model must learn the
# difference from the gold's languages alone, and the labeller then apply it to unseen names.
FIRST_NAMES = ["Marta", "Olu", "Kasia", "Thabo", "Ingrid", "Rafael", "Yuki", "Anouk", "Dmitri", "Siobhan", "Tariq"]
LAST_NAMES = ["Kowalczyk", "Okonkwo", "Haugland", "Nakashima", "Brennan", "Vasquez", "Lindqvist", "Adeyemi", "Moreau"]
PHRASES = ["Read more", "Sign up today", "Share this story", "Latest news", "Most popular", "Leave a comment"]
PHRASES += ["Back to top", "Contact us", "Terms of use", "Follow us", "Related stories", "Log in"]
BODY = (
    "The city council approved the new budget on Tuesday after a long debate about school funding "
    "and the repair of roads that residents have complained about for years."
)


def _names_gold(path, documents: int = 48):
    rows = []
    for d in range(documents):
        first = [FIRST_NAMES[(d + k) % len(FIRST_NAMES)] for k in range(3)]
        last = [LAST_NAMES[(d * 2 + k) % len(LAST_NAMES)] for k in range(3)]
        lines = [(BODY, "body", "en")]
        lines += [(f"{f} {s}", "byline", "und") for f, s in zip(first, last, strict=True)]
        lines += [(f"@{first[0].lower()}{last[0].lower()}", "navigation", "und")]
        lines += [(PHRASES[(d + k) % len(PHRASES)], "navigation", "en") for k in range(3)]
        start = 0
        for text, label, lang in lines:
            split = "train" if d < 36 else "dev"
            rows.append({"doc_id": f"d{d}", "start": start, "end": start + len(text), "label": label})
            rows[-1].update(lang=lang, text=text, split=split)
            start += len(text) + 2
    import pandas as pd

    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _languages(model_dir, text):
    from classifier.pipeline import Labeller, Settings
    from classifier.types import Document

    units = Labeller(Settings(model_dir=model_dir)).label_chunk([Document("doc", text)])[0]
    return {unit.unit.text: unit.lang.lang for unit in units}


def test_the_und_model_learns_that_names_have_no_language(tiny_model, tmp_path):
    from classifier.lang import UND_MODEL_FILE
    from classifier.train import train_und

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    und = train_und(_names_gold(tmp_path / "gold.csv"), None, model)
    assert (model / UND_MODEL_FILE).is_file() and json.loads((model / "meta.json").read_text())["und"] == und
    assert und["train_und"] == 36 * 4 and und["dev"]["und_recall_without"] < 0.5 < und["dev"]["und_recall"]
    assert und["dev"]["accuracy"] > und["dev"]["accuracy_without"]
    assert "names, handles and brands" in (model / "README.md").read_text()
    # Unseen names: a language without the model, none with it; a phrase stays English.
    text = f"{BODY}\n\nBongani Szczepanski\n\nShare this story\n\n{BODY}"
    assert _languages(tiny_model, text)["Bongani Szczepanski"] == "en"
    assert _languages(model, text) == {BODY: "en", "Bongani Szczepanski": "und", "Share this story": "en"}


def test_an_und_model_of_other_features_is_refused(tiny_model, tmp_path):
    from classifier.lang import UndModel
    from classifier.train import train_und

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    train_und(_names_gold(tmp_path / "gold.csv"), None, model)
    meta = json.loads((model / "meta.json").read_text())
    meta["und"]["features"] = meta["und"]["features"][:-1]
    (model / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="other features.*--language-only"):
        UndModel.from_dir(model)
    assert UndModel.from_dir(tiny_model) is None  # a model folder without one labels without one
