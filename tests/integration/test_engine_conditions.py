"""Conditions (If/Elif/Else, Condition), OneOf, exit handlers and
ignore_upstream_failure, compiled with kfp and run through the engine."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import json
from pathlib import Path

import pytest
import yaml
from kfp import dsl
from kfp.dsl import Dataset, Output, PipelineTaskFinalStatus
from tests.support.pipeline_runs import EngineHarness, compile_pipeline, engine_fixture, read_artifact

engine = pytest.fixture(scope="module")(engine_fixture)


@dsl.component
def number(n: int) -> int:
    return n


@dsl.component
def say(word: str) -> str:
    print(f"saying {word}")
    return word


@dsl.pipeline(name="branches")
def branches(n: int) -> int:
    num = number(n=n)
    with dsl.If(num.output > 10):
        big = say(word="big")
        say(word=big.output)  # an inner task that must be skipped too
    with dsl.Elif(num.output > 5):
        say(word="medium")
    with dsl.Else():
        say(word="small")
    with dsl.Condition(num.output == 7):
        say(word="seven")
    return num.output


@pytest.fixture(scope="module")
def branches_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(branches, tmp_path_factory.mktemp("b") / "branches.yaml")


# say, say-2: If > 10; say-3: Elif > 5; say-4: Else; say-5: Condition == 7.
@pytest.mark.parametrize(("n", "taken"), [
    (20, {"say": "big", "say-2": "big"}), (7, {"say-3": "medium", "say-5": "seven"}), (1, {"say-4": "small"}),
])
def test_exactly_one_branch_runs(engine: EngineHarness, branches_yaml: Path, n: int, taken: dict[str, str]) -> None:
    r = engine.run(branches_yaml, {"n": n})
    assert r.state == "SUCCEEDED", r.run.error
    leaves = {t.name: t for t in r.tasks if t.kind == "CONTAINER" and t.name.startswith("say")}
    # Every leaf task of a branch not taken is SKIPPED (never run), not missing.
    assert {name: t.state for name, t in leaves.items()} == {
        name: "SUCCEEDED" if name in taken else "SKIPPED" for name in ("say", "say-2", "say-3", "say-4", "say-5")
    }
    assert {name: t.outputs["parameters"]["Output"] for name, t in leaves.items() if name in taken} == taken
    assert {t.attempts for t in r.tasks if t.state == "SKIPPED"} == {0}


def test_skipped_branch_marks_its_inner_tasks_skipped(engine: EngineHarness, branches_yaml: Path) -> None:
    r = engine.run(branches_yaml, {"n": 1})
    big_branch = [t for t in r.tasks if t.name in ("say", "say-2")]
    assert [t.state for t in big_branch] == ["SKIPPED", "SKIPPED"]
    # If/Elif/Else compile to a condition-branches group holding one DAG per branch:
    # the group ran, the branch DAG not taken is SKIPPED with the reason.
    branch = next(t for t in r.tasks if t.task_id == big_branch[0].parent_task_id)
    assert branch.kind == "DAG" and branch.state == "SKIPPED"
    assert "condition is false" in json.dumps(branch.details)
    group = next(t for t in r.tasks if t.task_id == branch.parent_task_id)
    assert group.name.startswith("condition-branches") and group.state == "SUCCEEDED"


def test_condition_that_cannot_be_evaluated_fails_with_the_expression(engine: EngineHarness,
                                                                     branches_yaml: Path,
                                                                     tmp_path: Path) -> None:
    doc = yaml.safe_load(branches_yaml.read_text())
    tasks = doc["root"]["dag"]["tasks"]
    name, cond_task = next((k, v) for k, v in tasks.items() if "triggerPolicy" in v)
    broken = "int(inputs.parameter_values['pipelinechannel--number-Output']) > 'ten'"
    cond_task["triggerPolicy"]["condition"] = broken
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(doc))
    r = engine.run(path, {"n": 3})
    assert r.state == "FAILED"
    row = r.at(name)
    assert row.state == "FAILED"
    assert broken in (row.error or "")
    assert broken in (r.run.error or "")
    assert (r.run.error or "").count(f"task {name!r}") == 1
    # Never silently false: nothing inside the broken condition is recorded (not even
    # as SKIPPED), while the If/Elif/Else group beside it took its own course (n=3: Else).
    assert {t.path: t.state for t in r.tasks} == {
        "number": "SUCCEEDED",
        name: "FAILED",
        "condition-branches-1": "SUCCEEDED",
        "condition-branches-1/condition-2": "SKIPPED",
        "condition-branches-1/condition-2/say": "SKIPPED",
        "condition-branches-1/condition-2/say-2": "SKIPPED",
        "condition-branches-1/condition-3": "SKIPPED",
        "condition-branches-1/condition-3/say-3": "SKIPPED",
        "condition-branches-1/condition-4": "SUCCEEDED",
        "condition-branches-1/condition-4/say-4": "SUCCEEDED",
    }


# ---------------------------------------------------------------- OneOf


@dsl.component
def write(text: str, out: Output[Dataset]) -> None:
    with open(out.path, "w") as f:
        f.write(text)
    out.metadata["text"] = text


@dsl.pipeline(name="oneof-inner")
def choose(n: int) -> str:
    num = number(n=n)
    with dsl.If(num.output > 5):
        hi = say(word="high")
    with dsl.Else():
        lo = say(word="low")
    return dsl.OneOf(hi.output, lo.output)


@dsl.pipeline(name="oneof-artifacts")
def choose_artifact(n: int) -> Dataset:
    num = number(n=n)
    with dsl.If(num.output > 5):
        hi = write(text="high-data")
    with dsl.Else():
        lo = write(text="low-data")
    return dsl.OneOf(hi.outputs["out"], lo.outputs["out"])


@dsl.component
def consume(text: str) -> str:
    return "got " + text


@dsl.pipeline(name="oneof")
def oneof(n: int) -> str:
    param = choose(n=n)
    art = choose_artifact(n=n)
    both = consume(text=param.output).after(art)
    return both.output


@pytest.fixture(scope="module")
def oneof_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(oneof, tmp_path_factory.mktemp("o") / "oneof.yaml")


@pytest.mark.parametrize(("n", "word"), [(9, "high"), (2, "low")])
def test_oneof_parameters_and_artifacts(engine: EngineHarness, oneof_yaml: Path, n: int, word: str) -> None:
    r = engine.run(oneof_yaml, {"n": n})
    assert r.state == "SUCCEEDED", r.run.error
    assert r.run.outputs["Output"] == f"got {word}"
    chooser = r.one("oneof-artifacts")
    arts = chooser.outputs["artifacts"]["Output"]
    assert len(arts) == 1
    assert read_artifact(arts[0]["uri"]) == f"{word}-data"
    assert arts[0]["metadata"] == {"text": f"{word}-data"}


# ---------------------------------------------------------------- exit handlers


@dsl.component
def report(status: PipelineTaskFinalStatus, out_dir: str) -> str:
    import json
    import os

    doc = {"state": status.state, "message": status.error_message, "job": status.pipeline_job_resource_name,
           "task": status.pipeline_task_name, "code": status.error_code}
    with open(os.path.join(out_dir, "status.json"), "w") as f:
        json.dump(doc, f)
    return status.state


@dsl.component
def maybe_fail(fail: bool) -> str:
    if fail:
        raise RuntimeError("asked to fail")
    return "fine"


@dsl.component
def cleanup(note: str) -> str:
    return "cleaned " + note


@dsl.pipeline(name="exit-handler")
def exit_pipeline(fail: bool, out_dir: str) -> None:
    handler = report(out_dir=out_dir)
    with dsl.ExitHandler(handler):
        first = maybe_fail(fail=fail)
        say(word=first.output)
        # Runs after its upstream whatever happened to it.
        cleanup(note="always").after(first).ignore_upstream_failure()


@pytest.fixture(scope="module")
def exit_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(exit_pipeline, tmp_path_factory.mktemp("e") / "exit.yaml")


def test_exit_handler_runs_after_success(engine: EngineHarness, exit_yaml: Path, tmp_path: Path) -> None:
    r = engine.run(exit_yaml, {"fail": False, "out_dir": str(tmp_path)})
    assert r.state == "SUCCEEDED", r.run.error
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "COMPLETE"
    assert status["task"] == "exit-handler-1"
    assert r.run.run_id in status["job"]
    assert r.one("report").state == "SUCCEEDED"
    assert r.one("cleanup").outputs["parameters"]["Output"] == "cleaned always"


def test_exit_handler_runs_after_failure_and_the_run_still_fails(engine: EngineHarness, exit_yaml: Path,
                                                                  tmp_path: Path) -> None:
    r = engine.run(exit_yaml, {"fail": True, "out_dir": str(tmp_path)})
    assert r.state == "FAILED"
    assert "asked to fail" in (r.run.error or "")
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "FAILED"
    # The handler sees the failed group's error: the run's, naming the task, ending with its traceback.
    assert status["message"] == r.run.error
    assert status["message"].startswith("task 'exit-handler-1/maybe-fail' failed: exit code 1\n")
    assert status["message"].endswith("RuntimeError: asked to fail")
    assert r.one("report").state == "SUCCEEDED"
    # The task after the failure inside the handler's group did not start...
    assert [t for t in r.tasks if t.name == "say"] == []
    # ...but the ignore_upstream_failure task did.
    assert r.one("cleanup").state == "SUCCEEDED"
