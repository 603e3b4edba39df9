"""The model server's bearer check (a deployment beyond loopback on a server with a token)."""

from __future__ import annotations

import asyncio
from typing import Any

from pipeyard.serving._model_server import _BearerCheck, _wants_probabilities


def call(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"model"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    check = _BearerCheck(app, token="t0k")
    asyncio.run(check({"type": "http", "path": path, "headers": headers}, receive, send))
    return sent[0]["status"], sent[1]["body"]


def test_requests_need_the_token_except_health() -> None:
    assert call("/v1/models/iris:predict", []) == (401, b'{"error": "missing or wrong bearer token"}')
    assert call("/v1/models/iris:predict", [(b"authorization", b"Bearer nope")])[0] == 401
    assert call("/v1/models/iris:predict", [(b"authorization", b"Bearer t0k")]) == (200, b"model")
    assert call("/v2/health/ready", []) == (200, b"model")


def test_probabilities_on_request() -> None:
    assert _wants_probabilities({"probabilities": True})
    assert _wants_probabilities({"predict_proba": "true"})
    assert not _wants_probabilities({"probabilities": False})
    assert not _wants_probabilities(None)
    assert not _wants_probabilities({"content_type": "np"})
