import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier import features
from classifier.config import MODEL_TEXT_CHARS
from classifier.features import (
    LINE_FEATURES,
    TEXT_STATS,
    context_features,
    corpus_repetition,
    line_features,
    line_keys,
    repetition_key,
    text_stats,
    window_mean,
)
from classifier.segment import split_lines
from tests.conftest import SAMPLE


def column(name):
    return LINE_FEATURES.index(name)


def test_window_mean_handles_short_inputs():
    assert np.allclose(window_mean(np.array([1.0, 0.0, 1.0]), 5), [2 / 3] * 3)
    assert np.allclose(window_mean(np.array([1.0, 0.0, 0.0, 0.0]), 1), [0.5, 1 / 3, 0, 0])
    assert window_mean(np.array([]), 2).shape == (0,)


def test_repetition_counts_documents_not_lines():
    a = split_lines("Home\nHome\n\nStory A " + "x" * 200)
    b = split_lines("Home\n\nStory B " + "y" * 200)
    counts = corpus_repetition([line_keys(a), line_keys(b)])
    assert counts[repetition_key("Home")] == 2
    assert repetition_key("Page 12 of 30") == repetition_key("page 3 of 4")


def test_layout_features_see_blocks_and_the_article_region():
    text = "Menu\nSearch\n\n" + "Body sentence. " * 20 + "\n\n© 2025 Site"
    lines = split_lines(text)
    features = line_features(lines, len(text), corpus_repetition([line_keys(lines), line_keys(lines)]))
    assert features.shape == (4, len(LINE_FEATURES))
    assert features[0, column("before_first_long")] == 1 and features[1, column("before_first_long")] == 1
    assert features[2, column("before_first_long")] == 0 and features[2, column("ends_terminal")] == 1
    assert features[3, column("after_last_long")] == 1 and features[3, column("has_copyright")] == 1
    assert (
        features[1, column("ends_terminal")] == 0
        and features[1, column("block_lines")] > features[3, column("block_lines")]
    )
    assert features[0, column("dup_across_docs")] > 0


def test_context_features_look_at_neighbours():
    lines = split_lines("a\nb\n\nc")
    out = context_features(np.array([0.1, 0.5, 0.9], dtype=np.float32), lines)
    assert np.allclose(out[:, 0], [0.1, 0.5, 0.9])
    assert out[0, 1] == -1 and np.isclose(out[1, 1], 0.1) and np.isclose(out[1, 2], 0.9)
    assert np.allclose(out[:, 5], [0.3, 0.3, 0.9])  # block means


def test_residue_is_short_and_letterless():
    from classifier.features import is_residue

    assert all(is_residue(t) for t in ["0", "37", " _ ", "|", "»", "1,234", "* * *"])
    assert not any(is_residue(t) for t in ["Menu", "0 comments", "1234567890123", "é"])


def reference_text_stats(full_text: str) -> list[float]:
    """``text_stats`` of one line as its definition reads, one line at a time."""
    text = full_text[:MODEL_TEXT_CHARS]
    n = len(text)
    stripped = text.strip()
    n_words = len(stripped.split())
    if len(full_text) > n:
        n_words = round(n_words * len(full_text) / max(n, 1))
    alpha_words = re.findall(r"[^\W\d_]+", stripped)
    letters = sum(map(len, alpha_words))
    digits, upper, spaces = len(re.findall(r"\d", text)), sum(map(str.isupper, text)), len(re.findall(r"\s", text))
    has_url = re.search(r"https?://|www\.|\S+@\S+\.\w{2,}|\.(?:com|org|net|de|uk)\b", text, re.I)
    return [
        math.log1p(len(full_text)),
        math.log1p(n_words),
        letters / n if n else 0.0,
        digits / n if n else 0.0,
        upper / letters if letters else 0.0,
        (n - letters - digits - spaces) / n if n else 0.0,
        float(full_text.rstrip().endswith(tuple('.!?:;"”’»)…。！？'))),
        float(bool(re.match(r"^\s*(?:[•*·‣▪◦●■□>›»\-–—]|\d{1,3}[.)])\s", text))),
        sum(w[0].isupper() for w in alpha_words) / len(alpha_words) if alpha_words else 0.0,
        float(bool(has_url)),
        len(re.findall(r"[|•»·/›>]", text)) / max(n_words, 1),
        letters / len(alpha_words) if alpha_words else 0.0,
        float(len(re.findall(r"[.!?。！？][\"”’)]?\s+\S", stripped))),
        float("©" in text or "(c)" in text.lower()),
        float(text[:1].isspace()),
        float(not any(c.isalpha() for c in text)),
    ]


