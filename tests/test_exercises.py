"""dlkit.requires / dlkit.exercise_done: demos skip with one line until their exercises are solved."""

import pytest

import dlkit
from dlkit import exercises


@pytest.fixture(autouse=True)
def fresh_kernel():
    exercises._reset()
    yield
    exercises._reset()


def test_requires_prints_one_line_per_call_until_every_exercise_is_done(capsys):
    assert dlkit.requires(2) is False
    assert capsys.readouterr().out == "skipped: finish Exercise 2\n"
    dlkit.exercise_done(2)
    assert dlkit.requires(2) is True
    assert capsys.readouterr().out == ""
    assert dlkit.requires(1, 2, 3) is False
    assert capsys.readouterr().out == "skipped: finish Exercises 1 and 3\n"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: dlkit.requires(), r"at least one exercise number\. Received: none"),
        (lambda: dlkit.requires(0), r"integers >= 1\. Received: 0"),
        (lambda: dlkit.exercise_done("2"), r"integers >= 1\. Received: '2'"),
        (lambda: dlkit.exercise_done(True), r"integers >= 1\. Received: True"),
    ],
)
def test_bad_exercise_numbers(call, match):
    with pytest.raises(ValueError, match=match):
        call()
