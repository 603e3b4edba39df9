"""Answers serialized where the endpoint runs, not on the server's event loop.

An endpoint that returns a dict has FastAPI walk it with ``jsonable_encoder`` after the
endpoint returns, on the event loop: a large answer (a run with its spec and task details,
a page of runs) then holds up every other request, the runs list included. The hot
endpoints build JSON-native dicts already (``converters.py``), so they serialize them
themselves, in the worker thread that ran them, with the encoder settings FastAPI uses.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


def json_response(body: Any, status_code: int = 200) -> Response:
    content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(content.encode("utf-8"), status_code=status_code, media_type="application/json")
