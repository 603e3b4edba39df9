"""A built package carries the web UI: the wheel build runs the Vite build (setup.py), and
refuses to build, naming what is missing, when Node.js/npm are not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What a fresh clone has: no installed UI dependencies, no built UI, no caches, no
# environments (CI's checkout has a real .venv-kfp1 of ~100 MB: copied, it was much of
# these tests' time).
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv*", "..venv-kfp1.lock", "node_modules", "static", "build", "dist", "*.egg-info", "__pycache__",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", ".import_linter_cache", ".pipeyard",
    "test-artifacts",
)


def _source_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "pipeyard-src"
    shutil.copytree(REPO, tree, ignore=NOT_IN_A_CLONE)
    return tree


def _build_wheel(tree: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # No build isolation: the test must not depend on reaching PyPI for setuptools.
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
         "-v", "-w", str(out), str(tree)],
        env=env, capture_output=True, text=True, timeout=900,
    )


def test_wheel_build_refuses_without_node(tmp_path: Path) -> None:
    tree = _source_tree(tmp_path)
    bin_dir = tmp_path / "bin"  # a PATH with bash but neither node nor npm
    bin_dir.mkdir()
    (bin_dir / "bash").symlink_to(shutil.which("bash") or "/bin/bash")
    env = {**os.environ, "PATH": str(bin_dir)}
    done = _build_wheel(tree, tmp_path / "wheels", env)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "needs Node.js 20+ and npm; not found on PATH: node, npm" in output, output[-3000:]
    assert not list(tmp_path.glob("wheels/*.whl"))


@pytest.mark.slow
def test_wheel_from_a_fresh_tree_contains_the_built_ui(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.fail("npm is needed to build pipeyard's web UI (install Node.js 20+)")
    tree = _source_tree(tmp_path)
    lock = (tree / "ui" / "package-lock.json").read_bytes()
    done = _build_wheel(tree, tmp_path / "wheels", dict(os.environ))
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    # The UI's dependencies came from the committed lock with `npm ci`, which leaves it as it was.
    assert "build-ui: installing the UI build tools with npm ci" in done.stdout + done.stderr
    assert (tree / "ui" / "package-lock.json").read_bytes() == lock
    (wheel,) = (tmp_path / "wheels").glob("pipeyard-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        index = zf.read("pipeyard/server/static/index.html").decode()
    assets = [n for n in names if n.startswith("pipeyard/server/static/assets/") and n.endswith(".js")]
    assert len(assets) >= 1, names
    # The built page loads the bundle that is in the wheel (not the dev entry /src/main.tsx).
    assert "/src/main.tsx" not in index
    assert any(f'src="/{a.removeprefix("pipeyard/server/static/")}"' in index for a in assets), index
    # The UI's sources and its node_modules are not package contents.
    assert not [n for n in names if "node_modules" in n or n.startswith("ui/")]
