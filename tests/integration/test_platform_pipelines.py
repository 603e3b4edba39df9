"""kfp-kubernetes pipelines through the real ``pipeyard`` command with a private home:
the secret store filled by ``pipeyard secrets set``, PVC directories that outlive a run."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import json
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl, kubernetes
from tests.support.pipeline_runs import cli_json, compile_pipeline, run_cli

component = dsl.component(base_image="python:3.11")


@component
def read_env(names: str) -> str:
    import json
    import os

    return json.dumps({n: os.environ.get(n) for n in names.split(",")})


@dsl.pipeline
def secret_pipeline(secret: str = "api"):
    task = read_env(names="TOKEN,REGION")
    kubernetes.use_secret_as_env(task, secret_name=secret, secret_key_to_env={"token": "TOKEN"})
    kubernetes.use_config_map_as_env(task, config_map_name="settings", optional=True,
                                     config_map_key_to_env={"region": "REGION"})


@component
def count_runs(path: str) -> int:
    import os

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        f.write("run\n")
    return len(open(path).read().splitlines())


@dsl.pipeline
def counter_pipeline():
    pvc = kubernetes.CreatePVC(pvc_name="counter", access_modes=["ReadWriteOnce"], size="1Mi")
    task = count_runs(path="/mnt/pipeyard-it-counter/runs.txt")
    kubernetes.mount_pvc(task, pvc_name=pvc.outputs["name"], mount_path="/mnt/pipeyard-it-counter")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def _task(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in doc["tasks"] if t["name"] == name)


def test_secret_set_on_the_cli_reaches_the_task(home: Path, tmp_path: Path) -> None:
    file = compile_pipeline(secret_pipeline, tmp_path / "secret.yaml")
    proc = run_cli(home, "secrets", "set", "api", "token=t0ps3cret")
    assert proc.returncode == 0, proc.stderr
    listed = run_cli(home, "secrets", "list")
    assert "api" in listed.stdout and "token" in listed.stdout and "t0ps3cret" not in listed.stdout

    code, doc = cli_json(home, "run", str(file), "--no-cache")
    assert code == 0 and doc["state"] == "SUCCEEDED", doc
    # The optional config map does not exist: its variable is simply unset.
    assert json.loads(_task(doc, "read-env")["outputs"]["Output"]) == {"TOKEN": "t0ps3cret",
                                                                       "REGION": None}


def test_missing_secret_fails_the_run_naming_secret_and_key(home: Path, tmp_path: Path) -> None:
    file = compile_pipeline(secret_pipeline, tmp_path / "secret.yaml")
    code, doc = cli_json(home, "run", str(file), "--no-cache", "--arg", "secret=nope")
    assert code != 0 and doc["state"] == "FAILED"
    error = _task(doc, "read-env")["error"]
    assert "secret 'nope'" in error and "'token'" in error and "pipeyard secrets set nope" in error


def test_pvc_directory_persists_across_cli_runs(home: Path, tmp_path: Path) -> None:
    file = compile_pipeline(counter_pipeline, tmp_path / "counter.yaml")
    counts = []
    for _ in range(2):
        code, doc = cli_json(home, "run", str(file), "--no-cache")
        assert code == 0 and doc["state"] == "SUCCEEDED", doc
        assert _task(doc, "createpvc")["kind"] == "PLATFORM"
        counts.append(_task(doc, "count-runs")["outputs"]["Output"])
    assert counts == [1, 2]
    assert (home / "volumes" / "counter" / "runs.txt").read_text() == "run\nrun\n"
