"""A cached virtual environment holding kfp 1.8, for compiling kfp 1.x pipeline files.

kfp 1.x and kfp 2.x cannot share an interpreter (same import name, incompatible
protobuf and API), and pipeyard itself runs on kfp 2. So a v1 pipeline file is
compiled by a separate interpreter whose venv holds only ``kfp==1.8.22`` and its
dependencies. It is created once and reused; creation never touches the
interpreter running pipeyard.

Location: an explicit path, else ``PIPEYARD_KFP1_ENV``, else ``<envs_dir>/kfp1-1.8.22``.
Creation is safe across processes: an exclusive ``flock`` serialises builders and the
venv is built in a temporary directory that is renamed into place only once kfp imports.

Run as ``python -m pipeyard.v1.kfp1_env [PATH]`` (``scripts/kfp1-env.sh``) to create it
ahead of time; it prints the interpreter's path.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipeyard.config import Settings
from pipeyard.errors import PipeyardError

KFP1_VERSION = "1.8.22"
# kfp 1.8 resolves to these on Python 3.11 anyway; pinned so a new release of either
# (urllib3 2 broke kfp-server-api, protobuf 4 breaks kfp 1.8's generated code) cannot.
REQUIREMENTS = (f"kfp=={KFP1_VERSION}", "urllib3<2", "protobuf<4")
_READY = ".pipeyard-kfp1-ready"
INSTALL_TIMEOUT_SECONDS = 1800


class Kfp1EnvError(PipeyardError):
    """The kfp 1.8 environment could not be created; the message says what to do instead."""


def default_location(env: dict[str, str] | None = None) -> Path:
    environ = dict(os.environ) if env is None else env
    explicit = environ.get("PIPEYARD_KFP1_ENV")
    if explicit:
        return Path(explicit).expanduser().resolve()
    return Settings.from_env(environ).envs_dir / f"kfp1-{KFP1_VERSION}"


def python_of(location: Path) -> Path:
    return location / "bin" / "python"


def is_ready(location: Path) -> bool:
    return (location / _READY).is_file() and python_of(location).exists()


def ensure_kfp1_env(location: Path | None = None, *, base_python: str | None = None) -> Path:
    """The interpreter of a ready kfp 1.8 venv at ``location``, created if needed."""
    target = (location or default_location()).expanduser().resolve()
    if is_ready(target):
        return python_of(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = open(target.parent / f".{target.name}.lock", "w")  # noqa: SIM115 - held below
    except OSError as e:
        raise Kfp1EnvError(_advice(target, str(e))) from e
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_ready(target):  # another process built it while we waited
            return python_of(target)
        _build(target, base_python or _base_interpreter())
    return python_of(target)


def _base_interpreter() -> str:
    # A venv made from inside another venv would inherit nothing, but resolving to the
    # base keeps the new venv independent of the project's venv being rebuilt.
    return str(getattr(sys, "_base_executable", "") or sys.executable)


def _build(target: Path, base_python: str) -> None:
    building = target.parent / f"{target.name}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    python = str(building / "bin" / "python")
    uv = _uv()
    install = (
        [uv, "pip", "install", "--quiet", "--python", python, *REQUIREMENTS]
        if uv
        else [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS]
    )
    steps = [
        [base_python, "-m", "venv", str(building)],
        install,
        [str(building / "bin" / "python"), "-c", "import kfp, kfp.compiler; print(kfp.__version__)"],
    ]
    try:
        for argv in steps:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip()[-2000:]
                raise Kfp1EnvError(_advice(target, f"`{' '.join(argv[:4])} ...` failed:\n{tail}"))
    except (OSError, subprocess.TimeoutExpired) as e:
        shutil.rmtree(building, ignore_errors=True)
        raise Kfp1EnvError(_advice(target, str(e))) from e
    except Kfp1EnvError:
        shutil.rmtree(building, ignore_errors=True)
        raise
    (building / _READY).write_text(KFP1_VERSION + "\n")
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    # venv scripts name their own directory; the rename keeps bin/python working because
    # we only ever start bin/python directly (pyvenv.cfg is found next to it).


def _uv() -> str | None:
    # uv (installed into .venv by scripts/setup.sh) resolves and installs in parallel: the
    # kfp 1.8 environment takes seconds instead of a minute. pip remains the fallback.
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


def _advice(target: Path, cause: str) -> str:
    return (
        f"cannot create the kfp {KFP1_VERSION} environment at {target}: {cause}\n"
        f"This file uses the kfp 1.x SDK. Fix the cause above and run it again, or compile it yourself with kfp {KFP1_VERSION} "
        f"(`pip install kfp=={KFP1_VERSION}` in a separate environment, then "
        f"`python your_pipeline.py` or `dsl-compile --py your_pipeline.py --output pipeline.yaml`) "
        f"and run the YAML: `pipeyard run pipeline.yaml`."
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    location = Path(args[0]) if args else None
    try:
        print(ensure_kfp1_env(location))
    except Kfp1EnvError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
