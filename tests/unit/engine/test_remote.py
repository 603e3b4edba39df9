"""Staging paths for remote artifact URIs (no network: see
tests/integration/test_remote_pipeline_root.py for the S3 round trips)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pipeyard.engine import remote


def test_staged_paths_mirror_uris_and_map_back(tmp_path: Path) -> None:
    root = remote.staging_root(tmp_path, "run")
    path = remote.staged_path(root, "s3://bucket/root/p/run/task/data")
    assert path == root / "s3" / "bucket" / "root" / "p" / "run" / "task" / "data"
    assert remote.remote_uri_of(root, str(path)) == "s3://bucket/root/p/run/task/data"
    assert remote.remote_uri_of(root, str(tmp_path / "elsewhere")) is None


def test_no_uri_reaches_outside_the_staging_tree(tmp_path: Path) -> None:
    root = remote.staging_root(tmp_path, "run")
    path = remote.staged_path(root, "s3://bucket/../../../etc/passwd")
    assert root in path.parents
    assert path == root / "s3" / "bucket" / "etc" / "passwd"


def test_local_uris_pass_through_without_staging(tmp_path: Path) -> None:
    arts = {"data": [{"uri": str(tmp_path / "in"), "name": "data"}]}
    staging = asyncio.run(remote.stage(tmp_path, "run", arts, {"out": str(tmp_path / "out")},
                                       str(tmp_path / "task")))
    assert staging.inputs == arts
    assert staging.outputs == {"out": str(tmp_path / "out")}
    assert staging.task_root == str(tmp_path / "task")
    assert not staging.remote_outputs and not staging.warnings
    assert not (tmp_path / "staging").exists()


def test_remote_outputs_get_local_places(tmp_path: Path) -> None:
    staging = asyncio.run(remote.stage(tmp_path, "run", {}, {"out": "s3://b/r/p/run/t/out"}, "s3://b/r/p/run/t/"))
    assert staging.remote_outputs
    assert staging.outputs["out"] == str(tmp_path / "staging" / "run" / "s3" / "b" / "r" / "p" / "run" / "t" / "out")
    assert staging.task_root == str(tmp_path / "staging" / "run" / "s3" / "b" / "r" / "p" / "run" / "t")


def test_a_scheme_without_a_filesystem_is_a_warning(tmp_path: Path) -> None:
    arts = {"data": [{"uri": "nosuchscheme://bucket/x", "name": "data"}]}
    staging = asyncio.run(remote.stage(tmp_path, "run", arts, {}, str(tmp_path / "task")))
    assert staging.inputs == arts  # passed on unchanged
    assert len(staging.warnings) == 1 and "nosuchscheme://bucket/x" in staging.warnings[0]
    assert "nosuchscheme://bucket/x" in staging.note
    assert remote.remote_digest("nosuchscheme://bucket/x") is None
