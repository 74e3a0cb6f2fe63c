import json
import shutil

import pytest

from classifier.errors import ModelError
from classifier.pipeline import (
    CHUNKS_AHEAD_PER_JOB,
    Labeller,
    Settings,
    in_target_language,
    label_corpus,
    label_dataframe,
    label_text,
)
from classifier.types import Document, Label, LabelledUnit, LangGuess, Profile, Role, Unit, Verdict

from .conftest import SAMPLE, SEED_HELD_OUT


def test_units_cover_every_line_in_order_with_offsets(tiny_model):
    text = (SAMPLE / f"{SEED_HELD_OUT}.txt").read_text(encoding="utf-8")
    units = label_text(text, Settings(model_dir=tiny_model))
    for unit in units:
        assert text[unit.unit.start : unit.unit.end] == unit.unit.text
    starts = [u.unit.start for u in units]
    assert starts == sorted(starts) and [u.unit.index for u in units] == list(range(len(units)))
    covered = "".join(u.unit.text for u in units).replace("\n", "")
    assert covered == "".join(line for line in text.split("\n"))
    # mixed blocks are cut: a unit never spans a blank line
    assert all("\n\n" not in u.unit.text for u in units)


def test_keep_follows_profile_and_language(tiny_model):
    text = (SAMPLE / f"{SEED_HELD_OUT}.txt").read_text(encoding="utf-8")
    strict = label_text(text, Settings(model_dir=tiny_model))
    lenient = label_text(text, Settings(model_dir=tiny_model, profile=Profile.LENIENT))
    for s, loose in zip(strict, lenient, strict=True):
        assert s.keep == (s.verdict.role is Role.CONTENT and in_target_language(s.lang.lang, s.doc_lang))
        assert loose.keep == (
            loose.verdict.role in (Role.CONTENT, Role.PERIPHERAL)
            and in_target_language(loose.lang.lang, loose.doc_lang)
        )
    assert strict[0].doc_lang == "en"
    spanish = [u for u in strict if u.lang.lang == "es"]
    assert spanish and all(u.lang_mismatch and not u.keep for u in spanish)
    only_spanish = label_text(text, Settings(model_dir=tiny_model, target_lang="es"))
    assert not any(u.keep and u.lang.lang == "en" for u in only_spanish)


def test_a_language_that_cannot_be_told_filters_nothing():
    assert in_target_language("en", "en") and in_target_language("und", "en") and in_target_language("es", "und")
    assert not in_target_language("es", "en")
    unit = Unit("d", 0, 0, 0, 4, "Oslo")
    verdict = Verdict(Label.BODY, 0.9, 0.9)

    def mismatch(lang: str, doc_lang: str) -> bool:
        return LabelledUnit(unit, LangGuess(lang, 0.9), doc_lang, verdict, True).lang_mismatch

    assert mismatch("es", "en") and not mismatch("en", "en") and not mismatch("und", "en")
    assert not mismatch("en", "und")


def test_a_short_document_is_in_its_own_language(tiny_model):
    units = label_text("Markets fall\n\nStocks fell sharply today.\n\nOil rose.", Settings(model_dir=tiny_model))
    assert [(u.lang.lang, u.doc_lang, u.lang_mismatch) for u in units] == [("en", "en", False)] * 3
    assert all(u.keep == (u.verdict.role is Role.CONTENT) for u in units)


def test_corpus_streams_documents_in_order_and_dataframe_has_the_columns(tiny_model):
    units = list(label_corpus(SAMPLE, Settings(model_dir=tiny_model, chunk_docs=2)))
    doc_ids = [u.unit.doc_id for u in units]
    assert sorted(set(doc_ids)) == sorted(dict.fromkeys(doc_ids)) and len(set(doc_ids)) == 5
    frame = label_dataframe(["Menu\n\nA sentence of article text that goes on.", ""], Settings(model_dir=tiny_model))
    assert list(frame.columns)[:4] == ["doc_id", "unit", "paragraph", "start"]
    assert set(frame["doc_id"]) == {"0"}


