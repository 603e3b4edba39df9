from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from pipeyard.entities import Predicate
from pipeyard.errors import InvalidArgument
from pipeyard.server.listing import RUN_KEYS, list_query, parse_filter, parse_sort


def f(*preds: dict) -> str:
    return json.dumps({"predicates": list(preds)})


def test_kfp_client_experiment_lookup_filter() -> None:
    # Exactly what kfp.Client sends: the enum as a number, the value in camelCase.
    got = parse_filter(f({"operation": 1, "key": "display_name", "stringValue": "Default"}))
    assert got == (Predicate("display_name", "EQUALS", "Default"),)


@pytest.mark.parametrize("op", ["GREATER_THAN", 3, "3", "greater_than"])
def test_operation_by_name_or_number(op: object) -> None:
    assert parse_filter(f({"operation": op, "key": "k", "int_value": 2}))[0].op == "GREATER_THAN"


def test_value_kinds() -> None:
    preds = parse_filter(
        f(
            {"operation": "IN", "key": "name", "string_values": {"values": ["a", "b"]}},
            {"operation": "EQUALS", "key": "n", "longValue": "12"},
            {"operation": "LESS_THAN", "key": "created_at", "timestamp_value": "2026-01-02T03:04:05Z"},
            {"operation": "EQUALS", "key": "flag", "bool_value": True},
            {"operation": "IN", "key": "n", "intValues": {"values": [1, 2]}},
        ),
        RUN_KEYS,
    )
    assert preds[0] == Predicate("display_name", "IN", ("a", "b"))
    assert preds[1].value == 12
    assert preds[2].value == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert preds[3].value is True
    assert preds[4].value == (1, 2)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{nope", "not valid JSON"),
        ("[]", "JSON object"),
        (f({"operation": "LIKE", "key": "a", "string_value": "x"}), "LIKE"),
        (f({"operation": 1, "string_value": "x"}), "missing key"),
        (f({"operation": 1, "key": "a"}), "exactly one value"),
        (f({"operation": 1, "key": "a", "int_value": "seven"}), "not a valid int"),
        (f({"operation": 1, "key": "a", "string_values": {"values": ["x"]}}), "needs operation IN"),
    ],
)
def test_bad_filters_say_what(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment):
        parse_filter(text)


def test_sort() -> None:
    assert parse_sort("created_at desc") == ("created_at", True)
    assert parse_sort("name", RUN_KEYS) == ("display_name", False)
    assert parse_sort("") is None
    with pytest.raises(InvalidArgument, match="sort_by"):
        parse_sort("a b c")


def test_list_query_defaults_and_caps() -> None:
    q = list_query(page_token=None, page_size=None, sort_by=None, filter=None)
    assert q.page_size == 20 and q.sort_by == "created_at" and q.descending
    assert list_query(page_token="t", page_size=10**6, sort_by="name asc", filter=None).page_size == 1000
    with pytest.raises(InvalidArgument, match="page_size"):
        list_query(page_token=None, page_size=-1, sort_by=None, filter=None)
