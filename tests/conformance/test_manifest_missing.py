"""Without KFP's conformance manifest the suite says so, and fails in CI instead of passing
with one cryptic skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run_suite(shared: Path, *, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PIPEYARD_SHARED_DIR"] = str(shared)
    if ci:
        env["CI"] = "true"
    # Only the plugins this run needs (pytest-timeout reads the suite's ini): importing the
    # others (schemathesis, hypothesis, xdist...) was most of its CPU time.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "pytest_timeout", "-rfs",
         "tests/conformance/test_conformance.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )


def test_missing_manifest_is_reported_by_name(tmp_path: Path) -> None:
    done = _run_suite(tmp_path, ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "conformance suite NOT RUN" in done.stdout
    assert f"KFP conformance manifest not found: {tmp_path / 'conformance' / 'manifest.yaml'}" in done.stdout


def test_missing_manifest_fails_in_ci(tmp_path: Path) -> None:
    done = _run_suite(tmp_path, ci=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "FAILED tests/conformance/test_conformance.py::test_conformance[manifest-missing]" in done.stdout
    assert "KFP conformance manifest not found" in done.stdout
