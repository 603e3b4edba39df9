"""Live events for the UI: the engine's ``on_event`` sink feeds a broadcaster on the
API's event loop, which fans out to Server-Sent Events subscribers.

The engine calls the sink from the worker thread, synchronously, and it must be quick
and never raise: it only hands the event over with ``call_soon_threadsafe``. Each
subscriber has a bounded queue; a slow reader loses events (and is told so with a
``dropped`` comment) instead of slowing runs down. Task output lines are batched and,
past a bound, dropped before they reach the loop, so chatty tasks cannot slow the API.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pipeyard.engine.run_events import Event, LogLine, RunChanged, TaskChanged
from pipeyard.server.converters import run_json, task_json

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
# Put in a subscriber's queue to end its stream (server shutdown).
_CLOSE = ("", "")


@dataclass(eq=False)
class Subscriber:
    run_id: str | None
    queue: asyncio.Queue[tuple[str, str]] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: int = 0


def encode(event: Event) -> tuple[str, str, str]:
    """(SSE event name, run id, JSON data)."""
    data: dict[str, Any]
    if isinstance(event, RunChanged):
        name, run_id, data = "run", event.run.run_id, run_json(event.run)
    elif isinstance(event, TaskChanged):
        name, run_id, data = "task", event.task.run_id, task_json(event.task)
        # The event knows the task, not its attempts: an empty list would read as
        # "no attempts". Clients keep what GET .../tasks returned and refetch it.
        data.pop("attempt_list", None)
    elif isinstance(event, LogLine):
        name, run_id = "log", event.run_id
        data = {
            "run_id": event.run_id,
            "task_id": event.task_id,
            "attempt": event.attempt,
            "line": event.line,
        }
    else:  # pragma: no cover - the Event union is closed
        raise TypeError(type(event))
    return name, run_id, json.dumps(data, separators=(",", ":"), default=str)


# Task output reaches subscribers in batches, so a task printing hundreds of MB cannot
# monopolise the API's event loop: at most LOG_BATCH lines per LOG_BATCH_PAUSE, and past
# MAX_PENDING_LOGS waiting lines new ones are dropped (the log file has them all).
LOG_BATCH = 200
LOG_BATCH_PAUSE = 0.02
MAX_PENDING_LOGS = 10_000


class EventHub:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: set[Subscriber] = set()
        self._logs: collections.deque[LogLine] = collections.deque()
        self._logs_lock = threading.Lock()
        self._logs_scheduled = False
        self._logs_dropped = 0

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def detach(self) -> None:
        self._loop = None
        with self._logs_lock:
            self._logs.clear()
            self._logs_scheduled = False

    def publish(self, event: Event) -> None:
        """The engine's sink; callable from any thread."""
        loop = self._loop
        # Reading the set's size from another thread is racy but harmless: at worst one
        # event published while the first subscriber connects is missed.
        if loop is None or not self._subs:
            return
        if isinstance(event, LogLine):
            self._queue_log(loop, event)
            return
        with contextlib.suppress(RuntimeError):  # the API loop closed during shutdown
            loop.call_soon_threadsafe(self._dispatch, event)

    def _queue_log(self, loop: asyncio.AbstractEventLoop, event: LogLine) -> None:
        with self._logs_lock:
            if len(self._logs) >= MAX_PENDING_LOGS:
                self._logs_dropped += 1
                return
            self._logs.append(event)
            if self._logs_scheduled:
                return
            self._logs_scheduled = True
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._flush_logs)

    def _flush_logs(self) -> None:
        with self._logs_lock:
            batch = [self._logs.popleft() for _ in range(min(LOG_BATCH, len(self._logs)))]
            dropped, self._logs_dropped = self._logs_dropped, 0
            more = bool(self._logs)
            if not more:
                self._logs_scheduled = False
        if dropped:
            for sub in self._subs:
                sub.dropped += dropped
        for event in batch:
            self._dispatch(event)
        if more and self._loop is not None:
            self._loop.call_later(LOG_BATCH_PAUSE, self._flush_logs)

    def _dispatch(self, event: Event) -> None:
        try:
            name, run_id, data = encode(event)
        except Exception:  # a sink must never break a run
            log.exception("cannot encode event %r", type(event).__name__)
            return
        for sub in list(self._subs):
            if sub.run_id is not None and sub.run_id != run_id:
                continue
            try:
                sub.queue.put_nowait((name, data))
            except asyncio.QueueFull:
                sub.dropped += 1

    def close_streams(self) -> None:
        """End every open stream, from any thread: the server is shutting down and
        would otherwise wait for clients that never hang up."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._close_all)

    def _close_all(self) -> None:
        for sub in list(self._subs):
            if sub.queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    sub.queue.get_nowait()
            sub.queue.put_nowait(_CLOSE)

    @asynccontextmanager
    async def subscribe(self, run_id: str | None) -> AsyncIterator[Subscriber]:
        sub = Subscriber(run_id)
        self._subs.add(sub)
        try:
            yield sub
        finally:
            self._subs.discard(sub)


async def sse_stream(
    hub: EventHub,
    run_id: str | None,
    ping_seconds: float = 15.0,
    watch: AsyncIterator[tuple[str, dict[str, Any]]] | None = None,
) -> AsyncIterator[str]:
    """``watch``: further events for this subscriber (a run executed by another
    process, see ``server/watch.py``), merged into the same stream."""
    async with hub.subscribe(run_id) as sub:
        pump = asyncio.ensure_future(_pump(watch, sub)) if watch is not None else None
        try:
            # An initial comment flushes the headers so clients see the stream is open.
            yield ": connected\n\n"
            async for chunk in _drain(sub, ping_seconds):
                yield chunk
        finally:
            if pump is not None:
                pump.cancel()


async def _pump(watch: AsyncIterator[tuple[str, dict[str, Any]]], sub: Subscriber) -> None:
    async for name, data in watch:
        try:
            sub.queue.put_nowait((name, json.dumps(data, separators=(",", ":"), default=str)))
        except asyncio.QueueFull:
            sub.dropped += 1


async def _drain(sub: Subscriber, ping_seconds: float) -> AsyncIterator[str]:
    while True:
        try:
            item = await asyncio.wait_for(sub.queue.get(), timeout=ping_seconds)
        except asyncio.TimeoutError:
            yield ": ping\n\n"
            continue
        if item is _CLOSE:
            return
        name, data = item
        if sub.dropped:
            yield f": dropped {sub.dropped} events\n\n"
            sub.dropped = 0
        yield f"event: {name}\ndata: {data}\n\n"
