"""The Sweeper's large batches go to one ``rm -rf`` process: every folder goes, whatever its
name, and folders queued while a removal runs go in a later one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.work_folders import attempt_folder

from pipeyard.engine.sweeper import Sweeper


def test_batches_removed_by_rm_leave_nothing_and_nothing_else_is_touched(tmp_path: Path) -> None:
    work, kept = tmp_path / "work", tmp_path / "kept"
    work.mkdir()
    kept.mkdir()
    (kept / "file").write_text("stays")
    names = [f"a{i}" for i in range(45)] + ["-rf", "--help", "with space", "*"]

    async def main() -> None:
        sweeper = Sweeper(batch=10, delay=3600, spawn_from=2)
        for i, name in enumerate(names):
            sweeper.remove(attempt_folder(work, name))
            if i % 7 == 0:
                await asyncio.sleep(0)  # let a removal start, so later folders queue behind it
        sweeper.remove(work / "never-made")
        await sweeper.finish()

    asyncio.run(main())
    assert sorted(p.name for p in work.iterdir()) == []
    assert (kept / "file").read_text() == "stays"
