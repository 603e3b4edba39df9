"""The retry decision (engine/retries.py): KFP's set_retry as delays between attempts."""

from __future__ import annotations

from pathlib import Path

from pipeyard.engine.retries import log_tail, retry_delay
from pipeyard.ir.views import RetryPolicy


def test_no_policy_means_one_attempt() -> None:
    assert retry_delay(None, 1) is None


def test_backoff_grows_by_the_factor_until_the_retries_run_out() -> None:
    policy = RetryPolicy(max_retries=3, backoff_seconds=1.0, backoff_factor=3.0, backoff_max_seconds=None)
    assert [retry_delay(policy, n) for n in (1, 2, 3, 4)] == [1.0, 3.0, 9.0, None]


def test_max_duration_is_a_budget_from_the_first_attempt_as_in_argo() -> None:
    policy = RetryPolicy(max_retries=5, backoff_seconds=1.0, backoff_factor=3.0, backoff_max_seconds=10.0)
    # 2 s in, a 3 s wait still starts the retry before 10 s: allowed.
    assert retry_delay(policy, 2, elapsed=2.0) == 3.0
    # 2 s in, a 9 s wait would start it after 10 s: no further attempt.
    assert retry_delay(policy, 3, elapsed=2.0) is None
    assert retry_delay(policy, 1, elapsed=9.5) is None


def test_without_a_max_duration_retries_are_not_limited_in_time() -> None:
    policy = RetryPolicy(max_retries=2, backoff_seconds=60.0, backoff_max_seconds=None)
    assert retry_delay(policy, 1, elapsed=10 * 86400.0) == 60.0


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
