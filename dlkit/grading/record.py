"""`record`: how a lab's hidden tests hand values to the autograder."""

import json
import numbers
import os

import numpy as np

RECORD_ENV = "DLKIT_GRADING_RECORD"


def to_plain(value):
    """Converts a value to JSON-ready data: NumPy arrays and tensors become tagged nested lists.

    Raises:
        ValueError: for a value that is not numbers, strings, booleans, None, arrays, tensors, or
            lists/tuples/dicts of those.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if hasattr(value, "numpy") and callable(value.numpy):  # tf.Tensor, tf.Variable, KerasVariable
        value = value.numpy()
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return {
                "__ndarray__": array.astype(float).tolist(),
                "dtype": str(array.dtype),
                "shape": list(array.shape),
            }
        if array.dtype.kind in "U":
            return {"__ndarray__": array.tolist(), "dtype": str(array.dtype), "shape": list(array.shape)}
    raise ValueError(
        "dlkit.grading.record accepts numbers, strings, booleans, None, NumPy arrays, tensors and "
        f"lists/tuples/dicts of those. Received: {type(value).__name__}"
    )


def record(key, value, *, rtol=1e-5, atol=1e-6):
    """Records one value for the autograder and returns it unchanged.

    Hidden tests in a lab's check cells call `record` on what a student's code computes for inputs the student
    never saw. `dlkit grade` collects these values from the sandboxed run of the submission and compares them,
    in its own process, with the values the instructor's solution records for the same keys (within
    `rtol`/`atol`, as `np.allclose`). Outside `dlkit grade` the call only validates and returns the value, so the
    source notebook runs unchanged under Jupyter, nbval and nbgrader.

    Example:

    >>> ### BEGIN HIDDEN TESTS
    >>> dlkit.grading.record("zeros_shapes", {k: v.shape for k, v in initialize_zeros([5, 4, 1]).items()})
    >>> ### END HIDDEN TESTS

    Args:
        key: String. Unique within the lab.
        value: Numbers, strings, booleans, None, NumPy arrays, tensors, or lists/tuples/dicts of those.
        rtol: Float >= 0. Relative tolerance for numbers.
        atol: Float >= 0. Absolute tolerance for numbers.

    Returns:
        `value`.

    Raises:
        ValueError: on an empty key, negative tolerances, or a value of another type.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"Argument `key` must be a non-empty string. Received: key={key!r}")
    for name, tolerance in (("rtol", rtol), ("atol", atol)):
        if not isinstance(tolerance, numbers.Real) or tolerance < 0:
            raise ValueError(f"Argument `{name}` must be a number >= 0. Received: {name}={tolerance!r}")
    plain = to_plain(value)
    path = os.environ.get(RECORD_ENV)
    if path:
        line = json.dumps({"key": key, "value": plain, "rtol": float(rtol), "atol": float(atol)})
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    return value
