"""GET /apis/pipeyard/v1/runs/{id}/tasks?iteration_page_size=N: the run page's window onto a
huge run: tasks outside loops, one page of each loop's iterations with what runs inside
them (attempts included), and every loop's iteration counts by state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pipeyard.config import Settings
from pipeyard.entities import Run, RuntimeState, Task, TaskAttempt, TaskKind
from pipeyard.server.app import create_app
from pipeyard.store import open_store

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
ITERATIONS = 250
INNER = 3


def _task(task_id: str, path: str, kind: TaskKind, parent: str | None, n: int, index: int | None = None,
          state: RuntimeState = "SUCCEEDED") -> Task:
    return Task(task_id, "big", path, path.rsplit("/", 1)[-1], path, kind, state,
                NOW + timedelta(milliseconds=n), parent_task_id=parent, iteration_index=index)


def _rows() -> list[Task]:
    rows = [_task("prep", "prep", "CONTAINER", None, 0), _task("loop", "for-loop", "LOOP", None, 1)]
    n = 2
    for i in range(ITERATIONS):
        state: RuntimeState = "FAILED" if i % 50 == 7 else "SUCCEEDED"
        rows.append(_task(f"it-{i}", f"for-loop[{i}]", "ITERATION", "loop", n, i, state))
        rows.append(_task(f"step-{i}", f"for-loop[{i}]/step", "CONTAINER", f"it-{i}", n + 1, i, state))
        # a nested loop of INNER iterations in every outer iteration
        rows.append(_task(f"inner-{i}", f"for-loop[{i}]/inner", "LOOP", f"it-{i}", n + 2, i))
        for j in range(INNER):
            rows.append(_task(f"in-{i}-{j}", f"for-loop[{i}]/inner[{j}]", "ITERATION", f"inner-{i}", n + 3 + j, j))
        n += 3 + INNER
    return rows


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path_factory.mktemp("window") / "home")})
    settings.ensure_dirs()
    with open_store(settings.database_url) as store:
        store.create_run(Run("big", "big", {}, "RUNNING", NOW))
        store.put_tasks(_rows())
        for i in (3, 120):
            store.put_attempt(TaskAttempt(f"step-{i}", 1, "SUCCEEDED", NOW, "", NOW, exit_code=0))
        yield TestClient(create_app(settings, store, start_workers=False), base_url="http://127.0.0.1")


def _window(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/apis/pipeyard/v1/runs/big/tasks", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _outer_indexes(body: dict[str, Any]) -> list[int]:
    return sorted(t["iteration_index"] for t in body["tasks"] if t["kind"] == "ITERATION"
                  and t["path"].count("[") == 1)


def test_the_first_window_holds_the_first_page_of_every_loop_and_the_counts(client: TestClient) -> None:
    body = _window(client, iteration_page_size=100)
    paths = {t["path"] for t in body["tasks"]}
    assert {"prep", "for-loop", "for-loop[0]/step", "for-loop[99]/inner[2]"} <= paths
    assert "for-loop[100]" not in paths and "for-loop[100]/step" not in paths
    assert _outer_indexes(body) == list(range(100))
    # each row sent once, in creation order
    assert len(paths) == len(body["tasks"]) == 2 + 100 * (3 + INNER)
    counts = {c["loop_task_id"]: c for c in body["loops"]}
    assert counts["loop"] == {"loop_task_id": "loop", "total": ITERATIONS, "states": {"SUCCEEDED": 245, "FAILED": 5}}
    assert counts["inner-200"]["total"] == INNER
    step3 = next(t for t in body["tasks"] if t["task_id"] == "step-3")
    assert [a["exit_code"] for a in step3["attempt_list"]] == [0]


def test_a_later_page_of_one_loop_replaces_its_first_page(client: TestClient) -> None:
    body = _window(client, iteration_page_size=100, loop="for-loop", iteration_offset=100)
    assert _outer_indexes(body) == list(range(100, 200))
    paths = {t["path"] for t in body["tasks"]}
    assert {"prep", "for-loop", "for-loop[150]/step", "for-loop[150]/inner[1]"} <= paths
    assert not any(p.startswith(("for-loop[0]", "for-loop[99]/", "for-loop[200]")) for p in paths)
    step = next(t for t in body["tasks"] if t["task_id"] == "step-120")
    assert len(step["attempt_list"]) == 1


def test_the_last_page_is_short_and_the_whole_list_is_unchanged(client: TestClient) -> None:
    assert _outer_indexes(_window(client, iteration_page_size=100, loop="for-loop", iteration_offset=200)) == list(
        range(200, ITERATIONS)
    )
    whole = _window(client)
    assert len(whole["tasks"]) == 2 + ITERATIONS * (3 + INNER)
    assert "loops" not in whole


@pytest.mark.parametrize(
    ("params", "field"),
    [({"iteration_page_size": 0}, "iteration_page_size"), ({"iteration_page_size": 5000}, "iteration_page_size"),
     ({"iteration_page_size": 10, "iteration_offset": -1}, "iteration_offset")],
)
def test_bad_window_parameters_are_refused_naming_the_field(client: TestClient, params: dict[str, int],
                                                            field: str) -> None:
    response = client.get("/apis/pipeyard/v1/runs/big/tasks", params=params)
    assert response.status_code == 400
    assert field in response.text
