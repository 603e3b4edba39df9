"""``TaskStore.write_rows``: many task and attempt rows, and a task's result, in one
transaction (what ``WriteBehind`` sends), over SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from tests.contract.test_store import T0, at, count_statements, event, make_artifact, make_run, make_task

from pipeyard.entities import ListQuery, TaskAttempt
from pipeyard.errors import NotFound
from pipeyard.store import Store
from pipeyard.store.recorder import RowBatches, WriteBehind


def test_write_rows_writes_tasks_attempts_and_a_result_together(store: Store) -> None:
    assert isinstance(store, RowBatches)
    store.create_run(make_run(1))
    dag = make_task("run-0001", "dag", kind="DAG")
    child = make_task("run-0001", "dag.t", seconds=1, parent_task_id=dag.task_id)
    store.write_rows([dag, child], [TaskAttempt(child.task_id, 1, "RUNNING", at(1), "/logs/t.1")])
    assert [t.task_id for t in store.list_tasks("run-0001")] == [dag.task_id, child.task_id]
    assert [a.state for a in store.list_attempts(child.task_id)] == ["RUNNING"]

    done = replace(child, state="SUCCEEDED", finished_at=at(2))
    data = make_artifact(done, "data", 2)
    store.write_rows([done], [replace(store.list_attempts(child.task_id)[0], state="SUCCEEDED")],
                     [data], [event(data, done, "OUTPUT", 2)])
    assert store.get_task(child.task_id) == done
    assert [a.state for a in store.list_attempts(child.task_id)] == ["SUCCEEDED"]
    assert [e.kind for e in store.task_events(child.task_id)] == ["OUTPUT"]


def test_write_rows_is_one_transaction_without_an_existence_check(store: Store) -> None:
    store.create_run(make_run(1))
    old = make_task("run-0001", "old")
    store.put_task(old)
    fresh = [make_task("run-0001", f"t{i}", seconds=i) for i in range(5)]
    attempts = [TaskAttempt(t.task_id, 1, "RUNNING", T0, "/logs") for t in [old, *fresh]]
    with count_statements(store) as statements:
        store.write_rows(fresh, attempts)
    # tasks, attempts: the foreign key checks the one attempt whose task was written earlier
    assert len(statements) == 2
    assert len(store.list_attempts_for_run("run-0001")) == 6


def test_write_rows_for_a_missing_task_writes_nothing(store: Store) -> None:
    store.create_run(make_run(1))
    task = make_task("run-0001", "t")
    with pytest.raises(NotFound, match="missing"):
        store.write_rows([task], [TaskAttempt("missing", 1, "RUNNING", T0, "/logs")])
    assert store.list_tasks("run-0001") == []


def test_write_behind_over_a_store_loses_no_result(store: Store) -> None:
    """A result is committed when ``record_task_result`` returns, with the rows that waited
    before it (its parent's); the attempts that wait are written by the next flush."""
    store.create_run(make_run(1))
    dag = make_task("run-0001", "dag", kind="DAG")
    child = make_task("run-0001", "dag.t", seconds=1, parent_task_id=dag.task_id)

    async def scenario() -> None:
        behind = WriteBehind(store, delay=3600)
        behind.put_task(dag)
        behind.put_task(child)
        behind.put_attempt(TaskAttempt(child.task_id, 1, "RUNNING", at(1), "/logs/t.1"))
        assert store.list_tasks("run-0001") == []
        done = replace(child, state="SUCCEEDED", finished_at=at(2))
        data = make_artifact(done, "data", 2)
        behind.record_task_result(done, [data], [event(data, done, "OUTPUT", 2)])
        # What a killed process leaves: the result and its parent, no attempt yet.
        assert {t.task_id: t.state for t in store.list_tasks("run-0001")} == {
            dag.task_id: "RUNNING", child.task_id: "SUCCEEDED"}
        assert store.list_artifacts(ListQuery(), run_id="run-0001").total_size == 1
        assert store.list_attempts(child.task_id) == []
        behind.put_attempt(TaskAttempt(child.task_id, 1, "SUCCEEDED", at(1), "/logs/t.1", at(2), 0))
        behind.flush()
        assert [a.state for a in store.list_attempts(child.task_id)] == ["SUCCEEDED"]

    asyncio.run(scenario())


def test_rows_written_in_a_batch_read_back_as_the_sqlalchemy_path_writes_them(store: Store) -> None:
    """``write_rows`` (driver SQL on SQLite) and ``record_task_result`` store every kind of
    column the same way: aware and naive timestamps, NULL and nested JSON, booleans; a
    caller's later change to a dict it passed does not reach the store."""
    store.create_run(make_run(1))
    plus_two = timezone(timedelta(hours=2))
    inputs: dict[str, Any] = {"parameters": {"x": {"list": [1, 2.5, None, True], "s": "é\n\"q\""}}}
    full = make_task("run-0001", "full", seconds=1, state="SUCCEEDED", inputs=inputs,
                     outputs={"parameters": {"Output": 3}}, command=["sh", "-c", "echo hi"],
                     details={"nested": {"a": [1, {"b": None}]}}, cached=True, attempts=2,
                     iteration_index=4, fingerprint="fp", error="boom",
                     started_at=datetime(2024, 5, 1, 14, 0, 1, 5, tzinfo=plus_two),
                     finished_at=datetime(2024, 5, 1, 12, 0, 2))  # naive: taken as UTC
    bare = make_task("run-0001", "bare", seconds=2, command=None)
    store.write_rows([full, bare], [TaskAttempt(full.task_id, 1, "FAILED", at(1), "/logs", at(2), 3, "x")])
    inputs["parameters"]["x"]["s"] = "changed"
    twin = replace(full, task_id="run-0001/twin", path="twin", inputs={
        "parameters": {"x": {"list": [1, 2.5, None, True], "s": "é\n\"q\""}}})
    store.record_task_result(twin, [], [])
    got = store.get_task(full.task_id)
    assert got == replace(store.get_task(twin.task_id), task_id=full.task_id, path="full")
    assert got.inputs == {"parameters": {"x": {"list": [1, 2.5, None, True], "s": "é\n\"q\""}}}
    assert got.started_at == datetime(2024, 5, 1, 12, 0, 1, 5, tzinfo=timezone.utc)
    assert got.finished_at == datetime(2024, 5, 1, 12, 0, 2, tzinfo=timezone.utc)
    assert store.get_task(bare.task_id) == bare
    assert store.get_task(bare.task_id).command is None
    assert store.list_attempts(full.task_id) == [TaskAttempt(full.task_id, 1, "FAILED", at(1), "/logs", at(2), 3, "x")]
    # The same values as the driver holds them (SQLite: text), whichever path wrote them.
    with store.engine.connect() as conn:
        raw = {r["task_id"]: r for r in conn.exec_driver_sql("SELECT * FROM tasks").mappings()}

    def stored(task_id: str) -> dict[str, Any]:
        return {k: v for k, v in raw[task_id].items() if k not in ("task_id", "path")}

    assert stored(full.task_id) == stored(twin.task_id)
