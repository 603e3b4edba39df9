from __future__ import annotations

from datetime import datetime, timezone

from pipeyard.entities import Run, Task
from pipeyard.server.converters import run_json, task_json
from pipeyard.server.timefmt import fmt, parse

T = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_run_json_matches_kfp_shape() -> None:
    run = Run(
        run_id="r1",
        display_name="r",
        pipeline_spec={"pipelineInfo": {"name": "p"}, "root": {}},
        state="FAILED",
        created_at=T,
        started_at=T,
        finished_at=T,
        error="task 'b' failed",
        parameters={"x": 1},
    )
    loop = Task("t-loop", "r1", "for-loop-2", "for-loop-2", "for-loop-2", "LOOP", "SUCCEEDED", T)
    art = {"artifact_id": "a1", "name": "out", "uri": "/x", "type": "system.Dataset", "metadata": {}}
    child = Task(
        "t-it", "r1", "for-loop-2[0]", "for-loop-2", "for-loop-2", "ITERATION", "FAILED", T,
        parent_task_id="t-loop", error="exit code 1",
        outputs={"parameters": {"Output": 3}, "artifacts": {"out": [art]}},
    )  # fmt: skip
    body = run_json(run, [loop, child])
    assert body["pipeline_spec"]["pipelineInfo"]["name"] == "p"
    assert "pipeline_version_reference" not in body
    assert body["runtime_config"] == {"parameters": {"x": 1}, "pipeline_root": ""}
    assert body["error"]["message"] == "task 'b' failed"
    assert [h["state"] for h in body["state_history"]] == ["PENDING", "RUNNING", "FAILED"]
    details = {t["task_id"]: t for t in body["run_details"]["task_details"]}
    assert details["t-loop"]["child_tasks"] == [{"task_id": "t-it"}]
    assert details["t-it"]["parent_task_id"] == "t-loop"
    assert details["t-it"]["outputs"] == {"out": {"artifact_ids": ["a1"]}}
    assert details["t-it"]["output_parameters"] == {"Output": 3}
    assert details["t-it"]["error"] == {"code": 2, "message": "exit code 1", "details": []}
    ui = task_json(child)
    assert ui["outputs"]["artifacts"]["out"][0]["type"] == "system.Dataset"
    assert ui["path"] == "for-loop-2[0]" and ui["kind"] == "ITERATION"


def test_platform_spec_is_wrapped_as_kfp_client_sends_it() -> None:
    run = Run("r", "r", {"root": {}}, "PENDING", T, platform_spec={"platforms": {}})
    assert set(run_json(run)["pipeline_spec"]) == {"pipeline_spec", "platform_spec"}


def test_times_round_trip() -> None:
    assert fmt(T) == "2026-03-01T12:00:00Z"
    assert parse("2026-03-01T13:00:00+01:00", "t") == T
    assert parse(fmt(T.replace(microsecond=123000)), "t") == T.replace(microsecond=123000)
