"""Pages of a run's task details for ``GET /apis/v2beta1/runs/{id}`` (a pipeyard extension).

KFP sends every task of a run in ``run_details.task_details``. That stays so for any run of up
to ``WHOLE_LIMIT`` tasks, so kfp.Client and KFP's UI see KFP's shape. A larger run (a
10,000-item loop holds 20,000 tasks) would make every poll of it megabytes of JSON, so its
details come in pages: ``?task_page_size=N`` asks for a page (any run; 0 for the run and
its task count alone), ``task_page_token`` for the next one, and a paged answer carries
``run_details.next_task_page_token`` (empty on the last page) and ``run_details.total_task_count``.

The run page asks ``GET /apis/pipeyard/v1/runs/{id}/tasks?iteration_page_size=N`` instead
(``task_window_json``): what one scope of its graph draws, a page of each loop's iterations.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pipeyard.entities import Run
from pipeyard.errors import InvalidArgument
from pipeyard.server.converters import run_json, task_detail_json, task_json
from pipeyard.store.sql_store import Store

WHOLE_LIMIT = 1000
MAX_PAGE = 5000
MAX_ITERATION_PAGE = 1000


def encode_token(run_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{run_id}:{offset}".encode()).decode()


def decode_token(run_id: str, token: str) -> int:
    try:
        owner, _, offset = base64.urlsafe_b64decode(token.encode()).decode().rpartition(":")
        value = int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument(
            f"task_page_token {token!r} is not a token this API issued", field="task_page_token"
        ) from None
    if owner != run_id or value < 0:
        raise InvalidArgument("task_page_token belongs to another run", field="task_page_token")
    return value


def run_with_tasks(store: Store, run: Run, page_size: int | None, page_token: str | None) -> dict[str, Any]:
    if page_size is not None and not 0 <= page_size <= MAX_PAGE:
        raise InvalidArgument(
            f"task_page_size must be between 0 and {MAX_PAGE}, not {page_size}", field="task_page_size"
        )
    total = store.count_tasks(run.run_id)
    if page_size is None and not page_token and total <= WHOLE_LIMIT:
        return run_json(run, store.list_tasks(run.run_id))
    size = WHOLE_LIMIT if page_size is None else page_size
    offset = decode_token(run.run_id, page_token) if page_token else 0
    page = store.list_tasks_slice(run.run_id, offset, size) if size else []
    children = store.child_task_ids(run.run_id, [t.task_id for t in page]) if page else {}
    body = run_json(run)
    end = offset + len(page)
    body["run_details"] = {
        "task_details": [task_detail_json(t, children.get(t.task_id, ())) for t in page],
        "next_task_page_token": encode_token(run.run_id, end) if end < total else "",
        "total_task_count": total,
    }
    return body


def task_window_json(store: Store, run_id: str, size: int | None, loop: str, offset: int) -> dict[str, Any]:
    """``GET /apis/pipeyard/v1/runs/{id}/tasks?iteration_page_size=N[&loop=PATH&iteration_offset=M]``:
    the tasks the run page draws for a run of any size (``store/task_windows.py``), with each
    loop's iteration counts so that it can show totals and page through the rest."""
    size = 100 if size is None else size
    if not 1 <= size <= MAX_ITERATION_PAGE:
        raise InvalidArgument(
            f"iteration_page_size must be between 1 and {MAX_ITERATION_PAGE}, not {size}",
            field="iteration_page_size",
        )
    if offset < 0:
        raise InvalidArgument(f"iteration_offset must not be negative, not {offset}", field="iteration_offset")
    window = store.task_window(run_id, size, loop, offset)
    return {
        "tasks": [task_json(t, window.attempts.get(t.task_id, ())) for t in window.tasks],
        "loops": [{"loop_task_id": c.loop_task_id, "total": c.total, "states": c.by_state} for c in window.loops],
    }
