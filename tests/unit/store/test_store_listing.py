"""Filter values, timestamps and page tokens, without a database round trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from pipeyard.entities import ListQuery, Predicate
from pipeyard.errors import InvalidArgument
from pipeyard.store.listing import (
    _decode_token,
    _encode_token,
    _fingerprint,
    coerce,
    parse_datetime,
    predicate_clause,
)
from pipeyard.store.runs import RUNS
from pipeyard.store.schema import runs

UTC = timezone.utc


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2024, 1, 2, 3, 4, 5),
        datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05+00:00",
        "2024-01-02 03:04:05",
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp(),
        int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()),
    ],
)
def test_timestamps_in_every_form_kfp_clients_send(value: object) -> None:
    assert parse_datetime(value) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_values_are_coerced_to_the_column_type() -> None:
    assert coerce(runs.c.generation, "generation", "3") == 3
    assert coerce(runs.c.enable_caching, "enable_caching", "false") is False
    assert coerce(runs.c.display_name, "display_name", 12) == "12"
    for column, bad in (
        (runs.c.generation, "x"),
        (runs.c.enable_caching, "maybe"),
        (runs.c.created_at, "soon"),
    ):
        with pytest.raises(InvalidArgument) as err:
            coerce(column, column.name, bad)
        assert err.value.field == column.name


def test_bad_predicates_name_the_field() -> None:
    cases = [
        Predicate("nope", "EQUALS", 1),
        Predicate("state", "IN", "RUNNING"),
        Predicate("generation", "IS_SUBSTRING", "1"),
        Predicate("state", "MATCHES", "x"),
    ]
    for predicate in cases:
        with pytest.raises(InvalidArgument) as err:
            predicate_clause(RUNS, predicate)
        assert err.value.field == predicate.key


def test_kfp_key_names_map_to_columns() -> None:
    assert RUNS.column("name") is runs.c.display_name
    assert RUNS.column("id") is runs.c.run_id
    assert "pipeline_spec" not in RUNS.keys  # JSON is neither filtered nor sorted on
    clause = predicate_clause(RUNS, Predicate("name", "IS_SUBSTRING", "50%_off"))
    compiled = str(clause.compile(dialect=sa.dialects.sqlite.dialect()))
    assert "ESCAPE" in compiled  # % and _ in the value match literally


def test_page_tokens_round_trip_and_are_bound_to_their_query() -> None:
    query = ListQuery(predicates=(Predicate("state", "EQUALS", "RUNNING"),), sort_by="created_at")
    fingerprint = _fingerprint(query, "created_at", "exp=None")
    when = datetime(2024, 1, 2, tzinfo=UTC)
    token = _encode_token(fingerprint, when, "run-1")
    assert _decode_token(token, fingerprint) == (when.isoformat(), "run-1")
    other = _fingerprint(query, "created_at", "exp=e1")
    assert other != fingerprint
    with pytest.raises(InvalidArgument):
        _decode_token(token, other)
    with pytest.raises(InvalidArgument):
        _decode_token("not-base64-json", fingerprint)
