"""Bearer-token authentication for ``/apis/...``, as KFP's ``Authorization: Bearer``.

Bound to loopback the server trusts its callers; bound to anything else it needs a
token (``PIPEYARD_AUTH_TOKEN``), checked here for every API path. The static UI is
public: it holds no data, and it asks the user for the token to call the API.
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

from pipeyard.server.errors import error_response

API_PREFIX = "/apis/"


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerAuth:
    """Pure ASGI middleware: cheaper than BaseHTTPMiddleware and safe for SSE streams."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The OpenAPI document and /docs stay public: they describe, they hold no data.
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            given = b""
            for name, value in scope.get("headers", ()):
                if name == b"authorization":
                    # The scheme is case-insensitive (RFC 9110 11.1): "bearer x" is "Bearer x".
                    scheme, _, credentials = value.strip().partition(b" ")
                    if scheme.lower() == b"bearer":
                        given = credentials.strip()
                    break
            if not given or not hmac.compare_digest(given, self.expected):
                resp = error_response(401, "missing or wrong bearer token (Authorization: Bearer <token>)")
                resp.headers["WWW-Authenticate"] = "Bearer"
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)
