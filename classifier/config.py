"""Defaults shared by the library and the CLI."""

from __future__ import annotations

import os
from pathlib import Path

from classifier.types import Profile

DEFAULT_PROFILE = Profile.STRICT
DEFAULT_TEXT_COLUMN = "text"
DEFAULT_GLOB = "**/*.txt"
# Documents labelled together: cross-document repetition is counted within a chunk,
# and memory stays bounded by the chunk, whatever the corpus size.
DEFAULT_CHUNK_DOCS = 500
DEFAULT_SEED = 0
MODEL_ENV = "CLASSIFIER_MODEL"
PACKAGED_MODEL_DIR = Path(__file__).resolve().parent / "models"
REPO_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"

# The models read at most this much of a line: plenty to tell what a line is, and a single
# 100 MB line then costs what a paragraph costs, in time and in memory.
MODEL_TEXT_CHARS = 1000

# Language identification.
UND = "und"
MIN_LETTERS_FOR_LANG = 3  # fewer letters than this: "und"
SHORT_UNIT_LETTERS = 25  # below this, the neighbouring text's language is a strong prior
FASTTEXT_CONFIDENT = 0.4  # below this on a long unit, ask langdetect too
SHORT_OVERRIDE = 0.9  # a short unit leaves its context's language only when this sure


def default_model_dir() -> Path:
    """``$CLASSIFIER_MODEL``, else the model installed with the package (or in a checkout)."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    if (PACKAGED_MODEL_DIR / "meta.json").is_file():
        return PACKAGED_MODEL_DIR
    return REPO_MODEL_DIR
