"""Grading tools: hidden-test recording, student release, autograder and gradebook."""

from dlkit.grading.record import record

__all__ = ["record"]
