"""Logs and artifacts are only read from under the pipeline root and the logs dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeyard.config import Settings
from pipeyard.errors import Forbidden
from pipeyard.server.files import read_bytes, safe_local_path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings.from_env({"PIPEYARD_HOME": str(tmp_path / "home")})
    s.ensure_dirs()
    return s


def test_inside_is_read(settings: Settings) -> None:
    f = Path(settings.pipeline_root) / "run" / "out.txt"
    f.parent.mkdir(parents=True)
    f.write_bytes(b"0123456789")
    assert read_bytes(settings, str(f), "artifact") == (b"0123456789", 10)
    assert read_bytes(settings, f"file://{f}", "artifact", offset=4, max_bytes=3) == (b"456", 10)
    (f.parent / "sub").mkdir()
    (f.parent / "sub" / "x.bin").write_bytes(b"abc")
    listing, _ = read_bytes(settings, str(f.parent), "artifact")
    assert b"out.txt\t10" in listing and b"sub/x.bin\t3" in listing


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../../etc/passwd", "relative/file", "{root}/../pipeyard.db", "{logs}/../../x", "\x00"],
)
def test_outside_is_refused(settings: Settings, path: str) -> None:
    path = path.format(root=settings.pipeline_root, logs=settings.logs_dir)
    with pytest.raises(Forbidden):
        safe_local_path(settings, path, "log")


def test_symlink_escape_is_refused(settings: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    link = Path(settings.logs_dir) / "innocent.log"
    os.symlink(secret, link)
    with pytest.raises(Forbidden):
        read_bytes(settings, str(link), "log")
