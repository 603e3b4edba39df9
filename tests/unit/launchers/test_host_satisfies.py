"""packages_to_install the host already satisfies cost nothing: no venv, no network."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeyard.launchers.venvs import VirtualEnvs, host_satisfies


def test_installed_requirements_inside_their_specifiers_are_satisfied() -> None:
    assert host_satisfies(["scikit-learn", "numpy>=1.0", " kfp "])
    assert host_satisfies(["scikit_learn"])  # names are normalised as pip does


def test_a_version_outside_the_specifier_a_missing_package_or_extras_are_not() -> None:
    assert not host_satisfies(["numpy<1.0"])
    assert not host_satisfies(["numpy", "surely-not-installed-pkg-3141"])
    assert not host_satisfies(["httpx[http2]"])
    assert not host_satisfies(["numpy @ https://example.invalid/numpy.whl"])
    assert not host_satisfies(["not a requirement !!"])


def test_a_requirement_for_another_interpreter_is_not_needed() -> None:
    assert host_satisfies(["surely-not-installed-pkg-3141; python_version < '3'"])


def test_only_the_running_interpreter_is_judged(tmp_path: Path) -> None:
    other = tmp_path / "python"
    other.symlink_to("/bin/true")
    assert not host_satisfies(["numpy"], str(other))


def test_ensure_returns_the_host_interpreter_and_builds_nothing(tmp_path: Path) -> None:
    envs = VirtualEnvs(tmp_path / "envs")
    assert envs.ensure(["scikit-learn", "numpy"]) == Path(sys.executable)
    assert not (tmp_path / "envs").exists()
