"""Reading a failed task's log for a missing module and naming the package to install."""

from __future__ import annotations

from pathlib import Path

from pipeyard.engine.failure_hints import TAIL_BYTES, distribution_for, explain_exit, missing_module

TRACEBACK = """Traceback (most recent call last):
  File "/tmp/ephemeral_component.py", line 3, in train
    from sklearn.linear_model import LogisticRegression
ModuleNotFoundError: No module named 'sklearn'
"""


def test_the_last_missing_module_of_a_log_is_named() -> None:
    earlier = "ModuleNotFoundError: No module named 'optional_speedup'\n(handled)\n"
    assert missing_module(earlier + TRACEBACK) == "sklearn"
    assert missing_module("ValueError: bad input\n") is None


def test_import_names_map_to_their_distribution() -> None:
    assert distribution_for("sklearn") == "scikit-learn"
    assert distribution_for("sklearn.linear_model") == "scikit-learn"
    assert distribution_for("PIL") == "pillow"
    assert distribution_for("my_private_lib.sub") == "my-private-lib"


def test_exit_explanation_reads_the_end_of_a_large_log(tmp_path: Path) -> None:
    log = tmp_path / "attempt-1.log"
    log.write_text("x" * (2 * TAIL_BYTES) + "\n" + TRACEBACK)
    hint = explain_exit(str(log))
    assert hint.startswith(": ModuleNotFoundError: No module named 'sklearn'.")
    assert "packages_to_install=['scikit-learn']" in hint
    assert "-m pip install scikit-learn" in hint


def test_no_explanation_for_other_failures_or_a_missing_log(tmp_path: Path) -> None:
    log = tmp_path / "attempt-1.log"
    log.write_text("Traceback...\nZeroDivisionError: division by zero\n")
    assert explain_exit(str(log)) == ""
    assert explain_exit(str(tmp_path / "absent.log")) == ""
