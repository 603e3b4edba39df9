"""Metadata store (SQLAlchemy: SQLite or PostgreSQL) and artifact storage.

Open one with ``open_store(url)``; see ``sql_store.Store`` for what it offers.
``Store`` and ``open_store`` load lazily: importing ``pipeyard.entities``
(which every layer does) must not pay for SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeyard.store.sql_store import Store, open_store

__all__ = ["Store", "open_store"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pipeyard.store import sql_store

        return getattr(sql_store, name)
    raise AttributeError(f"module 'pipeyard.store' has no attribute {name!r}")
