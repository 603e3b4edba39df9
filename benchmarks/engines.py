"""The four engines the peers benchmark runs the same workloads under.

pipeyard runs the compiled YAML with its CLI; kfp.local runs the same YAML in its own venv;
Dagster (multiprocess executor) and Prefect run the workload written in their own API
(``peers/*_runner.py``). Each peer lives in a venv under ``benchmarks/`` that this module
creates on first use, pinned, so nothing is ever installed into pipeyard's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from measure import Completed, Unsupported, marked_json, run_measured, tail

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / "peers"
# The iris steps import these in every engine; pinned to what pipeyard's own env holds.
ML_PACKAGES = ("numpy==2.4.6", "scikit-learn==1.9.1", "joblib")
PEER_PACKAGES = {
    "kfp.local": ("kfp==2.17.3",),
    "dagster": ("dagster==1.13.29",),
    "prefect": ("prefect==3.9.1",),
}
PEER_MARKER = "PEER_RESULT "
KFP_LOCAL_MARKER = "KFP_LOCAL_RESULT "


# Where the peers' venvs live: ``--venvs`` or PIPEYARD_BENCH_VENVS (so several checkouts share
# one set, e.g. /work/venvs), else beside this file (gitignored).
VENVS_DIR = Path(os.environ.get("PIPEYARD_BENCH_VENVS", "") or BENCH_DIR)


def venv_dir(engine: str, root: Path | None = None) -> Path:
    return (root or VENVS_DIR) / f".venv-{engine.replace('.', '-')}"


def ensure_venv(engine: str, log: object = print, root: Path | None = None) -> Path:
    """The peer's interpreter, creating its venv and installing its pinned packages once."""
    directory = venv_dir(engine, root)
    python = directory / "bin" / "python"
    stamp = directory / "pipeyard-bench.json"
    wanted = [*PEER_PACKAGES[engine], *ML_PACKAGES]
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return python
    log(f"Setting up {directory} with {' '.join(wanted)} (first use only)")  # type: ignore[operator]
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *wanted], check=True)
    stamp.write_text(json.dumps(wanted))
    return python


def scrubbed_env(**extra: str) -> dict[str, str]:
    # An inherited database URL or pipeline root would send the runs elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env.update(extra)
    return env


@dataclass
class PipeyardEngine:
    cli: Path
    home: Path
    parallelism: int | None = None
    name: str = "pipeyard"

    def run_file(self, path: Path, expected_tasks: int, timeout: float, *, cache: bool = False) -> Completed:
        command = [str(self.cli), "run", str(path), "--json"]
        if not cache:
            command.append("--no-cache")
        if self.parallelism is not None:
            command += ["--parallelism", str(self.parallelism)]
        completed = run_measured(command, env=scrubbed_env(PIPEYARD_HOME=str(self.home)), timeout=timeout)
        if completed.timed_out:
            raise TimeoutError(f"timeout after {timeout:.0f} s")
        try:
            summary = json.loads(completed.stdout)
        except json.JSONDecodeError:
            raise RuntimeError(f"exit {completed.returncode}, no JSON\n{tail(completed.stderr)}") from None
        if summary.get("state") != "SUCCEEDED":
            raise RuntimeError(f"run {summary.get('state')}: {summary.get('error')}\n{tail(completed.stderr)}")
        # A fast time means something only if every task really ran (none cached or missing).
        executed = [t for t in summary["tasks"] if t.get("state") == "SUCCEEDED" and not t.get("cached")]
        executed = [t for t in executed if t.get("kind") in ("CONTAINER", "IMPORTER")]
        if len(executed) < expected_tasks:
            raise RuntimeError(f"only {len(executed)} of {expected_tasks} tasks executed")
        return completed


@dataclass
class KfpLocalEngine:
    python: Path
    workdir: Path
    name: str = "kfp.local"

    def run_file(self, path: Path, expected_tasks: int, timeout: float) -> Completed:
        root = Path(tempfile.mkdtemp(prefix="kfp-local-root-", dir=self.workdir))
        command = [str(self.python), str(BENCH_DIR / "kfp_local_runner.py"), str(path), "--pipeline-root", str(root)]
        # cwd is scratch because kfp.local drops its local_outputs there.
        completed = run_measured(command, cwd=root, env=scrubbed_env(), timeout=timeout)
        if completed.timed_out:
            raise TimeoutError(f"timeout after {timeout:.0f} s")
        result = marked_json(completed.stdout, KFP_LOCAL_MARKER)
        if result is None:
            raise RuntimeError(f"exit {completed.returncode}\n{tail(completed.stderr or completed.stdout)}")
        if not result["ok"]:
            message = f"{result['error_type']}: {result['error']}"
            if result["error_type"] == "NotImplementedError" or "support" in str(result["error"]).lower():
                raise Unsupported(message)
            raise RuntimeError(message)
        return completed


@dataclass
class NativePeer:
    """Dagster or Prefect: the workload is rebuilt in the peer's own API by its runner."""

    name: str
    python: Path
    workdir: Path

    def run_workload(self, workload: str, size: int, timeout: float) -> Completed:
        runner = PEERS_DIR / ("dagster_runner.py" if self.name == "dagster" else "prefect_runner.py")
        scratch = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=self.workdir))
        env = scrubbed_env(PREFECT_SERVER_ANALYTICS_ENABLED="false", DAGSTER_DISABLE_TELEMETRY="1")
        completed = run_measured(
            [str(self.python), str(runner), workload, str(size), str(scratch)], cwd=scratch, env=env, timeout=timeout
        )
        if completed.timed_out:
            raise TimeoutError(f"timeout after {timeout:.0f} s")
        result = marked_json(completed.stdout, PEER_MARKER)
        if result is None or not result.get("ok"):
            detail = result.get("error") if result else tail(completed.stderr or completed.stdout)
            raise RuntimeError(f"exit {completed.returncode}: {detail}")
        return completed
