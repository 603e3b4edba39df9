"""A finished attempt's work folder as the Sweeper meets it: a folder holding outputs."""

from __future__ import annotations

from pathlib import Path


def attempt_folder(root: Path, name: str) -> Path:
    """``root/name`` holding ``outputs/Output``, as an attempt leaves it; returns the folder."""
    folder = root / name / "outputs"
    folder.mkdir(parents=True)
    (folder / "Output").write_text("1")
    return root / name
