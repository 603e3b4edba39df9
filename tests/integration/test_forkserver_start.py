"""A fork server started ahead of its launcher (``forkserver.prestart``, what ``pipeyard run``
does before importing the engine) is the one the launcher then uses, unless the environment
its tasks would inherit changed meanwhile; one nobody adopts goes away."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.processes import gone, wait_until

from pipeyard.launchers import forkserver
from pipeyard.launchers.forkserver import ForkServer


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    for server in forkserver._PRESTARTED.values():
        server._abandon()
    forkserver._PRESTARTED.clear()


def _prestarted_pid() -> int:
    forkserver.prestart(sys.executable)
    process = forkserver._PRESTARTED[sys.executable]._process
    assert process is not None
    return process.pid


async def _started() -> tuple[int, ForkServer]:
    server = ForkServer(sys.executable)
    await server.start()
    assert server.alive and server._process is not None
    return server._process.pid, server


def test_a_prestarted_server_is_adopted_and_stopped_with_its_adopter() -> None:
    early = _prestarted_pid()

    async def main() -> int:
        pid, server = await _started()
        await server.aclose()
        return pid

    assert asyncio.run(main()) == early
    assert forkserver._PRESTARTED == {}
    assert gone(early)


def test_a_server_prestarted_for_another_environment_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    early = _prestarted_pid()
    monkeypatch.setenv("PIPEYARD_TEST_CHANGED_AFTER_PRESTART", "1")

    async def main() -> int:
        pid, server = await _started()
        await server.aclose()
        return pid

    assert asyncio.run(main()) != early
    wait_until(lambda: gone(early), "the unadopted fork server to exit once its socket closed")


def test_a_warm_server_never_adopts_the_plain_one() -> None:
    early = _prestarted_pid()

    async def main() -> int:
        server = ForkServer(sys.executable, ["json"])
        await server.start()
        assert server._process is not None
        pid = server._process.pid
        await server.aclose()
        return pid

    assert asyncio.run(main()) != early
    assert sys.executable in forkserver._PRESTARTED  # still there for the plain server


def test_a_start_cancelled_before_ready_closes_its_socket(tmp_path: Path) -> None:
    # An "interpreter" that never answers: the start can only end by being cancelled.
    silent = tmp_path / "silent-python"
    silent.write_text("#!/bin/sh\nexec sleep 600\n")
    silent.chmod(0o755)

    async def main() -> tuple[socket.socket, subprocess.Popen[bytes]]:
        server = ForkServer(str(silent))
        server.spawn_process()
        ours = server._sock
        assert ours is not None
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(server.start(), 0.5)
        assert server._process is None and server._sock is None and not server.alive
        (process,) = [p for p in forkserver._ABANDONED if str(silent) in list(p.args)]  # type: ignore[arg-type]
        return ours, process

    ours, process = asyncio.run(main())
    try:
        assert ours.fileno() == -1  # closed, not left for the garbage collector to warn about
    finally:
        process.kill()
        process.wait(60)
        forkserver._ABANDONED.remove(process)
