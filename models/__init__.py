"""Trained models shipped with the package (see README.md in this folder for the model card)."""
