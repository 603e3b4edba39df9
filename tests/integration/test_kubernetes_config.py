"""kfp-kubernetes platform settings, compiled with the real SDK and run through the engine."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import json
import uuid
from pathlib import Path

import pytest
from kfp import dsl, kubernetes
from tests.support.pipeline_runs import EngineHarness, Result, compile_pipeline, engine_fixture

from pipeyard.engine.kubernetes_config import NOT_APPLICABLE, Refs, describe, resolve
from pipeyard.engine.outcome import Outcome
from pipeyard.launchers.local import LocalLauncher
from pipeyard.launchers.mounts import _probe_unshare
from pipeyard.secrets import SecretStore

# One home, store, event loop and fork server for the module's runs.
engine = pytest.fixture(scope="module")(engine_fixture)

# An explicit base image keeps the SDK from warning; the local launcher ignores it anyway.
component = dsl.component(base_image="python:3.11")


@pytest.fixture(scope="module", autouse=True)
def stores(engine: EngineHarness) -> None:
    secrets = SecretStore(engine.settings.secrets_dir)
    secrets.put("db-creds", {"username": "alice", "password": "pa55"})
    secrets.put("other", {"token": "tok-1"})
    SecretStore(engine.settings.home / "configmaps", "configmap").put(
        "app-config", {"mode": "fast", "level": "3"})


@component
def read_env(names: str) -> str:
    import json
    import os

    return json.dumps({n: os.environ.get(n) for n in names.split(",")})


@component
def list_dir(path: str) -> str:
    import json
    import os

    if not os.path.isdir(path):
        return json.dumps(None)
    return json.dumps({f: open(os.path.join(path, f)).read() for f in sorted(os.listdir(path))})


@component
def emit(value: str) -> str:
    return value


def _json_output(engine_result, name: str):  # type: ignore[no-untyped-def]
    return json.loads(engine_result.params(name)["Output"])


# ---------------------------------------------------------------- secrets and config maps


@dsl.pipeline
def secret_env_pipeline(secret_from_input: str = "db-creds"):
    name_task = emit(value="other")
    task = read_env(names="USER,PASS,TOKEN,MISSING_OPTIONAL").after(name_task)
    kubernetes.use_secret_as_env(task, secret_name=secret_from_input, secret_key_to_env={"username": "USER"})
    kubernetes.use_secret_as_env(task, secret_name="db-creds", secret_key_to_env={"password": "PASS"})
    kubernetes.use_secret_as_env(task, secret_name=name_task.output, secret_key_to_env={"token": "TOKEN"})
    kubernetes.use_secret_as_env(task, secret_name="no-such-secret", optional=True,
                                 secret_key_to_env={"k": "MISSING_OPTIONAL"})


def test_secret_as_env_from_input_constant_and_task_output(engine: EngineHarness, tmp_path: Path) -> None:
    result = engine.run(compile_pipeline(secret_env_pipeline, tmp_path / "p.yaml"))
    assert result.state == "SUCCEEDED", result.run.error
    assert _json_output(result, "read-env") == {
        "USER": "alice", "PASS": "pa55", "TOKEN": "tok-1", "MISSING_OPTIONAL": None}
    details = result.one("read-env").details
    assert {"name": "db-creds", "key": "username", "env": "USER"} in details["secretAsEnv"]
    assert any("no-such-secret" in s for s in details["skipped_optional"])


@dsl.pipeline
def secret_volume_pipeline(mount_path: str):
    task = list_dir(path=mount_path)
    kubernetes.use_secret_as_volume(task, secret_name="db-creds", mount_path="/mnt/pipeyard-test-secret")
    kubernetes.use_config_map_as_volume(task, config_map_name="app-config",
                                        mount_path="/mnt/pipeyard-test-config")
    env_task = read_env(names="MODE")
    kubernetes.use_config_map_as_env(env_task, config_map_name="app-config",
                                     config_map_key_to_env={"mode": "MODE"})


def test_secret_and_config_map_as_files_and_env(engine: EngineHarness, tmp_path: Path) -> None:
    file = compile_pipeline(secret_volume_pipeline, tmp_path / "p.yaml")
    result = engine.run(file, {"mount_path": "/mnt/pipeyard-test-secret"})
    assert result.state == "SUCCEEDED", result.run.error
    assert _json_output(result, "list-dir") == {"password": "pa55", "username": "alice"}
    assert _json_output(result, "read-env") == {"MODE": "fast"}
    config = engine.run(file, {"mount_path": "/mnt/pipeyard-test-config"})
    assert _json_output(config, "list-dir") == {"level": "3", "mode": "fast"}
    # The files lived in the attempt's private directory, gone with it.
    assert not list((engine.settings.home / "work" / result.run.run_id).rglob("username"))


@dsl.pipeline
def missing_secret_pipeline():
    task = read_env(names="X")
    kubernetes.use_secret_as_env(task, secret_name="absent-secret", secret_key_to_env={"api_key": "X"})


@dsl.pipeline
def missing_key_pipeline():
    task = read_env(names="X")
    kubernetes.use_secret_as_env(task, secret_name="db-creds", secret_key_to_env={"api_key": "X"})


def test_missing_secret_or_key_fails_naming_both(engine: EngineHarness, tmp_path: Path) -> None:
    result = engine.run(compile_pipeline(missing_secret_pipeline, tmp_path / "a.yaml"))
    assert result.state == "FAILED"
    error = result.one("read-env").error or ""
    assert "'absent-secret'" in error and "'api_key'" in error and "pipeyard secrets set" in error
    result = engine.run(compile_pipeline(missing_key_pipeline, tmp_path / "b.yaml"))
    assert result.state == "FAILED"
    error = result.one("read-env").error or ""
    assert "'db-creds' has no key 'api_key'" in error
    assert "pa55" not in error and "alice" not in error


@component
def check_secret(expected_digest: str) -> str:
    import hashlib
    import os

    digest = hashlib.sha256(os.environ["SECRET_VALUE"].encode()).hexdigest()
    assert digest == expected_digest, "secret value differs"
    return "ok"


@dsl.pipeline
def secret_use_pipeline(digest: str):
    task = check_secret(expected_digest=digest)
    kubernetes.use_secret_as_env(task, secret_name="unique-secret", secret_key_to_env={"value": "SECRET_VALUE"})
    kubernetes.use_secret_as_volume(task, secret_name="unique-secret", mount_path="/mnt/pipeyard-test-unique")


def test_secret_values_never_stored(engine: EngineHarness, tmp_path: Path) -> None:
    import hashlib

    value = f"never-stored-{uuid.uuid4().hex}"
    SecretStore(engine.settings.secrets_dir).put("unique-secret", {"value": value})
    digest = hashlib.sha256(value.encode()).hexdigest()
    result = engine.run(compile_pipeline(secret_use_pipeline, tmp_path / "p.yaml"), {"digest": digest})
    assert result.state == "SUCCEEDED", result.run.error
    task = result.one("check-secret")
    assert result.params("check-secret") == {"Output": "ok"}
    assert value not in repr(result.tasks) and value not in repr(result.run)
    assert value not in result.log(task)
    stored = b"".join(p.read_bytes() for p in engine.home.glob("pipeyard.db*"))
    assert value.encode() not in stored
    assert task.details["secretAsVolume"] == [
        {"name": "unique-secret", "keys": ["value"], "mount_path": "/mnt/pipeyard-test-unique"}]


# ---------------------------------------------------------------- volumes


@component
def append_line(path: str, line: str) -> str:
    import os

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        f.write(line + "\n")
    return open(path).read()


@dsl.pipeline
def pvc_pipeline(line: str):
    pvc = kubernetes.CreatePVC(pvc_name="pipeyard-test-vol", access_modes=["ReadWriteOnce"], size="1Mi")
    task = append_line(path="/mnt/pipeyard-test-pvc/log.txt", line=line)
    kubernetes.mount_pvc(task, pvc_name=pvc.outputs["name"], mount_path="/mnt/pipeyard-test-pvc")


@dsl.pipeline
def delete_pvc_pipeline():
    kubernetes.DeletePVC(pvc_name="pipeyard-test-vol")


def test_pvc_persists_across_runs_until_deleted(engine: EngineHarness, tmp_path: Path) -> None:
    file = compile_pipeline(pvc_pipeline, tmp_path / "p.yaml")
    first = engine.run(file, {"line": "one"})
    assert first.state == "SUCCEEDED", first.run.error
    create = first.one("createpvc")
    assert create.kind == "PLATFORM" and first.params("createpvc") == {"name": "pipeyard-test-vol"}
    assert create.details["not_applicable_locally"]["storage"]["setting"]["size"] == "1Mi"
    second = engine.run(file, {"line": "two"})
    assert second.params("append-line") == {"Output": "one\ntwo\n"}
    volume = engine.settings.volumes_dir / "pipeyard-test-vol"
    assert (volume / "log.txt").read_text() == "one\ntwo\n"
    deleted = engine.run(compile_pipeline(delete_pvc_pipeline, tmp_path / "d.yaml"))
    assert deleted.state == "SUCCEEDED" and deleted.one("deletepvc").details["existed"] is True
    assert not volume.exists()


@dsl.pipeline
def generated_pvc_pipeline():
    pvc = kubernetes.CreatePVC(pvc_name_suffix="-scratch", access_modes=["ReadWriteOnce"], size="1Mi")
    writer = append_line(path="/mnt/pipeyard-test-gen/sub/f.txt", line="x")
    kubernetes.mount_pvc(writer, pvc_name=pvc.outputs["name"], mount_path="/mnt/pipeyard-test-gen")
    reader = list_dir(path="/mnt/pipeyard-test-sub").after(writer)
    kubernetes.mount_pvc(reader, pvc_name=pvc.outputs["name"], mount_path="/mnt/pipeyard-test-sub",
                         sub_path="sub")
    kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(reader)


def test_generated_pvc_name_sub_path_and_delete(engine: EngineHarness, tmp_path: Path) -> None:
    result = engine.run(compile_pipeline(generated_pvc_pipeline, tmp_path / "p.yaml"))
    assert result.state == "SUCCEEDED", result.run.error
    name = result.params("createpvc")["name"]
    assert name == result.run.run_id[:12] + "-scratch"
    assert _json_output(result, "list-dir") == {"f.txt": "x\n"}
    assert not (engine.settings.volumes_dir / name).exists()


@component
def touch_and_list(path: str) -> str:
    import os

    before = sorted(os.listdir(path))
    open(os.path.join(path, "marker"), "w").close()
    return ",".join(before)


@dsl.pipeline
def empty_dir_pipeline(path: str):
    first = touch_and_list(path=path)
    kubernetes.empty_dir_mount(first, volume_name="scratch", mount_path="/mnt/pipeyard-test-empty")
    second = touch_and_list(path=path).after(first)
    kubernetes.empty_dir_mount(second, volume_name="scratch", mount_path="/mnt/pipeyard-test-empty")


def test_empty_dir_is_fresh_for_each_task(engine: EngineHarness, tmp_path: Path) -> None:
    result = engine.run(compile_pipeline(empty_dir_pipeline, tmp_path / "p.yaml"),
                        {"path": "/mnt/pipeyard-test-empty"})
    assert result.state == "SUCCEEDED", result.run.error
    assert result.params("touch-and-list") == {"Output": ""}
    assert result.params("touch-and-list-2") == {"Output": ""}


@component
def write_workspace(workspace: str) -> str:
    import os

    os.makedirs(os.path.join(workspace, "data"), exist_ok=True)
    with open(os.path.join(workspace, "data", "f.txt"), "w") as f:
        f.write("from the workspace")
    return workspace


@component
def read_literal_workspace() -> str:
    # The literal path KFP mounts the workspace at, as programs may hard-code it.
    return open("/kfp-workspace/data/f.txt").read()


@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")))
def workspace_pipeline():
    writer = write_workspace(workspace=dsl.WORKSPACE_PATH_PLACEHOLDER)
    read_literal_workspace().after(writer)


def _assert_workspace_written(engine: EngineHarness, result: Result) -> Path:
    workspace = engine.settings.home / "workspaces" / result.run.run_id
    assert result.params("write-workspace") == {"Output": str(workspace)}
    assert (workspace / "data" / "f.txt").read_text() == "from the workspace"
    return workspace


def _assert_literal_path_not_remapped(result: Result) -> None:
    """Without mount namespaces only placeholders and argv are remapped: a path
    hard-coded inside a program is the host's own, which does not exist."""
    assert result.state == "FAILED"
    reader = result.one("read-literal-workspace")
    assert reader.state == "FAILED" and (reader.error or "").startswith("exit code 1")
    assert "No such file or directory: '/kfp-workspace/data/f.txt'" in result.log(reader)


