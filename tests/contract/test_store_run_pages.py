"""``list_runs(omit=...)``: what the runs page does not show is not read; the rest is as stored."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from pipeyard.entities import ListQuery, Run
from pipeyard.server.converters import run_json
from pipeyard.store import Store
from pipeyard.store.runs import PAGE_OMITS

T0 = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
SPEC = {"pipelineInfo": {"name": "p"}, "root": {"dag": {"tasks": {}}}, "schemaVersion": "2.1.0"}


def full_run(i: int) -> Run:
    return Run(
        run_id=f"run-{i:04d}", display_name=f"run {i}", pipeline_spec=SPEC, state="RUNNING",
        created_at=T0 + timedelta(seconds=i), description="d", pipeline_name="p",
        platform_spec={"platforms": {"kubernetes": {}}}, parameters={"n": i}, input_artifacts={"data": "/a"},
        pipeline_root="/root", enable_caching=False, error=None, outputs={"parameters": {"x": i}},
        scheduled_at=T0, started_at=T0 + timedelta(seconds=i + 1), worker_id="w:1", generation=3,
        lease_expires_at=T0 + timedelta(minutes=5), service_account="sa",
    )


def test_omitted_fields_keep_defaults_and_the_rest_is_as_stored(store: Store) -> None:
    stored = [store.create_run(full_run(i)) for i in range(3)]
    page = store.list_runs(ListQuery(page_size=2, descending=False), omit=PAGE_OMITS)
    assert page.total_size == 3 and page.next_page_token
    defaults = Run(run_id="", display_name="", pipeline_spec={}, state="PENDING", created_at=T0)
    for got, want in zip(page.items, stored[:2], strict=True):
        for f in dataclasses.fields(Run):
            if f.name in PAGE_OMITS:
                assert getattr(got, f.name) == getattr(defaults, f.name), f.name
            else:
                assert getattr(got, f.name) == getattr(want, f.name), f.name
    rest = store.list_runs(ListQuery(page_size=2, descending=False, page_token=page.next_page_token), omit=PAGE_OMITS)
    assert [r.run_id for r in rest.items] == ["run-0002"]


def test_the_api_shape_of_a_page_is_what_the_full_rows_give(store: Store) -> None:
    # The runs list's JSON must not change for skipping columns run_json does not show.
    for i in range(3):
        store.create_run(full_run(i))
    light = store.list_runs(ListQuery(), omit=PAGE_OMITS).items
    full = store.list_runs(ListQuery(), include_pipeline_spec=False).items
    assert [run_json(r) for r in light] == [run_json(r) for r in full]
    assert run_json(light[0])["runtime_config"] == {"parameters": {"n": 2}, "pipeline_root": "/root",
                                                    "pipeyard_input_artifacts": {"data": "/a"}}
