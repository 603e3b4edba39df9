"""A small real filesystem to fill: a tmpfs mounted for one test (we are root in CI)."""

from __future__ import annotations

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_tmpfs(path: Path, size_mb: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_up(path: Path) -> int:
    """Write ``path`` until the filesystem holding it is full; the bytes written."""
    written = 0
    block = b"\0" * (1 << 16)
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                written += f.write(block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
    # The last bytes a partial block may still fit.
    with open(path, "ab", buffering=0) as f:
        for size in (4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    written += f.write(b"\0" * size)
    return written
