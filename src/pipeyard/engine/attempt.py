"""One attempt of a container task, in three steps: prepare (stage artifacts,
resolve placeholders and the kfp-kubernetes config into a ``LaunchRequest``),
launch (hand it to the launcher), collect (read the executor's outputs, upload
remote ones, record the artifacts). The retry loop around it is ``retries.py``."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeyard.artifacts.filesystems import RemoteError
from pipeyard.artifacts.uris import is_remote, local_path, output_uri, task_dir_name
from pipeyard.engine import debug_pause, kubernetes_config, staging, task_resources
from pipeyard.engine.context import RunContext
from pipeyard.engine.executor_io import OutputError, executor_input, prepare_output_paths, read_outputs
from pipeyard.engine.failure_hints import explain_exit
from pipeyard.engine.lineage import artifact_rows, input_events
from pipeyard.engine.outcome import ArtifactDict, Outcome, io_record
from pipeyard.engine.run_events import LogLine, wants_log_lines
from pipeyard.entities import Task
from pipeyard.errors import PipeyardError
from pipeyard.ir.placeholders import PlaceholderContext, substitute_args, substitute_string
from pipeyard.ir.python_component import detect_python_program
from pipeyard.ir.views import ComponentView
from pipeyard.launchers.base import LaunchRequest, LaunchResult


@dataclass(frozen=True)
class AttemptInput:
    """Everything one attempt starts from; ``row`` is the task as the retry loop left it."""

    ctx: RunContext
    component: ComponentView
    row: Task
    params: dict[str, Any]
    artifacts: dict[str, list[ArtifactDict]]
    output_uris: dict[str, str]
    work: Path
    log_path: str
    attempt: int
    refs: kubernetes_config.Refs
    engine_retries: bool = False  # a failed attempt will be followed by another

    @property
    def where(self) -> str:
        return f"task {self.row.path!r}"


@dataclass(frozen=True)
class PreparedAttempt:
    request: LaunchRequest
    row: Task  # with the resolved command recorded
    staged: staging.Staging
    output_file: str
    param_files: dict[str, str]
    timeout_seconds: float | None


def attempt_dirs(ctx: RunContext, row: Task, attempt: int) -> tuple[Path, str]:
    """(a fresh working directory, the log file path) for attempt ``attempt``:
    ``work/<run>/<task>.attempt-<n>`` and ``logs/<run>/<task>.attempt-<n>.log``.

    Not a folder per task holding one per attempt: each new folder is a ``mkdir`` of
    50-250 us of kernel time in the event loop, and a task's would be left behind empty.
    ``.attempt-<digits>`` read from the right names one task and attempt, so no two
    attempts share a folder or a log."""
    name = f"{task_dir_name(row.path)}.attempt-{attempt}"
    work = os.path.join(ctx.settings.home, "work", ctx.run_id, name)
    if not make_dir(work):  # left by an execution of this run that was killed
        shutil.rmtree(work, ignore_errors=True)
        os.mkdir(work)
    log_path = os.path.join(ctx.settings.logs_dir, ctx.run_id, f"{name}.log")
    make_dir(os.path.dirname(log_path))  # the run's (or a loop iteration's) folder: there after the first task
    return Path(work), log_path


def make_dir(path: str) -> bool:
    """Create the folder ``path`` and its missing parents; True when it was not there
    (so nothing can be in it). One ``mkdir`` when the parent exists, the usual case:
    ``Path.mkdir(parents=True)`` with Path objects cost a task a millisecond of the
    event loop, and every mkdir is tens of microseconds of kernel time on this kind of disk."""
    try:
        os.mkdir(path)
    except FileExistsError:
        if not os.path.isdir(path):
            raise
        return False
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)
    return True


async def run_attempt(inp: AttemptInput) -> tuple[Outcome, int | None]:
    """(the attempt's outcome, the exit code when the command ran)."""
    prepared = await prepare_attempt(inp)
    if isinstance(prepared, Outcome):
        return prepared, None
    assert inp.component.container is not None
    pauses = debug_pause.pause_points(inp.component.container.env)
    if pauses.before:
        row = await debug_pause.hold(inp.ctx, prepared.row, "before", prepared.request, inp.attempt)
        prepared = dataclasses.replace(prepared, row=row)
    result = await inp.ctx.launcher.launch(prepared.request)
    failed = bool(result.error) or result.timed_out or result.exit_code != 0
    if pauses.after_attempt(failed):
        # Before the outputs are read or a failure cleaned up: everything is as the task left it.
        row = await debug_pause.hold(inp.ctx, prepared.row, "after", prepared.request, inp.attempt)
        prepared = dataclasses.replace(prepared, row=row)
    return await collect_attempt(inp, prepared, result)


def _job_context(inp: AttemptInput, workspace_path: str | None) -> PlaceholderContext:
    ctx, row = inp.ctx, inp.row
    created, scheduled = ctx.job_times
    return PlaceholderContext(
        pipeline_job_name=ctx.run.display_name or ctx.pipeline.name,
        pipeline_job_resource_name=ctx.job_resource_name,
        pipeline_job_uuid=ctx.run_id,
        pipeline_job_create_time_utc=created,
        pipeline_job_schedule_time_utc=scheduled,
        pipeline_task_name=row.display_name,
        pipeline_task_uuid=row.task_id,
        pipeline_root=ctx.pipeline_root,
        workspace_path=workspace_path,
    )


async def prepare_attempt(inp: AttemptInput) -> PreparedAttempt | Outcome:
    """The launch request, or the FAILED outcome of an attempt that cannot start."""
    ctx, component, row, where = inp.ctx, inp.component, inp.row, inp.where
    container = component.container
    assert container is not None
    # A remote pipeline root is staged locally: the executor reads and writes
    # local paths, the store keeps the remote URIs.
    staged_uri = output_uri(ctx.pipeline_root, ctx.pipeline.name, ctx.run_id, row.path, "")
    staged = await staging.stage(ctx.settings.home, ctx.run_id, inp.artifacts, inp.output_uris, staged_uri)
    # The executor takes the task root (dsl.get_uri) from the output file's folder,
    # so it lives beside the task's artifacts under the pipeline root.
    task_root = str(Path(local_path(staged.task_root)))  # without the URI's trailing slash
    output_file = os.path.join(task_root, "executor_output.json")
    if not make_dir(task_root):  # an earlier attempt's report must not be taken for this one's
        with contextlib.suppress(FileNotFoundError):
            os.unlink(output_file)
    outputs_dir = os.path.join(str(inp.work), "outputs")
    param_files = {name: os.path.join(outputs_dir, name) for name in component.outputs.parameters}
    prepare_output_paths(staged.outputs)
    try:
        setup = kubernetes_config.prepare(ctx, component, row, inp.params, where, refs=inp.refs, work=inp.work)
    except PipeyardError as e:
        return Outcome("FAILED", error=str(e))
    job = _job_context(inp, setup.workspace_path)
    # Input values may themselves be runtime placeholders (e.g. a constant
    # '{{$.pipeline_job_name}}'); KFP's driver resolves them before the task runs.
    try:
        params = {k: substitute_string(v, job, where=where)
                  if isinstance(v, str) and ("{{$.pipeline_" in v or "{{$.workspace_path}}" in v) else v
                  for k, v in inp.params.items()}
    except PipeyardError as e:  # e.g. a workspace placeholder in a pipeline without a workspace
        return Outcome("FAILED", error=str(e))
    ex_input = executor_input(component, params, staged.inputs, staged.outputs, param_files, output_file)
    pctx = dataclasses.replace(
        job,
        input_parameters=params,
        input_artifacts={n: [dict(a, path=local_path(s["uri"])) for a, s in zip(arts, staged.inputs[n], strict=True)]
                         for n, arts in inp.artifacts.items()},
        output_parameter_files=param_files,
        output_artifacts={n: {"uri": u, "path": local_path(staged.outputs[n])} for n, u in inp.output_uris.items()},
        executor_input_json=json.dumps(ex_input),
        output_file=output_file,
    )
    try:
        command = substitute_args(container.command, pctx, where=where)
        args = substitute_args(container.args, pctx, where=where)
        res = task_resources.resolve(container.resources, pctx, where)
    except PipeyardError as e:
        return Outcome("FAILED", error=str(e))
    argv = tuple(command + args)
    python = detect_python_program(command, args)
    if param_files and python is None:
        # KFP's launcher makes the folders of output parameter files; KFP's Python
        # executor makes its own (and reports returned values in its output file).
        make_dir(outputs_dir)
    if inp.attempt == 1 or row.command is None or staged.warnings:
        row = dataclasses.replace(row, command=list(argv),
                                  details={**row.details, **setup.details, **staged.details})
        ctx.put_task(row)
    # Platform values (secrets) are data: never scanned for placeholders.
    env = {**{k: substitute_string(v, pctx) for k, v in container.env.items()}, **setup.env}
    task_id, attempt = row.task_id, inp.attempt

    def on_output(line: str) -> None:
        ctx.on_event(LogLine(ctx.run_id, task_id, attempt, line))

    request = LaunchRequest(
        key=f"{ctx.run_id}/{row.path}/{attempt}",
        argv=argv,
        log_path=inp.log_path,
        env=env,
        cwd=str(inp.work),
        timeout_seconds=setup.timeout_seconds,
        python=python,
        mounts=setup.mounts,
        on_output=on_output if wants_log_lines(ctx.on_event) else None,
        cpu=res.cpu,
        memory_bytes=res.memory_bytes,
        cpu_limit=res.cpu_limit,
        memory_limit_bytes=res.memory_limit_bytes,
        accelerator_type=res.accelerator_type,
        accelerator_count=res.accelerator_count,
        image=container.image,
        host_paths=_host_paths(inp.work, task_root, staged.inputs, staged.outputs),
        staged_inputs=_staged_inputs(inp.artifacts, staged.inputs),
        staged_task_root=(task_root, staged_uri) if staged.remote_outputs else None,
        engine_retries=inp.engine_retries,
    )
    return PreparedAttempt(request, row, staged, output_file, param_files, setup.timeout_seconds)


async def collect_attempt(inp: AttemptInput, prepared: PreparedAttempt,
                          result: LaunchResult) -> tuple[Outcome, int | None]:
    """Judge the launch result; on success read, publish and record the outputs."""
    ctx, row, staged = inp.ctx, prepared.row, prepared.staged
    if result.details:
        # Per attempt, so a retry on another node keeps where the failed one ran.
        per_attempt = {**row.details.get("attempts", {}), str(inp.attempt): dict(result.details)}
        row = dataclasses.replace(row, details={**row.details, "attempts": per_attempt})
        ctx.put_task(row)
    kept = dict(row.details)

    def failed(error: str, exit_code: int | None) -> tuple[Outcome, int | None]:
        return Outcome("FAILED", error=error, row_details=kept), exit_code

    if result.error:
        return failed(result.error + staged.note, result.exit_code)
    if result.timed_out:
        return failed(f"timed out after {prepared.timeout_seconds} s", result.exit_code)
    if result.exit_code != 0:
        return failed(f"exit code {result.exit_code}{explain_exit(inp.log_path)}{staged.note}", result.exit_code)
    try:
        out_params, produced = read_outputs(inp.component.outputs, prepared.output_file,
                                            prepared.param_files, staged.outputs)
        produced = await staged.publish(produced, uploaded=result.uploaded)
    except (OutputError, RemoteError) as e:
        return failed(str(e), 0)
    outputs, rows, events = artifact_rows(ctx, row, produced)
    done = dataclasses.replace(row, state="SUCCEEDED", finished_at=ctx.now(),
                               outputs=io_record(out_params, outputs), error=None)
    ctx.record_result(done, rows, events + input_events(ctx, done, inp.artifacts))
    return Outcome("SUCCEEDED", out_params, outputs, task_id=row.task_id, task_name=row.display_name,
                   row_details=kept), 0


def _staged_inputs(artifacts: Mapping[str, list[ArtifactDict]],
                   staged: Mapping[str, list[ArtifactDict]]) -> dict[str, str]:
    """Local staged path -> remote URI of each remote input artifact."""
    return {local_path(s["uri"]): a["uri"]
            for name, arts in artifacts.items() for a, s in zip(arts, staged[name], strict=True)
            if is_remote(a["uri"]) and not is_remote(s["uri"])}


def _host_paths(work: Path, task_root: str, inputs: Mapping[str, list[ArtifactDict]],
                outputs: Mapping[str, str]) -> tuple[str, ...]:
    """What the task touches on the host: its work folder, its task root, its inputs and
    the folders of its outputs (a container launcher mounts them at the same paths)."""
    paths = [str(work), task_root]
    paths += [local_path(a["uri"]) for arts in inputs.values() for a in arts]
    paths += [str(Path(local_path(uri)).parent) for uri in outputs.values()]
    return tuple(dict.fromkeys(paths))
