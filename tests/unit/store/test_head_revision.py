"""The fast up-to-date check in migrate.py must name Alembic's real head."""

from __future__ import annotations

from pipeyard.store.migrate import HEAD_REVISION, head_revision


def test_head_revision_constant_matches_the_migrations() -> None:
    assert head_revision() == HEAD_REVISION