def assert_stats_as_defined(texts):
    expected = np.array([reference_text_stats(t) for t in texts]).reshape(len(texts), len(TEXT_STATS))
    assert np.allclose(text_stats(texts), expected, atol=1e-6, rtol=1e-6)


LINE_ALPHABET = st.one_of(
    st.sampled_from(list(' \t\r\x0c\xa0\u2003.!?:;"”’»)|•/›>*-–1234567890(cC)©@wW:/omé')),
    st.characters(blacklist_categories=("Cs",)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=LINE_ALPHABET, min_size=1, max_size=60), max_size=8))
def test_text_stats_of_all_lines_at_once_are_each_line_s_as_defined(texts):
    assert_stats_as_defined(texts)


def test_text_stats_match_their_definition_on_real_lines_and_edge_cases():
    texts = [path.read_text(encoding="utf-8") for path in sorted(SAMPLE.glob("*.txt"))]
    lines = [line.text for text in texts for line in split_lines(text)]
    assert len(lines) > 100
    edge = ["x", " \u2003 indented", "• bullet •", "ends with a bullet •", "a\nb. C", "İstanbul (C) 2024", "½ ²"]
    assert_stats_as_defined(lines + edge + ["A very long line. " * 200])


def test_a_huge_line_is_read_by_its_beginning_and_measured_whole():
    sentence = "A sentence of the article goes on. "
    short, huge = sentence * 40, sentence * 200_000
    text = f"{short}\n\n{huge}"
    rows = line_features(split_lines(text), len(text))
    assert rows[1, column("log_chars")] > rows[0, column("log_chars")] + 8
    assert abs(rows[1, column("log_words")] - np.log1p(len(huge.split()))) < 0.01
    assert rows[1, column("frac_alpha")] == rows[0, column("frac_alpha")]
    assert rows[1, column("ends_terminal")] == 1
    assert len(repetition_key(huge)) <= MODEL_TEXT_CHARS


def test_context_features_of_several_scores_are_those_of_each_score():
    from classifier.features import context_features

    lines = split_lines("a\nb\n\nc\nd\ne\n\nf")
    scores = np.linspace(0.0, 1.0, 2 * len(lines)).reshape(len(lines), 2)
    both = context_features(scores, lines)
    assert both.shape == (len(lines), 16)
    assert np.array_equal(both[:, :8], context_features(scores[:, 0], lines))
    assert np.array_equal(both[:, 8:], context_features(scores[:, 1], lines))
    assert np.allclose(both[:2, 5], scores[:2, 0].mean())  # the first block's mean
    assert context_features(np.zeros(0), []).shape == (0, 8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=4), max_size=30))
def test_copies_are_found_as_a_plain_scan_finds_them(templates):
    first_copy, copy_distance = features._copies(np.array(templates, dtype=np.int64))
    seen: dict[int, int] = {}
    for i, template in enumerate(templates):
        assert first_copy[i] == (template not in seen)
        others = [abs(i - j) for j, t in enumerate(templates) if t == template and j != i]
        assert copy_distance[i] == min(others, default=50)
        seen.setdefault(template, i)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .@:/wWcom\tx1é")))
def test_url_feature_finds_what_the_backtracking_pattern_finds(text):
    import re

    slow = re.compile(r"https?://|www\.|\S+@\S+\.\w{2,}|\.(?:com|org|net|de|uk)\b", re.I)
    has_url = text_stats([text or "x"])[0, column("has_url")]
    assert has_url == float(bool(slow.search(text or "x")))


def test_urls_and_addresses_count_as_links():
    for text in ["see https://example.org/a", "mail news@example.com today", "www.site.example", "Visit cnn.com"]:
        assert text_stats([text])[0, column("has_url")] == 1.0
    assert text_stats(["An @ sign alone. And a sentence."])[0, column("has_url")] == 0.0
