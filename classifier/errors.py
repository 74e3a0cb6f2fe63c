"""Errors the library raises; the CLI turns each into a one-line message and exit code 1."""


class ClassifierError(Exception):
    """Base class: the message says what was wrong, what is allowed and how to fix it."""


class InputError(ClassifierError):
    """A corpus, column, file or argument that cannot be read as given."""


class ModelError(ClassifierError):
    """A model file that is missing, unreadable or of the wrong kind."""


class OutputError(ClassifierError):
    """An output path that cannot be written."""
