"""The Sweeper removes every queued work folder, including ones queued while a removal
job runs, and ``finish`` returns only once all are gone. Here small batches go to a worker
thread (tests/integration/test_sweeper_rm.py covers the ``rm`` process of large ones)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.work_folders import attempt_folder

from pipeyard.engine.sweeper import Sweeper

IN_PROCESS = 10**9  # no batch is large enough for a process


def test_every_queued_folder_is_gone_once_finished(tmp_path: Path) -> None:
    async def main() -> list[Path]:
        sweeper = Sweeper(batch=3, delay=3600, spawn_from=IN_PROCESS)
        folders = [attempt_folder(tmp_path, f"a{i}") for i in range(20)]
        for i, folder in enumerate(folders):
            sweeper.remove(folder)
            if i % 5 == 0:
                await asyncio.sleep(0)  # let a job start, so later ones queue behind it
        await sweeper.finish()
        return folders

    folders = asyncio.run(main())
    assert [f for f in folders if f.exists()] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_full_batch_is_removed_without_waiting_for_finish(tmp_path: Path) -> None:
    async def main() -> None:
        sweeper = Sweeper(batch=4, delay=3600, spawn_from=IN_PROCESS)
        for i in range(4):
            sweeper.remove(attempt_folder(tmp_path, f"c{i}"))
        for _ in range(3000):  # the batch's job is a thread's: wait for it, not for a time
            if not any(tmp_path.iterdir()):
                break
            await asyncio.sleep(0.01)
        assert list(tmp_path.iterdir()) == []
        await sweeper.finish()

    asyncio.run(main())


def test_finish_with_nothing_queued_returns_and_a_missing_folder_is_no_error(tmp_path: Path) -> None:
    async def main() -> None:
        sweeper = Sweeper(spawn_from=IN_PROCESS)
        await sweeper.finish()
        sweeper.remove(tmp_path / "never-made")
        kept = attempt_folder(tmp_path, "b")
        sweeper.remove(kept)
        await sweeper.finish()

    asyncio.run(main())
    assert list(tmp_path.iterdir()) == []
