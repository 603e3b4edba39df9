"""LocalLauncher's default number of tasks at once: two per CPU (TASKS_PER_CPU), so that a
core does not idle while the launcher finishes one task and starts the next."""

from __future__ import annotations

import os
from pathlib import Path

from pipeyard.launchers.local import TASKS_PER_CPU, LocalLauncher


def test_default_slots_are_two_per_cpu_and_an_explicit_limit_wins(tmp_path: Path) -> None:
    assert TASKS_PER_CPU == 2
    assert LocalLauncher(envs_dir=tmp_path).max_parallel == 2 * (os.cpu_count() or 1)
    assert LocalLauncher(3, envs_dir=tmp_path).max_parallel == 3
