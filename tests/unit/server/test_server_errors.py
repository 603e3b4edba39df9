"""The one table from domain errors to HTTP statuses (server/errors.py)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipeyard.artifacts.filesystems import RemoteError
from pipeyard.errors import (
    AlreadyExists,
    FailedPrecondition,
    Forbidden,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    PipeyardError,
    SpecError,
)
from pipeyard.server.errors import http_status, install_error_handlers


@pytest.mark.parametrize(("error", "status"), [
    (SpecError("bad", where="p.yaml"), 400),
    (InvalidArgument("bad", field="x"), 400),
    (Forbidden("no"), 403),
    (NotFound("run", "r1"), 404),
    (AlreadyExists("pipeline", "p"), 409),
    (FailedPrecondition("running"), 409),
    (PayloadTooLarge("big"), 413),
    (RemoteError("upload failed"), 500),  # not the caller's fault
    (PipeyardError("?"), 500),
])
def test_each_error_class_has_its_status(error: PipeyardError, status: int) -> None:
    assert http_status(error) == status


def test_a_subclass_takes_its_nearest_listed_ancestor() -> None:
    class MissingRun(NotFound):
        pass

    assert http_status(MissingRun("run", "r1")) == 404


def test_the_handler_answers_with_the_table_and_kfp_body() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/gone")
    def gone() -> None:
        raise NotFound("run", "r1")

    resp = TestClient(app).get("/gone")
    assert resp.status_code == 404
    assert resp.json() == {"error_message": "run 'r1' not found", "code": 5,
                           "message": "run 'r1' not found", "details": []}
