"""Keeps pytest (and nbval under `make test`) from collecting the grading fixtures: they are inputs, some
deliberately malformed, not notebooks to validate."""

collect_ignore_glob = ["*.ipynb", "*/*.ipynb"]
