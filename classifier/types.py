"""Records passed between stages. Frozen: a stage returns new records, never edits old ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Role(str, Enum):
    CONTENT = "content"
    PERIPHERAL = "peripheral"
    BOILERPLATE = "boilerplate"


class Label(str, Enum):
    BODY = "body"
    HEADING = "heading"
    CAPTION = "caption"
    BYLINE = "byline"
    AUTHOR_BIO = "author_bio"
    USER_COMMENT = "user_comment"
    NAVIGATION = "navigation"
    RELATED = "related"
    PROMO = "promo"
    PAYWALL = "paywall"
    COMMENT_PROMPT = "comment_prompt"
    LEGAL = "legal"
    OTHER = "other"

    @property
    def role(self) -> Role:
        return LABEL_ROLES[self]


LABEL_ROLES: dict[Label, Role] = {
    Label.BODY: Role.CONTENT,
    Label.HEADING: Role.CONTENT,
    Label.CAPTION: Role.PERIPHERAL,
    Label.BYLINE: Role.PERIPHERAL,
    Label.AUTHOR_BIO: Role.PERIPHERAL,
    Label.USER_COMMENT: Role.PERIPHERAL,
    Label.NAVIGATION: Role.BOILERPLATE,
    Label.RELATED: Role.BOILERPLATE,
    Label.PROMO: Role.BOILERPLATE,
    Label.PAYWALL: Role.BOILERPLATE,
    Label.COMMENT_PROMPT: Role.BOILERPLATE,
    Label.LEGAL: Role.BOILERPLATE,
    Label.OTHER: Role.BOILERPLATE,
}


class Profile(str, Enum):
    """Which roles a unit may have to be kept."""

    STRICT = "strict"
    LENIENT = "lenient"

    @property
    def roles(self) -> frozenset[Role]:
        if self is Profile.STRICT:
            return frozenset({Role.CONTENT})
        return frozenset({Role.CONTENT, Role.PERIPHERAL})


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    text: str
    source: str = ""
    decode_errors: bool = False


@dataclass(frozen=True, slots=True)
class Unit:
    """A labelled stretch of a document: a paragraph, or one part of a mixed paragraph.

    ``text == document.text[start:end]``; ``paragraph`` is the index of the blank-line
    block it came from, so a mixed block split into lines can be put back together (in a
    document without blank lines, of its line: see ``segment.unit_paragraphs``).
    """

    doc_id: str
    index: int
    paragraph: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class LangGuess:
    lang: str  # ISO 639 code, or "und"
    score: float


@dataclass(frozen=True, slots=True)
class Verdict:
    label: Label
    score: float
    content_score: float  # probability that the unit is article content

    @property
    def role(self) -> Role:
        return self.label.role


@dataclass(frozen=True, slots=True)
class LabelledUnit:
    unit: Unit
    lang: LangGuess
    doc_lang: str
    verdict: Verdict
    keep: bool
    source: str = ""

    @property
    def lang_mismatch(self) -> bool:
        """The unit's and its document's languages are both known and differ."""
        return "und" not in (self.lang.lang, self.doc_lang) and self.lang.lang != self.doc_lang

    def to_record(self) -> dict:
        return {
            "doc_id": self.unit.doc_id,
            "unit": self.unit.index,
            "paragraph": self.unit.paragraph,
            "start": self.unit.start,
            "end": self.unit.end,
            "text": self.unit.text,
            "lang": self.lang.lang,
            "lang_score": round(self.lang.score, 4),
            "doc_lang": self.doc_lang,
            "lang_mismatch": self.lang_mismatch,
            "label": self.verdict.label.value,
            "role": self.verdict.role.value,
            "label_score": round(self.verdict.score, 4),
            "keep": self.keep,
            "source": self.source,
        }


RECORD_COLUMNS = (
    "doc_id",
    "unit",
    "paragraph",
    "start",
    "end",
    "text",
    "lang",
    "lang_score",
    "doc_lang",
    "lang_mismatch",
    "label",
    "role",
    "label_score",
    "keep",
    "source",
)


@dataclass(frozen=True, slots=True)
class Summary:
    documents: int = 0
    units: int = 0
    kept_units: int = 0
    characters: int = 0
    kept_characters: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
