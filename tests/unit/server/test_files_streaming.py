"""Reading logs and artifacts: in chunks, and never through a symbolic link."""

from __future__ import annotations

import os
from pathlib import Path

from pipeyard.config import Settings
from pipeyard.server import files


def _settings(tmp_path: Path) -> Settings:
    s = Settings.from_env({"PIPEYARD_HOME": str(tmp_path / "home")})
    s.ensure_dirs()
    return s


def test_large_file_is_read_in_bounded_chunks(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    big = Path(settings.pipeline_root) / "big.bin"
    big.write_bytes(os.urandom(3 * files.CHUNK_BYTES + 17))
    opened = files.open_local_range(settings, str(big), "artifact", offset=10, max_bytes=2 * files.CHUNK_BYTES)
    assert opened is not None
    chunks, size = opened
    parts = list(chunks)
    assert size == 3 * files.CHUNK_BYTES + 17
    assert all(len(p) <= files.CHUNK_BYTES for p in parts)
    assert b"".join(parts) == big.read_bytes()[10 : 10 + 2 * files.CHUNK_BYTES]


def test_directory_listing_does_not_follow_links(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("x" * 1234)
    art = Path(settings.pipeline_root) / "dir-artifact"
    (art / "sub").mkdir(parents=True)
    (art / "sub" / "real.txt").write_text("hello")
    (art / "leak").symlink_to(secret)
    (art / "leakdir").symlink_to(tmp_path)
    data, _ = files.read_bytes(settings, str(art), "artifact")
    assert data.decode() == "sub/real.txt\t5\n"
    assert files.open_local_range(settings, str(art), "artifact") is None
