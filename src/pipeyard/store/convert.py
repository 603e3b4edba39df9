"""Rows to frozen entities and back.

Columns carry the entities' field names, so one generic pair of functions serves
every table. Callers never see a SQLAlchemy row.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import sqlalchemy as sa

from pipeyard.errors import InvalidArgument

E = TypeVar("E")

_FIELDS_CACHE: dict[type, tuple[str, ...]] = {}
_FIELD_SETS: dict[type, frozenset[str]] = {}


def field_names(entity_type: type) -> tuple[str, ...]:
    names = _FIELDS_CACHE.get(entity_type)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(entity_type))
        _FIELDS_CACHE[entity_type] = names
    return names


def to_entity(entity_type: type[E], row: Mapping[Any, Any], **overrides: Any) -> E:
    """Build an entity from a row mapping; columns the entity lacks are ignored and
    fields the row lacks (a projection that skipped a big column) keep their defaults
    unless given in ``overrides``."""
    names = _FIELD_SETS.get(entity_type)
    if names is None:
        names = _FIELD_SETS[entity_type] = frozenset(field_names(entity_type))
    # One pass over the row: a membership test on a SQLAlchemy row per field cost a third
    # of a page of runs.
    values = {key: value for key, value in row.items() if key in names}
    values.update(overrides)
    return entity_type(**values)


def to_row(entity: Any) -> dict[str, Any]:
    """The column values of an entity. Nested JSON is copied so later mutation of the
    caller's dicts cannot change what was written."""
    return {name: _copy_json(getattr(entity, name)) for name in field_names(type(entity))}


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(v) for v in value]
    return value


def new_id() -> str:
    return str(uuid.uuid4())


def with_id(entity: E, id_field: str) -> E:
    """Give an entity a fresh id when the caller left it empty."""
    if getattr(entity, id_field):
        return entity
    return dataclasses.replace(entity, **{id_field: new_id()})  # type: ignore[type-var]


def check_update_fields(entity_type: type, id_field: str, fields: Mapping[str, Any]) -> None:
    """Reject update keys that are not fields of the entity, or that would change its id."""
    allowed = set(field_names(entity_type)) - {id_field}
    for key in fields:
        if key not in allowed:
            raise InvalidArgument(f"cannot update {key!r} of {entity_type.__name__}", field=key)


def columns_except(table: sa.Table, skip: Iterable[str]) -> list[sa.ColumnElement[Any]]:
    skipped = set(skip)
    return [c for c in table.columns if c.name not in skipped]
