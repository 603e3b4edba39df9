"""The interpreter that runs model servers, and the command line for one.

KServe's ``kserve`` package is the model server. It is found in one of two places:

- pipeyard's own interpreter, when installed with ``pip install "pipeyard[serve]"``;
- a cached environment (``$PIPEYARD_HOME/envs/venv-<hash>``) created on first use with
  uv, which sees the host's site-packages (so the model's framework - the same
  scikit-learn that pickled it - comes from the host) while kserve and its pins stay
  out of pipeyard's environment.

``PIPEYARD_SERVING_ENV`` chooses: ``auto`` (the default: the host when kserve imports
there, else the cached environment), ``host`` or ``isolated``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeyard.errors import FailedPrecondition, InvalidArgument

SERVING_ENV = "PIPEYARD_SERVING_ENV"
KSERVE_REQUIREMENT = "kserve>=0.14"
RUNTIMES = ("kserve",)
PROGRAM = Path(__file__).with_name("_model_server.py")


class RuntimeMissing(FailedPrecondition):
    """The serving library is not installed and could not be provided."""


def check_runtime_name(runtime: str) -> str:
    name = (runtime or "kserve").strip().lower()
    if name not in RUNTIMES:
        raise InvalidArgument(f"unknown runtime {runtime!r}; available: {', '.join(RUNTIMES)}", field="runtime")
    return name


def serving_python(envs_dir: Path) -> str:
    """An interpreter that can import kserve (may create the cached environment: slow once)."""
    mode = (os.environ.get(SERVING_ENV) or "auto").strip().lower()
    if mode not in ("auto", "host", "isolated"):
        raise InvalidArgument(f"{SERVING_ENV}={mode!r}: use auto, host or isolated", field=SERVING_ENV)
    if mode != "isolated" and importlib.util.find_spec("kserve") is not None:
        return sys.executable
    if mode == "host":
        raise RuntimeMissing(
            "the serving runtime KServe is not installed in pipeyard's environment: "
            'pip install "pipeyard[serve]" (or unset PIPEYARD_SERVING_ENV to use a cached environment)'
        )
    from pipeyard.launchers.venvs import VenvError, VirtualEnvs

    try:
        return str(VirtualEnvs(envs_dir).ensure([KSERVE_REQUIREMENT]))
    except VenvError as e:
        raise RuntimeMissing(
            f"the serving runtime KServe is missing and its cached environment could not be created "
            f"({e}; {e.output.strip()[-500:]}): install it with pip install \"pipeyard[serve]\""
        ) from e


def server_command(
    python: str, *, model_path: Path, model_name: str, framework: str, host: str, port: int
) -> Sequence[str]:
    return [
        python,
        str(PROGRAM),
        "--model-path", str(model_path),
        "--model-name", model_name,
        "--format", framework,
        "--bind-host", host,
        "--bind-port", str(port),
    ]


def server_env(token: str | None) -> dict[str, str]:
    """The model server's environment: the host's, minus what it must not hold."""
    env = dict(os.environ)
    # The API token grants the whole pipeyard API; a model server gets its own copy
    # only as the bearer token it checks (set when it listens beyond loopback).
    env.pop("PIPEYARD_AUTH_TOKEN", None)
    env["PYTHONUNBUFFERED"] = "1"
    if token:
        env["PIPEYARD_MODEL_SERVER_TOKEN"] = token
    return env
