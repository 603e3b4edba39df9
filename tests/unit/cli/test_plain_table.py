"""The run summary printed to a log (not a terminal) is a plain padded table."""

from __future__ import annotations

from pipeyard.cli.report import plain_table


def test_columns_are_padded_to_the_widest_cell() -> None:
    text = plain_table("run r1", ("task", "state"), [("a", "SUCCEEDED"), ("longer-name", "FAILED")])
    assert text.splitlines() == [
        "run r1",
        " task         state",
        " a            SUCCEEDED",
        " longer-name  FAILED",
    ]


def test_a_long_path_stays_on_one_line() -> None:
    path = "/".join(["for-loop-2"] * 30)
    lines = plain_table("t", ("task", "time"), [(path, "1.00s")]).splitlines()
    assert len(lines) == 3
    assert lines[2] == f" {path}  1.00s"
