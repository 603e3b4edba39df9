"""kfp 1.8.22 for tests: its own venv (never the project's), and v1 pipelines compiled by it.

The venv is ``$PIPEYARD_KFP1_ENV`` (scripts/test.sh creates it before pytest) or
``.venv-kfp1`` in the checkout, created here on first use if missing: a test that needs
kfp 1.8 fails, never skips, when it cannot be created.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from pipeyard.v1.kfp1_env import ensure_kfp1_env

REPO = Path(__file__).resolve().parents[2]
V1_DATA = REPO / "tests" / "data" / "v1"
COMPILE_DEADLINE_SECONDS = 300


@functools.cache
def kfp1_python() -> Path:
    location = Path(os.environ.get("PIPEYARD_KFP1_ENV") or REPO / ".venv-kfp1")
    return ensure_kfp1_env(location)


def compile_v1(name: str, out_dir: Path) -> Path:
    """Compile ``tests/data/v1/<name>`` with kfp 1.8 as a user would (``python file.py``,
    whose ``__main__`` block writes ``<file>.yaml``); returns the YAML's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / name
    shutil.copyfile(V1_DATA / name, source)
    done = subprocess.run([str(kfp1_python()), source.name], cwd=out_dir, capture_output=True, text=True,
                          timeout=COMPILE_DEADLINE_SECONDS)
    assert done.returncode == 0, f"kfp 1.8 could not compile {name}:\n{done.stderr}"
    return out_dir / f"{name}.yaml"


def kfp1_env_vars() -> dict[str, str]:
    """Environment for a pipeyard child process that should reuse the tests' kfp 1.8 venv."""
    return {"PIPEYARD_KFP1_ENV": str(kfp1_python().parent.parent)}
