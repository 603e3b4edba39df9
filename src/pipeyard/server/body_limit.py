"""A bound on request bodies, enforced while they arrive.

Without it an oversized upload is received and spooled to disk whole before any endpoint
can look at its size. Here a declared ``Content-Length`` over the bound gets a 413 at
once, and a body without one (chunked) is cut off as soon as it crosses the bound.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeyard.server.errors import error_response

# The largest pipeline package accepted (32 MB) and the multipart framing around it.
MAX_BODY_BYTES = 33 * 1024 * 1024


class BodyTooLarge(HTTPException):
    # An HTTPException, so that FastAPI's body parsing passes it on unchanged (it turns
    # other errors raised while reading the body into a 400).
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the {limit // (1024 * 1024)} MB limit")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    status = 413 if value.isdigit() else 400
                    await error_response(
                        status,
                        BodyTooLarge(self.max_bytes).detail if status == 413 else "invalid Content-Length",
                    )(scope, receive, send)
                    return
                break
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, bounded_receive, send)
