"""GET /apis/v2beta1/runs/{id}: a run of up to 1,000 tasks keeps KFP's shape; a larger one
sends its task details in pages (task_page_size / task_page_token), children included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from pipeyard.config import Settings
from pipeyard.entities import Run, Task, TaskKind
from pipeyard.server.app import create_app
from pipeyard.store import open_store

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
ITERATIONS = 1100


def _task(task_id: str, run_id: str, path: str, kind: TaskKind, parent: str | None, n: int) -> Task:
    return Task(
        task_id,
        run_id,
        path,
        path,
        path,
        kind,
        "SUCCEEDED",
        NOW + timedelta(milliseconds=n),
        parent_task_id=parent,
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path_factory.mktemp("pages") / "home")})
    settings.ensure_dirs()
    with open_store(settings.database_url) as store:
        store.create_run(Run("big", "big", {}, "SUCCEEDED", NOW))
        store.put_tasks(
            [_task("loop", "big", "for-loop", "LOOP", None, 0)]
            + [
                _task(f"it-{i:05d}", "big", f"for-loop[{i}]", "ITERATION", "loop", i + 1)
                for i in range(ITERATIONS)
            ]
        )
        store.create_run(Run("small", "small", {}, "SUCCEEDED", NOW))
        store.put_task(_task("s-dag", "small", "sub", "DAG", None, 0))
        store.put_task(_task("s-leaf", "small", "sub/leaf", "CONTAINER", "s-dag", 1))
        yield TestClient(create_app(settings, store, start_workers=False), base_url="http://127.0.0.1")


def test_a_small_run_keeps_kfps_shape(client: TestClient) -> None:
    body = client.get("/apis/v2beta1/runs/small").json()
    assert set(body["run_details"]) == {"task_details"}
    by_id = {t["task_id"]: t for t in body["run_details"]["task_details"]}
    assert by_id["s-dag"]["child_tasks"] == [{"task_id": "s-leaf"}]


def test_a_large_run_pages_its_task_details_with_every_child_listed(client: TestClient) -> None:
    first = client.get("/apis/v2beta1/runs/big").json()["run_details"]
    assert len(first["task_details"]) == 1000
    assert first["total_task_count"] == ITERATIONS + 1
    loop = first["task_details"][0]
    # the loop's children include the iterations on the next page
    assert len(loop["child_tasks"]) == ITERATIONS
    seen = [t["task_id"] for t in first["task_details"]]
    token = first["next_task_page_token"]
    while token:
        page = client.get("/apis/v2beta1/runs/big", params={"task_page_size": 60, "task_page_token": token})
        assert page.status_code == 200
        details = page.json()["run_details"]
        assert len(details["task_details"]) <= 60
        seen += [t["task_id"] for t in details["task_details"]]
        token = details["next_task_page_token"]
    assert seen == ["loop", *(f"it-{i:05d}" for i in range(ITERATIONS))]


def test_a_page_can_be_asked_of_any_run(client: TestClient) -> None:
    details = client.get("/apis/v2beta1/runs/small", params={"task_page_size": 1}).json()["run_details"]
    assert [t["task_id"] for t in details["task_details"]] == ["s-dag"]
    assert details["total_task_count"] == 2 and details["next_task_page_token"]


def test_a_page_of_no_tasks_is_the_run_and_its_task_count(client: TestClient) -> None:
    body = client.get("/apis/v2beta1/runs/big", params={"task_page_size": 0}).json()
    assert body["run_id"] == "big"
    assert body["run_details"]["task_details"] == []
    assert body["run_details"]["total_task_count"] == ITERATIONS + 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"task_page_size": -1}, "task_page_size"),
        ({"task_page_size": 5001}, "task_page_size"),
        ({"task_page_token": "not-a-token"}, "task_page_token"),
    ],
)
def test_bad_page_parameters_are_a_400_naming_the_field(
    client: TestClient, params: dict[str, object], field: str
) -> None:
    answer = client.get("/apis/v2beta1/runs/big", params=params)
    assert answer.status_code == 400
    assert field in answer.json()["message"]


def test_a_token_of_another_run_is_refused(client: TestClient) -> None:
    token = client.get("/apis/v2beta1/runs/big").json()["run_details"]["next_task_page_token"]
    answer = client.get("/apis/v2beta1/runs/small", params={"task_page_token": token})
    assert answer.status_code == 400 and "another run" in answer.json()["message"]
