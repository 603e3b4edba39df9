"""KFP's v1beta1 API shapes (``kfp_server_api`` 1.8) over pipeyard's store entities.

v1beta1 names things differently from v2beta1: ``id``/``name`` instead of
``run_id``/``display_name``, parameters as ``[{name, value}]`` strings, ownership as
``resource_references`` (``EXPERIMENT`` OWNER, ``PIPELINE_VERSION`` CREATOR), storage
states prefixed ``STORAGESTATE_``, and a run's status as Argo's phase text
(``Succeeded``, ``Failed``, ``Running``...), which ``kfp.Client.wait_for_run_completion``
compares against. A run's ``pipeline_runtime.workflow_manifest`` is an Argo-Workflow-
shaped JSON document built from the run's tasks, with a node per task.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pipeyard.entities import Experiment, Pipeline, PipelineVersion, RecurringRun, Run, Task
from pipeyard.errors import InvalidArgument
from pipeyard.server.timefmt import fmt

# v2 state -> v1 status (Argo phases). A canceled run ends Failed, as a terminated Argo
# workflow does, so that clients waiting for completion stop.
STATUS = {
    "PENDING": "Pending",
    "RUNNING": "Running",
    "SUCCEEDED": "Succeeded",
    "FAILED": "Failed",
    "SKIPPED": "Skipped",
    "CANCELING": "Terminating",
    "CANCELED": "Failed",
    "PAUSED": "Pending",
}
NODE_PHASE = {**STATUS, "CANCELED": "Failed", "NOT_RUN": "Omitted"}
NODE_TYPE = {"CONTAINER": "Pod", "IMPORTER": "Pod", "DAG": "DAG", "LOOP": "TaskGroup", "ITERATION": "DAG"}
STORAGE = {"AVAILABLE": "STORAGESTATE_AVAILABLE", "ARCHIVED": "STORAGESTATE_ARCHIVED"}
METRICS_ARTIFACT = "mlpipeline-metrics"


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def parameters_list(values: Mapping[str, Any] | None) -> list[dict[str, str]]:
    return [{"name": k, "value": v if isinstance(v, str) else json.dumps(v)} for k, v in (values or {}).items()]


def parameters_dict(items: Any, field: str) -> dict[str, Any]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise InvalidArgument("must be a list of {name, value}", field=field)
    out: dict[str, Any] = {}
    for i, p in enumerate(items):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise InvalidArgument("each parameter needs a name", field=f"{field}[{i}]")
        out[p["name"]] = p.get("value", "")
    return out


def spec_parameters(spec: Mapping[str, Any] | None) -> list[dict[str, str]]:
    params = (((spec or {}).get("root") or {}).get("inputDefinitions") or {}).get("parameters") or {}
    out = []
    for name, d in params.items():
        item = {"name": name}
        if "defaultValue" in d:
            v = d["defaultValue"]
            item["value"] = v if isinstance(v, str) else json.dumps(v)
        out.append(item)
    return out


def references(refs: Any) -> dict[str, str]:
    """``{"EXPERIMENT": id, "PIPELINE_VERSION": id, "PIPELINE": id, "NAMESPACE": name}``."""
    out: dict[str, str] = {}
    for i, r in enumerate(refs or []):
        key = (r or {}).get("key") or {}
        kind = str(key.get("type", "")).upper()
        if not kind or not key.get("id"):
            raise InvalidArgument("a resource reference needs key.type and key.id",
                                  field=f"resource_references[{i}]")
        out[kind] = str(key["id"])
    return out


def _ref(kind: str, ident: str | None, relationship: str, name: str = "") -> list[dict[str, Any]]:
    if not ident:
        return []
    return [_compact({"key": {"type": kind, "id": ident}, "name": name, "relationship": relationship})]


def experiment_v1(e: Experiment) -> dict[str, Any]:
    refs = _ref("NAMESPACE", e.namespace, "OWNER")
    return _compact({"id": e.experiment_id, "name": e.display_name, "description": e.description,
                     "created_at": fmt(e.created_at), "resource_references": refs,
                     "storage_state": STORAGE.get(e.storage_state, e.storage_state)})


def version_v1(v: PipelineVersion) -> dict[str, Any]:
    return _compact({"id": v.version_id, "name": v.name, "created_at": fmt(v.created_at),
                     "description": v.description, "code_source_url": v.code_source_url,
                     "parameters": spec_parameters(v.pipeline_spec),
                     "resource_references": _ref("PIPELINE", v.pipeline_id, "OWNER")})


def pipeline_v1(p: Pipeline, default: PipelineVersion | None) -> dict[str, Any]:
    return _compact({"id": p.pipeline_id, "name": p.name, "description": p.description,
                     "created_at": fmt(p.created_at),
                     "parameters": spec_parameters(default.pipeline_spec) if default else [],
                     "default_version": version_v1(default) if default else None})


def metrics_of(tasks: Iterable[Task]) -> list[dict[str, Any]]:
    """Run metrics as KFP v1 reports them: each step's ``mlpipeline-metrics`` values."""
    out = []
    for t in tasks:
        for art in ((t.outputs or {}).get("artifacts") or {}).get(METRICS_ARTIFACT) or []:
            for name, value in sorted((art.get("metadata") or {}).items()):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    out.append({"name": name, "node_id": t.task_id, "number_value": value, "format": "RAW"})
    return out


