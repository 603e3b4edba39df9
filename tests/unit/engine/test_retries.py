"""The retry decision (engine/retries.py): KFP's set_retry as delays between attempts."""

from __future__ import annotations

from pathlib import Path

from pipeyard.engine.retries import log_tail, retry_delay
from pipeyard.ir.views import RetryPolicy


def test_no_policy_means_one_attempt() -> None:
    assert retry_delay(None, 1) is None


def test_backoff_grows_by_the_factor_up_to_the_cap_then_stops() -> None:
    policy = RetryPolicy(max_retries=3, backoff_seconds=1.0, backoff_factor=3.0, backoff_max_seconds=5.0)
    assert [retry_delay(policy, n) for n in (1, 2, 3, 4)] == [1.0, 3.0, 5.0, None]


def test_attempts_of_an_earlier_execution_count() -> None:
    # A resumed run whose task already used two of its three attempts has one left.
    policy = RetryPolicy(max_retries=2)
    assert retry_delay(policy, 2) == 0.0
    assert retry_delay(policy, 3) is None


def test_log_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert log_tail(str(log), lines=3) == "line 97\nline 98\nline 99"
    assert log_tail(str(tmp_path / "missing.log")) == ""
