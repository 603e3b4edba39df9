"""``ListQuery`` to SQL: KFP filter predicates, sorting and keyset paging.

Every list is two statements whatever its size: a ``COUNT`` for ``total_size`` and
one ``SELECT ... LIMIT page_size + 1`` (the extra row tells whether a next page
exists). Paging is keyset-based: the token carries the sort value and id of the last
row returned, so rows inserted or deleted between calls never shift a page. Rows
are ordered by (sort column, id), with NULLs of a nullable sort column last when
ascending and first when descending, identically on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from pipeyard.entities import ListQuery, Predicate
from pipeyard.errors import InvalidArgument
from pipeyard.store.schema import JsonType, UtcDateTime

DEFAULT_PAGE_SIZE = 20
_OPS = {
    "EQUALS": lambda c, v: c == v,
    "NOT_EQUALS": lambda c, v: c != v,
    "GREATER_THAN": lambda c, v: c > v,
    "GREATER_THAN_EQUALS": lambda c, v: c >= v,
    "LESS_THAN": lambda c, v: c < v,
    "LESS_THAN_EQUALS": lambda c, v: c <= v,
}


@dataclass(frozen=True)
class Listing:
    """What can be listed from one table: ``keys`` maps every accepted filter/sort key
    (entity field names and KFP API names) to a column name."""

    table: sa.Table
    id_column: str
    keys: Mapping[str, str]

    @staticmethod
    def of(table: sa.Table, id_column: str, aliases: Mapping[str, str] | None = None) -> Listing:
        # JSON columns can be neither compared portably nor sorted, so they are not keys.
        keys = {c.name: c.name for c in table.columns if not isinstance(c.type, sa.JSON | JsonType)}
        keys["id"] = id_column
        keys.update(aliases or {})
        return Listing(table, id_column, keys)

    def column(self, key: str, what: str = "filter") -> sa.Column[Any]:
        name = self.keys.get(key)
        if name is None:
            known = ", ".join(sorted(self.keys))
            raise InvalidArgument(f"cannot {what} by {key!r}; known keys: {known}", field=key)
        return self.table.c[name]


@dataclass(frozen=True)
class PageRows:
    rows: list[sa.RowMapping]
    total_size: int
    next_page_token: str


def fetch_page(
    conn: sa.Connection,
    listing: Listing,
    query: ListQuery,
    *,
    scope: Sequence[sa.ColumnElement[bool]] = (),
    scope_key: str = "",
    columns: Sequence[sa.ColumnElement[Any]] | None = None,
) -> PageRows:
    """Rows of one page. ``scope`` holds conditions the caller adds (experiment,
    namespace); ``scope_key`` names them so a token cannot be replayed on another scope."""
    table = listing.table
    where = [*scope, *(predicate_clause(listing, p) for p in query.predicates)]
    sort_col = listing.column(query.sort_by or "created_at", "sort")
    id_col = table.c[listing.id_column]
    page_size = query.page_size if query.page_size > 0 else DEFAULT_PAGE_SIZE
    fingerprint = _fingerprint(query, sort_col.name, scope_key)

    total = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()

    stmt = sa.select(*(columns if columns is not None else [table])).where(*where)
    if query.page_token:
        stmt = stmt.where(_after(query.page_token, fingerprint, sort_col, id_col, query.descending))
    stmt = stmt.order_by(*_order(sort_col, id_col, query.descending)).limit(page_size + 1)
    rows = list(conn.execute(stmt).mappings())

    token = ""
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        token = _encode_token(fingerprint, last[sort_col.name], last[id_col.name])
    return PageRows(rows, int(total), token)


def count(
    conn: sa.Connection, listing: Listing, predicates: Sequence[Predicate], scope: Sequence[Any]
) -> int:
    where = [*scope, *(predicate_clause(listing, p) for p in predicates)]
    stmt = sa.select(sa.func.count()).select_from(listing.table).where(*where)
    return int(conn.execute(stmt).scalar_one())


def predicate_clause(listing: Listing, predicate: Predicate) -> sa.ColumnElement[bool]:
    column = listing.column(predicate.key)
    op = predicate.op.upper()
    if op in _OPS:
        value = coerce(column, predicate.key, predicate.value)
        if value is None:
            # KFP has no null literal; EQUALS None is the natural reading of "unset".
            return column.is_(None) if op == "EQUALS" else column.is_not(None)
        return _OPS[op](column, value)  # type: ignore[no-any-return]
    if op == "IN":
        if isinstance(predicate.value, str | bytes) or not isinstance(predicate.value, Sequence | set):
            raise InvalidArgument("IN needs a list of values", field=predicate.key)
        return column.in_([coerce(column, predicate.key, v) for v in predicate.value])
    if op == "IS_SUBSTRING":
        if not isinstance(column.type, sa.String) or not isinstance(predicate.value, str):
            raise InvalidArgument("IS_SUBSTRING needs a text field and a string value", field=predicate.key)
        # Case-insensitive on both backends (SQLite's LIKE is, PostgreSQL's is not).
        return column.icontains(predicate.value, autoescape=True)
    raise InvalidArgument(f"unknown filter operation {predicate.op!r}", field=predicate.key)


def coerce(column: sa.Column[Any], key: str, value: Any) -> Any:
    """A filter value in the column's Python type. Timestamps may be given as datetimes,
    RFC 3339 strings or epoch seconds, as KFP clients send all three."""
    if value is None:
        return None
    col_type = column.type
    try:
        if isinstance(col_type, UtcDateTime):
            return parse_datetime(value)
        if isinstance(col_type, sa.Boolean):
            if isinstance(value, str):
                if value.lower() not in ("true", "false"):
                    raise ValueError(value)
                return value.lower() == "true"
            return bool(value)
        if isinstance(col_type, sa.Integer):
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if isinstance(col_type, sa.String):
            if isinstance(value, dict | list):
                raise ValueError(value)
            return str(value)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"value {value!r} does not fit this field", field=key) from e
    return value


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    raise TypeError(f"not a timestamp: {value!r}")


def _null_rank(column: sa.Column[Any]) -> sa.ColumnElement[int]:
    return sa.case((column.is_(None), 1), else_=0)


def _order(sort_col: sa.Column[Any], id_col: sa.Column[Any], descending: bool) -> list[Any]:
    keys: list[Any] = [sort_col, id_col] if sort_col is not id_col else [id_col]
    if sort_col.nullable:
        keys.insert(0, _null_rank(sort_col))
    return [k.desc() if descending else k.asc() for k in keys]


def _after(
    token: str, fingerprint: str, sort_col: sa.Column[Any], id_col: sa.Column[Any], descending: bool
) -> sa.ColumnElement[bool]:
    """Rows strictly after the token's (sort value, id) in the listing's order."""
    raw_value, last_id = _decode_token(token, fingerprint)
    beyond = (lambda c, v: c < v) if descending else (lambda c, v: c > v)
    if sort_col is id_col:
        return beyond(id_col, last_id)  # type: ignore[no-any-return]
    if raw_value is None:
        # The last row had a NULL sort value: NULLs come last ascending, first descending.
        same = sa.and_(sort_col.is_(None), beyond(id_col, last_id))
        return sa.or_(same, sort_col.is_not(None)) if descending else same
    value = coerce(sort_col, "page_token", raw_value)
    non_null = sa.or_(beyond(sort_col, value), sa.and_(sort_col == value, beyond(id_col, last_id)))
    if not sort_col.nullable:
        return non_null
    if descending:
        return sa.and_(sort_col.is_not(None), non_null)
    return sa.or_(sort_col.is_(None), sa.and_(sort_col.is_not(None), non_null))


def _fingerprint(query: ListQuery, sort_column: str, scope_key: str) -> str:
    predicates = [(p.key, p.op, repr(p.value)) for p in query.predicates]
    text = json.dumps([sort_column, query.descending, predicates, scope_key])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode_token(fingerprint: str, sort_value: Any, last_id: Any) -> str:
    if isinstance(sort_value, datetime):
        sort_value = sort_value.isoformat()
    payload = json.dumps({"f": fingerprint, "v": sort_value, "id": last_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str) -> tuple[Any, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(payload, dict):
            raise ValueError(token)
        if payload.get("f") != fingerprint:
            raise InvalidArgument(
                "page_token belongs to a different filter, sort or scope", field="page_token"
            )
        return payload["v"], payload["id"]
    except (ValueError, KeyError, binascii.Error, UnicodeDecodeError) as e:
        raise InvalidArgument("malformed page_token", field="page_token") from e
