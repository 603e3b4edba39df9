"""Choosing a launcher by name (CLI --launcher, PIPEYARD_LAUNCHER)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeyard.errors import InvalidArgument
from pipeyard.launchers.choose import launcher_name, make_launcher
from pipeyard.launchers.local import LocalLauncher


def test_default_is_local_and_the_environment_can_choose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIPEYARD_LAUNCHER", raising=False)
    assert launcher_name() == "local"
    monkeypatch.setenv("PIPEYARD_LAUNCHER", "Ray")
    assert launcher_name() == "ray"
    assert launcher_name("local") == "local"


def test_unknown_launcher_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidArgument, match="choose one of: local, ray"):
        launcher_name("kubernetes")


def test_local_launcher_is_built(tmp_path: Path) -> None:
    launcher = make_launcher("local", envs_dir=tmp_path, max_parallel=3)
    assert isinstance(launcher, LocalLauncher) and launcher.max_parallel == 3
