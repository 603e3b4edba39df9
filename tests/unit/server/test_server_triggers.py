from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeyard.errors import InvalidArgument
from pipeyard.server.triggers import due, next_fire, parse_trigger

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_kfp_six_field_cron_has_seconds_first() -> None:
    trig = parse_trigger({"cron_schedule": {"cron": "*/10 * * * * *"}})
    assert next_fire(trig, T0) == T0 + timedelta(seconds=10)


def test_five_field_cron_and_descriptors() -> None:
    assert next_fire(parse_trigger({"cron_schedule": {"cron": "*/5 * * * *"}}), T0) == T0 + timedelta(
        minutes=5
    )
    assert next_fire(parse_trigger({"cron_schedule": {"cron": "@hourly"}}), T0) == T0 + timedelta(hours=1)
    assert next_fire(parse_trigger({"cron_schedule": {"cron": "@every 1m30s"}}), T0) == T0 + timedelta(
        seconds=90
    )


def test_periodic_with_start_and_end() -> None:
    trig = parse_trigger(
        {
            "periodic_schedule": {
                "interval_second": "60",
                "start_time": "2026-03-01T13:00:00Z",
                "end_time": "2026-03-01T13:01:30Z",
            }
        }
    )
    start = T0 + timedelta(hours=1)
    assert next_fire(trig, T0) == start
    assert next_fire(trig, start) == start + timedelta(seconds=60)
    assert next_fire(trig, start + timedelta(seconds=60)) is None  # past the end


def test_epoch_start_means_unset() -> None:
    trig = parse_trigger({"periodic_schedule": {"interval_second": 5, "start_time": "1970-01-01T00:00:00Z"}})
    assert trig.start is None


def test_catch_up_fires_oldest_first_and_no_catchup_only_the_newest() -> None:
    trig = parse_trigger({"periodic_schedule": {"interval_second": 60}})
    now = T0 + timedelta(seconds=200)
    assert due(trig, T0, now, no_catchup=False) == T0 + timedelta(seconds=60)
    assert due(trig, T0, now, no_catchup=True) == T0 + timedelta(seconds=180)
    assert due(trig, T0, T0 + timedelta(seconds=30), no_catchup=False) is None


@pytest.mark.parametrize(
    ("trigger", "fragment"),
    [
        (None, "trigger"),
        ({}, "exactly one"),
        ({"cron_schedule": {"cron": "0 0 *"}}, "3 fields"),
        ({"cron_schedule": {"cron": "61 * * * * *"}}, "invalid cron"),
        ({"cron_schedule": {"cron": "@every soon"}}, "duration"),
        ({"periodic_schedule": {"interval_second": "-1"}}, "positive"),
        ({"periodic_schedule": {"interval_second": 5, "start_time": "tomorrow"}}, "start_time"),
    ],
)
def test_bad_triggers(trigger: object, fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment):
        parse_trigger(trigger)  # type: ignore[arg-type]
