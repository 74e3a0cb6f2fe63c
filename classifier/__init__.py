"""Label every paragraph of scraped news text with its language and relevance."""

from classifier.pipeline import Labeller, Settings, label_corpus, label_dataframe, label_text
from classifier.readers import read_corpus
from classifier.types import Document, Label, LabelledUnit, Profile, Role

__version__ = "0.1.0"

__all__ = [
    "Document",
    "Label",
    "LabelledUnit",
    "Labeller",
    "Profile",
    "Role",
    "Settings",
    "__version__",
    "label_corpus",
    "label_dataframe",
    "label_text",
    "read_corpus",
]
