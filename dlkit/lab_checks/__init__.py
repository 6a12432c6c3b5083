"""Visible checks for the labs' exercises (one module per lab) and the assertions they share."""

from dlkit.lab_checks.expect import (
    ExerciseCheckError,
    expect_close,
    expect_dtype,
    expect_shape,
    expect_true,
    passed,
)

__all__ = ["ExerciseCheckError", "expect_close", "expect_dtype", "expect_shape", "expect_true", "passed"]
