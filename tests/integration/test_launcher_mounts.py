from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from pipeyard.launchers import LocalLauncher
from pipeyard.launchers.base import LaunchRequest
from pipeyard.launchers.mounts import Mounter, _probe_unshare, rewrite_argv


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


@pytest.mark.parametrize("namespaces", [True, False], ids=["namespace", "argv-rewrite"])
def test_task_writes_through_mount_and_leaves_host_clean(namespaces: bool, tmp_path: Path) -> None:
    container = Path(f"/pipeyard-test-{uuid.uuid4().hex[:8]}") / "data"
    volume = tmp_path / "volume"
    launcher = LocalLauncher(envs_dir=tmp_path / "envs", mount_namespaces=namespaces)
    request = LaunchRequest(
        key="k",
        argv=("sh", "-c", 'echo written > "$0/x"; ls "$0"', str(container)),
        log_path=str(tmp_path / "log"),
        mounts={str(container): str(volume)},
    )
    result = asyncio.run(launcher.launch(request))
    assert result.exit_code == 0, Path(request.log_path).read_text()
    assert (volume / "x").read_text() == "written\n"
    assert "x" in Path(request.log_path).read_text().split()
    # The write went to the volume; at most an empty mount point stays on the host.
    try:
        assert not container.exists() or list(container.iterdir()) == []
    finally:
        if container.exists():
            container.rmdir()
        if container.parent.exists():
            container.parent.rmdir()


def test_mount_points_we_did_not_create_are_kept(tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    mounter = Mounter()
    plan = mounter.plan(("true",), {str(existing / "new" / "point"): str(tmp_path / "vol")})
    if plan.namespaced:
        assert plan.created == [existing / "new" / "point", existing / "new"]
    else:
        # No mount namespaces here: the fallback rewrites argv and creates nothing.
        assert _probe_unshare() is None
        assert (plan.argv, plan.created) == (("true",), [])
    mounter.release(plan.created)
    # Mount points stay (another process may be mounting on them), empty.
    assert existing.is_dir()
    assert not (existing / "new").exists() or [p.name for p in (existing / "new").iterdir()] == ["point"]
    # The fallback, on every machine: nothing created, argv rewritten.
    fallback = Mounter(use_namespaces=False).plan(("ls", "/c/point"), {"/c/point": str(tmp_path / "vol")})
    assert (fallback.argv, fallback.created, fallback.namespaced) == (("ls", str(tmp_path / "vol")), [], False)
