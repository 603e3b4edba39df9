"""Store entities to the JSON shapes of KFP's v2beta1 API and of pipeyard's UI API.

Field names and nesting follow ``kfp-v2beta1-api.swagger.json``; unset optional
fields are left out (KFP's gateway omits them too), so the generated KFP client
reads ``None`` for them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pipeyard.entities import (
    FINAL_STATES,
    Artifact,
    Experiment,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    Task,
    TaskAttempt,
)
from pipeyard.server.timefmt import fmt

# KFP reports a task or run error as a google.rpc.Status; 2 is UNKNOWN, 1 CANCELLED.
_ERROR_CODE = {"FAILED": 2, "CANCELED": 1}


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _status(state: str, message: str | None) -> dict[str, Any] | None:
    if not message:
        return None
    return {"code": _ERROR_CODE.get(state, 2), "message": message, "details": []}


def wrap_spec(pipeline_spec: dict[str, Any] | None, platform_spec: dict[str, Any] | None) -> Any:
    """KFP's client sends a spec with a kfp-kubernetes platform spec as
    ``{"pipeline_spec", "platform_spec"}``; we answer in the same form."""
    if not pipeline_spec:  # lists leave the (large) spec out
        return None
    if platform_spec:
        return {"pipeline_spec": pipeline_spec, "platform_spec": platform_spec}
    return pipeline_spec


# --------------------------------------------------------------------------- pipelines


def pipeline_json(p: Pipeline) -> dict[str, Any]:
    return {
        "pipeline_id": p.pipeline_id,
        "name": p.name,
        "display_name": p.display_name or p.name,
        "description": p.description,
        "created_at": fmt(p.created_at),
        "namespace": p.namespace,
        "tags": dict(p.tags),
    }


def version_json(v: PipelineVersion) -> dict[str, Any]:
    return _compact(
        {
            "pipeline_id": v.pipeline_id,
            "pipeline_version_id": v.version_id,
            "name": v.name,
            "display_name": v.display_name or v.name,
            "description": v.description,
            "created_at": fmt(v.created_at),
            "code_source_url": v.code_source_url,
            "pipeline_spec": wrap_spec(v.pipeline_spec, v.platform_spec),
            "tags": dict(v.tags),
        }
    )


# --------------------------------------------------------------------------- experiments


def experiment_json(e: Experiment) -> dict[str, Any]:
    return _compact(
        {
            "experiment_id": e.experiment_id,
            "display_name": e.display_name,
            "description": e.description,
            "created_at": fmt(e.created_at),
            "namespace": e.namespace,
            "storage_state": e.storage_state,
            "last_run_created_at": fmt(e.last_run_created_at),
        }
    )


# --------------------------------------------------------------------------- runs


def state_history(
    state: str, created: Any, started: Any, finished: Any, error: str | None = None
) -> list[dict[str, Any]]:
    """The store keeps the timestamps of the transitions, not a log of them: rebuild
    the history KFP shows from those."""
    hist: list[dict[str, Any]] = [{"update_time": fmt(created), "state": "PENDING"}]
    if started is not None:
        hist.append({"update_time": fmt(started), "state": "RUNNING"})
    if state in FINAL_STATES and finished is not None:
        hist.append(_compact({"update_time": fmt(finished), "state": state, "error": _status(state, error)}))
    elif state not in ("PENDING", "RUNNING"):
        hist.append({"update_time": fmt(finished or started or created), "state": state})
    return hist


def _artifact_lists(side: dict[str, Any]) -> dict[str, Any]:
    arts = side.get("artifacts") or {}
    out: dict[str, Any] = {}
    for name, items in arts.items():
        ids = [
            str(a.get("artifact_id")) for a in (items or []) if isinstance(a, dict) and a.get("artifact_id")
        ]
        out[name] = {"artifact_ids": ids}
    return out


def task_detail_json(t: Task, children: Sequence[str]) -> dict[str, Any]:
    """KFP's ``PipelineTaskDetail``. Parameters have no place in KFP's ``ArtifactList``,
    so they travel in ``input_parameters``/``output_parameters`` (ignored by kfp's client)."""
    return _compact(
        {
            "run_id": t.run_id,
            "task_id": t.task_id,
            "display_name": t.display_name or t.name,
            "create_time": fmt(t.created_at),
            "start_time": fmt(t.started_at),
            "end_time": fmt(t.finished_at),
            "state": t.state,
            "error": _status(t.state, t.error),
            "inputs": _artifact_lists(t.inputs),
            "outputs": _artifact_lists(t.outputs),
            "parent_task_id": t.parent_task_id,
            "child_tasks": [{"task_id": c} for c in children],
            "state_history": state_history(t.state, t.created_at, t.started_at, t.finished_at, t.error),
            "input_parameters": (t.inputs or {}).get("parameters") or {},
            "output_parameters": (t.outputs or {}).get("parameters") or {},
        }
    )


def task_details(tasks: Iterable[Task]) -> list[dict[str, Any]]:
    tasks = list(tasks)
    children: dict[str, list[str]] = defaultdict(list)
    for t in tasks:
        if t.parent_task_id:
            children[t.parent_task_id].append(t.task_id)
    return [task_detail_json(t, children.get(t.task_id, ())) for t in tasks]


def run_json(r: Run, tasks: Iterable[Task] | None = None) -> dict[str, Any]:
    """KFP's ``Run``. ``tasks`` fills ``run_details``; lists pass None to stay one query."""
    ref = None
    if r.pipeline_version_id:
        ref = {"pipeline_id": r.pipeline_id or "", "pipeline_version_id": r.pipeline_version_id}
    body: dict[str, Any] = {
        "run_id": r.run_id,
        "display_name": r.display_name,
        "description": r.description,
        "experiment_id": r.experiment_id or "",
        "storage_state": r.storage_state,
        "pipeline_version_reference": ref,
        # KFP returns the inline spec only for runs not created from a stored version.
        "pipeline_spec": None if ref else wrap_spec(r.pipeline_spec, r.platform_spec),
        "runtime_config": _compact({
            "parameters": r.parameters or {},
            "pipeline_root": r.pipeline_root or "",
            "pipeyard_input_artifacts": dict(r.input_artifacts) if r.input_artifacts else None,
        }),
        "service_account": r.service_account,
        "created_at": fmt(r.created_at),
        "scheduled_at": fmt(r.scheduled_at or r.created_at),
        "finished_at": fmt(r.finished_at),
        "state": r.state,
        "error": _status(r.state, r.error),
        "recurring_run_id": r.recurring_run_id,
        "state_history": state_history(r.state, r.created_at, r.started_at, r.finished_at, r.error),
        "namespace": r.namespace or None,
        "pipeline_name": r.pipeline_name or None,
    }
    if tasks is not None:
        body["run_details"] = {"task_details": task_details(tasks)}
    return _compact(body)


# --------------------------------------------------------------------------- recurring runs


def recurring_run_json(rr: RecurringRun) -> dict[str, Any]:
    ref = None
    if rr.pipeline_version_id:
        ref = {"pipeline_id": rr.pipeline_id or "", "pipeline_version_id": rr.pipeline_version_id}
    return _compact(
        {
            "recurring_run_id": rr.recurring_run_id,
            "display_name": rr.display_name,
            "description": rr.description,
            "pipeline_version_reference": ref,
            "pipeline_spec": None if ref else wrap_spec(rr.pipeline_spec, rr.platform_spec),
            "runtime_config": {"parameters": rr.parameters or {}, "pipeline_root": rr.pipeline_root or ""},
            "service_account": rr.service_account,
            # int64 fields travel as strings in protobuf JSON.
            "max_concurrency": str(rr.max_concurrency),
            "trigger": rr.trigger,
            "mode": rr.mode,
            "status": "ENABLED" if rr.mode == "ENABLE" else "DISABLED",
            "created_at": fmt(rr.created_at),
            "updated_at": fmt(rr.updated_at),
            "no_catchup": rr.no_catchup,
            "namespace": rr.namespace,
            "experiment_id": rr.experiment_id or "",
        }
    )


# --------------------------------------------------------------------------- pipeyard UI API


def artifact_ref(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "artifact_id": a.get("artifact_id"),
        "name": a.get("name", ""),
        "uri": a.get("uri", ""),
        "type": a.get("type") or a.get("schema_title") or "",
        "metadata": a.get("metadata") or {},
    }


def _io_json(side: dict[str, Any] | None) -> dict[str, Any]:
    side = side or {}
    arts = side.get("artifacts") or {}
    return {
        "parameters": side.get("parameters") or {},
        "artifacts": {
            n: [artifact_ref(a) for a in (items or []) if isinstance(a, dict)] for n, items in arts.items()
        },
    }


def attempt_json(a: TaskAttempt) -> dict[str, Any]:
    return {
        "attempt": a.attempt,
        "state": a.state,
        "started_at": fmt(a.started_at),
        "finished_at": fmt(a.finished_at),
        "exit_code": a.exit_code,
        "error": a.error,
    }


def task_json(t: Task, attempts: Sequence[TaskAttempt] = ()) -> dict[str, Any]:
    return {
        "task_id": t.task_id,
        "run_id": t.run_id,
        "parent_task_id": t.parent_task_id,
        "path": t.path,
        "name": t.name,
        "display_name": t.display_name or t.name,
        "kind": t.kind,
        "state": t.state,
        "iteration_index": t.iteration_index,
        "attempts": t.attempts,
        "cached": t.cached,
        "cached_from_task_id": t.cached_from_task_id,
        "fingerprint": t.fingerprint,
        "error": t.error,
        "command": t.command,
        "created_at": fmt(t.created_at),
        "started_at": fmt(t.started_at),
        "finished_at": fmt(t.finished_at),
        "details": t.details or {},
        "inputs": _io_json(t.inputs),
        "outputs": _io_json(t.outputs),
        "attempt_list": [attempt_json(a) for a in attempts],
    }


def artifact_json(a: Artifact) -> dict[str, Any]:
    return {
        "artifact_id": a.artifact_id,
        "run_id": a.run_id,
        "task_id": a.task_id,
        "name": a.name,
        "display_name": a.display_name or a.name,
        "uri": a.uri,
        "type": a.schema_title,
        "metadata": a.metadata or {},
        "digest": a.digest,
        "created_at": fmt(a.created_at),
    }
