"""The server's edge against browsers used as a weapon: DNS rebinding and cross-site requests.

A server on loopback without a token trusts its callers, and a web page the user visits is
also a caller: it can send "simple" cross-origin requests (a multipart POST with
``mode: "no-cors"``), and after DNS rebinding it can even read the answers. Two checks
close both, as Jupyter does:

- The ``Host`` header must name this server: the address it is bound to, ``localhost``,
  ``127.0.0.1``, ``[::1]``, or a name in ``PIPEYARD_ALLOWED_HOSTS``. A rebound page sends
  its own domain name, so it gets a 400. Bound to a wildcard address (``0.0.0.0``), the
  server requires a token anyway, and any name may reach it.
- A state-changing request (anything but GET, HEAD, OPTIONS) coming from a browser must come
  from the server's own origin (or one in ``PIPEYARD_ALLOWED_ORIGINS``), and must carry a
  JSON content type or the ``X-Requested-By`` header, which a page on another origin cannot
  add without a CORS preflight that this server never grants. A request is a browser's when
  it carries ``Origin``, ``Referer`` or ``Sec-Fetch-Site`` headers; programmatic clients such as
  ``kfp.Client`` send none of them and are not affected.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from pipeyard.server.errors import error_response

ALLOWED_HOSTS_ENV = "PIPEYARD_ALLOWED_HOSTS"
ALLOWED_ORIGINS_ENV = "PIPEYARD_ALLOWED_ORIGINS"
# The header the UI sends with every state-changing request.
CSRF_HEADER = "x-requested-by"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# Browsers send Sec-Fetch-Site on every request (and Origin on every cross-origin POST);
# Node's fetch sends Sec-Fetch-Mode alone, so that one does not mark a browser.
_BROWSER_HEADERS = (b"origin", b"referer", b"sec-fetch-site")


def _split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _host_name(host_header: str) -> str:
    """The name in a Host header, without the port, lower case (``[::1]:8888`` -> ``::1``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_wildcard(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_unspecified
    except ValueError:
        return False


@dataclass(frozen=True)
class EdgePolicy:
    """Which Host names and Origins this server answers; ``None`` hosts means any name."""

    hosts: frozenset[str] | None
    origins: frozenset[str]

    @staticmethod
    def for_binding(
        bind_host: str,
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
    ) -> EdgePolicy:
        extra_hosts = [h.lower() for h in allowed_hosts]
        origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)
        if "*" in extra_hosts or _is_wildcard(bind_host):
            return EdgePolicy(hosts=None, origins=origins)
        names = {*_LOOPBACK_NAMES, _host_name(bind_host), *(_host_name(h) for h in extra_hosts)}
        return EdgePolicy(hosts=frozenset(names), origins=origins)

    @staticmethod
    def from_env(bind_host: str, env: dict[str, str] | None = None) -> EdgePolicy:
        env = dict(os.environ) if env is None else env
        return EdgePolicy.for_binding(
            bind_host, _split_list(env.get(ALLOWED_HOSTS_ENV)), _split_list(env.get(ALLOWED_ORIGINS_ENV))
        )

    def host_allowed(self, host_header: str) -> bool:
        if self.hosts is None:
            return True
        return _host_name(host_header) in self.hosts

    def origin_allowed(self, origin: str, host_header: str) -> bool:
        """``origin`` is a browser's ``Origin`` (or the origin of its ``Referer``)."""
        origin = origin.rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (sandboxed frames, file://) and the like
        # The server's own origin: the page was served by this server under the same Host.
        return parts.netloc == host_header.strip().lower()


class EdgeGuard:
    """Pure ASGI middleware (safe for SSE streams) applying an :class:`EdgePolicy`."""

    def __init__(self, app: ASGIApp, policy: EdgePolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, str] = {}
        for name, value in scope.get("headers", ()):
            headers.setdefault(name, value.decode("latin-1"))
        problem = self._refusal(scope["method"].upper(), headers)
        if problem is not None:
            status, message = problem
            await error_response(status, message)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, method: str, headers: dict[bytes, str]) -> tuple[int, str] | None:
        host = headers.get(b"host", "")
        if not self.policy.host_allowed(host):
            return (
                400,
                f"unknown Host {host!r}: this server answers only to its own address; "
                f"add the name to {ALLOWED_HOSTS_ENV} to allow it",
            )
        if method in _SAFE_METHODS or not any(h in headers for h in _BROWSER_HEADERS):
            return None
        origin = headers.get(b"origin")
        if origin is None and b"referer" in headers:
            ref = urlsplit(headers[b"referer"])
            origin = f"{ref.scheme}://{ref.netloc}" if ref.scheme and ref.netloc else "null"
        if origin is not None and not self.policy.origin_allowed(origin, host):
            return (
                403,
                f"cross-origin request from {origin!r} refused: state-changing requests must come "
                f"from this server's own pages (or an origin in {ALLOWED_ORIGINS_ENV})",
            )
        if headers.get(b"sec-fetch-site", "") == "cross-site" and origin is None:
            return 403, "cross-site request refused"
        content_type = headers.get(b"content-type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json" and CSRF_HEADER.encode() not in headers:
            return (
                403,
                "a browser's state-changing request needs a JSON body or the X-Requested-By header",
            )
        return None
