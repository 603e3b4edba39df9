"""KFP's rules for tags (store/tags.py) and tags through the SQLite store."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeyard.entities import ListQuery, Pipeline, PipelineVersion, Predicate
from pipeyard.errors import InvalidArgument
from pipeyard.store import open_store
from pipeyard.store.tags import check_tags

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "tags, message",
    [
        ({"": "x"}, "must not be empty"),
        ({"a.b": "x"}, "must not contain '.'"),
        ({"k": "v" * 64}, "limited to 63"),
        ({f"k{i}": "v" for i in range(21)}, "at most 20"),
        ({"k": 1}, "must be a string"),
        (["k"], "must be an object"),
    ],
)
def test_bad_tags_are_refused(tags: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        check_tags(tags, "pipeline.tags")


def test_tags_are_stored_filtered_replaced_and_deleted(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        p = store.create_pipeline(Pipeline("p1", "one", "one", "", NOW, tags={"team": "ml"}))
        store.create_pipeline(Pipeline("p2", "two", "two", "", NOW, tags={"team": "ops"}))
        store.create_pipeline_version(PipelineVersion("v1", "p1", "v1", "v1", "", NOW, {}, tags={"s": "a"}))
        assert store.get_pipeline("p1").tags == {"team": "ml"}
        by_team = ListQuery(predicates=(Predicate("tags.team", "EQUALS", "ops"),))
        assert [x.pipeline_id for x in store.list_pipelines(by_team, namespace=None).items] == ["p2"]

        store.update_pipeline(p.pipeline_id, tags={"team": "ops", "tier": "1"})
        assert store.get_pipeline("p1").tags == {"team": "ops", "tier": "1"}
        assert store.list_pipelines(by_team, namespace=None).total_size == 2
        store.update_pipeline(p.pipeline_id, display_name="renamed")  # tags kept
        assert store.get_pipeline("p1").tags == {"team": "ops", "tier": "1"}
        store.update_pipeline(p.pipeline_id, tags={})
        assert store.get_pipeline("p1").tags == {}

        assert store.get_pipeline_version("v1").tags == {"s": "a"}
        store.delete_pipeline("p1", cascade=True)
        # A pipeline re-created under the same id starts without the old tags.
        store.create_pipeline(Pipeline("p1", "one", "one", "", NOW))
        store.create_pipeline_version(PipelineVersion("v1", "p1", "v1", "v1", "", NOW, {}))
        assert store.get_pipeline("p1").tags == {} and store.get_pipeline_version("v1").tags == {}
    finally:
        store.close()
