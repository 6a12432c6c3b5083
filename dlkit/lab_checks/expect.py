"""Assertions for the labs' visible checks: each failure says what was expected and what was received."""

import numpy as np


class ExerciseCheckError(AssertionError):
    """A visible check failed; the message points at the mistake."""


def _fail(where, message):
    raise ExerciseCheckError(f"{where}: {message}")


def expect_shape(where, value, shape):
    """Fails unless `value` (array or tensor) has exactly `shape`."""
    actual = tuple(np.shape(value))
    if actual != tuple(shape):
        _fail(where, f"expected shape {tuple(shape)}, got {actual}")


def expect_dtype(where, value, kind):
    """Fails unless `value`'s dtype is of NumPy kind `kind` ('f' float, 'i' int, 'b' bool)."""
    dtype = np.asarray(value).dtype
    if dtype.kind != kind:
        _fail(where, f"expected a dtype of kind {kind!r}, got {dtype}")


def expect_close(where, value, expected, *, rtol=1e-5, atol=1e-7):
    """Fails unless `value` equals `expected` within tolerance, reporting the worst element."""
    value = np.asarray(value, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if value.shape != expected.shape:
        _fail(where, f"expected shape {expected.shape}, got {value.shape}")
    if not np.all(np.isfinite(value)):
        _fail(where, "got NaN or infinite values")
    if not np.allclose(value, expected, rtol=rtol, atol=atol):
        error = np.abs(value - expected)
        index = tuple(int(i) for i in np.unravel_index(np.argmax(error), error.shape)) if error.ndim else ()
        _fail(
            where,
            f"values differ: at index {index} expected {float(expected[index]):.6g}, "
            f"got {float(value[index]):.6g} (max abs error {float(error.max()):.3g})",
        )


def expect_true(where, condition, message):
    """Fails with `message` unless `condition` holds."""
    if not condition:
        _fail(where, message)


def passed(name):
    """Prints the pass line of a check."""
    print(f"\N{CHECK MARK} {name}: all tests passed.")
