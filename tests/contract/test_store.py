"""The metadata store contract, run over SQLite and PostgreSQL (see conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pipeyard.entities import (
    Artifact,
    ArtifactEvent,
    Experiment,
    ListQuery,
    Pipeline,
    PipelineVersion,
    Predicate,
    RecurringRun,
    Run,
    Task,
    TaskAttempt,
)
from pipeyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from pipeyard.store import Store, open_store
from pipeyard.store.migrate import current_revision, head_revision
from pipeyard.store.schema import metadata

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
SPEC = {"pipelineInfo": {"name": "demo"}, "root": {"dag": {"tasks": {"a": {"x": [1, 2.5, None, True]}}}}}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_run(i: int, **kw: Any) -> Run:
    values: dict[str, Any] = {
        "run_id": f"run-{i:04d}",
        "display_name": f"run {i}",
        "pipeline_spec": SPEC,
        "state": "PENDING",
        "created_at": at(i),
    }
    values.update(kw)
    return Run(**values)


def make_task(run_id: str, name: str, seconds: float = 0, **kw: Any) -> Task:
    values: dict[str, Any] = {
        "task_id": f"{run_id}/{name}",
        "run_id": run_id,
        "path": name,
        "name": name,
        "display_name": name,
        "kind": "CONTAINER",
        "state": "RUNNING",
        "created_at": at(seconds),
    }
    values.update(kw)
    return Task(**values)


def make_artifact(task: Task, name: str, seconds: float = 0, **kw: Any) -> Artifact:
    values: dict[str, Any] = {
        "artifact_id": f"{task.task_id}/{name}",
        "run_id": task.run_id,
        "task_id": task.task_id,
        "name": name,
        "uri": f"file:///tmp/{task.task_id}/{name}",
        "schema_title": "system.Dataset",
        "created_at": at(seconds),
    }
    values.update(kw)
    return Artifact(**values)


def event(artifact: Artifact, task: Task, kind: str, seconds: float = 0) -> ArtifactEvent:
    return ArtifactEvent(artifact.artifact_id, task.task_id, task.run_id, kind, artifact.name, at(seconds))  # type: ignore[arg-type]


@contextmanager
def count_statements(store: Store) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)


def all_pages(list_page: Any, query: ListQuery) -> list[Any]:
    items: list[Any] = []
    while True:
        page = list_page(query)
        items.extend(page.items)
        if not page.next_page_token:
            return items
        query = replace(query, page_token=page.next_page_token)


# --------------------------------------------------------------------------- pipelines


def test_pipeline_round_trip_and_unique_name_per_namespace(store: Store) -> None:
    created = store.create_pipeline(Pipeline("", "train", "Train", "trains", T0))
    assert created.pipeline_id
    assert store.get_pipeline(created.pipeline_id) == created
    assert store.get_pipeline_by_name("train") == created
    with pytest.raises(AlreadyExists):
        store.create_pipeline(Pipeline("", "train", "Again", "", T0))
    other = store.create_pipeline(Pipeline("", "train", "Team", "", T0, namespace="team"))
    assert store.get_pipeline_by_name("train", namespace="team") == other
    assert [p.pipeline_id for p in store.list_pipelines(ListQuery()).items] == [created.pipeline_id]
    assert store.list_pipelines(ListQuery(), namespace=None).total_size == 2
    with pytest.raises(NotFound) as err:
        store.get_pipeline("nope")
    assert (err.value.kind, err.value.key) == ("pipeline", "nope")


def test_pipeline_versions_latest_and_delete_rules(store: Store) -> None:
    pipeline, first = store.create_pipeline_with_version(
        Pipeline("p1", "p", "P", "", T0), PipelineVersion("v1", "", "v1", "V1", "", at(1), SPEC)
    )
    assert first.pipeline_id == "p1"
    second = store.create_pipeline_version(
        PipelineVersion("v2", "p1", "v2", "V2", "", at(2), SPEC, platform_spec={"k": "v"})
    )
    assert store.get_pipeline_version("v2") == second
    assert store.latest_pipeline_version("p1") == second
    with pytest.raises(AlreadyExists):
        store.create_pipeline_version(PipelineVersion("v3", "p1", "v2", "dup", "", at(3), SPEC))
    with pytest.raises(NotFound):
        store.create_pipeline_version(PipelineVersion("v4", "missing", "v", "", "", at(3), SPEC))

    light = store.list_pipeline_versions("p1", ListQuery(descending=False), include_pipeline_spec=False)
    assert [v.version_id for v in light.items] == ["v1", "v2"] and light.items[0].pipeline_spec == {}

    with pytest.raises(FailedPrecondition):
        store.delete_pipeline("p1", cascade=False)
    store.delete_pipeline_version("v1")
    assert store.latest_pipeline_version("p1") == second
    store.delete_pipeline("p1", cascade=True)
    for getter, key in ((store.get_pipeline, "p1"), (store.get_pipeline_version, "v2")):
        with pytest.raises(NotFound):
            getter(key)
    store.create_pipeline(Pipeline("p2", "empty", "", "", T0))
    assert store.latest_pipeline_version("p2") is None
    store.delete_pipeline("p2", cascade=False)


def test_create_pipeline_with_version_is_all_or_nothing(store: Store) -> None:
    store.create_pipeline_with_version(
        Pipeline("p1", "one", "", "", T0), PipelineVersion("v1", "", "v", "", "", T0, SPEC)
    )
    # The version id is taken, so the new pipeline must not be left behind without it.
    with pytest.raises(AlreadyExists):
        store.create_pipeline_with_version(
            Pipeline("p2", "two", "", "", T0), PipelineVersion("v1", "", "v", "", "", T0, SPEC)
        )
    with pytest.raises(NotFound):
        store.get_pipeline("p2")


# --------------------------------------------------------------------------- experiments


def test_experiments_and_archiving_cascades_to_runs_and_schedules(store: Store) -> None:
    exp = store.create_experiment(Experiment("e1", "exp", "", T0))
    with pytest.raises(AlreadyExists):
        store.create_experiment(Experiment("e2", "exp", "", T0))
    assert store.get_experiment_by_name("exp") == exp
    store.create_run(make_run(1, experiment_id="e1"))
    store.create_run(make_run(2, experiment_id="e1"))
    store.create_run(make_run(3))
    assert store.get_experiment("e1").last_run_created_at == at(2)
    store.create_recurring_run(
        RecurringRun("rr1", "nightly", T0, T0, {"cron_schedule": {}}, experiment_id="e1")
    )

    archived = store.set_experiment_storage_state("e1", "ARCHIVED")
    assert archived.storage_state == "ARCHIVED"
    states = {r.run_id: r.storage_state for r in store.list_runs(ListQuery(page_size=10)).items}
    assert states == {"run-0001": "ARCHIVED", "run-0002": "ARCHIVED", "run-0003": "AVAILABLE"}
    assert store.get_recurring_run("rr1").mode == "DISABLE"

    store.set_experiment_storage_state("e1", "AVAILABLE")
    assert store.get_experiment("e1").storage_state == "AVAILABLE"
    assert store.get_run("run-0001").storage_state == "ARCHIVED"
    with pytest.raises(InvalidArgument):
        store.set_experiment_storage_state("e1", "GONE")  # type: ignore[arg-type]

    store.delete_experiment("e1")
    with pytest.raises(NotFound):
        store.get_experiment("e1")
    assert store.get_run("run-0001").experiment_id == "e1"
    with pytest.raises(NotFound):
        store.delete_experiment("e1")


# --------------------------------------------------------------------------- runs


def test_run_round_trip_update_and_not_found(store: Store) -> None:
    run = make_run(
        1,
        platform_spec={"platforms": {"kubernetes": {}}},
        parameters={"lr": 0.1, "layers": [1, 2], "name": "x"},
        enable_caching=False,
        scheduled_at=at(5),
        namespace="",
    )
    assert store.create_run(run) == run
    assert store.get_run("run-0001") == run
    with pytest.raises(AlreadyExists):
        store.create_run(run)
    updated = store.update_run("run-0001", state="SUCCEEDED", outputs={"acc": 0.9}, finished_at=at(9))
    assert (updated.state, updated.outputs, updated.finished_at) == ("SUCCEEDED", {"acc": 0.9}, at(9))
    assert store.get_run("run-0001") == updated
    # Naive datetimes are taken as UTC.
    naive = store.update_run("run-0001", started_at=datetime(2024, 5, 1, 12, 0, 1))
    assert naive.started_at == datetime(2024, 5, 1, 12, 0, 1, tzinfo=timezone.utc)
    with pytest.raises(InvalidArgument) as err:
        store.update_run("run-0001", colour="red")
    assert err.value.field == "colour"
    with pytest.raises(NotFound):
        store.update_run("missing", state="FAILED")
    with pytest.raises(NotFound):
        store.get_run("missing")
    with pytest.raises(NotFound):
        store.delete_run("missing")


def test_list_runs_filters_with_entity_and_kfp_keys(store: Store) -> None:
    for i in range(10):
        state = "SUCCEEDED" if i % 2 else "FAILED"
        store.create_run(
            make_run(i, state=state, display_name=f"Train-{i}", experiment_id="e1" if i < 4 else None)
        )

    def ids(*predicates: Predicate, **kw: Any) -> list[str]:
        page = store.list_runs(ListQuery(predicates=predicates, page_size=100, descending=False), **kw)
        assert page.total_size == len(page.items)
        return [r.run_id[-1] for r in page.items]

    assert ids(Predicate("state", "EQUALS", "FAILED")) == ["0", "2", "4", "6", "8"]
    assert ids(Predicate("state", "NOT_EQUALS", "FAILED")) == ["1", "3", "5", "7", "9"]
    assert ids(Predicate("run_id", "IN", ["run-0003", "run-0007"])) == ["3", "7"]
    assert ids(Predicate("created_at", "GREATER_THAN", at(7))) == ["8", "9"]
    assert ids(Predicate("created_at", "GREATER_THAN_EQUALS", at(7).isoformat())) == ["7", "8", "9"]
    assert ids(Predicate("created_at", "LESS_THAN", at(2).timestamp())) == ["0", "1"]
    assert ids(Predicate("created_at", "LESS_THAN_EQUALS", "2024-05-01T12:00:01.123456Z")) == ["0", "1"]
    assert ids(Predicate("name", "IS_SUBSTRING", "train-1")) == ["1"]
    assert ids(Predicate("display_name", "IS_SUBSTRING", "%")) == []
    assert ids(Predicate("experiment_id", "EQUALS", None)) == ["4", "5", "6", "7", "8", "9"]
    assert ids(experiment_id="e1") == ["0", "1", "2", "3"]
    assert ids(Predicate("state", "EQUALS", "SUCCEEDED"), experiment_id="e1") == ["1", "3"]
    assert ids(namespace="other") == []
    assert store.count_runs([Predicate("state", "EQUALS", "FAILED")], experiment_id="e1") == 2

    with pytest.raises(InvalidArgument) as err:
        ids(Predicate("colour", "EQUALS", "red"))
    assert err.value.field == "colour"
    with pytest.raises(InvalidArgument):
        ids(Predicate("state", "LIKE", "x"))
    with pytest.raises(InvalidArgument):
        ids(Predicate("created_at", "EQUALS", "yesterday"))
    with pytest.raises(InvalidArgument) as err:
        store.list_runs(ListQuery(sort_by="pipeline_spec"))
    assert err.value.field == "pipeline_spec"


def test_list_runs_sorts_stably_and_pages_through_everything(store: Store) -> None:
    # Three display names only, so sorting by name must fall back to ids for ties.
    for i in range(11):
        store.create_run(make_run(i, display_name=f"name-{i % 3}"))
    for descending in (False, True):
        query = ListQuery(sort_by="display_name", descending=descending, page_size=4)
        got = [r.run_id for r in all_pages(store.list_runs, query)]
        expected = sorted((f"name-{i % 3}", f"run-{i:04d}") for i in range(11))
        if descending:
            expected.reverse()
        assert got == [run_id for _, run_id in expected]
    first = store.list_runs(ListQuery(page_size=4))
    assert (len(first.items), first.total_size) == (4, 11)
    assert [r.run_id for r in first.items] == ["run-0010", "run-0009", "run-0008", "run-0007"]


def test_page_tokens_are_stable_when_rows_are_added(store: Store) -> None:
    for i in range(6):
        store.create_run(make_run(i))
    first = store.list_runs(ListQuery(page_size=3))
    store.create_run(make_run(99))  # newest: sorts before every row already listed
    second = store.list_runs(ListQuery(page_size=3, page_token=first.next_page_token))
    assert [r.run_id for r in second.items] == ["run-0002", "run-0001", "run-0000"]
    assert second.next_page_token == "" and second.total_size == 7
    with pytest.raises(InvalidArgument) as err:
        store.list_runs(ListQuery(page_size=3, descending=False, page_token=first.next_page_token))
    assert err.value.field == "page_token"
    with pytest.raises(InvalidArgument):
        store.list_runs(ListQuery(page_token="garbage!"))


def test_paging_by_a_nullable_field(store: Store) -> None:
    for i in range(7):
        store.create_run(make_run(i, finished_at=at(100 - i) if i % 2 else None))
    for descending in (False, True):
        query = ListQuery(sort_by="finished_at", descending=descending, page_size=2)
        got = [r.run_id for r in all_pages(store.list_runs, query)]
        finished = sorted((r for r in range(7) if r % 2), key=lambda r: 100 - r)
        unfinished = [r for r in range(7) if not r % 2]
        expected = [f"run-{i:04d}" for i in finished + unfinished]  # NULLs last ascending
        assert got == (list(reversed(expected)) if descending else expected)


def test_list_runs_can_skip_the_pipeline_spec(store: Store) -> None:
    store.create_run(make_run(1))
    light = store.list_runs(ListQuery(), include_pipeline_spec=False).items[0]
    assert light.pipeline_spec == {} and light.display_name == "run 1"
    assert store.list_runs(ListQuery()).items[0].pipeline_spec == SPEC
    assert store.get_run("run-0001").pipeline_spec == SPEC


def test_list_runs_uses_a_fixed_number_of_statements(store: Store) -> None:
    for i in range(100):
        run = store.create_run(make_run(i))
        store.put_task(make_task(run.run_id, "a"))

    def statements_for(page_size: int) -> int:
        with count_statements(store) as statements:
            page = store.list_runs(ListQuery(page_size=page_size))
        assert len(page.items) == page_size
        return len(statements)

    assert statements_for(10) == statements_for(100) == 2


def test_delete_run_removes_everything_it_owns(store: Store) -> None:
    for run_id in ("run-0001", "run-0002"):
        store.create_run(make_run(int(run_id[-1]), run_id=run_id))
        task = make_task(run_id, "train")
        store.put_task(task)
        store.put_attempt(TaskAttempt(task.task_id, 1, "SUCCEEDED", T0, "/logs/1"))
        artifact = make_artifact(task, "model")
        store.record_task_result(
            replace(task, state="SUCCEEDED"), [artifact], [event(artifact, task, "OUTPUT")]
        )

    store.delete_run("run-0001")
    with pytest.raises(NotFound):
        store.get_run("run-0001")
    assert store.list_tasks("run-0001") == []
    assert store.list_attempts("run-0001/train") == []
    assert store.list_artifacts(ListQuery(), run_id="run-0001").total_size == 0
    assert store.artifact_events("run-0001/train/model") == []
    # The other run is untouched.
    assert len(store.list_tasks("run-0002")) == 1
    assert store.get_artifact("run-0002/train/model").name == "model"
    assert len(store.artifact_events("run-0002/train/model")) == 1


# --------------------------------------------------------------------------- tasks


def test_tasks_upsert_list_and_attempts(store: Store) -> None:
    store.create_run(make_run(1))
    late = make_task("run-0001", "late", seconds=5)
    early = make_task("run-0001", "early", seconds=1, inputs={"parameters": {"x": 1}}, command=["echo", "hi"])
    store.put_task(late)
    store.put_task(early)
    assert [t.name for t in store.list_tasks("run-0001")] == ["early", "late"]
    assert store.get_task(early.task_id) == early
    done = replace(late, state="SUCCEEDED", attempts=2, finished_at=at(9), details={"image": "python"})
    store.put_task(done)
    assert store.get_task(late.task_id) == done
    with pytest.raises(NotFound):
        store.get_task("missing")

    store.put_attempt(TaskAttempt(late.task_id, 1, "RUNNING", at(5), "/logs/late.1"))
    store.put_attempt(TaskAttempt(late.task_id, 2, "SUCCEEDED", at(6), "/logs/late.2", at(7), 0))
    store.put_attempt(TaskAttempt(late.task_id, 1, "FAILED", at(5), "/logs/late.1", at(6), 1, "boom"))
    store.put_attempt(TaskAttempt(early.task_id, 1, "RUNNING", at(1), "/logs/early.1"))
    attempts = store.list_attempts(late.task_id)
    assert [(a.attempt, a.state, a.exit_code) for a in attempts] == [(1, "FAILED", 1), (2, "SUCCEEDED", 0)]
    with count_statements(store) as statements:
        by_task = store.list_attempts_for_run("run-0001")
    assert len(statements) == 1
    assert by_task == {late.task_id: attempts, early.task_id: store.list_attempts(early.task_id)}
    with pytest.raises(NotFound):
        store.put_attempt(TaskAttempt("missing", 1, "RUNNING", T0, "/logs/x"))


def test_find_cached_task_returns_the_newest_succeeded_match(store: Store) -> None:
    store.create_run(make_run(1))
    store.create_run(make_run(2))
    store.put_task(make_task("run-0001", "a", seconds=1, state="SUCCEEDED", fingerprint="fp"))
    store.put_task(
        make_task("run-0002", "a", seconds=2, state="SUCCEEDED", fingerprint="fp", outputs={"n": 2})
    )
    store.put_task(make_task("run-0002", "b", seconds=3, state="FAILED", fingerprint="fp"))
    store.put_task(make_task("run-0002", "c", seconds=4, state="SUCCEEDED", fingerprint="other"))
    found = store.find_cached_task("fp")
    assert found is not None and found.task_id == "run-0002/a" and found.outputs == {"n": 2}
    assert store.find_cached_task("unknown") is None


def test_record_task_result_stores_task_artifacts_and_lineage(store: Store) -> None:
    store.create_run(make_run(1))
    producer = make_task("run-0001", "producer", seconds=1)
    consumer = make_task("run-0001", "consumer", seconds=2)
    store.put_task(producer)
    store.put_task(consumer)
    data = make_artifact(producer, "data", seconds=1, metadata={"rows": 10}, schema_title="system.Dataset")
    model = make_artifact(producer, "model", seconds=2, schema_title="system.Model", digest="sha256:x")
    finished = replace(producer, state="SUCCEEDED", outputs={"artifacts": {"data": [{"uri": data.uri}]}})
    events = [event(data, producer, "OUTPUT", 1), event(model, producer, "OUTPUT", 2)]
    store.record_task_result(finished, [data, model], events)
    store.record_task_result(finished, [data, model], events)  # a resumed run records again
    store.record_task_result(replace(consumer, state="SUCCEEDED"), [], [event(data, consumer, "INPUT", 3)])

    assert store.get_task(producer.task_id) == finished
    assert store.get_artifact(data.artifact_id) == data
    assert store.list_artifacts_for_task(producer.task_id) == [data, model]
    lineage = store.artifact_events(data.artifact_id)
    assert [(e.task_id, e.kind) for e in lineage] == [
        (producer.task_id, "OUTPUT"),
        (consumer.task_id, "INPUT"),
    ]
    assert [e.kind for e in store.task_events(consumer.task_id)] == ["INPUT"]
    with pytest.raises(NotFound):
        store.get_artifact("missing")

    models = store.list_artifacts(ListQuery(), run_id="run-0001", schema_title="system.Model")
    assert [a.artifact_id for a in models.items] == [model.artifact_id]
    typed = store.list_artifacts(ListQuery(predicates=(Predicate("type", "EQUALS", "system.Dataset"),)))
    assert [a.artifact_id for a in typed.items] == [data.artifact_id]
    paged = all_pages(store.list_artifacts, ListQuery(page_size=1, sort_by="name", descending=False))
    assert [a.name for a in paged] == ["data", "model"]


def test_failed_record_task_result_leaves_nothing(store: Store) -> None:
    store.create_run(make_run(1))
    task = make_task("run-0001", "t")
    store.put_task(task)
    artifact = make_artifact(task, "out")
    ghost = make_artifact(task, "ghost")  # never stored, so its event violates a foreign key
    finished = replace(task, state="SUCCEEDED")
    with pytest.raises(FailedPrecondition):
        store.record_task_result(
            finished, [artifact], [event(artifact, task, "OUTPUT"), event(ghost, task, "OUTPUT")]
        )
    assert store.get_task(task.task_id).state == "RUNNING"
    assert store.list_artifacts(ListQuery(), run_id="run-0001").total_size == 0
    assert store.artifact_events(artifact.artifact_id) == []


def test_delete_tasks_for_retry(store: Store) -> None:
    store.create_run(make_run(1))
    keep = make_task("run-0001", "keep", seconds=1, state="SUCCEEDED")
    retry = make_task("run-0001", "retry", seconds=2, state="FAILED")
    for task in (keep, retry):
        store.put_task(task)
        store.put_attempt(TaskAttempt(task.task_id, 1, task.state, T0, "/logs"))
        artifact = make_artifact(task, "out")
        store.record_task_result(task, [artifact], [event(artifact, task, "OUTPUT")])
    assert store.delete_tasks("run-0001", [retry.task_id, "unknown"]) == 1
    assert [t.task_id for t in store.list_tasks("run-0001")] == [keep.task_id]
    assert store.list_attempts(retry.task_id) == []
    assert [a.name for a in store.list_artifacts_for_task(retry.task_id)] == []
    assert len(store.list_attempts_for_run("run-0001")) == 1
    assert store.delete_tasks("run-0002", [keep.task_id]) == 0  # another run's task id is not touched
    assert store.get_task(keep.task_id) == keep


# --------------------------------------------------------------------------- claims


def test_claim_takes_pending_runs_oldest_first_and_respects_live_leases(store: Store) -> None:
    store.create_run(make_run(2))
    store.create_run(make_run(1))
    store.create_run(make_run(3, state="RUNNING"))  # started by a process that takes no claims
    store.create_run(make_run(4, state="SUCCEEDED"))
    first = store.claim_run("w1", 30, T0)
    assert first is not None and (first.run_id, first.worker_id) == ("run-0001", "w1")
    assert first.lease_expires_at == T0 + timedelta(seconds=30)
    second = store.claim_run("w2", 30, T0)
    assert second is not None and second.run_id == "run-0002"
    assert store.claim_run("w3", 30, T0 + timedelta(seconds=29)) is None


def test_expired_lease_can_be_reclaimed_and_renewal_is_owner_only(store: Store) -> None:
    store.create_run(make_run(1))
    claimed = store.claim_run("w1", 10, T0)
    assert claimed is not None
    store.update_run(claimed.run_id, state="RUNNING")
    assert store.renew_lease(claimed.run_id, "w1", 10, T0 + timedelta(seconds=5))
    assert not store.renew_lease(claimed.run_id, "w2", 10, T0 + timedelta(seconds=5))
    assert store.claim_run("w2", 10, T0 + timedelta(seconds=14)) is None  # renewed until 15 s
    taken = store.claim_run("w2", 10, T0 + timedelta(seconds=16))
    assert taken is not None and (taken.run_id, taken.worker_id, taken.state) == ("run-0001", "w2", "RUNNING")
    assert not store.renew_lease(claimed.run_id, "w1", 10, T0 + timedelta(seconds=17))
    assert not store.release_run(claimed.run_id, "w1")
    assert store.get_run(claimed.run_id).worker_id == "w2"
    assert not store.renew_lease("missing", "w1", 10, T0)


def test_released_runs_are_claimable_only_when_unfinished(store: Store) -> None:
    store.create_run(make_run(1))
    store.create_run(make_run(2))
    assert [getattr(store.claim_run("w1", 60, T0), "run_id", None) for _ in range(3)] == [
        "run-0001",
        "run-0002",
        None,
    ]
    for run_id, state in (("run-0001", "RUNNING"), ("run-0002", "SUCCEEDED")):
        store.update_run(run_id, state=state)
        assert store.release_run(run_id, "w1")
    assert store.get_run("run-0002").lease_expires_at is None
    again = store.claim_run("w2", 60, T0)
    assert again is not None and again.run_id == "run-0001"
    assert store.claim_run("w3", 60, T0) is None


def test_concurrent_claims_never_share_a_run(store_url: str) -> None:
    # Separate stores have separate pools, like separate worker processes.
    stores = [open_store(store_url) for _ in range(4)]
    try:
        for i in range(40):
            stores[0].create_run(make_run(i))
        barrier = threading.Barrier(8)
        claimed: list[list[str]] = [[] for _ in range(8)]
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            store = stores[n % len(stores)]
            try:
                barrier.wait()
                while (run := store.claim_run(f"w{n}", 300, T0)) is not None:
                    claimed[n].append(run.run_id)
            except BaseException as e:  # surfaced below, a thread cannot fail the test
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        everything = [run_id for ids in claimed for run_id in ids]
        assert sorted(everything) == [f"run-{i:04d}" for i in range(40)]  # each exactly once
        owners = {r.run_id: r.worker_id for r in stores[0].list_runs(ListQuery(page_size=100)).items}
        for n, ids in enumerate(claimed):
            assert all(owners[run_id] == f"w{n}" for run_id in ids)
    finally:
        for s in stores:
            s.close()


def test_postgres_claims_skip_rows_locked_by_another_claimer(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite serialises writers")
    store.create_run(make_run(1))
    store.create_run(make_run(2))
    with store.engine.connect() as other:
        # Another worker is in the middle of claiming the oldest run.
        other.execute(sa.text("SELECT run_id FROM runs WHERE run_id = 'run-0001' FOR UPDATE"))
        claimed = store.claim_run("w2", 60, T0)
        other.rollback()
    assert claimed is not None and claimed.run_id == "run-0002"


# --------------------------------------------------------------------------- recurring runs


def test_recurring_runs(store: Store) -> None:
    trigger = {"cron_schedule": {"cron": "0 0 * * * *"}}
    nightly = store.create_recurring_run(
        RecurringRun(
            "", "nightly", T0, T0, trigger, experiment_id="e1", parameters={"n": 1}, pipeline_spec=SPEC
        )
    )
    paused = store.create_recurring_run(RecurringRun("rr2", "paused", at(1), at(1), trigger, mode="DISABLE"))
    assert store.get_recurring_run(nightly.recurring_run_id) == nightly
    assert [r.recurring_run_id for r in store.list_enabled_recurring_runs()] == [nightly.recurring_run_id]
    assert store.list_recurring_runs(ListQuery(), experiment_id="e1").items == [nightly]
    named = store.list_recurring_runs(ListQuery(predicates=(Predicate("name", "EQUALS", "paused"),)))
    assert named.items == [paused]

    fired = store.update_recurring_run(nightly.recurring_run_id, last_fired_at=at(60), mode="DISABLE")
    assert (fired.last_fired_at, fired.mode) == (at(60), "DISABLE")
    assert store.list_enabled_recurring_runs() == []
    with pytest.raises(InvalidArgument):
        store.update_recurring_run("rr2", id="other")

    rid = nightly.recurring_run_id
    store.create_run(make_run(1, recurring_run_id=rid, state="RUNNING"))
    store.create_run(make_run(2, recurring_run_id=rid, state="PENDING"))
    store.create_run(make_run(3, recurring_run_id=rid, state="SUCCEEDED"))
    store.create_run(make_run(4, state="RUNNING"))
    assert store.count_active_runs_of_recurring(rid) == 2

    store.delete_recurring_run("rr2")
    for call in (store.get_recurring_run, store.delete_recurring_run):
        with pytest.raises(NotFound):
            call("rr2")
    with pytest.raises(NotFound):
        store.update_recurring_run("rr2", mode="ENABLE")


# --------------------------------------------------------------------------- schema


def test_migrated_schema_matches_the_metadata_the_code_queries(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_advancing_a_schedule_is_a_compare_and_set(store: Store) -> None:
    trigger = {"periodic_schedule": {"interval_second": 60}}
    rr = store.create_recurring_run(RecurringRun("", "every minute", T0, T0, trigger))
    # Two schedulers saw the same state; only the first one fires this time.
    assert store.advance_recurring_run(rr.recurring_run_id, None, at(60)) is True
    assert store.advance_recurring_run(rr.recurring_run_id, None, at(60)) is False
    assert store.get_recurring_run(rr.recurring_run_id).last_fired_at == at(60)
    assert store.advance_recurring_run(rr.recurring_run_id, at(60), at(120)) is True
    assert store.advance_recurring_run(rr.recurring_run_id, at(60), at(120)) is False
    assert store.get_recurring_run(rr.recurring_run_id).last_fired_at == at(120)
