"""Leaf tasks: containers (with caching and retries) and importers."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeyard.engine import platform, platform_tasks, remote
from pipeyard.engine.artifacts import content_digest, local_path, output_uri, task_dir_name
from pipeyard.engine.cache import cacheable, fingerprint
from pipeyard.engine.cancel import abandoned
from pipeyard.engine.context import RunContext, utcnow
from pipeyard.engine.events import LogLine
from pipeyard.engine.executor_io import (
    OutputError,
    executor_input,
    prepare_output_paths,
    read_outputs,
)
from pipeyard.engine.outcome import ArtifactDict, Outcome, Scope, io_record
from pipeyard.engine.ports import LaunchRequest
from pipeyard.errors import PipeyardError
from pipeyard.spec.placeholders import PlaceholderContext, substitute_args, substitute_string
from pipeyard.spec.python_component import detect_python_program
from pipeyard.spec.views import ComponentView, TaskView, parse_cpu, parse_memory
from pipeyard.store.entities import Artifact, ArtifactEvent, Task, TaskAttempt, TaskKind

LOG_TAIL_LINES = 20


def outcome_from_row(task: Task) -> Outcome:
    outputs = task.outputs or {}
    return Outcome("SUCCEEDED", dict(outputs.get("parameters") or {}),
                   {k: list(v) for k, v in (outputs.get("artifacts") or {}).items()},
                   task_id=task.task_id, task_name=task.display_name)


async def run_leaf(
    ctx: RunContext, task: TaskView, component: ComponentView, scope: Scope,
    params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]],
    upstream: Mapping[str, Outcome] | None = None,
) -> Outcome:
    path = scope.path(task.name)
    previous = ctx.existing.get(path)
    if previous is not None and previous.state == "SUCCEEDED":
        return outcome_from_row(previous)  # resumed or retried run: done already
    if platform_tasks.is_platform_task(component):
        return platform_tasks.run_platform_task(ctx, task, component, scope, params)
    kind: TaskKind = "IMPORTER" if component.importer is not None else "CONTAINER"
    fp = None
    if ctx.caching_allowed and task.caching and cacheable(component):
        fp = fingerprint(pipeline_name=ctx.pipeline.name, component=component, parameters=params,
                         artifacts=artifacts, cache_key=task.cache_key,
                         platform=ctx.pipeline.platform.get(component.executor_label))
        hit = ctx.recorder.find_cached_task(fp)
        if hit is not None:
            return _reuse(ctx, task, scope, kind, params, artifacts, fp, hit)
    row = ctx.open_task(path=path, name=task.name, display_name=task.display_name, kind=kind,
                        parent_task_id=scope.parent_task_id, iteration_index=scope.iteration_index,
                        inputs=io_record(params, artifacts), fingerprint=fp)
    if component.importer is not None:
        return _import(ctx, task, component, row, params, artifacts)
    refs = platform.Refs(scope.parameters, upstream or {})
    return await _run_container(ctx, task, component, row, params, artifacts, refs)


def _reuse(
    ctx: RunContext, task: TaskView, scope: Scope, kind: str, params: dict[str, Any],
    artifacts: dict[str, list[ArtifactDict]], fp: str, hit: Task,
) -> Outcome:
    now = utcnow()
    row = ctx.open_task(path=scope.path(task.name), name=task.name, display_name=task.display_name,
                        kind=kind, parent_task_id=scope.parent_task_id,  # type: ignore[arg-type]
                        iteration_index=scope.iteration_index, inputs=io_record(params, artifacts),
                        fingerprint=fp, state="SUCCEEDED", cached=True, cached_from_task_id=hit.task_id,
                        outputs=hit.outputs, command=hit.command)
    done = dataclasses.replace(row, started_at=now, finished_at=now)
    ctx.record_result(done, [], _input_events(ctx, done, artifacts))
    return outcome_from_row(done)


def _input_events(ctx: RunContext, task: Task, artifacts: dict[str, list[ArtifactDict]]) -> list[ArtifactEvent]:
    now = utcnow()
    return [
        ArtifactEvent(a["artifact_id"], task.task_id, ctx.run_id, "INPUT", name, now)
        for name, arts in artifacts.items() for a in arts if a.get("artifact_id")
    ]


def _artifact_rows(ctx: RunContext, task: Task, produced: dict[str, list[dict[str, Any]]]
                   ) -> tuple[dict[str, list[ArtifactDict]], list[Artifact], list[ArtifactEvent]]:
    now = utcnow()
    outputs: dict[str, list[ArtifactDict]] = {}
    rows: list[Artifact] = []
    events: list[ArtifactEvent] = []
    for name, items in produced.items():
        outputs[name] = []
        for item in items:
            art = Artifact(artifact_id=uuid.uuid4().hex, run_id=ctx.run_id, task_id=task.task_id,
                           name=name, uri=item["uri"], schema_title=item["type"], created_at=now,
                           metadata=item.get("metadata") or {},
                           digest=item.get("digest") or content_digest(item["uri"]),
                           display_name=name)
            rows.append(art)
            events.append(ArtifactEvent(art.artifact_id, task.task_id, ctx.run_id, "OUTPUT", name, now))
            outputs[name].append({"artifact_id": art.artifact_id, "name": name, "uri": art.uri,
                                  "type": art.schema_title, "metadata": art.metadata,
                                  "digest": art.digest})
    return outputs, rows, events


def _import(ctx: RunContext, task: TaskView, component: ComponentView, row: Task,
            params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]]) -> Outcome:
    imp = component.importer
    assert imp is not None
    uri = imp.uri.value if imp.uri.kind == "constant" else params.get(imp.uri.name)
    if not isinstance(uri, str) or not uri:
        error = f"importer has no artifact URI (got {uri!r})"
        ctx.finish_task(row, "FAILED", error=error)
        return Outcome("FAILED", error=f"task {row.path!r}: {error}", task_id=row.task_id,
                       task_name=row.display_name)
    if uri.startswith("file://"):
        uri = uri[len("file://"):]
    pctx = PlaceholderContext(input_parameters=params)
    metadata = _substitute_metadata(imp.metadata, pctx, f"task {row.path!r}: importer metadata")
    name = next(iter(component.outputs.artifacts), "artifact")
    produced = {name: [{"uri": uri, "metadata": metadata, "type": imp.schema_title}]}
    outputs, rows, events = _artifact_rows(ctx, row, produced)
    done = dataclasses.replace(row, state="SUCCEEDED", finished_at=utcnow(),
                               outputs=io_record({}, outputs))
    ctx.record_result(done, rows, events + _input_events(ctx, done, artifacts))
    return outcome_from_row(done)


def _substitute_metadata(value: Any, pctx: PlaceholderContext, where: str) -> Any:
    if isinstance(value, str):
        return substitute_string(value, pctx, where=where)
    if isinstance(value, dict):
        return {substitute_string(k, pctx, where=where): _substitute_metadata(v, pctx, where)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_metadata(v, pctx, where) for v in value]
    return value


def _log_tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


async def _run_container(ctx: RunContext, task: TaskView, component: ComponentView, row: Task,
                         params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]],
                         refs: platform.Refs) -> Outcome:
    container = component.container
    assert container is not None
    where = f"task {row.path!r}"
    output_uris = {
        name: output_uri(ctx.pipeline_root, ctx.pipeline.name, ctx.run_id, row.path, name)
        for name in component.outputs.artifacts
    }
    retry = task.retry
    max_attempts = 1 + (retry.max_retries if retry else 0)
    attempt = row.attempts
    error = ""
    log_path = ""
    while True:
        attempt += 1
        row = dataclasses.replace(row, attempts=attempt, state="RUNNING", error=None)
        ctx.put_task(row)
        work = ctx.settings.home / "work" / ctx.run_id / task_dir_name(row.path) / f"attempt-{attempt}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        log_path = str(ctx.settings.logs_dir / ctx.run_id / task_dir_name(row.path) / f"attempt-{attempt}.log")
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        started = utcnow()
        ctx.recorder.put_attempt(TaskAttempt(row.task_id, attempt, "RUNNING", started, log_path))
        try:
            outcome, exit_code = await _attempt(ctx, component, row, params, artifacts, output_uris, work,
                                     log_path, attempt, where, refs)
        except asyncio.CancelledError as e:
            if not abandoned(e):
                ctx.recorder.put_attempt(TaskAttempt(row.task_id, attempt, "CANCELED", started, log_path,
                                                     utcnow(), None, "canceled"))
                ctx.finish_task(row, "CANCELED", error="canceled")
            raise
        state = "SUCCEEDED" if outcome.ok else "FAILED"
        ctx.recorder.put_attempt(TaskAttempt(row.task_id, attempt, state, started, log_path, utcnow(),  # type: ignore[arg-type]
                                             exit_code, outcome.error))
        if outcome.ok:
            shutil.rmtree(work, ignore_errors=True)
            return outcome
        error = outcome.error or "failed"
        if attempt >= max_attempts:
            break
        assert retry is not None
        await asyncio.sleep(retry.delay(attempt))
    tail = _log_tail(log_path)
    ctx.finish_task(row, "FAILED", error=error)
    message = f"task {row.path!r} failed: {error}"
    if tail:
        message += f"\n--- last lines of {log_path} ---\n{tail}"
    return Outcome("FAILED", error=message, task_id=row.task_id, task_name=row.display_name)


async def _attempt(ctx: RunContext, component: ComponentView, row: Task, params: dict[str, Any],
                   artifacts: dict[str, list[ArtifactDict]], output_uris: dict[str, str], work: Path,
                   log_path: str, attempt: int, where: str, refs: platform.Refs,
                   ) -> tuple[Outcome, int | None]:
    container = component.container
    assert container is not None
    # A remote pipeline root is staged locally: the executor reads and writes
    # local paths, the store keeps the remote URIs.
    staging = await remote.stage(ctx.settings.home, ctx.run_id, artifacts, output_uris,
                                 output_uri(ctx.pipeline_root, ctx.pipeline.name, ctx.run_id, row.path, ""))
    # The executor takes the task root (dsl.get_uri) from the output file's folder,
    # so it lives beside the task's artifacts under the pipeline root.
    task_root = Path(local_path(staging.task_root))
    task_root.mkdir(parents=True, exist_ok=True)
    output_file = str(task_root / "executor_output.json")
    Path(output_file).unlink(missing_ok=True)
    param_files = {name: str(work / "outputs" / name) for name in component.outputs.parameters}
    (work / "outputs").mkdir(exist_ok=True)
    prepare_output_paths(staging.outputs)
    try:
        setup = platform.prepare(ctx, component, row, params, where, refs=refs, work=work)
    except PipeyardError as e:
        return Outcome("FAILED", error=str(e)), None
    job = PlaceholderContext(
        pipeline_job_name=ctx.run.display_name or ctx.pipeline.name,
        pipeline_job_resource_name=ctx.job_resource_name,
        pipeline_job_uuid=ctx.run_id,
        pipeline_job_create_time_utc=ctx.run.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pipeline_job_schedule_time_utc=(ctx.run.scheduled_at or ctx.run.created_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        pipeline_task_name=row.display_name,
        pipeline_task_uuid=row.task_id,
        pipeline_root=ctx.pipeline_root,
        workspace_path=setup.workspace_path,
    )
    # Input values may themselves be runtime placeholders (e.g. a constant
    # '{{$.pipeline_job_name}}'); KFP's driver resolves them before the task runs.
    try:
        params = {k: substitute_string(v, job, where=where)
                  if isinstance(v, str) and ("{{$.pipeline_" in v or "{{$.workspace_path}}" in v) else v
                  for k, v in params.items()}
    except PipeyardError as e:  # e.g. a workspace placeholder in a pipeline without a workspace
        return Outcome("FAILED", error=str(e)), None
    ex_input = executor_input(component, params, staging.inputs, staging.outputs, param_files, output_file)
    pctx = dataclasses.replace(
        job,
        input_parameters=params,
        input_artifacts={n: [dict(a, path=local_path(s["uri"])) for a, s in zip(arts, staging.inputs[n], strict=True)]
                         for n, arts in artifacts.items()},
        output_parameter_files=param_files,
        output_artifacts={n: {"uri": u, "path": local_path(staging.outputs[n])} for n, u in output_uris.items()},
        executor_input_json=json.dumps(ex_input),
        output_file=output_file,
    )
    try:
        command = substitute_args(container.command, pctx, where=where)
        args = substitute_args(container.args, pctx, where=where)
        cpu = parse_cpu(substitute_string(container.resources.cpu, pctx)) if container.resources.cpu else 0.0
        memory = (parse_memory(substitute_string(container.resources.memory, pctx))
                  if container.resources.memory else 0)
    except PipeyardError as e:
        return Outcome("FAILED", error=str(e)), None
    argv = tuple(command + args)
    if attempt == 1 or row.command is None or staging.warnings:
        row = dataclasses.replace(row, command=list(argv),
                                  details={**row.details, **setup.details, **staging.details})
        ctx.put_task(row)
    # Platform values (secrets) are data: never scanned for placeholders.
    env = {**{k: substitute_string(v, pctx) for k, v in container.env.items()}, **setup.env}

    def on_output(line: str) -> None:
        ctx.on_event(LogLine(ctx.run_id, row.task_id, attempt, line))

    request = LaunchRequest(
        key=f"{ctx.run_id}/{row.path}/{attempt}",
        argv=argv,
        log_path=log_path,
        env=env,
        cwd=str(work),
        timeout_seconds=setup.timeout_seconds,
        python=detect_python_program(command, args),
        mounts=setup.mounts,
        on_output=on_output,
        cpu=cpu,
        memory_bytes=memory,
        image=container.image,
        host_paths=_host_paths(work, task_root, staging.inputs, staging.outputs),
    )
    result = await ctx.launcher.launch(request)
    if result.error:
        return Outcome("FAILED", error=result.error + staging.note), result.exit_code
    if result.timed_out:
        return Outcome("FAILED", error=f"timed out after {setup.timeout_seconds} s"), result.exit_code
    if result.exit_code != 0:
        return Outcome("FAILED", error=f"exit code {result.exit_code}{staging.note}"), result.exit_code
    try:
        out_params, produced = read_outputs(component.outputs, output_file, param_files, staging.outputs)
        produced = await staging.publish(produced)
    except (OutputError, remote.RemoteError) as e:
        return Outcome("FAILED", error=str(e)), 0
    outputs, rows, events = _artifact_rows(ctx, row, produced)
    done = dataclasses.replace(row, state="SUCCEEDED", finished_at=utcnow(),
                               outputs=io_record(out_params, outputs), error=None)
    ctx.record_result(done, rows, events + _input_events(ctx, done, artifacts))
    return Outcome("SUCCEEDED", out_params, outputs, task_id=row.task_id, task_name=row.display_name), 0


def _host_paths(work: Path, task_root: Path, inputs: Mapping[str, list[ArtifactDict]],
                outputs: Mapping[str, str]) -> tuple[str, ...]:
    """What the task touches on the host: its work folder, its task root, its inputs and
    the folders of its outputs (a container launcher mounts them at the same paths)."""
    paths = [str(work), str(task_root)]
    paths += [local_path(a["uri"]) for arts in inputs.values() for a in arts]
    paths += [str(Path(local_path(uri)).parent) for uri in outputs.values()]
    return tuple(dict.fromkeys(paths))
