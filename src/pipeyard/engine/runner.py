"""Executing one run end to end: the entry point the CLI and the server call."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pipeyard.config import Settings
from pipeyard.engine import staging
from pipeyard.engine.cancel import abandoned
from pipeyard.engine.context import Clock, RunContext, Sleep, utcnow
from pipeyard.engine.dag import dag_outputs, dag_state, run_dag
from pipeyard.engine.inputs import conform_all
from pipeyard.engine.outcome import ArtifactDict, Scope
from pipeyard.engine.pipeline_config import run_limits, within_deadline
from pipeyard.engine.run_events import EventSink, TaskChanged, discard
from pipeyard.entities import Run, Task
from pipeyard.errors import PipeyardError
from pipeyard.ir.loader import dict_to_spec
from pipeyard.ir.views import PipelineView, build_view
from pipeyard.launchers.base import Launcher
from pipeyard.store.recorder import RunRecorder, WriteBehind


def pipeline_of(run: Run) -> PipelineView:
    spec = run.pipeline_spec
    # The deployment spec is a Struct in PipelineSpec, re-read by build_view as a
    # PipelineDeploymentConfig: from the stored dict it is parsed once, not three times.
    deployment = spec.get("deploymentSpec")
    if not isinstance(deployment, dict):
        return build_view(dict_to_spec(spec), run.platform_spec)  # its error, if any, is dict_to_spec's
    rest = {key: value for key, value in spec.items() if key != "deploymentSpec"}
    return build_view(dict_to_spec(rest), run.platform_spec, deployment=deployment)


def root_artifacts(run: Run, pipeline: PipelineView) -> dict[str, list[ArtifactDict]]:
    """The run's root input artifacts (``Run.input_artifacts``, checked when it was
    created) as the root DAG's inputs, typed as the pipeline declares them."""
    out: dict[str, list[ArtifactDict]] = {}
    for name, uri in (run.input_artifacts or {}).items():
        adef = pipeline.root.inputs.artifacts.get(name)
        schema = adef.schema_title if adef is not None else "system.Artifact"
        out[name] = [{"name": name, "uri": uri, "type": schema, "metadata": {}}]
    return out


def public_artifact(a: ArtifactDict) -> dict[str, Any]:
    return {"uri": a["uri"], "metadata": a.get("metadata") or {}}


def public_outputs(params: dict[str, Any], artifacts: dict[str, list[ArtifactDict]],
                   pipeline: PipelineView) -> dict[str, Any]:
    """Pipeline outputs as users see them: parameter values, and artifacts as
    ``{"uri", "metadata"}`` (a list of those for artifact lists)."""
    out: dict[str, Any] = dict(params)
    for name, arts in artifacts.items():
        adef = pipeline.root.outputs.artifacts.get(name)
        if adef is not None and not adef.is_list and len(arts) == 1:
            out[name] = public_artifact(arts[0])
        else:
            out[name] = [public_artifact(a) for a in arts]
    return out


async def execute_run(
    run_id: str,
    *,
    recorder: RunRecorder,
    launcher: Launcher,
    settings: Settings,
    on_event: EventSink = discard,
    input_artifacts: dict[str, list[ArtifactDict]] | None = None,
    clock: Clock = utcnow,
    sleep: Sleep = asyncio.sleep,
    pipeline: PipelineView | None = None,
) -> Run:
    """``_execute_run`` writing through a ``WriteBehind`` (a task's intermediate rows are batched).
    ``pipeline``: the run's spec as views, when the caller built them from the spec it
    just stored (``pipeyard run``), sparing a parse of the stored JSON."""
    def announce(tasks: Sequence[Task]) -> None:  # again, now that the rows can be read
        for task in tasks:
            on_event(TaskChanged(task))

    behind = WriteBehind(recorder, on_written=announce)
    try:
        return await _execute_run(run_id, recorder=behind, launcher=launcher, settings=settings,
                                  on_event=on_event, input_artifacts=input_artifacts, clock=clock, sleep=sleep,
                                  pipeline=pipeline)
    finally:
        behind.close()


async def _execute_run(
    run_id: str,
    *,
    recorder: RunRecorder,
    launcher: Launcher,
    settings: Settings,
    on_event: EventSink = discard,
    input_artifacts: dict[str, list[ArtifactDict]] | None = None,
    clock: Clock = utcnow,
    sleep: Sleep = asyncio.sleep,
    pipeline: PipelineView | None = None,
) -> Run:
    """Execute (or resume) the run ``run_id`` whose row is in the store.

    Tasks the store already holds as SUCCEEDED are not run again. Cancelling the
    coroutine terminates running task processes and ends the run CANCELED. How
    many tasks run at once is the launcher's limit (``max_parallel``) and each
    loop's ``parallelism``. ``clock`` and ``sleep`` are this run's time (tests
    pass their own)."""
    run = recorder.get_run(run_id)
    existing = {t.path: t for t in recorder.list_tasks(run_id)}
    try:
        pipeline = pipeline if pipeline is not None else pipeline_of(run)
    except PipeyardError as e:
        return recorder.update_run(run_id, state="FAILED", error=str(e), finished_at=clock())
    ctx = RunContext(
        run=run, pipeline=pipeline, recorder=recorder, launcher=launcher, settings=settings,
        on_event=on_event, pipeline_root=run.pipeline_root or settings.pipeline_root, existing=existing,
        clock=clock, sleep=sleep,
    )
    begun = ctx.now()
    ctx.update_run(state="RUNNING", started_at=run.started_at or begun, finished_at=None, error=None)
    params = conform_all(run.parameters, pipeline.root.inputs)
    given = input_artifacts if input_artifacts is not None else root_artifacts(run, pipeline)
    scope = Scope("", None, params, dict(given))
    limits = run_limits(pipeline.platform_pipeline)
    deadline = limits.active_deadline_seconds
    remaining = None
    if deadline is not None:
        # A run picked up while RUNNING (its worker died) keeps the deadline of its first
        # start; a PENDING one (new, or retried after it ended) gets a full deadline.
        since = run.started_at if run.state == "RUNNING" and run.started_at else begun
        remaining = deadline - (begun - since).total_seconds()
    try:
        outcomes = await within_deadline(run_dag(ctx, pipeline.root, scope), remaining, deadline or 0)
    except asyncio.CancelledError as e:
        if not abandoned(e):
            ctx.update_run(state="CANCELED", finished_at=ctx.now(), error="the run was canceled")
        raise
    except PipeyardError as e:
        return ctx.update_run(state="FAILED", finished_at=ctx.now(), error=str(e))
    finally:
        await ctx.sweeper.finish()  # finished attempts' work folders
        staging.discard(settings.home, run_id)  # copies of a remote root's artifacts
    state, error = dag_state(outcomes)
    assert pipeline.root.dag is not None
    out_params, out_artifacts = dag_outputs(pipeline.root.dag, outcomes)
    return ctx.update_run(state=state, error=error, finished_at=ctx.now(),
                          outputs=public_outputs(out_params, out_artifacts, pipeline))
