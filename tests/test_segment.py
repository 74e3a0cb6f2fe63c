import re
import textwrap
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.segment import join_units, normalise, reading_lines, split_lines
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


def test_without_blank_lines_each_line_is_a_paragraph_of_its_own():
    # As Common Crawl's WET files and most JSONL corpora write a page: one paragraph a line.
    text = "Menu\nSearch\nHeadline\nBody one.\nBody two."
    lines = split_lines(text)
    assert {line.paragraph for line in lines} == {0}  # one block for the models
    units = join_units(Document("d", text), lines, ["nav", "nav", "head", "body", "body"])
    assert [u.text for u in units] == text.split("\n")
    assert [u.paragraph for u in units] == [0, 1, 2, 3, 4]
    single = join_units(Document("s", "One line."), split_lines("One line."), ["body"])
    assert [(u.text, u.paragraph) for u in single] == [("One line.", 0)]


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


ARTICLE = [
    "The city council approved the new budget on Tuesday after a long debate about school funding, "
    "the repair of roads that residents have complained about for years, and the cost of the new library.",
    "Opponents said the plan relied on optimistic forecasts of tax revenue and warned that the city "
    "could face a shortfall next spring if the economy slows, as several analysts now expect it to.",
    "The mayor, who had pushed for the budget since the summer, called the vote a victory for the "
    "neighbourhoods that had waited longest for new pavements, bus shelters and street lights.",
]


def test_a_hard_wrapped_paragraph_is_read_as_one_line():
    # As lynx writes a page: every paragraph broken at 70 characters, a menu and a credit line.
    blocks = ["Home\nWorld\nSport"] + ["\n".join(textwrap.wrap(p, 70)) for p in ARTICLE] + ["Photo: Jane Doe"]
    text = "\n\n".join(blocks)
    lines = reading_lines(text)
    assert [line.text for line in lines] == ["Home", "World", "Sport", *blocks[1:4], "Photo: Jane Doe"]
    assert all(text[line.start : line.end] == line.text for line in lines)
    assert len(split_lines(text)) == len(lines) + 6  # three lines a paragraph, read as one
    # Written with its own line breaks the same page is read line by line.
    text = "\n\n".join(["Home\nWorld\nSport", *ARTICLE, "Photo: Jane Doe"])
    assert reading_lines(text) == split_lines(text)


def test_short_lines_of_a_menu_are_not_taken_for_a_wrapped_paragraph():
    menu = "\n".join(["News", "Politics", "Business", "Sport", "Culture", "Opinion", "Weather", "Podcasts"] * 3)
    assert reading_lines(menu) == split_lines(menu)


WORDS = st.text(alphabet=st.sampled_from(list("abcdé\u00a0")), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(WORDS, max_size=40), max_size=8),
    st.one_of(st.none(), st.integers(min_value=10, max_value=170)),
    st.sampled_from(["\n", "\r\n", "\n\n", "\n \n"]),
)
def test_reading_lines_cover_every_line_once_in_order(paragraphs, width, separator):
    # Paragraphs as written, or hard-wrapped at any width (some of them wrapped, some not).
    written = [" ".join(words) for words in paragraphs]
    if width is not None:
        written = [separator.join(textwrap.wrap(p, width)) if k % 3 else p for k, p in enumerate(written)]
    text = "\n\n".join(written)
    physical, read = split_lines(text), reading_lines(text)
    assert all(text[line.start : line.end] == line.text for line in read)
    assert all(a.end < b.start for a, b in zip(read, read[1:], strict=False))
    # Every physical line lies inside exactly one read line, of its block.
    for line in physical:
        owners = [r for r in read if r.start <= line.start and line.end <= r.end]
        assert len(owners) == 1 and owners[0].paragraph == line.paragraph
    assert {r.start for r in read} <= {line.start for line in physical}
