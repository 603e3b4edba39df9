from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from pipeyard.launchers import LocalLauncher
from pipeyard.launchers.base import LaunchRequest
from pipeyard.launchers.mounts import rewrite_argv


def test_rewrite_argv_replaces_whole_path_prefixes_only() -> None:
    mounts = {"/data": "/host/vol", "/data/sub": "/other"}
    argv = ("cp", "/data/a", "/data", "/database/x", "--out=/data/b", "/data/sub/c", '{"p": "/data/x"}')
    assert rewrite_argv(argv, mounts) == (
        "cp",
        "/host/vol/a",
        "/host/vol",
        "/database/x",
        "--out=/host/vol/b",
        "/other/c",
        '{"p": "/host/vol/x"}',
    )


def _write_through(tmp_path: Path, container: Path, namespaces: bool = True) -> Path:
    volume = tmp_path / "volume"
    (volume).mkdir(exist_ok=True)
    (volume / "seed").write_text("from the host\n")
    launcher = LocalLauncher(envs_dir=tmp_path / "envs", mount_namespaces=namespaces)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    request = LaunchRequest(
        key="k",
        argv=("sh", "-c", 'echo written > "$0/x"; cat "$0/seed"; pwd; ls /', str(container)),
        log_path=str(tmp_path / "log"),
        cwd=str(work),
        mounts={str(container): str(volume)},
    )

    async def main() -> None:
        try:
            result = await launcher.launch(request)
            assert result.exit_code == 0, Path(request.log_path).read_text()
        finally:
            await launcher.aclose()

    asyncio.run(main())
    assert (volume / "x").read_text() == "written\n"
    log = Path(request.log_path).read_text().splitlines()
    assert log[:2] == ["from the host", str(work)]  # read the volume, ran in its own directory
    return Path(request.log_path)


@pytest.mark.parametrize("namespaces", [True, False], ids=["namespace", "argv-rewrite"])
def test_mount_at_a_missing_absolute_path_leaves_no_directory_on_the_host(namespaces: bool, tmp_path: Path) -> None:
    top = Path(f"/pipeyard-test-{uuid.uuid4().hex[:8]}")
    log = _write_through(tmp_path, top / "data", namespaces)
    assert not top.exists()
    if namespaces:
        # The task saw the whole host root beside its mount point.
        listed = log.read_text().splitlines()[2:]
        assert {"etc", "proc", "tmp", top.name} <= set(listed)


def test_missing_mount_point_below_an_existing_directory_is_not_created(tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "kept.txt").write_text("kept")
    _write_through(tmp_path, existing / "new" / "point")
    assert sorted(p.name for p in existing.iterdir()) == ["kept.txt"]
    assert not list((tmp_path / "tmp" / "mount-roots").iterdir())  # the private root's mount point is gone


def test_existing_mount_point_is_bound_in_place(tmp_path: Path) -> None:
    point = tmp_path / "point"
    point.mkdir()
    _write_through(tmp_path, point)
    assert list(point.iterdir()) == []  # the write went to the volume
