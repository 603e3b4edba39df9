"""Pages of a run's task details for ``GET /apis/v2beta1/runs/{id}`` (a pipeyard extension).

KFP sends every task of a run in ``run_details.task_details``. That stays so for any run of up
to ``WHOLE_LIMIT`` tasks, so kfp.Client and KFP's UI see KFP's shape. A larger run (a
10,000-item loop holds 20,000 tasks) would make every poll of it megabytes of JSON, so its
details come in pages: ``?task_page_size=N`` asks for a page (any run), ``task_page_token``
for the next one, and a paged answer carries ``run_details.next_task_page_token`` (empty on
the last page) and ``run_details.total_task_count``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pipeyard.entities import Run
from pipeyard.errors import InvalidArgument
from pipeyard.server.converters import run_json, task_detail_json
from pipeyard.store.sql_store import Store

WHOLE_LIMIT = 1000
MAX_PAGE = 5000


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
    if page_size is not None and not 1 <= page_size <= MAX_PAGE:
        raise InvalidArgument(
            f"task_page_size must be between 1 and {MAX_PAGE}, not {page_size}", field="task_page_size"
        )
    total = store.count_tasks(run.run_id)
    if page_size is None and not page_token and total <= WHOLE_LIMIT:
        return run_json(run, store.list_tasks(run.run_id))
    size = page_size or WHOLE_LIMIT
    offset = decode_token(run.run_id, page_token) if page_token else 0
    page = store.list_tasks_slice(run.run_id, offset, size)
    children = store.child_task_ids(run.run_id, [t.task_id for t in page])
    body = run_json(run)
    end = offset + len(page)
    body["run_details"] = {
        "task_details": [task_detail_json(t, children.get(t.task_id, ())) for t in page],
        "next_task_page_token": encode_token(run.run_id, end) if end < total else "",
        "total_task_count": total,
    }
    return body
