"""dlkit.ResultsTable and the full-size switch."""

import pytest

import dlkit
from dlkit.results_table import RESULTS_MIME


def test_table_renders_rows_and_marks_the_headline():
    table = dlkit.ResultsTable("01 init")
    table.add("zeros test acc", "50.0%", "50%").add("He test acc", 0.96, "96%", headline=True)
    text = str(table)
    assert "zeros test acc" in text and "He test acc" in text and text.splitlines()[-1].endswith("*")
    bundle = table._repr_mimebundle_()
    assert bundle[RESULTS_MIME]["rows"][1] == {
        "quantity": "He test acc",
        "measured": "0.96",
        "reference": "96%",
        "headline": True,
        "note": "",
    }
    assert "<table>" in bundle["text/html"]
    assert table.headline["quantity"] == "He test acc"


def test_table_rejects_a_second_headline_and_empty_quantities():
    table = dlkit.ResultsTable("x").add("a", 1, 1, headline=True)
    with pytest.raises(ValueError, match=r"Table already has a headline row: 'a'"):
        table.add("b", 1, 1, headline=True)
    with pytest.raises(ValueError, match=r"`quantity` must be a non-empty string\. Received: quantity=''"):
        table.add("", 1, 1)
    with pytest.raises(ValueError, match=r"`title` must be a non-empty string\. Received: title=''"):
        dlkit.ResultsTable("")


@pytest.mark.parametrize(
    "value, default, expected",
    [("", False, False), ("", True, True), ("1", False, True), ("0", True, False), ("yes", False, True)],
)
def test_full_size_switch(monkeypatch, value, default, expected):
    monkeypatch.setenv("DLKIT_FULL_SIZE", value)
    assert dlkit.full_size(default=default) is expected


def test_full_size_bad_value(monkeypatch):
    monkeypatch.setenv("DLKIT_FULL_SIZE", "maybe")
    with pytest.raises(
        ValueError, match=r"`DLKIT_FULL_SIZE` must be 1 or 0\. Received: DLKIT_FULL_SIZE='maybe'"
    ):
        dlkit.full_size()
