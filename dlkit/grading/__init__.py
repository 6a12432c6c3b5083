"""Grading tools: hidden-test recording, student release, autograder and gradebook."""

from dlkit.grading.expectations import earned, expect
from dlkit.grading.gradebook import write_gradebook
from dlkit.grading.grader import ExerciseGrade, GradingError, SubmissionGrade, grade
from dlkit.grading.records import record
from dlkit.grading.release import release, release_notebook

__all__ = [
    "ExerciseGrade",
    "GradingError",
    "SubmissionGrade",
    "earned",
    "expect",
    "grade",
    "record",
    "release",
    "release_notebook",
    "write_gradebook",
]
