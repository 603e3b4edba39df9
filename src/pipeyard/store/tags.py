"""Tags of pipelines and pipeline versions (KFP 2.15+ ``map<string, string> tags``).

One row per key in ``pipeline_tags`` / ``pipeline_version_tags``. KFP's rules hold
here: at most 20 tags, keys and values of at most 63 characters, keys non-empty and
without '.', since ``tags.<key>`` is how a list filter names one. A filter on a tag
supports EQUALS only, as KFP's does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from pipeyard.entities import ListQuery
from pipeyard.errors import InvalidArgument

MAX_TAGS = 20
MAX_TAG_LENGTH = 63
TAG_KEY_PREFIX = "tags."


def check_tags(tags: Any, field: str = "tags") -> dict[str, str]:
    """The tags as a plain dict, or InvalidArgument naming the offending key."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InvalidArgument("must be an object {key: value}", field=field)
    if len(tags) > MAX_TAGS:
        raise InvalidArgument(f"{len(tags)} tags; at most {MAX_TAGS} are allowed", field=field)
    out: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgument("a tag key must not be empty", field=field)
        if "." in key:
            raise InvalidArgument(f"tag key {key!r} must not contain '.'", field=field)
        if not isinstance(value, str):
            raise InvalidArgument(f"the value of tag {key!r} must be a string", field=field)
        if len(key) > MAX_TAG_LENGTH or len(value) > MAX_TAG_LENGTH:
            raise InvalidArgument(
                f"tag {key!r}: keys and values are limited to {MAX_TAG_LENGTH} characters", field=field
            )
        out[key] = value
    return out


def write_tags(conn: sa.Connection, table: sa.Table, owner_id: str, tags: Mapping[str, str]) -> None:
    """Replace the owner's tags with ``tags``."""
    owner = _owner_column(table)
    conn.execute(sa.delete(table).where(owner == owner_id))
    if tags:
        conn.execute(sa.insert(table), [{owner.name: owner_id, "key": k, "value": v} for k, v in tags.items()])


def delete_tags(conn: sa.Connection, table: sa.Table, owner_ids: Iterable[str]) -> None:
    ids = list(owner_ids)
    if ids:
        conn.execute(sa.delete(table).where(_owner_column(table).in_(ids)))


def read_tags(conn: sa.Connection, table: sa.Table, owner_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """{owner id: {key: value}} for the given owners (one statement)."""
    ids = list(owner_ids)
    out: dict[str, dict[str, str]] = {i: {} for i in ids}
    if not ids:
        return out
    owner = _owner_column(table)
    rows = conn.execute(sa.select(owner, table.c.key, table.c.value).where(owner.in_(ids)))
    for owner_id, key, value in rows:
        out[owner_id][key] = value
    return out


def split_tag_filters(
    query: ListQuery, table: sa.Table, owner: sa.ColumnElement[Any]
) -> tuple[ListQuery, list[sa.ColumnElement[bool]], str]:
    """Take the ``tags.<key>`` predicates out of ``query``: (the rest of the query,
    an EXISTS condition per tag on ``owner``, a key naming them for page tokens)."""
    rest = []
    scope: list[sa.ColumnElement[bool]] = []
    names = []
    for p in query.predicates:
        if not p.key.startswith(TAG_KEY_PREFIX):
            rest.append(p)
            continue
        key = p.key[len(TAG_KEY_PREFIX):]
        if p.op.upper() != "EQUALS":
            raise InvalidArgument(f"only EQUALS filters tags, not {p.op}", field=p.key)
        if not isinstance(p.value, str):
            raise InvalidArgument("a tag filter needs a string_value", field=p.key)
        scope.append(
            sa.exists().where(_owner_column(table) == owner, table.c.key == key, table.c.value == p.value)
        )
        names.append(f"{key}={p.value}")
    return dataclasses.replace(query, predicates=tuple(rest)), scope, ";".join(names)


def _owner_column(table: sa.Table) -> sa.Column[Any]:
    return table.c["pipeline_id"] if "pipeline_id" in table.c else table.c["version_id"]
