"""When a recurring run fires: KFP's cron and periodic triggers, as pure functions.

KFP's cron has six fields with seconds first (``0 */5 * * * *``); five-field cron
(minutes first) and robfig/cron descriptors (``@hourly``, ``@every 90s``) are accepted
too, since people paste them from elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter

from pipeyard.errors import InvalidArgument
from pipeyard.server.timefmt import parse as parse_time

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


@dataclass(frozen=True)
class Trigger:
    cron: str | None  # normalised for croniter (six fields: seconds first)
    interval: timedelta | None
    start: datetime | None
    end: datetime | None


def _every(text: str) -> timedelta:
    rest, total = text, 0.0
    while rest:
        m = _DURATION_PART.match(rest)
        if not m:
            raise InvalidArgument(
                f"cannot read duration {text!r} (e.g. 1h30m, 90s)", field="trigger.cron_schedule.cron"
            )
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        rest = rest[m.end() :]
    if total <= 0:
        raise InvalidArgument("the interval must be positive", field="trigger.cron_schedule.cron")
    return timedelta(seconds=total)


def _cron(expr: str) -> tuple[str | None, timedelta | None]:
    text = " ".join(expr.split())
    if not text:
        raise InvalidArgument("empty cron expression", field="trigger.cron_schedule.cron")
    if text.startswith("@every "):
        return None, _every(text[len("@every ") :].strip())
    if text.startswith("@"):
        if not croniter.is_valid(text):
            raise InvalidArgument(f"unknown cron descriptor {text!r}", field="trigger.cron_schedule.cron")
        return text, None
    fields = text.split(" ")
    if len(fields) == 5:
        text = "0 " + text
    elif len(fields) != 6:
        raise InvalidArgument(
            f"cron {expr!r} has {len(fields)} fields; expected 6 (seconds first, as KFP) or 5",
            field="trigger.cron_schedule.cron",
        )
    if not croniter.is_valid(text, second_at_beginning=True):
        raise InvalidArgument(f"invalid cron expression {expr!r}", field="trigger.cron_schedule.cron")
    return text, None


def parse_trigger(trigger: dict[str, Any] | None) -> Trigger:
    if not isinstance(trigger, dict):
        raise InvalidArgument("a trigger (cron_schedule or periodic_schedule) is required", field="trigger")
    cron_s = trigger.get("cron_schedule") or trigger.get("cronSchedule")
    per_s = trigger.get("periodic_schedule") or trigger.get("periodicSchedule")
    if bool(cron_s) == bool(per_s):
        raise InvalidArgument(
            "exactly one of cron_schedule and periodic_schedule is required", field="trigger"
        )
    sched = cron_s or per_s
    if not isinstance(sched, dict):
        raise InvalidArgument("must be an object", field="trigger")
    kind = "cron_schedule" if cron_s else "periodic_schedule"
    start = parse_time(sched.get("start_time", sched.get("startTime")), f"trigger.{kind}.start_time")
    end = parse_time(sched.get("end_time", sched.get("endTime")), f"trigger.{kind}.end_time")
    # KFP's UI leaves an unset time as the epoch.
    if start is not None and start.timestamp() <= 0:
        start = None
    if end is not None and end.timestamp() <= 0:
        end = None
    if cron_s:
        expr = sched.get("cron")
        if not isinstance(expr, str):
            raise InvalidArgument("cron is required", field="trigger.cron_schedule.cron")
        cron, interval = _cron(expr)
        return Trigger(cron=cron, interval=interval, start=start, end=end)
    raw = sched.get("interval_second", sched.get("intervalSecond"))
    try:
        seconds = int(raw) if raw is not None and not isinstance(raw, bool) else 0
    except (TypeError, ValueError):
        seconds = 0
    if seconds <= 0:
        raise InvalidArgument(
            f"must be a positive integer, got {raw!r}", field="trigger.periodic_schedule.interval_second"
        )
    return Trigger(cron=None, interval=timedelta(seconds=seconds), start=start, end=end)


def next_fire(trigger: Trigger, after: datetime) -> datetime | None:
    """The first scheduled time strictly after ``after`` (``None`` past the end time)."""
    if trigger.start is not None and after < trigger.start:
        # A schedule fires at its start time, then every interval/cron tick after it.
        nxt = (
            trigger.start
            if trigger.interval is not None
            else _cron_next(trigger, trigger.start - timedelta(microseconds=1))
        )
    elif trigger.interval is not None:
        nxt = after + trigger.interval
    else:
        nxt = _cron_next(trigger, after)
    if trigger.end is not None and nxt > trigger.end:
        return None
    return nxt


def _cron_next(trigger: Trigger, after: datetime) -> datetime:
    assert trigger.cron is not None
    it = croniter(trigger.cron, after, second_at_beginning=not trigger.cron.startswith("@"))
    result = it.get_next(datetime)
    assert isinstance(result, datetime)
    return result


def due(trigger: Trigger, last: datetime, now: datetime, *, no_catchup: bool) -> datetime | None:
    """The scheduled time to fire now, if any. With catch-up, missed times fire one by
    one (the oldest first); without it only the newest missed time fires."""
    nxt = next_fire(trigger, last)
    if nxt is None or nxt > now:
        return None
    if not no_catchup:
        return nxt
    latest = nxt
    # Bounded: a tiny interval after a long outage must not spin here.
    for _ in range(100_000):
        after = next_fire(trigger, latest)
        if after is None or after > now:
            return latest
        latest = after
    if trigger.interval is not None:
        steps = int((now - latest) / trigger.interval)
        return latest + steps * trigger.interval
    return latest
