"""PVCs and the workspace mounted at absolute paths that do not exist on the host
(kfp-kubernetes ``mount_path="/..."``, KFP's ``/kfp-workspace``): the tasks read and write
their data there, and afterwards the host has no such path (issue 10, item 5)."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import uuid
from pathlib import Path

from kfp import dsl, kubernetes
from tests.support.pipeline_runs import cli_json, compile_pipeline

component = dsl.component(base_image="python:3.11")
# Unique per test session: a top-level directory no other test or run uses.
TOP = f"/pipeyard-it-{uuid.uuid4().hex[:10]}"
# A missing directory below an existing one (/tmp), two levels deep.
NESTED = f"/tmp/pipeyard-it-{uuid.uuid4().hex[:10]}/deeper"


@component
def write(path: str, text: str) -> str:
    import os

    with open(os.path.join(path, "note.txt"), "w") as f:
        f.write(text)
    return ",".join(sorted(os.listdir("/")))


@component
def read(path: str) -> str:
    import os

    return open(os.path.join(path, "note.txt")).read()


@dsl.pipeline
def pvc_pipeline(text: str = "hello through /data"):
    pvc = kubernetes.CreatePVC(pvc_name_suffix="-share", access_modes=["ReadWriteOnce"], size="1Mi")
    writer = write(path=f"{TOP}/data", text=text)
    kubernetes.mount_pvc(writer, pvc_name=pvc.outputs["name"], mount_path=f"{TOP}/data")
    reader = read(path=NESTED).after(writer)
    kubernetes.mount_pvc(reader, pvc_name=pvc.outputs["name"], mount_path=NESTED)


@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")))
def workspace_pipeline(text: str = "in the workspace"):
    writer = write(path="/kfp-workspace", text=text)
    read(path="/kfp-workspace").after(writer)


def _outputs(doc: dict, name: str) -> str:
    return next(t for t in doc["tasks"] if t["name"] == name)["outputs"]["Output"]


def test_pvc_at_missing_absolute_paths_leaves_the_host_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, doc = cli_json(home, "run", str(compile_pipeline(pvc_pipeline, tmp_path / "pvc.yaml")), "--no-cache")
    assert code == 0 and doc["state"] == "SUCCEEDED", doc
    assert _outputs(doc, "read") == "hello through /data"
    # The writer saw the host's root plus its own mount point.
    seen = set(_outputs(doc, "write").split(","))
    assert TOP.lstrip("/") in seen and {"etc", "usr", "tmp"} <= seen
    assert not Path(TOP).exists() and not Path(NESTED).parent.exists()
    # The data is in the PVC's directory under PIPEYARD_HOME.
    notes = list((home / "volumes").glob("*/note.txt"))
    assert [n.read_text() for n in notes] == ["hello through /data"]


def test_workspace_at_kfp_workspace_is_shared_and_leaves_no_directory(tmp_path: Path) -> None:
    existed = Path("/kfp-workspace").exists()  # an older pipeyard may have left it
    home = tmp_path / "home"
    file = compile_pipeline(workspace_pipeline, tmp_path / "ws.yaml")
    code, doc = cli_json(home, "run", str(file), "--no-cache")
    assert code == 0 and doc["state"] == "SUCCEEDED", doc
    assert _outputs(doc, "read") == "in the workspace"
    assert (home / "workspaces" / doc["run_id"] / "note.txt").read_text() == "in the workspace"
    assert Path("/kfp-workspace").exists() == existed
    if existed:
        assert not (Path("/kfp-workspace") / "note.txt").exists()
