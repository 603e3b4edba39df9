"""Metadata store (SQLAlchemy: SQLite or PostgreSQL) and artifact storage.

Open one with ``open_store(url)``; see ``sql_store.Store`` for what it offers.
"""

from __future__ import annotations

from pipeyard.store.sql_store import Store, open_store

__all__ = ["Store", "open_store"]
