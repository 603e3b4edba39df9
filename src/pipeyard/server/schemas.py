"""Response schemas of the v2beta1 API and pipeyard's v1 extensions, as the
converters (``converters.py``) fill them.

They document ``/openapi.json`` (so that clients, the UI's ``types.ts`` among
them, can be generated from it) and the schemathesis test holds every response
to them. The converters still build the JSON: a route declares its schema with
``**returns(Model)``, which leaves the response untouched. Fields the converters
drop when empty are optional and never null (``SkipJsonSchema[None]``); extra
fields are allowed, as protobuf's JSON allows newer servers to send more.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

RuntimeState = Literal[
    "RUNTIME_STATE_UNSPECIFIED", "PENDING", "RUNNING", "SUCCEEDED", "SKIPPED", "FAILED",
    "CANCELING", "CANCELED", "PAUSED",
]
StorageState = Literal["AVAILABLE", "ARCHIVED"]
TaskKind = Literal["CONTAINER", "IMPORTER", "DAG", "LOOP", "ITERATION", "PLATFORM"]


class _Resource(BaseModel):
    model_config = ConfigDict(extra="allow")


def returns(model: type[BaseModel]) -> dict[str, Any]:
    """Route keywords that publish ``model`` as the 200 response without filtering it."""
    return {"response_model": None, "responses": {200: {"model": model}}}


class RpcStatus(_Resource):
    code: int | SkipJsonSchema[None] = None
    message: str | SkipJsonSchema[None] = None
    details: list[Any] | SkipJsonSchema[None] = None


class Empty(_Resource):
    pass


class Pipeline(_Resource):
    pipeline_id: str
    name: str | SkipJsonSchema[None] = None
    display_name: str | SkipJsonSchema[None] = None
    description: str | SkipJsonSchema[None] = None
    created_at: str | SkipJsonSchema[None] = None
    namespace: str | SkipJsonSchema[None] = None
    tags: dict[str, str] | SkipJsonSchema[None] = None


class PipelineVersion(_Resource):
    pipeline_id: str
    pipeline_version_id: str
    name: str | SkipJsonSchema[None] = None
    display_name: str | SkipJsonSchema[None] = None
    description: str | SkipJsonSchema[None] = None
    created_at: str | SkipJsonSchema[None] = None
    code_source_url: str | SkipJsonSchema[None] = None
    pipeline_spec: dict[str, Any] | SkipJsonSchema[None] = None
    tags: dict[str, str] | SkipJsonSchema[None] = None


class Experiment(_Resource):
    experiment_id: str
    display_name: str | SkipJsonSchema[None] = None
    description: str | SkipJsonSchema[None] = None
    created_at: str | SkipJsonSchema[None] = None
    namespace: str | SkipJsonSchema[None] = None
    storage_state: StorageState | SkipJsonSchema[None] = None
    last_run_created_at: str | SkipJsonSchema[None] = None


class RuntimeConfig(_Resource):
    parameters: dict[str, Any] | SkipJsonSchema[None] = None
    pipeline_root: str | SkipJsonSchema[None] = None
    # pipeyard's extension: the run's root input artifacts, {input name: URI}.
    pipeyard_input_artifacts: dict[str, str] | SkipJsonSchema[None] = None


class PipelineVersionReference(_Resource):
    pipeline_id: str | SkipJsonSchema[None] = None
    pipeline_version_id: str | SkipJsonSchema[None] = None


class RuntimeStatus(_Resource):
    update_time: str | SkipJsonSchema[None] = None
    state: RuntimeState | SkipJsonSchema[None] = None
    error: RpcStatus | SkipJsonSchema[None] = None


class ArtifactList(_Resource):
    artifact_ids: list[str] = Field(default_factory=list)


class TaskDetail(_Resource):
    run_id: str | SkipJsonSchema[None] = None
    task_id: str
    display_name: str | SkipJsonSchema[None] = None
    create_time: str | SkipJsonSchema[None] = None
    start_time: str | SkipJsonSchema[None] = None
    end_time: str | SkipJsonSchema[None] = None
    state: RuntimeState | SkipJsonSchema[None] = None
    error: RpcStatus | SkipJsonSchema[None] = None
    inputs: dict[str, ArtifactList] | SkipJsonSchema[None] = None
    outputs: dict[str, ArtifactList] | SkipJsonSchema[None] = None
    parent_task_id: str | SkipJsonSchema[None] = None
    child_tasks: list[dict[str, Any]] | SkipJsonSchema[None] = None
    state_history: list[RuntimeStatus] | SkipJsonSchema[None] = None
    input_parameters: dict[str, Any] | SkipJsonSchema[None] = None
    output_parameters: dict[str, Any] | SkipJsonSchema[None] = None


class RunDetails(_Resource):
    task_details: list[TaskDetail] = Field(default_factory=list)
    # pipeyard extension, only in paged answers (server/task_pages.py)
    next_task_page_token: str | SkipJsonSchema[None] = None
    total_task_count: int | SkipJsonSchema[None] = None


class Run(_Resource):
    run_id: str
    display_name: str | SkipJsonSchema[None] = None
    description: str | SkipJsonSchema[None] = None
    experiment_id: str | SkipJsonSchema[None] = None
    storage_state: StorageState | SkipJsonSchema[None] = None
    pipeline_version_reference: PipelineVersionReference | SkipJsonSchema[None] = None
    pipeline_spec: dict[str, Any] | SkipJsonSchema[None] = None
    runtime_config: RuntimeConfig | SkipJsonSchema[None] = None
    service_account: str | SkipJsonSchema[None] = None
    created_at: str | SkipJsonSchema[None] = None
    scheduled_at: str | SkipJsonSchema[None] = None
    finished_at: str | SkipJsonSchema[None] = None
    state: RuntimeState | SkipJsonSchema[None] = None
    error: RpcStatus | SkipJsonSchema[None] = None
    recurring_run_id: str | SkipJsonSchema[None] = None
    state_history: list[RuntimeStatus] | SkipJsonSchema[None] = None
    namespace: str | SkipJsonSchema[None] = None
    pipeline_name: str | SkipJsonSchema[None] = None
    run_details: RunDetails | SkipJsonSchema[None] = None


class CronSchedule(_Resource):
    cron: str | SkipJsonSchema[None] = None
    start_time: str | SkipJsonSchema[None] = None
    end_time: str | SkipJsonSchema[None] = None


class PeriodicSchedule(_Resource):
    interval_second: str | int | SkipJsonSchema[None] = None
    start_time: str | SkipJsonSchema[None] = None
    end_time: str | SkipJsonSchema[None] = None


class Trigger(_Resource):
    cron_schedule: CronSchedule | SkipJsonSchema[None] = None
    periodic_schedule: PeriodicSchedule | SkipJsonSchema[None] = None


class RecurringRun(_Resource):
    recurring_run_id: str
    display_name: str | SkipJsonSchema[None] = None
    description: str | SkipJsonSchema[None] = None
    pipeline_version_reference: PipelineVersionReference | SkipJsonSchema[None] = None
    pipeline_spec: dict[str, Any] | SkipJsonSchema[None] = None
    runtime_config: RuntimeConfig | SkipJsonSchema[None] = None
    service_account: str | SkipJsonSchema[None] = None
    max_concurrency: str | SkipJsonSchema[None] = None
    trigger: Trigger | SkipJsonSchema[None] = None
    mode: Literal["MODE_UNSPECIFIED", "ENABLE", "DISABLE"] | SkipJsonSchema[None] = None
    status: Literal["STATUS_UNSPECIFIED", "ENABLED", "DISABLED"] | SkipJsonSchema[None] = None
    created_at: str | SkipJsonSchema[None] = None
    updated_at: str | SkipJsonSchema[None] = None
    no_catchup: bool | SkipJsonSchema[None] = None
    namespace: str | SkipJsonSchema[None] = None
    experiment_id: str | SkipJsonSchema[None] = None
    error: RpcStatus | SkipJsonSchema[None] = None


class _Page(_Resource):
    total_size: int | SkipJsonSchema[None] = None
    next_page_token: str | SkipJsonSchema[None] = None


class ListPipelinesResponse(_Page):
    pipelines: list[Pipeline] = Field(default_factory=list)


class ListPipelineVersionsResponse(_Page):
    pipeline_versions: list[PipelineVersion] = Field(default_factory=list)


class ListExperimentsResponse(_Page):
    experiments: list[Experiment] = Field(default_factory=list)


class ListRunsResponse(_Page):
    runs: list[Run] = Field(default_factory=list)


class ListRecurringRunsResponse(_Page):
    # KFP's response really uses camelCase for this one field.
    recurringRuns: list[RecurringRun] = Field(default_factory=list)  # noqa: N815


# ------------------------------------------------------------------ pipeyard/v1


class ArtifactRef(_Resource):
    artifact_id: str | None = None
    name: str | SkipJsonSchema[None] = None
    uri: str | SkipJsonSchema[None] = None
    type: str | SkipJsonSchema[None] = None
    metadata: dict[str, Any] | SkipJsonSchema[None] = None


class IO(_Resource):
    parameters: dict[str, Any] | SkipJsonSchema[None] = None
    artifacts: dict[str, list[ArtifactRef]] | SkipJsonSchema[None] = None


class TaskAttempt(_Resource):
    attempt: int
    state: RuntimeState
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    error: str | None = None


class Task(_Resource):
    task_id: str
    run_id: str
    parent_task_id: str | None = None
    path: str
    name: str
    display_name: str | SkipJsonSchema[None] = None
    kind: TaskKind
    state: RuntimeState
    iteration_index: int | None = None
    attempts: int | SkipJsonSchema[None] = None
    cached: bool | SkipJsonSchema[None] = None
    cached_from_task_id: str | None = None
    fingerprint: str | None = None
    error: str | None = None
    command: list[str] | str | None = None
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    details: dict[str, Any] | SkipJsonSchema[None] = None
    inputs: IO | SkipJsonSchema[None] = None
    outputs: IO | SkipJsonSchema[None] = None
    attempt_list: list[TaskAttempt] | SkipJsonSchema[None] = None


class LoopIterations(_Resource):
    """A loop task's recorded iterations by state (``iteration_page_size`` answers)."""

    loop_task_id: str
    total: int
    states: dict[str, int] = Field(default_factory=dict)


class ListTasksResponse(_Resource):
    tasks: list[Task] = Field(default_factory=list)
    # With ``iteration_page_size``: tasks hold only a page of each loop's iterations.
    loops: list[LoopIterations] | SkipJsonSchema[None] = None


class Artifact(_Resource):
    artifact_id: str
    run_id: str | None = None
    task_id: str | None = None
    name: str
    display_name: str | SkipJsonSchema[None] = None
    uri: str
    type: str
    metadata: dict[str, Any] | SkipJsonSchema[None] = None
    digest: str | None = None
    created_at: str | None = None


class ListArtifactsResponse(_Page):
    artifacts: list[Artifact] = Field(default_factory=list)


class TaskRef(_Resource):
    run_id: str
    task_id: str
    task_name: str


class Consumer(TaskRef):
    input_name: str


class Lineage(_Resource):
    producer: TaskRef | None
    consumers: list[Consumer]


class ArtifactWithLineage(Artifact):
    lineage: Lineage | None = None


class ReadArtifactResponse(_Resource):
    data: str
