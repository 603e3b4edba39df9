"""dsl.PipelineConfig (kfp 2.14+): the active deadline stops a run, the TTLs release
what a finished run keeps on the machine; and the retry policy's max duration."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from kfp import dsl
from tests.support.pipeline_runs import EngineHarness, compile_pipeline, engine_fixture, read_artifact
from tests.support.processes import gone

from pipeyard.engine import ttl
from pipeyard.engine.retries import retry_delay
from pipeyard.ir.loader import load_pipeline_file
from pipeyard.ir.views import build_view

engine = pytest.fixture(scope="module")(engine_fixture)


@dsl.component
def hang(pid_file: str) -> str:
    import os
    import time

    with open(pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(pid_file + ".tmp", pid_file)
    time.sleep(600)
    return "not reached"


@dsl.component
def echo(msg: str) -> str:
    return msg


@dsl.component
def write(msg: str, out: dsl.Output[dsl.Dataset]) -> None:
    with open(out.path, "w") as f:
        f.write(msg)


@dsl.pipeline(name="deadline", pipeline_config=dsl.PipelineConfig(active_deadline_seconds=3))
def deadline(pid_file: str) -> str:
    h = hang(pid_file=pid_file)
    return echo(msg=h.output).output


@dsl.pipeline(name="ttl", pipeline_config=dsl.PipelineConfig(ttl_seconds_after_finished=600,
                                                              ttl_seconds_after_failure=5))
def with_ttl(msg: str) -> None:
    write(msg=msg)


@dsl.pipeline(name="no-ttl")
def without_ttl(msg: str) -> None:
    write(msg=msg)


def test_the_compiled_config_is_in_the_platform_spec(tmp_path: Path) -> None:
    spec = compile_pipeline(deadline, tmp_path / "d.yaml")
    docs = list(yaml.safe_load_all(spec.read_text()))
    assert docs[1]["platforms"]["kubernetes"]["pipelineConfig"] == {"activeDeadlineSeconds": 3}


def test_a_run_past_its_deadline_is_stopped_and_failed(engine: EngineHarness, tmp_path: Path) -> None:
    spec = compile_pipeline(deadline, tmp_path / "d.yaml")
    pid_file = tmp_path / "pid"
    r = engine.run(spec, {"pid_file": str(pid_file)})
    assert r.state == "FAILED"
    assert "exceeded its deadline of 3 s" in (r.run.error or ""), r.run.error
    task = r.one("hang")
    assert task.state == "FAILED" and "deadline of 3 s" in (task.error or "")
    assert [a.state for a in r.attempts(task)] == ["FAILED"]
    # Its process was killed, and what came after it never ran.
    pid = int(pid_file.read_text())
    end = time.monotonic() + 60  # a guard against hanging, not a timing assertion
    while not gone(pid) and time.monotonic() < end:
        time.sleep(0.05)
    assert gone(pid)
    assert [t.name for t in r.tasks] == ["hang"]


def test_a_retried_run_gets_a_new_deadline(engine: EngineHarness, tmp_path: Path) -> None:
    spec = compile_pipeline(deadline, tmp_path / "d.yaml")
    pid_file = tmp_path / "pid"
    first = engine.run(spec, {"pid_file": str(pid_file)})
    assert first.state == "FAILED"
    pid_file.unlink()
    # What the API's :retry does; the engine then executes the run again.
    engine.store.update_run(first.run.run_id, state="PENDING", error=None, finished_at=None)
    again = engine.run_existing(first.run.run_id)
    assert again.state == "FAILED" and "deadline of 3 s" in (again.run.error or "")
    # The task started again (it wrote its pid anew) instead of the run failing at once.
    assert pid_file.exists()
    assert [a.state for a in again.attempts(again.one("hang"))] == ["FAILED", "FAILED"]


def test_ttl_releases_the_work_directory_and_keeps_records_logs_and_artifacts(
        engine: EngineHarness, tmp_path: Path) -> None:
    spec = compile_pipeline(with_ttl, tmp_path / "t.yaml")
    r = engine.run(spec, {"msg": "kept"})
    assert r.state == "SUCCEEDED", r.run.error
    work = ttl.work_root(engine.settings, r.run.run_id)
    assert work.is_dir()
    assert r.run.finished_at is not None
    # The success of a run falls under ttl_seconds_after_finished (600 s), not the failure TTL.
    assert ttl.expires_at(r.run) == r.run.finished_at + timedelta(seconds=600)
    assert r.run.run_id not in ttl.sweep(engine.store, engine.settings, r.run.finished_at + timedelta(seconds=599))
    assert work.is_dir()
    assert r.run.run_id in ttl.sweep(engine.store, engine.settings, r.run.finished_at + timedelta(seconds=601))
    assert not work.exists()
    task = r.one("write")
    assert engine.store.get_run(r.run.run_id).state == "SUCCEEDED"
    assert read_artifact(r.artifacts("write", "out")[0]["uri"]) == "kept"
    assert Path(r.attempts(task)[0].log_path).exists()


def test_a_run_without_ttl_keeps_its_work_directory(engine: EngineHarness, tmp_path: Path) -> None:
    spec = compile_pipeline(without_ttl, tmp_path / "n.yaml")
    r = engine.run(spec, {"msg": "x"})
    assert r.state == "SUCCEEDED", r.run.error
    assert ttl.expires_at(r.run) is None
    assert r.run.finished_at is not None
    later = r.run.finished_at + timedelta(days=365)
    assert r.run.run_id not in ttl.sweep(engine.store, engine.settings, later)
    assert ttl.work_root(engine.settings, r.run.run_id).is_dir()


# ---------------------------------------------------------------- retries without a cap


@dsl.pipeline(name="long-retries")
def long_retries(msg: str) -> str:
    return echo(msg=msg).set_retry(num_retries=3, backoff_duration="2h", backoff_max_duration="30h").output


def test_retry_budget_above_an_hour_is_honoured_and_a_missing_one_is_unlimited(tmp_path: Path) -> None:
    spec = compile_pipeline(long_retries, tmp_path / "l.yaml")
    loaded = load_pipeline_file(spec)
    view = build_view(loaded.spec, loaded.platform_spec)
    assert view.root.dag is not None
    policy = view.root.dag.tasks["echo"].retry
    assert policy is not None and policy.backoff_max_seconds == 30 * 3600.0
    # 3 h in, the 4 h wait still begins within 30 h (KFP < 2.15 capped this at 1 h).
    assert retry_delay(policy, 2, elapsed=3 * 3600.0) == 4 * 3600.0
    assert retry_delay(policy, 3, elapsed=23 * 3600.0) is None  # 23 h in, 8 h more: past 30 h
    # A spec without backoffMaxDuration retries without a time limit.
    doc = list(yaml.safe_load_all(spec.read_text()))
    del doc[0]["root"]["dag"]["tasks"]["echo"]["retryPolicy"]["backoffMaxDuration"]
    bare = tmp_path / "bare.yaml"
    bare.write_text(yaml.safe_dump_all(doc))
    loaded = load_pipeline_file(bare)
    view = build_view(loaded.spec, loaded.platform_spec)
    assert view.root.dag is not None
    unlimited = view.root.dag.tasks["echo"].retry
    assert unlimited is not None and unlimited.backoff_max_seconds is None
    assert retry_delay(unlimited, 3, elapsed=100 * 3600.0) == 8 * 3600.0
