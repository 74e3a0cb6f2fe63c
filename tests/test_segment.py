import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.segment import join_units, normalise, split_lines
from classifier.types import Document


def test_lines_keep_offsets_and_blocks():
    text = "Title\n\nby Ann\n0 comments\r\nBody text here.\n\n\n_\n"
    lines = split_lines(text)
    assert [line.text for line in lines] == ["Title", "by Ann", "0 comments", "Body text here.", "_"]
    assert [line.paragraph for line in lines] == [0, 1, 1, 1, 2]
    for line in lines:
        assert text[line.start : line.end] == line.text


def test_whitespace_only_lines_separate_blocks():
    lines = split_lines("a\n \u00a0\nb")
    assert [line.paragraph for line in lines] == [0, 1]


def test_join_units_merges_same_key_within_a_block_only():
    text = "Menu\nSearch\nHeadline\n\nBody one.\nBody two."
    doc = Document(id="d", text=text)
    lines = split_lines(text)
    units = join_units(doc, lines, ["nav", "nav", "head", "body", "body"])
    assert [u.text for u in units] == ["Menu\nSearch", "Headline", "Body one.\nBody two."]
    assert [u.paragraph for u in units] == [0, 0, 1]
    for unit in units:
        assert text[unit.start : unit.end] == unit.text


def test_normalise_is_for_models_only():
    assert normalise("a\u00a0b\u200b c\r\n d") == "a b c d"


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.one_of(st.sampled_from(" \t\r\n\x0b\x1c\xa0\u2003\u200b\u202f\u3000ﬁ①Ａa"), st.characters()))
)
def test_normalise_squeezes_every_kind_of_space(text):
    spaces = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
    nfkc = unicodedata.normalize("NFKC", text).translate(
        dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
    )
    assert normalise(text) == spaces.sub(" ", nfkc).strip()


@given(st.text(alphabet=st.sampled_from(list("ab é\n\r\t\u00a0\u200b_|0")), max_size=200))
def test_segmentation_loses_nothing(text):
    lines = split_lines(text)
    covered = set()
    for line in lines:
        assert text[line.start : line.end] == line.text
        covered.update(range(line.start, line.end))
    # Everything outside the lines is line breaks or blank space.
    for i, char in enumerate(text):
        if i not in covered:
            assert not char.strip()
    starts = [line.start for line in lines]
    assert starts == sorted(starts)
    units = join_units(Document("d", text), lines, [0] * len(lines))
    assert "".join(u.text for u in units).replace("\n", "").replace("\r", "") == "".join(line.text for line in lines)


@given(st.lists(st.sampled_from(["Home", "Share", "", "A story.", "home"]), max_size=40))
def test_distinct_texts_rebuild_the_input(texts):
    from classifier.segment import distinct

    unique, inverse = distinct(texts)
    assert [unique[i] for i in inverse] == texts
    assert len(unique) == len(set(texts))
    assert unique == list(dict.fromkeys(texts))


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=40), st.integers(min_value=1, max_value=100))
def test_batches_cover_every_document_once_in_order(line_counts, max_lines):
    from classifier.segment import batches

    found = list(batches(line_counts, max_lines))
    assert [i for batch in found for i in batch] == list(range(len(line_counts)))
    for batch in found[:-1]:
        counts = [line_counts[i] for i in batch]
        assert sum(counts) >= max_lines > sum(counts[:-1])  # closed as soon as it is full
