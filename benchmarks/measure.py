"""Timing one command as a user waits for it: wall time and peak resident memory."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Completed:
    returncode: int
    seconds: float
    # ru_maxrss of the child, which Linux keeps as the largest of the process and the
    # descendants it waited for: the run's peak, not the sum.
    peak_rss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False
    # user + system seconds of the command and the descendants it waited for: steadier than
    # wall time on a shared machine.
    cpu_seconds: float = 0.0


def run_measured(
    command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 1800
) -> Completed:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Completed(
            returncode=process.returncode,
            seconds=elapsed,
            peak_rss_mb=usage.ru_maxrss / 1024,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            timed_out=expired.is_set(),
            cpu_seconds=usage.ru_utime + usage.ru_stime,
        )


def tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def marked_json(stdout: str, marker: str) -> dict[str, object] | None:
    """The JSON object on the last line that starts with ``marker`` (peers log to stdout too)."""
    found = [line for line in stdout.splitlines() if line.startswith(marker)]
    return json.loads(found[-1][len(marker) :]) if found else None


@dataclass
class Measurement:
    """Repeated timings of one engine on one workload; a failure or refusal ends the series."""

    seconds: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    error: str | None = None
    unsupported: bool = False
    skipped: bool = False
    reason: str | None = None  # why it was skipped, e.g. "est. 1900 s > 300 s timeout"

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds and self.error is None else None

    @property
    def cell(self) -> str:
        if self.skipped:
            return f"skipped ({self.reason})" if self.reason else "skipped"
        if self.unsupported:
            return "unsupported"
        if self.error is not None:
            if self.error.startswith("timeout"):
                # "timeout: timeout after 300 s" -> "timeout (300 s)"
                limit = self.error.rsplit("after ", 1)[-1] if "after " in self.error else ""
                return f"timeout ({limit})" if limit else "timeout"
            return "failed"
        return "not reached" if self.median is None else f"{self.median:.2f}"


class Unsupported(RuntimeError):
    """The engine refused the workload (as opposed to failing while running it)."""
