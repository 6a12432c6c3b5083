"""A student's blank release runs top to bottom with no cascade: the only errors are the stubs' own.

Each lab's release (solutions replaced by `raise NotImplementedError()`) is executed with errors allowed, as a
student who skips every exercise would see it. Every error output must be a `NotImplementedError` (raised by a
stub, directly or through the check cell that calls it); a `NameError`, `KeyError`, `TypeError`, ... means a cell
used what an unsolved exercise never made, and should have started with `if dlkit.requires(n):`.
"""

import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

from dlkit.grading import release

LABS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "labs")
LABS = sorted(glob.glob(os.path.join(LABS_DIR, "[0-9][0-9]_*.ipynb")))


def _errors(notebook):
    """(cell index, ename, first line of evalue) for every error output."""
    return [
        (index, output.get("ename"), str(output.get("evalue", "")).splitlines()[0:1])
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


@pytest.mark.parametrize("lab", LABS, ids=[os.path.basename(p).removesuffix(".ipynb") for p in LABS])
def test_blank_release_raises_only_the_stubs_errors(lab, tmp_path):
    path = release(lab, str(tmp_path))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": LABS_DIR}},
    ).execute()
    errors = _errors(notebook)
    cascades = [error for error in errors if error[1] != "NotImplementedError"]
    assert not cascades, f"errors other than the stubs' NotImplementedError: {cascades}"
    stubs = sum(
        "raise NotImplementedError()" in cell.source for cell in notebook.cells if cell.cell_type == "code"
    )
    if stubs:
        assert errors, "a release with stubs must raise NotImplementedError somewhere"
