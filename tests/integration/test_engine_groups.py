"""`.after()` on an ExitHandler group and artifact `dsl.OneOf` outputs, compiled by kfp."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from pathlib import Path

import pytest
from kfp import dsl
from tests.support.pipeline_runs import EngineHarness, compile_pipeline, engine_fixture, read_artifact

engine = pytest.fixture(scope="module")(engine_fixture)


@dsl.component
def say(msg: str) -> str:
    return msg


@dsl.component
def maybe_fail(fail: bool) -> str:
    if fail:
        raise RuntimeError("asked to fail")
    return "fine"


@dsl.component
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    return status.state


@dsl.component
def make(v: str, out: dsl.Output[dsl.Dataset]) -> None:
    with open(out.path, "w") as f:
        f.write(v)


@dsl.component
def read(d: dsl.Input[dsl.Dataset]) -> str:
    with open(d.path) as f:
        return f.read()


@dsl.pipeline(name="after-exit-handler")
def after_exit_handler(fail: bool) -> str:
    with dsl.ExitHandler(report()) as group:
        maybe_fail(fail=fail)
    return say(msg="after the group").after(group).output


@dsl.pipeline(name="one-of-artifacts")
def one_of_artifacts(side: str) -> dsl.Dataset:
    flip = say(msg=side)
    with dsl.If(flip.output == "heads"):
        a = make(v="from heads")
    with dsl.Else():
        b = make(v="from tails")
    chosen = dsl.OneOf(a.outputs["out"], b.outputs["out"])
    read(d=chosen)
    return chosen


@pytest.fixture(scope="module")
def after_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(after_exit_handler, tmp_path_factory.mktemp("a") / "a.yaml")


def test_after_an_exit_handler_group_runs_once_the_group_succeeded(engine: EngineHarness, after_yaml: Path) -> None:
    r = engine.run(after_yaml, {"fail": False})
    assert r.state == "SUCCEEDED", r.run.error
    assert r.run.outputs["Output"] == "after the group"
    after, group, exit_task = r.one("say"), r.one("exit-handler-1"), r.one("report")
    assert group.state == "SUCCEEDED" and exit_task.state == "SUCCEEDED"
    assert r.params("report")["Output"] == "COMPLETE"
    assert group.finished_at is not None and after.started_at is not None
    assert after.started_at >= group.finished_at


def test_after_a_failed_exit_handler_group_does_not_run(engine: EngineHarness, after_yaml: Path) -> None:
    r = engine.run(after_yaml, {"fail": True})
    assert r.state == "FAILED"
    assert "asked to fail" in (r.run.error or "")
    assert r.params("report")["Output"] == "FAILED"  # the exit handler still ran
    assert [t for t in r.tasks if t.name == "say"] == []


@pytest.mark.parametrize(("side", "branch", "text"), [("heads", "make", "from heads"),
                                                       ("tails", "make-2", "from tails")])
def test_one_of_artifact_output_is_the_branch_that_ran(engine: EngineHarness, tmp_path: Path,
                                                       side: str, branch: str, text: str) -> None:
    spec = compile_pipeline(one_of_artifacts, tmp_path / "o.yaml")
    r = engine.run(spec, {"side": side})
    assert r.state == "SUCCEEDED", r.run.error
    produced = r.artifacts(branch, "out")[0]["uri"]
    assert r.run.outputs["Output"]["uri"] == produced
    assert read_artifact(produced) == text
    assert r.params("read")["Output"] == text
    other = "make-2" if branch == "make" else "make"
    assert r.one(other).state == "SKIPPED"
