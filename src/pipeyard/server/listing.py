"""KFP's list parameters (``page_token``, ``page_size``, ``sort_by``, ``filter``) to a
store ``ListQuery``.

``filter`` is the URL-encoded JSON of KFP's ``Filter`` message. Clients write it in
protobuf JSON, so both ``string_value`` and ``stringValue`` appear, and the operation
is either the enum's name or its number (``kfp.Client`` sends 1 for EQUALS).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pipeyard.entities import ListQuery, Page, Predicate
from pipeyard.errors import InvalidArgument
from pipeyard.server.timefmt import parse as parse_time

OPERATIONS = (
    "OPERATION_UNSPECIFIED",
    "EQUALS",
    "NOT_EQUALS",
    "GREATER_THAN",
    "GREATER_THAN_EQUALS",
    "LESS_THAN",
    "LESS_THAN_EQUALS",
    "IN",
    "IS_SUBSTRING",
)
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 20

# protobuf JSON names of Predicate's value oneof, both spellings.
_SCALAR_KEYS = {
    "string_value": "string",
    "stringValue": "string",
    "int_value": "int",
    "intValue": "int",
    "long_value": "int",
    "longValue": "int",
    "double_value": "float",
    "doubleValue": "float",
    "bool_value": "bool",
    "boolValue": "bool",
    "timestamp_value": "time",
    "timestampValue": "time",
}
_LIST_KEYS = {
    "string_values": "string",
    "stringValues": "string",
    "int_values": "int",
    "intValues": "int",
    "long_values": "int",
    "longValues": "int",
}


def _operation(raw: Any) -> str:
    if isinstance(raw, bool):
        raise InvalidArgument(f"unknown operation {raw!r}", field="filter.predicates.operation")
    if isinstance(raw, int) and 0 < raw < len(OPERATIONS):
        return OPERATIONS[raw]
    if isinstance(raw, str):
        name = raw.strip().upper()
        if name.isdigit() and 0 < int(name) < len(OPERATIONS):
            return OPERATIONS[int(name)]
        if name in OPERATIONS[1:]:
            return name
    raise InvalidArgument(
        f"unknown operation {raw!r} (expected one of {', '.join(OPERATIONS[1:])} or 1-8)",
        field="filter.predicates.operation",
    )


def _convert(value: Any, kind: str, field: str) -> Any:
    try:
        if kind == "string":
            if not isinstance(value, str):
                raise ValueError
            return value
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError
        return parse_time(value, field)
    except (ValueError, TypeError, OverflowError):
        raise InvalidArgument(f"value {value!r} is not a valid {kind}", field=field) from None


def _predicate(raw: Any, i: int, key_map: Mapping[str, str]) -> Predicate:
    where = f"filter.predicates[{i}]"
    if not isinstance(raw, dict):
        raise InvalidArgument("a predicate must be an object", field=where)
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise InvalidArgument("missing key", field=where)
    op = _operation(raw.get("operation", raw.get("op")))
    values = [(k, v) for k, v in raw.items() if k in _SCALAR_KEYS or k in _LIST_KEYS]
    if len(values) != 1:
        raise InvalidArgument("exactly one value (e.g. string_value, int_values) is required", field=where)
    vkey, v = values[0]
    if vkey in _LIST_KEYS:
        items = v.get("values") if isinstance(v, dict) else v
        if not isinstance(items, list):
            raise InvalidArgument(f'{vkey} must be {{"values": [...]}}', field=where)
        value: Any = tuple(_convert(x, _LIST_KEYS[vkey], f"{where}.{vkey}") for x in items)
        if op != "IN":
            raise InvalidArgument(f"a list value ({vkey}) needs operation IN, not {op}", field=where)
    else:
        value = _convert(v, _SCALAR_KEYS[vkey], f"{where}.{vkey}")
        if op == "IN":
            value = (value,)
    return Predicate(key=key_map.get(key, key), op=op, value=value)


def parse_filter(text: str | None, key_map: Mapping[str, str] = {}) -> tuple[Predicate, ...]:  # noqa: B006
    if not text:
        return ()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidArgument(f"not valid JSON ({e.msg} at column {e.colno})", field="filter") from None
    if not isinstance(doc, dict):
        raise InvalidArgument('must be a JSON object {"predicates": [...]}', field="filter")
    preds = doc.get("predicates") or []
    if not isinstance(preds, list):
        raise InvalidArgument("predicates must be a list", field="filter")
    return tuple(_predicate(p, i, key_map) for i, p in enumerate(preds))


def parse_sort(text: str | None, key_map: Mapping[str, str] = {}) -> tuple[str, bool] | None:  # noqa: B006
    """``"created_at desc"`` -> ("created_at", True); KFP sorts ascending by default."""
    if not text or not text.strip():
        return None
    parts = text.split()
    if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise InvalidArgument(f"expected '<field>' or '<field> asc|desc', got {text!r}", field="sort_by")
    descending = len(parts) == 2 and parts[1].lower() == "desc"
    return key_map.get(parts[0], parts[0]), descending


def list_query(
    *,
    page_token: str | None,
    page_size: int | None,
    sort_by: str | None,
    filter: str | None,
    key_map: Mapping[str, str] = {},  # noqa: B006
    extra: tuple[Predicate, ...] = (),
) -> ListQuery:
    size = page_size or DEFAULT_PAGE_SIZE
    if size < 0:
        raise InvalidArgument("must not be negative", field="page_size")
    size = min(size, MAX_PAGE_SIZE)
    preds = parse_filter(filter, key_map) + extra
    sort = parse_sort(sort_by, key_map)
    q = ListQuery(predicates=preds, page_size=size, page_token=page_token or "")
    if sort is not None:
        q = ListQuery(
            predicates=preds, sort_by=sort[0], descending=sort[1], page_size=size, page_token=page_token or ""
        )
    return q


def page_body(key: str, page: Page, convert: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """A list response in KFP's shape: the items under ``key``, the total and the
    token of the next page (empty on the last)."""
    return {
        key: [convert(x) for x in page.items],
        "total_size": page.total_size,
        "next_page_token": page.next_page_token,
    }


RUN_KEYS = {"name": "display_name", "id": "run_id", "run_id": "run_id", "experiment": "experiment_id"}
EXPERIMENT_KEYS = {"name": "display_name", "id": "experiment_id"}
PIPELINE_KEYS = {"id": "pipeline_id"}
VERSION_KEYS = {"id": "version_id", "pipeline_version_id": "version_id"}
RECURRING_KEYS = {"name": "display_name", "id": "recurring_run_id"}
