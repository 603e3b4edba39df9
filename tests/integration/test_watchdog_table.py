"""The watchdog learns the live task groups from a table in shared memory (no message, no
wake-up per task): when the launcher's end of its pipe closes without a word, as it does
when the launcher dies, it kills the groups in the table and only those."""

from __future__ import annotations

import os
import subprocess

from tests.support.processes import gone, wait_until

from pipeyard.launchers.watchdog import GroupWatchdog


def _group() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "600"], start_new_session=True)


def test_groups_in_the_table_die_with_the_launcher_and_forgotten_ones_live() -> None:
    watchdog = GroupWatchdog()
    watched, forgotten = _group(), _group()
    try:
        watchdog.watch(watched.pid)
        watchdog.watch(forgotten.pid)
        watchdog.forget(forgotten.pid)
        assert watchdog._table is not None and watchdog._table._used == {watched.pid: 0}
        process = watchdog._process
        assert process is not None
        # What the kernel does when the launcher dies: its end of the pipe closes, no "q".
        write_fd, watchdog._write_fd = watchdog._write_fd, None
        assert write_fd is not None
        os.close(write_fd)
        assert process.wait(60) == 0
        wait_until(lambda: watched.poll() is not None, "the watched group to be killed")
        assert watched.returncode == -9
        assert forgotten.poll() is None and not gone(forgotten.pid)
    finally:
        for p in (watched, forgotten):
            p.kill()
            p.wait()
        watchdog.close()
