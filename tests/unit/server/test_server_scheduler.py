"""The scheduler against a real (SQLite) store: it fires real runs, catches up or not,
and respects max_concurrency and disabled schedules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeyard.entities import ListQuery, RecurringRun, Run
from pipeyard.server.scheduler import RecurringScheduler
from pipeyard.store import Store, open_store

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
SPEC = {
    "pipelineInfo": {"name": "p"},
    "schemaVersion": "2.1.0",
    "root": {
        "inputDefinitions": {"parameters": {"n": {"parameterType": "NUMBER_INTEGER"}}},
        "dag": {"tasks": {}},
    },
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


def schedule(store: Store, **kw: object) -> RecurringRun:
    fields: dict = dict(
        recurring_run_id="rr-1",
        display_name="every minute",
        created_at=T0,
        updated_at=T0,
        trigger={"periodic_schedule": {"interval_second": "60"}},
        pipeline_spec=SPEC,
        parameters={"n": 3},
    )
    fields.update(kw)
    return store.create_recurring_run(RecurringRun(**fields))


def runs_of(store: Store) -> list[Run]:
    return store.list_runs(ListQuery(sort_by="scheduled_at", descending=False, page_size=100)).items


def test_fires_runs_and_catches_up_one_at_a_time(store: Store) -> None:
    schedule(store, max_concurrency=5)
    created: list[Run] = []
    sched = RecurringScheduler(store, on_run_created=created.append)
    now = T0 + timedelta(seconds=150)
    assert sched.tick(now) == T0 + timedelta(seconds=120)  # more is due: look again at once
    sched.tick(now)
    assert sched.tick(now) == T0 + timedelta(seconds=180)
    runs = runs_of(store)
    assert [r.scheduled_at for r in runs] == [T0 + timedelta(seconds=60), T0 + timedelta(seconds=120)]
    assert all(
        r.recurring_run_id == "rr-1" and r.state == "PENDING" and r.parameters == {"n": 3} for r in runs
    )
    assert [r.run_id for r in created] == [r.run_id for r in runs]
    assert store.get_recurring_run("rr-1").last_fired_at == T0 + timedelta(seconds=120)


def test_no_catchup_fires_only_the_latest(store: Store) -> None:
    schedule(store, no_catchup=True, max_concurrency=5)
    sched = RecurringScheduler(store)
    sched.tick(T0 + timedelta(seconds=610))
    sched.tick(T0 + timedelta(seconds=610))
    assert [r.scheduled_at for r in runs_of(store)] == [T0 + timedelta(seconds=600)]


def test_max_concurrency_holds_back(store: Store) -> None:
    schedule(store, max_concurrency=1)
    sched = RecurringScheduler(store)
    now = T0 + timedelta(seconds=300)
    sched.tick(now)
    sched.tick(now)
    assert len(runs_of(store)) == 1  # the first is still PENDING
    store.update_run(runs_of(store)[0].run_id, state="SUCCEEDED")
    sched.tick(now)
    assert len(runs_of(store)) == 2


def test_disabled_schedule_does_not_fire(store: Store) -> None:
    schedule(store, mode="DISABLE")
    assert RecurringScheduler(store).tick(T0 + timedelta(hours=1)) is None
    assert runs_of(store) == []
