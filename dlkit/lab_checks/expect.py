"""Assertions for the labs' visible checks: each failure says what was expected and what was received.

Every check in `dlkit.lab_checks` follows one idiom, per exercise:

- a *reference*, `_reference_<name>(...)`: the exercise's answer on given inputs (a NumPy formula written out, or
  the Keras built-in), private so that it is not a tab-completable answer key (`dlkit grade` also refuses calls
  to it from a student's code: `dlkit.grading.answer_guard`);
- a *table of known mistakes*, `_<name>_mistakes(...)`: (message, wrong answer) pairs on the same inputs;
- a thin public *check*, `check_<name>(student_function)`: calls the student's function on fixed inputs and
  hands its value, the reference and the table to `check_value`, which passes, names the mistake the value
  reproduces, or reports the worst element.
"""

import numpy as np


class ExerciseCheckError(AssertionError):
    """A visible check failed; the message points at the mistake."""


def fail(where, message):
    """Raises `ExerciseCheckError("<where>: <message>")`."""
    raise ExerciseCheckError(f"{where}: {message}")


def matches(value, expected, rtol=1e-6, atol=1e-9):
    """Whether `value` has `expected`'s shape and equals it within tolerance (no failure raised)."""
    value, expected = np.asarray(value, dtype=float), np.asarray(expected, dtype=float)
    return value.shape == expected.shape and bool(np.allclose(value, expected, rtol=rtol, atol=atol))


def as_float_array(where, value):
    """`value` (array, tensor or nested numbers) as a float NumPy array; fails if it is not numbers."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(where, f"must return an array of numbers, got {type(value).__name__}")


def check_value(where, value, expected, mistakes=(), *, rtol=1e-6, atol=1e-9, otherwise=None):
    """The one comparison of every check: `value` against the reference `expected`, then the known mistakes.

    ```
    if value has expected's shape, is finite and allclose(value, expected, rtol, atol): return
    for message, wrong in mistakes: if allclose(value, wrong) and not allclose(wrong, expected): fail(message)
    fail(otherwise or "values differ: at index ... expected ..., got ...")
    ```

    A mistake that happens to give the right answer on these inputs is skipped, so a correct value is never
    blamed on it.

    Example:

    >>> check_value("ewma", student_ewma(theta, 0.9), _reference_ewma(theta, 0.9), _ewma_mistakes(theta, 0.9))

    Args:
        where: String. The check's name, prefixed to the message.
        value: The student's answer (array, tensor or nested numbers).
        expected: The reference's answer on the same inputs.
        mistakes: Dict {message: wrong answer} or list of (message, wrong answer) pairs; a wrong answer may be a
            callable computing it (with NumPy's warnings off: some wrong formulas divide by 0).
        rtol, atol: Floats >= 0. Tolerance, as `np.allclose`.
        otherwise: String or None. The message when no known mistake matches (a hint that says more than
            the worst element); None: the worst element.

    Raises:
        ExerciseCheckError: naming the mistake, or the worst element, when `value` is not the reference's.
    """
    value = as_float_array(where, value)
    expected = np.asarray(expected, dtype=float)
    if value.shape == expected.shape and np.all(np.isfinite(value)) and matches(value, expected, rtol, atol):
        return
    pairs = mistakes.items() if isinstance(mistakes, dict) else mistakes
    for message, wrong in pairs:
        with np.errstate(all="ignore"):
            wrong = np.asarray(wrong() if callable(wrong) else wrong, dtype=float)
        if (
            np.all(np.isfinite(wrong))
            and matches(value, wrong, rtol, atol)
            and not matches(wrong, expected, rtol, atol)
        ):
            fail(where, message)
    if otherwise:
        fail(where, otherwise)
    expect_close(where, value, expected, rtol=rtol, atol=atol)


def expect_shape(where, value, shape):
    """Fails unless `value` (array or tensor) has exactly `shape`."""
    actual = tuple(np.shape(value))
    if actual != tuple(shape):
        fail(where, f"expected shape {tuple(shape)}, got {actual}")


def expect_dtype(where, value, kind):
    """Fails unless `value`'s dtype is of NumPy kind `kind` ('f' float, 'i' int, 'b' bool)."""
    dtype = np.asarray(value).dtype
    if dtype.kind != kind:
        fail(where, f"expected a dtype of kind {kind!r}, got {dtype}")


def expect_close(where, value, expected, *, rtol=1e-5, atol=1e-7):
    """Fails unless `value` equals `expected` within tolerance, reporting the worst element."""
    value = np.asarray(value, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if value.shape != expected.shape:
        fail(where, f"expected shape {expected.shape}, got {value.shape}")
    if not np.all(np.isfinite(value)):
        fail(where, "got NaN or infinite values")
    if not np.allclose(value, expected, rtol=rtol, atol=atol):
        error = np.abs(value - expected)
        index = tuple(int(i) for i in np.unravel_index(np.argmax(error), error.shape)) if error.ndim else ()
        fail(
            where,
            f"values differ: at index {index} expected {float(expected[index]):.6g}, "
            f"got {float(value[index]):.6g} (max abs error {float(error.max()):.3g})",
        )


def expect_true(where, condition, message):
    """Fails with `message` unless `condition` holds."""
    if not condition:
        fail(where, message)


def passed(name):
    """Prints the pass line of a check."""
    print(f"\N{CHECK MARK} {name}: all tests passed.")


def gradcheck_numpy_gradient(forward, gradient, z, **kwargs):
    """`dlkit.gradcheck` of a cost whose gradient is a hand-written NumPy function instead of autodiff.

    ```
    cost(z)   = forward(z)                       # TensorFlow ops, float64: the finite differences are exact
    dcost/dz := upstream * gradient(z.numpy())   # the hand-written gradient, what the report describes
    ```

    Example:

    >>> report = gradcheck_numpy_gradient(lambda t: tf.reduce_sum(tf.sigmoid(t)), my_sigmoid_derivative, z)
    >>> report.passed, report.difference

    Args:
        forward: Callable tf.Tensor z -> scalar tf.Tensor, the cost.
        gradient: Callable NumPy z -> d cost / dz, an array of z's shape.
        z: Float array. The point to check at.
        **kwargs: Passed to `dlkit.gradcheck.gradcheck` (epsilon, threshold, ...).

    Returns:
        A `GradcheckReport` (one row, "z").
    """
    import tensorflow as tf

    from dlkit.gradcheck import gradcheck

    @tf.custom_gradient
    def cost(t):
        def grad(upstream):
            with np.errstate(all="ignore"):
                mine = np.asarray(gradient(t.numpy()), dtype=np.float64)
            return upstream * tf.constant(mine.reshape(t.shape))

        return forward(t), grad

    # Each call compiles fresh tf.functions; after a few calls TensorFlow logs a retracing warning into the lab.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        return gradcheck(cost, [np.asarray(z, dtype=np.float64)], names=["z"], **kwargs)
    finally:
        logger.setLevel(level)
