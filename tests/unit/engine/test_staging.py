"""Staging paths for remote artifact URIs (no network: see
tests/integration/test_remote_pipeline_root.py for the S3 round trips)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pipeyard.artifacts import filesystems
from pipeyard.engine import staging


def test_staged_paths_mirror_uris_and_map_back(tmp_path: Path) -> None:
    root = staging.staging_root(tmp_path, "run")
    path = staging.staged_path(root, "s3://bucket/root/p/run/task/data")
    assert path == root / "s3" / "bucket" / "root" / "p" / "run" / "task" / "data"
    assert staging.remote_uri_of(root, str(path)) == "s3://bucket/root/p/run/task/data"
    assert staging.remote_uri_of(root, str(tmp_path / "elsewhere")) is None


def test_no_uri_reaches_outside_the_staging_tree(tmp_path: Path) -> None:
    root = staging.staging_root(tmp_path, "run")
    path = staging.staged_path(root, "s3://bucket/../../../etc/passwd")
    assert root in path.parents
    assert path == root / "s3" / "bucket" / "etc" / "passwd"


def test_local_uris_pass_through_without_staging(tmp_path: Path) -> None:
    arts = {"data": [{"uri": str(tmp_path / "in"), "name": "data"}]}
    staged = asyncio.run(staging.stage(tmp_path, "run", arts, {"out": str(tmp_path / "out")},
                                       str(tmp_path / "task")))
    assert staged.inputs == arts
    assert staged.outputs == {"out": str(tmp_path / "out")}
    assert staged.task_root == str(tmp_path / "task")
    assert not staged.remote_outputs and not staged.warnings
    assert not (tmp_path / "staging").exists()


def test_remote_outputs_get_local_places(tmp_path: Path) -> None:
    staged = asyncio.run(staging.stage(tmp_path, "run", {}, {"out": "s3://b/r/p/run/t/out"}, "s3://b/r/p/run/t/"))
    assert staged.remote_outputs
    assert staged.outputs["out"] == str(tmp_path / "staging" / "run" / "s3" / "b" / "r" / "p" / "run" / "t" / "out")
    assert staged.task_root == str(tmp_path / "staging" / "run" / "s3" / "b" / "r" / "p" / "run" / "t")


def test_a_scheme_without_a_filesystem_is_a_warning(tmp_path: Path) -> None:
    arts = {"data": [{"uri": "nosuchscheme://bucket/x", "name": "data"}]}
    staged = asyncio.run(staging.stage(tmp_path, "run", arts, {}, str(tmp_path / "task")))
    assert staged.inputs == arts  # passed on unchanged
    assert len(staged.warnings) == 1 and "nosuchscheme://bucket/x" in staged.warnings[0]
    assert "nosuchscheme://bucket/x" in staged.note
    assert filesystems.remote_digest("nosuchscheme://bucket/x") is None