def test_workspace_is_a_run_directory_also_at_kfp_mount_path(engine: EngineHarness, tmp_path: Path) -> None:
    result = engine.run(compile_pipeline(workspace_pipeline, tmp_path / "p.yaml"))
    _assert_workspace_written(engine, result)
    if _probe_unshare() is None:
        # This machine has no mount namespaces: what it must do instead.
        _assert_literal_path_not_remapped(result)
        return
    assert result.state == "SUCCEEDED", result.run.error
    assert result.params("read-literal-workspace") == {"Output": "from the workspace"}


def test_without_mount_namespaces_the_workspace_placeholder_still_works(tmp_path: Path) -> None:
    harness = EngineHarness(tmp_path / "home", LocalLauncher(envs_dir=tmp_path / "envs", mount_namespaces=False))
    try:
        result = harness.run(compile_pipeline(workspace_pipeline, tmp_path / "p.yaml"))
        _assert_workspace_written(harness, result)
        _assert_literal_path_not_remapped(result)
    finally:
        harness.close()


# ---------------------------------------------------------------- pod fields, timeouts, n/a settings


@dsl.pipeline
def field_path_pipeline():
    task = read_env(names="LABEL,ABSENT,NS,POD,NOTE")
    kubernetes.add_pod_label(task, "team", "vision")
    kubernetes.add_pod_annotation(task, "note", "hello")
    kubernetes.use_field_path_as_env(task, "LABEL", "metadata.labels['team']")
    kubernetes.use_field_path_as_env(task, "ABSENT", "metadata.labels['nope']")
    kubernetes.use_field_path_as_env(task, "NOTE", "metadata.annotations['note']")
    kubernetes.use_field_path_as_env(task, "NS", "metadata.namespace")
    kubernetes.use_field_path_as_env(task, "POD", "metadata.name")


