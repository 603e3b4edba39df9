"""Moved to ``tests.support.pipeline_runs``. This alias keeps test files written on other
branches before the move importing while they are merged; delete it once none is left
(``git grep tests.unit.engine.pipeline_runs``)."""

from tests.support.pipeline_runs import *  # noqa: F403
