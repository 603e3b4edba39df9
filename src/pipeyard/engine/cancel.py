"""Why a run's execution was cancelled.

Cancelling the coroutine of ``execute_run`` normally means "terminate": task
processes are killed and the run, its tasks and attempts are recorded CANCELED.
A worker that lost its lease to another worker must instead stop without writing
anything (the run belongs to someone else now): it cancels with the message
``ABANDON``, which travels with the CancelledError through every nested task.
"""

from __future__ import annotations

import asyncio

ABANDON = "lease-lost"


def abandoned(error: asyncio.CancelledError) -> bool:
    return bool(error.args) and error.args[0] == ABANDON
