"""Task wiring, nested pipelines, container components and their placeholders, env vars."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import json
from pathlib import Path
from typing import Any, NamedTuple, Optional

import pytest
from kfp import dsl
from kfp.dsl import Dataset, Input, Output
from tests.support.pipeline_runs import EngineHarness, compile_pipeline, engine_fixture, read_artifact

# One home, store, event loop and fork server for the module's runs.
engine = pytest.fixture(scope="module")(engine_fixture)


@dsl.component
def stamp(log_dir: str, name: str) -> str:
    import os
    import time

    # Order of execution, written by the task itself.
    with open(os.path.join(log_dir, name), "w") as f:
        f.write(repr(time.time()))
    return name


@dsl.component
def concat(a: str, b: str) -> str:
    return a + "|" + b


@dsl.pipeline(name="inner-dag")
def inner(x: str) -> str:
    first = concat(a=x, b="inner-const")
    second = concat(a=first.output, b=x)
    return second.output


@dsl.pipeline(name="outer-dag")
def outer(x: str = "p") -> str:
    nested = inner(x=x)
    return concat(a=nested.output, b="outer").output


class WiringOutputs(NamedTuple):
    chained: str
    nested: str


@dsl.pipeline(name="wiring")
def wiring(log_dir: str, word: str = "w") -> WiringOutputs:
    a = stamp(log_dir=log_dir, name="a")
    b = stamp(log_dir=log_dir, name="b").after(a)
    c = concat(a=word, b=b.output)  # pipeline input + upstream output
    d = concat(a="const", b=c.output)  # constant + upstream output
    n = outer(x=d.output)  # a pipeline used as a component, two levels deep
    return WiringOutputs(d.output, n.output)


@pytest.fixture(scope="module")
def wiring_run(engine: EngineHarness, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("wiring")
    (tmp / "log").mkdir()
    result = engine.run(compile_pipeline(wiring, tmp / "wiring.yaml"), {"log_dir": str(tmp / "log")})
    return result, tmp / "log"


def test_constants_inputs_and_upstream_outputs(wiring_run: Any) -> None:
    r, _ = wiring_run
    assert r.state == "SUCCEEDED", r.run.error
    assert r.run.outputs["chained"] == "const|w|b"


def test_after_orders_tasks_without_data(wiring_run: Any) -> None:
    _, log = wiring_run
    assert float((log / "a").read_text()) <= float((log / "b").read_text())
    r, _ = wiring_run
    a, b = r.one("stamp"), r.one("stamp-2")
    assert a.finished_at is not None and b.started_at is not None and a.finished_at <= b.started_at


def test_nested_pipelines_run_as_sub_dags(wiring_run: Any) -> None:
    r, _ = wiring_run
    assert r.run.outputs["nested"] == "const|w|b|inner-const|const|w|b|outer"
    outer_task = r.one("outer-dag")
    assert outer_task.kind == "DAG" and outer_task.state == "SUCCEEDED"
    inner_task = r.at("outer-dag/inner-dag")
    assert inner_task.kind == "DAG" and inner_task.parent_task_id == outer_task.task_id
    leaf = r.at("outer-dag/inner-dag/concat-2")
    assert leaf.kind == "CONTAINER" and leaf.parent_task_id == inner_task.task_id
    assert leaf.outputs["parameters"]["Output"] == "const|w|b|inner-const|const|w|b"


# ---------------------------------------------------------------- container components


@dsl.container_component
def shell_tool(
    text: str, data: Input[Dataset], out: Output[Dataset], count: dsl.OutputPath(int),  # type: ignore[valid-type]
    extra: Optional[str] = None,  # noqa: UP045 (kfp needs Optional)
) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c"],
        args=[
            # $0 = the whole executor input ({{$}}), $1.. = the rest.
            'printf "%s" "$0" > "$1.executor.json"; '
            'cat "$2" > "$1"; printf "%s" "$3" >> "$1"; printf "%s" "$4" >> "$1"; '
            'mkdir -p "$(dirname "$5")"; printf 3 > "$5"; echo "env=$MY_VAR"',
            "{{$}}",
            out.path,
            data.path,
            dsl.ConcatPlaceholder(["<", text, ">"]),
            dsl.IfPresentPlaceholder(input_name="extra", then=[dsl.ConcatPlaceholder(["+", extra])],
                                     else_=["(no extra)"]),
            count,
        ],
    )


@dsl.component
def seed(out: Output[Dataset]) -> None:
    with open(out.path, "w") as f:
        f.write("seed;")


@dsl.component
def show(data: Input[Dataset], count: int) -> str:
    return open(data.path).read() + f"#{count}"


class ContainerOutputs(NamedTuple):
    with_extra: str
    without_extra: str


@dsl.pipeline(name="container-components")
def container_pipeline() -> ContainerOutputs:
    s = seed()
    t1 = shell_tool(text="hello", extra="more", data=s.outputs["out"]).set_env_variable("MY_VAR", "v1")
    t2 = shell_tool(text="bye", data=s.outputs["out"])
    return ContainerOutputs(show(data=t1.outputs["out"], count=t1.outputs["count"]).output,
                            show(data=t2.outputs["out"], count=t2.outputs["count"]).output)


@pytest.fixture(scope="module")
def container_run(engine: EngineHarness, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return engine.run(compile_pipeline(container_pipeline, tmp_path_factory.mktemp("c") / "container.yaml"))


def test_container_component_placeholders(container_run: Any) -> None:
    r = container_run
    assert r.state == "SUCCEEDED", r.run.error
    # ConcatPlaceholder, IfPresent (then and else branches), input/output paths.
    assert r.run.outputs["with_extra"] == "seed;<hello>+more#3"
    assert r.run.outputs["without_extra"] == "seed;<bye>(no extra)#3"


def test_container_component_gets_the_executor_input_json(container_run: Any) -> None:
    out = container_run.artifacts("shell-tool", "out")[0]
    doc = json.loads(Path(out["uri"] + ".executor.json").read_text())
    assert doc["inputs"]["parameterValues"] == {"text": "hello", "extra": "more"}
    assert doc["outputs"]["artifacts"]["out"]["artifacts"][0]["uri"] == out["uri"]
    assert read_artifact(out["uri"]) == "seed;<hello>+more"


def test_env_variable_set_on_a_task(container_run: Any) -> None:
    r = container_run
    # The script's only output line; the task without the variable sees it unset.
    assert r.log(r.one("shell-tool")) == "env=v1\n"
    assert r.log(r.one("shell-tool-2")) == "env=\n"


@dsl.component
def read_env() -> str:
    import os

    return os.environ.get("GREETING", "<unset>") + "/" + os.environ.get("_KFP_RUNTIME", "")


@dsl.container_component
def names(job: dsl.OutputPath(str)) -> dsl.ContainerSpec:  # type: ignore[valid-type]
    return dsl.ContainerSpec(
        image="alpine", command=["sh", "-c", 'mkdir -p "$(dirname "$0")"; printf "%s" "$1/$2" > "$0"'],
        args=[job, dsl.PIPELINE_JOB_NAME_PLACEHOLDER, dsl.PIPELINE_TASK_NAME_PLACEHOLDER],
    )


class EnvOutputs(NamedTuple):
    env: str
    plain: str
    job: str


@dsl.pipeline(name="env-and-names")
def env_pipeline() -> EnvOutputs:
    e = read_env().set_env_variable("GREETING", "hola")
    p = read_env()
    n = names()
    return EnvOutputs(e.output, p.output, n.output)


def test_python_task_env_and_job_placeholders(engine: EngineHarness, tmp_path: Path) -> None:
    r = engine.run(compile_pipeline(env_pipeline, tmp_path / "env.yaml"))
    assert r.state == "SUCCEEDED", r.run.error
    assert r.run.outputs["env"] == "hola/true"
    assert r.run.outputs["plain"] == "<unset>/true"
    job, task = r.run.outputs["job"].split("/")
    assert job == r.run.display_name and task == "names"


# ---------------------------------------------------------------- containerized Python


@dsl.component(base_image="python:3.11", target_image="example.invalid/my-image:1")
def containerized(x: int) -> int:
    return x * 10


@dsl.pipeline(name="containerized")
def containerized_pipeline(x: int = 4) -> int:
    return containerized(x=x).output


def test_containerized_python_component_without_its_image_fails_clearly(
    engine: EngineHarness, tmp_path: Path
) -> None:
    """A containerized component's YAML holds no code: only its image has the
    module. It is still recognised as a Python component (no pip bootstrap) and
    fails with the executor's own reason in the run's error, and the run ends."""
    yaml_path = compile_pipeline(containerized_pipeline, tmp_path / "containerized.yaml")
    spec = yaml_path.read_text()
    assert "kfp.dsl.executor_main" in spec and "def containerized" not in spec
    r = engine.run(yaml_path)
    # No image and no module: it must fail cleanly, naming what was missing, and end.
    assert r.state == "FAILED"
    task = r.one("containerized")
    assert task.state == "FAILED"
    assert "task 'containerized' failed" in (r.run.error or "")
    assert "kfp_config.ini" in (r.run.error or "")  # the log tail says why