def test_field_paths_see_pod_metadata(engine: EngineHarness, tmp_path: Path) -> None:
    result = engine.run(compile_pipeline(field_path_pipeline, tmp_path / "p.yaml"))
    assert result.state == "SUCCEEDED", result.run.error
    seen = _json_output(result, "read-env")
    task = result.one("read-env")
    assert seen == {"LABEL": "vision", "ABSENT": "", "NOTE": "hello", "NS": "default",
                    "POD": f"read-env-{task.task_id[:8]}"}
    assert task.details["pod_metadata"] == {"labels": {"team": "vision"}, "annotations": {"note": "hello"}}


@component
def sleeper() -> str:
    import time

    time.sleep(600)
    return "woke"


@dsl.pipeline
def timeout_pipeline():
    kubernetes.set_timeout(sleeper(), 1)


def test_active_deadline_is_a_timeout(engine: EngineHarness, tmp_path: Path) -> None:
    result = engine.run(compile_pipeline(timeout_pipeline, tmp_path / "p.yaml"))
    assert result.state == "FAILED"
    assert "timed out after 1.0 s" in (result.one("sleeper").error or "")


@dsl.pipeline
def not_applicable_pipeline():
    task = emit(value="ran").set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    kubernetes.add_node_selector(task, "disk", "ssd")
    kubernetes.add_toleration(task, key="gpu", operator="Exists", effect="NoSchedule")
    kubernetes.set_image_pull_policy(task, "Always")


