"""``fmt`` memoizes: whatever was formatted first, each value still gets its own UTC text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeyard.server.timefmt import fmt

PLUS_TWO = timezone(timedelta(hours=2))


def test_equal_instants_in_other_zones_format_as_utc() -> None:
    local = datetime(2026, 5, 6, 9, 8, 7, 123456, tzinfo=PLUS_TWO)
    utc = local.astimezone(timezone.utc)
    assert fmt(local) == fmt(utc) == "2026-05-06T07:08:07.123Z"
    assert fmt(local) == "2026-05-06T07:08:07.123Z"  # a cache hit


def test_naive_is_utc_and_never_confused_with_an_aware_value() -> None:
    aware = datetime(2026, 5, 6, 7, 8, 9, tzinfo=PLUS_TWO)
    naive = datetime(2026, 5, 6, 7, 8, 9)
    assert fmt(aware) == "2026-05-06T05:08:09Z"
    assert fmt(naive) == "2026-05-06T07:08:09Z"
    assert fmt(aware) == "2026-05-06T05:08:09Z"
    assert fmt(None) is None
