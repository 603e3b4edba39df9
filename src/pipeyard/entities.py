"""Plain frozen objects returned by the store. Never ORM rows.

States use KFP v2beta1 ``RuntimeState`` names. JSON-like fields hold plain
Python values (dict/list/str/int/float/bool/None) and are stored as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

RuntimeState = Literal[
    "PENDING", "RUNNING", "SUCCEEDED", "SKIPPED", "FAILED", "CANCELING", "CANCELED", "PAUSED"
]
FINAL_STATES: frozenset[str] = frozenset({"SUCCEEDED", "SKIPPED", "FAILED", "CANCELED"})
StorageState = Literal["AVAILABLE", "ARCHIVED"]
# CONTAINER: runs a command. IMPORTER: imports an artifact. DAG: a sub-DAG, condition
# branch or exit-handler group. LOOP: a ParallelFor task; ITERATION: one of its items.
TaskKind = Literal["CONTAINER", "IMPORTER", "DAG", "LOOP", "ITERATION", "PLATFORM"]


@dataclass(frozen=True)
class Pipeline:
    pipeline_id: str
    name: str
    display_name: str
    description: str
    created_at: datetime
    namespace: str = ""
    # KFP 2.15+ tags; stored in their own table (store/tags.py).
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineVersion:
    version_id: str
    pipeline_id: str
    name: str
    display_name: str
    description: str
    created_at: datetime
    pipeline_spec: dict[str, Any]
    platform_spec: dict[str, Any] | None = None
    code_source_url: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    display_name: str
    description: str
    created_at: datetime
    storage_state: StorageState = "AVAILABLE"
    namespace: str = ""
    last_run_created_at: datetime | None = None


@dataclass(frozen=True)
class Run:
    run_id: str
    display_name: str
    pipeline_spec: dict[str, Any]
    state: RuntimeState
    created_at: datetime
    description: str = ""
    experiment_id: str | None = None
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None
    pipeline_name: str = ""
    platform_spec: dict[str, Any] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    # Root input artifacts given at creation: {input name: artifact URI}.
    input_artifacts: dict[str, str] = field(default_factory=dict)
    pipeline_root: str = ""
    # None: follow each task's cachingOptions; False: disable caching for the run.
    enable_caching: bool | None = None
    storage_state: StorageState = "AVAILABLE"
    error: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    recurring_run_id: str | None = None
    service_account: str = ""
    # Which worker executes it and until when its claim holds (see Store.claim_run).
    worker_id: str | None = None
    lease_expires_at: datetime | None = None
    # Bumped on terminate/retry so a worker notices it must stop or start over.
    generation: int = 0
    # Multi-user KFP scopes runs by namespace; "" is the single-user default.
    namespace: str = ""


@dataclass(frozen=True)
class Task:
    """One node of a run: a container task, a DAG, a loop, or one loop iteration.

    ``path`` is unique within the run and stable across resumes, e.g.
    ``for-loop-2[1]/train``. ``inputs``/``outputs`` hold
    ``{"parameters": {name: value}, "artifacts": {name: [artifact dict]}}`` where an
    artifact dict is ``{"artifact_id", "name", "uri", "type", "metadata"}``.
    """

    task_id: str
    run_id: str
    path: str
    name: str
    display_name: str
    kind: TaskKind
    state: RuntimeState
    created_at: datetime
    parent_task_id: str | None = None
    iteration_index: int | None = None
    attempts: int = 0
    cached: bool = False
    fingerprint: str | None = None
    cached_from_task_id: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    command: list[str] | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Anything else worth showing (platform settings not applicable locally, image...).
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskAttempt:
    task_id: str
    attempt: int
    state: RuntimeState
    started_at: datetime
    log_path: str
    finished_at: datetime | None = None
    exit_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Artifact:
    artifact_id: str
    run_id: str
    task_id: str | None
    name: str
    uri: str
    schema_title: str
    created_at: datetime
    schema_version: str = "0.0.1"
    metadata: dict[str, Any] = field(default_factory=dict)
    digest: str | None = None
    display_name: str = ""


@dataclass(frozen=True)
class ArtifactEvent:
    """Lineage: a task consumed (INPUT) or produced (OUTPUT) an artifact under ``name``."""

    artifact_id: str
    task_id: str
    run_id: str
    kind: Literal["INPUT", "OUTPUT"]
    name: str
    created_at: datetime


@dataclass(frozen=True)
class RecurringRun:
    recurring_run_id: str
    display_name: str
    created_at: datetime
    updated_at: datetime
    # KFP v2beta1 trigger JSON: {"cron_schedule": {...}} or {"periodic_schedule": {...}}
    trigger: dict[str, Any]
    mode: Literal["ENABLE", "DISABLE"] = "ENABLE"
    description: str = ""
    experiment_id: str | None = None
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None
    pipeline_spec: dict[str, Any] | None = None
    platform_spec: dict[str, Any] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    pipeline_root: str = ""
    max_concurrency: int = 1
    no_catchup: bool = False
    # When the schedule last fired (the scheduled time, not the wall clock).
    last_fired_at: datetime | None = None
    namespace: str = ""
    service_account: str = ""


@dataclass(frozen=True)
class Page:
    """One page of a list: ``next_page_token`` is empty on the last page."""

    items: list[Any]
    total_size: int
    next_page_token: str = ""


@dataclass(frozen=True)
class Predicate:
    """One KFP filter predicate. ``op`` is the KFP operation name:
    EQUALS, NOT_EQUALS, GREATER_THAN, GREATER_THAN_EQUALS, LESS_THAN,
    LESS_THAN_EQUALS, IN, IS_SUBSTRING."""

    key: str
    op: str
    value: Any


@dataclass(frozen=True)
class ListQuery:
    predicates: tuple[Predicate, ...] = ()
    sort_by: str = "created_at"
    descending: bool = True
    page_size: int = 20
    page_token: str = ""