def test_cluster_only_settings_are_recorded_not_failed(engine: EngineHarness, tmp_path: Path) -> None:
    result = engine.run(compile_pipeline(not_applicable_pipeline, tmp_path / "p.yaml"))
    assert result.state == "SUCCEEDED", result.run.error
    assert result.params("emit") == {"Output": "ran"}
    details = result.one("emit").details
    recorded = details["not_applicable_locally"]
    assert set(recorded) == {"nodeSelector", "tolerations", "imagePullPolicy"}
    assert recorded["nodeSelector"]["reason"] == NOT_APPLICABLE["nodeSelector"]
    assert recorded["nodeSelector"]["setting"] == {"labels": {"disk": "ssd"}}
    assert any("accelerator nvidia.com/gpu x1" in w for w in details["warnings"])


# ---------------------------------------------------------------- reference resolution


def test_resolve_each_input_parameter_form() -> None:
    refs = Refs({"outer": "from-dag"}, {"producer": Outcome("SUCCEEDED", {"out": "from-task"}),
                                        "failed": Outcome("FAILED")})
    assert resolve({"runtimeValue": {"constant": "c"}}, refs, {}) == "c"
    assert resolve({"componentInputParameter": "outer"}, refs, {}) == "from-dag"
    assert resolve({"componentInputParameter": "own"}, refs, {"own": "task-input"}) == "task-input"
    out = {"taskOutputParameter": {"producerTask": "producer", "outputParameterKey": "out"}}
    assert resolve(out, refs, {}) == "from-task"
    assert resolve({"taskOutputParameter": {"producerTask": "failed", "outputParameterKey": "out"}},
                   refs, {}) is None
    assert resolve({"componentInputParameter": "unset"}, refs, {}) is None
    assert describe(out) == "output 'out' of task 'producer'"
