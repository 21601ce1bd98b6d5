"""The template drafter's sentences, one module per language."""
