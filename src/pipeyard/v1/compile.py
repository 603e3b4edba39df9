"""``pipeyard run pipeline.py`` for files written with the kfp 1.x SDK.

pipeyard runs on kfp 2, where such a file cannot even import. So a ``.py`` file that
uses kfp 1.x APIs is compiled by kfp 1.8 in its own cached environment
(``kfp1_env``), in a child process, and the Argo Workflow it writes is loaded like any
other compiled v1 pipeline.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from pipeyard.errors import SpecError
from pipeyard.ir.argo.source import uses_kfp1
from pipeyard.ir.loader import LoadedPipeline, load_pipeline_bytes, load_pipeline_file
from pipeyard.v1.kfp1_env import KFP1_VERSION, ensure_kfp1_env

DRIVER = Path(__file__).with_name("_kfp1_driver.py")
COMPILE_TIMEOUT_SECONDS = 600


def compile_kfp1_file(path: Path, pipeline_name: str | None = None) -> bytes:
    """The Argo Workflow YAML kfp 1.8 compiles from ``path``."""
    python = ensure_kfp1_env()
    with tempfile.TemporaryDirectory(prefix="pipeyard-kfp1-") as tmp:
        out = Path(tmp) / "pipeline.yaml"
        argv = [str(python), str(DRIVER), str(path.resolve()), str(out)]
        if pipeline_name:
            argv.append(pipeline_name)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_SECONDS,
                                  cwd=str(path.resolve().parent))
        except subprocess.TimeoutExpired:
            raise SpecError(f"kfp {KFP1_VERSION} did not finish compiling within "
                            f"{COMPILE_TIMEOUT_SECONDS} s", where=path.name) from None
        if done.returncode != 0 or not out.is_file():
            reason = (done.stderr or done.stdout).strip().splitlines()
            text = reason[-1] if done.returncode == 3 and reason else "\n".join(reason[-15:])
            raise SpecError(text or f"kfp {KFP1_VERSION} exited with {done.returncode}", where=path.name)
        return out.read_bytes()


def load_any_pipeline_file(path: str | Path, pipeline_name: str | None = None) -> LoadedPipeline:
    """``load_pipeline_file``, plus kfp 1.x ``.py`` files compiled with kfp 1.8."""
    p = Path(path)
    if p.suffix == ".py" and p.is_file() and uses_kfp1(p.read_text(errors="replace")):
        return load_pipeline_bytes(compile_kfp1_file(p, pipeline_name), p.name + ".yaml")
    return load_pipeline_file(p, pipeline_name)
