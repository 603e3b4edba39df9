"""Fuzz the API from the OpenAPI document FastAPI serves: whatever schemathesis sends,
the server never answers 5xx, and every answer matches the response schema the
document publishes (server/schemas.py). Then the inputs issue 16 found taking the server
down or answered 500 (bodies past the size limit, nesting past the parser's depth,
integers past 64 bits, NaN/Infinity, lone surrogates), sent to every operation that takes
a JSON body and in filters: each must be a 4xx with KFP's error shape. Bounded (a few
examples per operation) and aimed at a loopback server of its own."""

from __future__ import annotations

import json
import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from pipeyard.server.body_limit import MAX_BODY_BYTES

MAX_EXAMPLES = 10
# The event stream never ends by design; a request to it cannot "complete".
ENDLESS = {"/apis/pipeyard/v1/events"}


def test_no_server_errors(start_server: Any) -> None:
    # One run at a time: fuzzed runs that pass validation still execute.
    srv = start_server(args=["--workers", "1"])
    schema = schemathesis.openapi.from_url(f"{srv.url}/openapi.json")
    # schemathesis' pytest plugin does not load under this pytest; drive hypothesis directly.
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    operations = [op for op in operations if op.path not in ENDLESS]
    assert len(operations) > 30
    # The v2beta1 resources publish what they answer, not just "an object".
    documented = schema.raw_schema["paths"]["/apis/v2beta1/runs/{run_id}"]["get"]["responses"]["200"]
    assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Run"}
    statuses: dict[int, int] = {}
    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def fuzz(case: Any) -> None:
            resp = case.call_and_validate(base_url=srv.url, checks=[not_a_server_error, response_schema_conformance], timeout=30)
            statuses[resp.status_code // 100] = statuses.get(resp.status_code // 100, 0) + 1

        fuzz()
    # The fuzzing reached the handlers: some calls succeeded, many were refused.
    assert statuses.get(2, 0) > 0 and statuses.get(4, 0) > 0, statuses
    assert 5 not in statuses


# ------------------------------------------------------------------ hostile values

# What issue 16 found answered with 500 (or worse): each must be a 4xx now, on every
# operation that takes a JSON body, with KFP's error shape.
DEEP = b"[" * 100_000 + b"]" * 100_000
HOSTILE_VALUES: dict[str, bytes] = {
    "nested-100k-deep": DEEP,
    "int-past-64-bits": str(2**70).encode(),
    "negative-int-past-64-bits": str(-(2**70)).encode(),
    "nan": b"NaN",
    "infinity": b"-Infinity",
    "lone-surrogate": b'"\\ud800"',
}


def _json_body_operations(schema: Any) -> list[Any]:
    operations = [r.ok() for r in schema.get_all_operations()]
    return [op for op in operations if op.path not in ENDLESS and op.method.upper() in ("POST", "PUT", "PATCH")
            and "application/json" in ((op.definition.raw.get("requestBody") or {}).get("content") or {})]


def _concrete(path: str) -> str:
    """The operation's path with an id that names nothing: the body is refused first."""
    return re.sub(r"\{[^}]+\}", "no-such-id", path)


def _assert_refused_with_kfp_shape(resp: Any, what: str) -> None:
    assert 400 <= resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:300]}"
    body = resp.json()
    assert isinstance(body["error_message"], str) and body["error_message"], (what, body)
    assert body["message"] == body["error_message"] and isinstance(body["code"], int), (what, body)


def test_hostile_values_are_refused_with_4xx(start_server: Any) -> None:
    import httpx

    srv = start_server(args=["--workers", "1"])
    schema = schemathesis.openapi.from_url(f"{srv.url}/openapi.json")
    operations = _json_body_operations(schema)
    assert len(operations) >= 8, [op.path for op in operations]
    with httpx.Client(base_url=srv.url, timeout=60) as http:
        for op in operations:
            path = _concrete(op.path)
            for name, raw in HOSTILE_VALUES.items():
                # As the whole body, and as the value of a field the resources share.
                for body in (raw, b'{"display_name": ' + raw + b', "parameters": ' + raw + b"}"):
                    resp = http.request(op.method.upper(), path, content=body,
                                        headers={"content-type": "application/json"})
                    _assert_refused_with_kfp_shape(resp, f"{op.method.upper()} {op.path} with {name}")
        # A body over the limit is refused before it is read whole (a declared length) or
        # as soon as it crosses the limit (chunked, no length).
        big = b'{"display_name": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
        declared = http.post("/apis/v2beta1/experiments", content=big, headers={"content-type": "application/json"})
        assert declared.status_code == 413, declared.text[:300]
        _assert_refused_with_kfp_shape(declared, "an oversized body")

        def chunks() -> Any:
            for start in range(0, len(big), 1 << 20):
                yield big[start:start + (1 << 20)]

        streamed = http.post("/apis/v2beta1/experiments", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413, streamed.text[:300]
        # Filters are JSON in a query string: the same values there.
        # (past Python's recursion limit, within the length a URL may have)
        in_query = {**HOSTILE_VALUES, "nested-100k-deep": b"[" * 5000 + b"]" * 5000}
        for name, raw in in_query.items():
            predicate = b'{"predicates": [{"key": "display_name", "operation": "EQUALS", "string_value": ' + raw + b"}]}"
            resp = http.get("/apis/v2beta1/runs", params={"filter": predicate.decode()})
            _assert_refused_with_kfp_shape(resp, f"a runs filter with {name}")
        big_int = json.dumps({"predicates": [{"key": "created_at", "operation": "GREATER_THAN",
                                              "int_value": str(2**70)}]})
        _assert_refused_with_kfp_shape(http.get("/apis/v2beta1/runs", params={"filter": big_int}), "an int filter")
    # The server is still whole: it answers, and nothing of the above was created.
    with srv.http() as http:
        listed = http.get("/apis/v2beta1/experiments").json()
        # Only the "Default" experiment the server creates when it starts, as KFP's does.
        assert [e["display_name"] for e in listed["experiments"]] == ["Default"]
        assert listed["total_size"] == 1
