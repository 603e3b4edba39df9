"""kfp-kubernetes ``CreatePVC`` / ``DeletePVC`` tasks: platform operations, not commands.

kfp-kubernetes compiles them to components whose image is ``argostub/createpvc``
or ``argostub/deletepvc`` and which have no command; KFP's backend driver
performs them itself. Here a PVC is a directory under ``Settings.volumes_dir``
named after the claim, so creating one makes the directory and deleting one
removes it.

They are recorded as tasks of kind ``PLATFORM`` and never cached: a cache hit
would hand out the name of a volume that a later DeletePVC may already have
removed, and doing the operation costs less than looking the cache up.
"""

from __future__ import annotations

import dataclasses
import shutil
from typing import Any

from pipeyard.engine.context import RunContext
from pipeyard.engine.kubernetes_config import volume_dir
from pipeyard.engine.outcome import Outcome, Scope
from pipeyard.errors import FailedPrecondition, PipeyardError
from pipeyard.ir.views import ComponentView, TaskView

CREATE_PVC_IMAGE = "argostub/createpvc"
DELETE_PVC_IMAGE = "argostub/deletepvc"

# CreatePVC inputs that describe storage a cluster would provision; a local
# directory has no size, access mode or class.
_STORAGE_FIELDS = ("access_modes", "size", "storage_class_name", "volume_name", "annotations",
                   "data_source", "default_storage_class")

# Kubernetes object names are at most 253 characters.
_MAX_NAME = 253


def is_platform_task(component: ComponentView) -> bool:
    container = component.container
    return container is not None and container.image in (CREATE_PVC_IMAGE, DELETE_PVC_IMAGE)


def run_platform_task(ctx: RunContext, task: TaskView, component: ComponentView, scope: Scope,
                      params: dict[str, Any]) -> Outcome:
    assert component.container is not None
    where = f"task {scope.path(task.name)!r}"
    row = ctx.open_task(path=scope.path(task.name), name=task.name, display_name=task.display_name,
                        kind="PLATFORM", parent_task_id=scope.parent_task_id,
                        iteration_index=scope.iteration_index,
                        inputs={"parameters": dict(params), "artifacts": {}})
    try:
        if component.container.image == CREATE_PVC_IMAGE:
            outputs, details = create_pvc(ctx, params, where)
        else:
            outputs, details = delete_pvc(ctx, params, where)
    except PipeyardError as e:
        ctx.finish_task(row, "FAILED", error=str(e))
        return Outcome("FAILED", error=str(e), task_id=row.task_id, task_name=row.display_name)
    done = dataclasses.replace(row, state="SUCCEEDED", finished_at=ctx.now(), attempts=1,
                               outputs={"parameters": outputs, "artifacts": {}},
                               details={**row.details, **details})
    ctx.record_result(done, [], [])
    return Outcome("SUCCEEDED", dict(outputs), task_id=row.task_id, task_name=row.display_name)


def pvc_name(ctx: RunContext, params: dict[str, Any], where: str) -> str:
    """``pvc_name`` as given, or a name generated from the run and ``pvc_name_suffix``
    (KFP prefixes the suffix with the workflow's name; the run id plays that part)."""
    name = params.get("pvc_name")
    suffix = params.get("pvc_name_suffix")
    if name and suffix:
        raise FailedPrecondition(f"{where}: only one of pvc_name and pvc_name_suffix can be given")
    if not name:
        if not suffix:
            raise FailedPrecondition(f"{where}: CreatePVC needs pvc_name or pvc_name_suffix")
        suffix = str(suffix)
        prefix = ctx.run_id[:12].lower()
        name = prefix + suffix if suffix.startswith("-") else f"{prefix}-{suffix}"
    name = str(name)
    if len(name) > _MAX_NAME:
        raise FailedPrecondition(f"{where}: PVC name {name[:40]!r}... is longer than {_MAX_NAME} characters")
    return name


def create_pvc(ctx: RunContext, params: dict[str, Any], where: str
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    name = pvc_name(ctx, params, where)
    path = volume_dir(ctx, name, where)
    existed = path.is_dir()
    path.mkdir(parents=True, exist_ok=True)
    ignored = {k: params[k] for k in _STORAGE_FIELDS if params.get(k) not in (None, "", [], {})}
    details: dict[str, Any] = {"pvc": name, "host_path": str(path), "existed": existed}
    if ignored:
        details["not_applicable_locally"] = {
            "storage": {"reason": "a local directory has no size, access mode or storage class",
                        "setting": ignored},
        }
    return {"name": name}, details


def delete_pvc(ctx: RunContext, params: dict[str, Any], where: str
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    name = params.get("pvc_name")
    if not name:
        raise FailedPrecondition(f"{where}: DeletePVC needs pvc_name")
    path = volume_dir(ctx, str(name), where)
    existed = path.is_dir()
    if existed:
        shutil.rmtree(path)
    return {}, {"pvc": str(name), "host_path": str(path), "existed": existed}