def run_parameters(r: Run) -> dict[str, Any]:
    """A v1 run's parameters as KFP v1 shows them: the workflow's arguments after the
    caller's values replaced the defaults, so every parameter with a default is listed
    (a v2 run stores and shows only what its caller gave)."""
    defaults = {p["name"]: p["value"] for p in spec_parameters(r.pipeline_spec) if "value" in p}
    return {**defaults, **(r.parameters or {})}


def run_v1(r: Run, tasks: Iterable[Task] | None = None) -> dict[str, Any]:
    refs = _ref("EXPERIMENT", r.experiment_id, "OWNER") + _ref(
        "PIPELINE_VERSION", r.pipeline_version_id, "CREATOR")
    spec = _compact({"pipeline_id": r.pipeline_id, "pipeline_name": r.pipeline_name,
                     "parameters": parameters_list(run_parameters(r))})
    body = {"id": r.run_id, "name": r.display_name, "description": r.description,
            "storage_state": STORAGE.get(r.storage_state, r.storage_state),
            "pipeline_spec": spec, "resource_references": refs, "service_account": r.service_account,
            "created_at": fmt(r.created_at), "scheduled_at": fmt(r.scheduled_at or r.created_at),
            "finished_at": fmt(r.finished_at), "status": STATUS.get(r.state, r.state),
            "error": r.error}
    if tasks is not None:
        body["metrics"] = metrics_of(tasks)
    return _compact(body)


def workflow_manifest(r: Run, tasks: list[Task]) -> str:
    """An Argo-Workflow-shaped status document: one node per task, children by parent."""
    children: dict[str, list[str]] = {}
    for t in tasks:
        children.setdefault(t.parent_task_id or r.run_id, []).append(t.task_id)
    nodes: dict[str, Any] = {
        r.run_id: _compact({"id": r.run_id, "name": r.display_name, "displayName": r.display_name,
                            "type": "DAG", "phase": STATUS.get(r.state, r.state),
                            "startedAt": fmt(r.started_at), "finishedAt": fmt(r.finished_at),
                            "children": children.get(r.run_id, [])})}
    for t in tasks:
        outputs = (t.outputs or {})
        params = [{"name": k, "value": v if isinstance(v, str) else json.dumps(v)}
                  for k, v in (outputs.get("parameters") or {}).items()]
        arts = [{"name": k, "path": a.get("uri", "")} for k, items in (outputs.get("artifacts") or {}).items()
                for a in items]
        nodes[t.task_id] = _compact({
            "id": t.task_id, "name": f"{r.display_name}.{t.path}", "displayName": t.display_name,
            "type": "Skipped" if t.state == "SKIPPED" else NODE_TYPE.get(t.kind, "Pod"),
            "phase": NODE_PHASE.get(t.state, t.state), "startedAt": fmt(t.started_at),
            "finishedAt": fmt(t.finished_at), "boundaryID": t.parent_task_id or r.run_id,
            "children": children.get(t.task_id, []), "message": t.error,
            "outputs": _compact({"parameters": params, "artifacts": arts}),
        })
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
           "metadata": {"name": r.run_id, "uid": r.run_id, "creationTimestamp": fmt(r.created_at)},
           "spec": {"arguments": {"parameters": parameters_list(run_parameters(r))}},
           "status": _compact({"phase": STATUS.get(r.state, r.state), "startedAt": fmt(r.started_at),
                               "finishedAt": fmt(r.finished_at), "message": r.error, "nodes": nodes})}
    return json.dumps(doc)


def job_v1(rr: RecurringRun) -> dict[str, Any]:
    refs = _ref("EXPERIMENT", rr.experiment_id, "OWNER") + _ref(
        "PIPELINE_VERSION", rr.pipeline_version_id, "CREATOR")
    spec = _compact({"pipeline_id": rr.pipeline_id, "parameters": parameters_list(rr.parameters)})
    enabled = rr.mode == "ENABLE"
    return _compact({"id": rr.recurring_run_id, "name": rr.display_name, "description": rr.description,
                     "pipeline_spec": spec, "resource_references": refs,
                     "service_account": rr.service_account, "max_concurrency": str(rr.max_concurrency),
                     "trigger": rr.trigger, "mode": "ENABLED" if enabled else "DISABLED",
                     "created_at": fmt(rr.created_at), "updated_at": fmt(rr.updated_at),
                     "status": "Enabled" if enabled else "Disabled", "enabled": enabled,
                     "no_catchup": rr.no_catchup})


# --------------------------------------------------------------------------- list queries

_STORAGE_VALUES = {v: k for k, v in STORAGE.items()}


def v1_filter(text: str | None) -> str | None:
    """A v1beta1 filter (``op``, ``STORAGESTATE_*``) in the form the v2 parser reads."""
    if not text:
        return text
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return text  # the v2 parser reports it with its position
    for p in (doc.get("predicates") or []) if isinstance(doc, dict) else []:
        if isinstance(p, dict):
            for key in ("string_value", "stringValue"):
                if p.get(key) in _STORAGE_VALUES:
                    p[key] = _STORAGE_VALUES[p[key]]
    return json.dumps(doc)


def v1_sort(sort_by: str | None) -> str | None:
    return sort_by.replace("name", "display_name", 1) if sort_by and sort_by.split()[0] == "name" else sort_by
