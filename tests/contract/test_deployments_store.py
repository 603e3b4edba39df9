"""The deployments part of the store, on every backend: create, update (generation), delete
request, origin lookup."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeyard.errors import InvalidArgument, NotFound
from pipeyard.store import Store
from pipeyard.store.deployments import Deployment


def spec(name: str = "iris", uri: str = "/models/a", port: int | None = None) -> Deployment:
    now = datetime.now(timezone.utc)
    return Deployment(name=name, model_uri=uri, framework="sklearn", created_at=now, updated_at=now, port=port)


def test_put_creates_then_replaces_with_a_new_generation(store: Store) -> None:
    first = store.put_deployment(spec())
    assert (first.generation, first.observed_generation, first.state) == (1, 0, "PENDING")
    store.update_deployment("iris", state="READY", port=9001, url="http://127.0.0.1:9001", observed_generation=1,
                            pid=123)
    second = store.put_deployment(spec(uri="/models/b"))
    assert second.generation == 2 and second.model_uri == "/models/b"
    # The port and creation time stay: clients keep their URL across an update.
    assert (second.port, second.url, second.created_at) == (9001, "http://127.0.0.1:9001", first.created_at)
    got = store.get_deployment("iris")
    assert got == second and got.observed_generation == 1
    assert [d.name for d in store.list_deployments()] == ["iris"]


def test_delete_request_then_delete(store: Store) -> None:
    store.put_deployment(spec())
    marked = store.request_deployment_delete("iris")
    assert (marked.desired, marked.generation) == ("delete", 2)
    store.delete_deployment("iris")
    with pytest.raises(NotFound):
        store.get_deployment("iris")
    with pytest.raises(NotFound):
        store.request_deployment_delete("iris")
    with pytest.raises(NotFound):
        store.update_deployment("iris", state="READY")


def test_unknown_fields_are_refused(store: Store) -> None:
    store.put_deployment(spec())
    with pytest.raises(InvalidArgument, match="generations"):
        store.update_deployment("iris", generations=3)
    with pytest.raises(InvalidArgument, match="colour"):
        store.update_deployment("iris", colour="blue")


def test_origin_of_an_unknown_uri_is_none(store: Store) -> None:
    assert store.artifact_origin("/nowhere") is None
