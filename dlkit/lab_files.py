"""`find_labs`: where the lab notebooks are (`NN_topic.ipynb`), for running, releasing and grading them."""

import glob
import os

LAB_PATTERN = "[0-9][0-9]_*.ipynb"


def lab_name(path):
    """The lab's name: its file name without `.ipynb` (e.g. `01_initialization`)."""
    return os.path.basename(path).removesuffix(".ipynb")


def find_labs(labs_dir, selectors=()):
    """Returns the lab notebooks in `labs_dir` matching `selectors` ("01", "01_initialization", or a path).

    Example:

    >>> find_labs("labs", ["01", "03"])
    ['labs/01_initialization.ipynb', 'labs/03_gradient_checking.ipynb']

    Args:
        labs_dir: String. A folder of lab notebooks, `NN_topic.ipynb`.
        selectors: Sequence of strings: lab numbers, names or notebook paths; empty for every lab.

    Returns:
        A list of paths, sorted by name when `selectors` is empty, else in the selectors' order.

    Raises:
        ValueError: if `labs_dir` is missing or a selector matches no lab.
    """
    if not os.path.isdir(labs_dir):
        raise ValueError(f"Argument `labs_dir` must be a folder. Received: labs_dir={labs_dir!r}")
    labs = sorted(glob.glob(os.path.join(labs_dir, LAB_PATTERN)))
    if not selectors:
        return labs
    chosen = []
    for selector in selectors:
        if os.path.isfile(selector) and selector.endswith(".ipynb"):
            matches = [selector]
        else:
            stem = os.path.basename(selector).removesuffix(".ipynb")
            matches = [lab for lab in labs if lab_name(lab).startswith(stem)]
        if not matches:
            names = ", ".join(os.path.basename(lab) for lab in labs) or "none"
            raise ValueError(
                f"Argument `LAB` matches no lab in {labs_dir}. Received: {selector!r}. Labs: {names}"
            )
        chosen.extend(m for m in matches if m not in chosen)
    return chosen