def test_chunking_does_not_change_single_document_results(tiny_model):
    one = [u.to_record() for u in label_corpus(SAMPLE, Settings(model_dir=tiny_model, chunk_docs=5))]
    again = [u.to_record() for u in label_corpus(SAMPLE, Settings(model_dir=tiny_model, chunk_docs=5))]
    assert one == again


def test_missing_model_folder_says_how_to_fix(tmp_path):
    with pytest.raises(ModelError, match="lacks meta.json.*pass one with --model or set \\$CLASSIFIER_MODEL"):
        Labeller(Settings(model_dir=tmp_path))


def test_residue_without_letters_is_navigation(tiny_model):
    text = "A headline for the story\n\n0\n37\n\nThe story itself goes on for a while, sentence after sentence.\n\n_"
    units = label_text(text, Settings(model_dir=tiny_model))
    residue = [u for u in units if u.unit.text in ("0\n37", "_")]
    assert [u.unit.text for u in residue] == ["0\n37", "_"]
    assert all(u.verdict.label.value == "navigation" and u.lang.lang == "und" and not u.keep for u in residue)


def test_workers_read_only_a_few_chunks_ahead(tiny_model):
    # With --jobs the corpus must not be read ahead into memory: only a few chunks may be
    # in flight while the first result is written.
    pulled = []

    def chunks():
        for i in range(20):
            pulled.append(i)
            yield [Document(id=str(i), text=f"Headline {i}\n\nA short paragraph of the article number {i}.")]

    labeller = Labeller(Settings(model_dir=tiny_model))
    results = labeller.label_chunks(chunks(), jobs=2)
    first = next(results)
    assert first[0][0].unit.doc_id == "0"
    assert len(pulled) <= CHUNKS_AHEAD_PER_JOB * 2
    rest = list(results)
    assert [chunk[0][0].unit.doc_id for chunk in rest] == [str(i) for i in range(1, 20)]


def test_model_trained_on_other_text_format_is_refused(tiny_model, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model, copy)
    meta = json.loads((copy / "meta.json").read_text(encoding="utf-8"))
    del meta["text_format"]  # as written by versions before the start-of-line token
    (copy / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="trained on text written otherwise.*Retrain it with `classifier train`"):
        Labeller(Settings(model_dir=copy))


def test_a_hard_wrapped_paragraph_is_labelled_whole(tiny_model):
    import textwrap

    from .test_segment import ARTICLE

    wrapped = ["\n".join(textwrap.wrap(paragraph, 72)) for paragraph in ARTICLE]
    text = "\n\n".join(["Home\nWorld", *wrapped, "Share this"])
    units = label_text(text, Settings(model_dir=tiny_model))
    # Each wrapped paragraph is one unit with one label and language, its line breaks kept.
    article_units = [u for u in units if u.unit.text in wrapped]
    assert [u.unit.text for u in article_units] == wrapped
    assert all(u.lang.lang == "en" for u in article_units)
    assert all(a.unit.end < b.unit.start for a, b in zip(units, units[1:], strict=False))
    # ... and is read as the same paragraph written on one line would be.
    as_written = label_text("\n\n".join(["Home\nWorld", *ARTICLE, "Share this"]), Settings(model_dir=tiny_model))
    assert [(u.verdict.label, round(u.verdict.content_score, 6)) for u in units] == [
        (u.verdict.label, round(u.verdict.content_score, 6)) for u in as_written
    ]


def test_an_unpaired_surrogate_from_the_api_is_labelled_and_kept_in_the_unit_text(tiny_model):
    # A Python string may hold half an emoji; fastText cannot read it. The unit keeps the
    # caller's text, offsets included; the models read U+FFFD in its place.
    text = "Half an emoji \ud83d here, in a sentence of plain English text.\n\nMenu"
    units = label_text(text, Settings(model_dir=tiny_model))
    assert [u.unit.text for u in units] == [text[: text.index("\n")], "Menu"]
    assert units[0].lang.lang == "en"
