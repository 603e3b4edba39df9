from __future__ import annotations

import importlib.util
import re
import shlex
from typing import Any

import pytest
from tests.conftest import CONFORMANCE_PIPELINES

from pipeyard.ir.loader import load_pipeline_file, spec_to_dict
from pipeyard.ir.python_component import PythonProgram, detect_python_program, parse_bootstrap

CONFORMANCE = CONFORMANCE_PIPELINES
needs_conformance = pytest.mark.usefixtures("conformance_pipelines")

# Kept as text: this module's postponed annotations would hide the types from kfp.
COMPONENTS = """
from kfp import dsl

@dsl.component(packages_to_install=["pandas==2.2.0", "numpy<2; python_version<'3.12'"],
               pip_index_urls=["https://a.example/simple", "https://b.example/simple"])
def with_packages(x: int) -> int:
    return x + 1

@dsl.component
def plain(s: str) -> str:
    return s
"""


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # kfp reads a lightweight component's source with inspect, so it must live in a file.
    path = tmp_path_factory.mktemp("components") / "pipeyard_test_components.py"
    path.write_text(COMPONENTS)
    spec = importlib.util.spec_from_file_location("pipeyard_test_components", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _compiled(components: Any, name: str) -> dict[str, Any]:
    d = spec_to_dict(getattr(components, name).pipeline_spec)
    [executor] = d["deploymentSpec"]["executors"].values()
    return executor["container"]


def test_sdk_component_with_packages_and_index_urls(components: Any) -> None:
    c = _compiled(components, "with_packages")
    args = [a.replace("{{$}}", '{"inputs": {}}') for a in c["args"]]
    p = detect_python_program(c["command"], args)
    assert p is not None
    assert p.packages == ("pandas==2.2.0", "numpy<2; python_version<'3.12'")
    assert p.index_urls == ("https://a.example/simple", "https://b.example/simple")
    assert p.executor_args == ("--executor_input", '{"inputs": {}}', "--function_to_execute", "with_packages")
    assert p.source is not None and "def with_packages(x: int) -> int:" in p.source
    compile(p.source, "component", "exec")


def test_sdk_component_without_packages(components: Any) -> None:
    c = _compiled(components, "plain")
    p = detect_python_program(c["command"], c["args"])
    assert p is not None
    assert p.packages == () and p.index_urls == ()
    assert p.executor_args[-2:] == ("--function_to_execute", "plain")


def test_containerized_component() -> None:
    args = ["--executor_input", "{}", "--function_to_execute", "f"]
    for python in ("python3", "python", "python3.11"):
        assert detect_python_program([python, "-m", "kfp.dsl.executor_main"], args) == PythonProgram(
            executor_args=tuple(args)
        )


@pytest.mark.parametrize(
    "command, args",
    [
        (["echo", "hi"], []),
        (["python3", "-m", "my_tool"], ["--x"]),
        (["python3", "-u", "-c", "print(1)"], []),
        (["sh", "-c", "echo $0", "hi"], []),
        (["sh", "-ec", "python3 -m kfp.dsl.executor_main"], []),
        ([], []),
    ],
)
def test_other_commands_are_not_python_programs(command: list[str], args: list[str]) -> None:
    assert detect_python_program(command, args) is None


def test_older_bootstrap_orders() -> None:
    kfp_pin = "python3 -m pip install --quiet --no-warn-script-location 'kfp==2.14.3' '--no-deps' 'typing-extensions>=3.7.4,<5; python_version<\"3.9\"'"
    user = "python3 -m pip install --quiet --no-warn-script-location 'pandas==2.2.0' 'scikit-learn==1.4.0'"
    tail = ' && "$0" "$@"\n'
    assert parse_bootstrap(f"PIP=1 {kfp_pin}  &&  {user}{tail}") == (
        ("pandas==2.2.0", "scikit-learn==1.4.0"),
        (),
    )
    assert parse_bootstrap(f"PIP=1 {user}  &&  {kfp_pin}{tail}") == (
        ("pandas==2.2.0", "scikit-learn==1.4.0"),
        (),
    )
    assert parse_bootstrap(f"PIP=1 {kfp_pin}{tail}") == ((), ())


def _quoted_requirements(segment: str) -> list[str]:
    return [
        t
        for t in shlex.split(segment)
        if not t.startswith("-") and t not in ("python3", "-m", "pip", "install")
    ]


@needs_conformance
def test_every_conformance_executor() -> None:
    counts = {"lightweight": 0, "containerized": 0, "other": 0}
    for f in sorted(CONFORMANCE.glob("*.yaml")):
        d = spec_to_dict(load_pipeline_file(f).spec)
        for label, ex in d.get("deploymentSpec", {}).get("executors", {}).items():
            c = ex.get("container")
            if c is None:
                continue
            command, args = c.get("command", []), c.get("args", [])
            p = detect_python_program(command, args)
            is_lightweight = len(command) == 7 and "ephemeral_component.py" in command[5]
            where = f"{f.name}: {label}"
            if is_lightweight:
                assert p is not None and p.source is not None, where
                counts["lightweight"] += 1
                compile(p.source, where, "exec")
                assert p.executor_args == tuple(args), where
                assert p.source == command[6], where
                _check_packages(command[2], p, where)
            elif p is not None:
                assert p.source is None, where
                counts["containerized"] += 1
            else:
                counts["other"] += 1
    assert counts["lightweight"] >= 350
    assert counts["containerized"] >= 1
    assert counts["other"] > 0


def _check_packages(bootstrap: str, p: PythonProgram, where: str) -> None:
    """Against an independent reading of the bootstrap: every quoted requirement of every
    pip command that is not the kfp pin."""
    expected: list[str] = []
    for segment in re.findall(r"pip install ([^&\n]*)", bootstrap):
        reqs = _quoted_requirements(segment)
        if any(r.startswith("kfp==") for r in reqs):
            continue
        expected += [r for r in reqs if r not in expected and not r.startswith("https://")]
    assert list(p.packages) == expected, where
    assert not any(pkg.startswith("kfp==") for pkg in p.packages), where
    urls = re.findall(r"--(?:extra-)?index-url (\S+)", bootstrap)
    assert list(p.index_urls) == list(dict.fromkeys(urls)), where
