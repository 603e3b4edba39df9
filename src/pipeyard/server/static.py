"""The built UI: files from ``server/static/`` with a fallback to ``index.html`` so the
SPA's client-side routes survive a reload. The build is not committed; without it
``/`` says how to build it."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from pipeyard.server.errors import error_response

STATIC_DIR = Path(__file__).parent / "static"

_NO_UI = """<!doctype html><html><head><title>pipeyard</title></head><body>
<h1>pipeyard</h1>
<p>The API is running (<a href="/docs">/docs</a>), but the web UI is not built.</p>
<p>Build it with <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code>
(it is written to <code>src/pipeyard/server/static/</code>) and reload.</p>
</body></html>"""


def _resolve(root: Path, rel: str) -> Path | None:
    try:
        candidate = (root / rel.lstrip("/")).resolve()
    except (OSError, ValueError):
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def mount_static(app: FastAPI, root: Path = STATIC_DIR) -> None:
    root = root.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str, request: Request) -> Response:
        if path.startswith("apis/") or path == "apis":
            return error_response(404, f"no API endpoint {request.method} /{path}")
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(_NO_UI)
        found = _resolve(root, path) if path else None
        if found is not None:
            media = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
            # Hashed asset names never change content; index.html must always be fresh.
            cache = "public, max-age=31536000, immutable" if "/assets/" in f"/{path}" else "no-cache"
            return FileResponse(found, media_type=media, headers={"Cache-Control": cache})
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})
