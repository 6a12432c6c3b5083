"""The student's feedback page as a real browser shows it: headless Chromium (Debian's `chromium`) renders
`feedback_html` at a phone's width; the test reads back the rendered DOM's text and the screenshot's size.

CI installs Chromium (`.ci/run`); on a machine without it the test is skipped, except under CI, where it fails.
"""

import html.parser
import os
import shutil
import struct
import subprocess

import pytest

from dlkit.grading.gradebook import feedback_html
from dlkit.grading.grader import ExerciseGrade, SubmissionGrade

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root and offline: no sandbox of Chromium's own, no GPU, none of the background connections it would try.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = (390, 844)

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is missing: .ci/run installs Debian's `chromium` for this test")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


class _Text(html.parser.HTMLParser):
    """The text a page shows: everything outside <head>, <style> and <script>."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("head", "style", "script")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("head", "style", "script")

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def _row():
    exercises = [
        ExerciseGrade(
            "ex1_l2_cost_check",
            0,
            2,
            "wrong",
            "l2_regularization_cost: you used lambd / m; the cost term is lambd / (2 m) times the sum of squares",
            "value mismatch for ex1_l2_cost_3_layers",
        ),
        ExerciseGrade("ex2_keras_l2_check", 1, 1, "passed", ""),
        ExerciseGrade(
            "ex3_inverted_dropout_check",
            0,
            3,
            "not attempted",
            "not attempted yet: the exercise still raises NotImplementedError",
            "missing record ex3_dropout_kept_fraction",
        ),
        ExerciseGrade(
            "ex4_patience_rule_check",
            0,
            2,
            "wrong",
            "passes the visible check but fails 1 of 1 hidden tests",
            "value mismatch for ex4_random_curves",
        ),
    ]
    return SubmissionGrade(
        "alice.ipynb", "alice.ipynb", "02_regularization", "graded", exercises, 8, seconds=31.2
    )


def _chromium(tmp_path, *args):
    profile = tmp_path / "profile"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={PHONE[0]},{PHONE[1]}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def test_chromium_shows_total_status_and_message_per_exercise_and_no_hidden_key(tmp_path):
    page = tmp_path / "alice.html"
    page.write_text(feedback_html(_row()), encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    parser = _Text()
    parser.feed(dom)
    text = " | ".join(parser.parts)
    assert text.startswith("02_regularization | alice.ipynb, run time 31 s | Score: | 1 / 8"), text
    for expected in (
        "ex1_l2_cost_check | 0 / 2 | wrong | l2_regularization_cost: you used lambd / m; the cost term is "
        "lambd / (2 m) times the sum of squares",
        "ex2_keras_l2_check | 1 / 1 | passed | all tests passed",
        "ex3_inverted_dropout_check | 0 / 3 | not attempted | not attempted yet: the exercise still raises "
        "NotImplementedError",
        "ex4_patience_rule_check | 0 / 2 | wrong | passes the visible check but fails 1 of 1 hidden tests",
    ):
        assert expected in text, text
    for hidden in (
        "ex1_l2_cost_3_layers",
        "ex3_dropout_kept_fraction",
        "ex4_random_curves",
        "value mismatch",
    ):
        assert hidden not in dom


def test_chromium_renders_the_page_at_phone_width(tmp_path):
    page = tmp_path / "alice.html"
    page.write_text(feedback_html(_row()), encoding="utf-8")
    screenshot = tmp_path / "alice.png"
    _chromium(tmp_path, f"--screenshot={screenshot}", page.as_uri())
    header = screenshot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert (width, height) == PHONE
