"""The one switch between a lab's quick default run and its full-size run."""

import os


def full_size(default=False):
    """Whether a lab should run at full size.

    Labs run small by default (about a minute on a laptop CPU). Each lab's setup cell reads its switch with
    `FULL_SIZE = dlkit.full_size(default=False)`: edit `default` to True in the notebook, or set the environment
    variable `DLKIT_FULL_SIZE=1` (what `dlkit labs run --full` does) to run every lab at full size.

    Args:
        default: Boolean. The value when `DLKIT_FULL_SIZE` is unset.

    Returns:
        Boolean.

    Raises:
        ValueError: if `DLKIT_FULL_SIZE` holds something other than 1/0/true/false/yes/no.
    """
    value = os.environ.get("DLKIT_FULL_SIZE", "").strip().lower()
    if value == "":
        return bool(default)
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise ValueError(
        f"Environment variable `DLKIT_FULL_SIZE` must be 1 or 0. Received: DLKIT_FULL_SIZE={value!r}"
    )
