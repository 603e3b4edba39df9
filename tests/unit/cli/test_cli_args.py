"""`--arg NAME=VALUE` parsing and conversion against a compiled pipeline's types,
and the human `runs list` (run ids are what users copy: never shortened)."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kfp import dsl
from tests.support.fake_launcher import FakeLauncher, returning
from tests.support.pipeline_runs import EngineHarness, compile_pipeline

from pipeyard.cli import inspect_cmds
from pipeyard.cli.local_run import parse_args
from pipeyard.cli.main import cli
from pipeyard.errors import PipeyardError
from pipeyard.ir.loader import LoadedPipeline, load_pipeline_file
from pipeyard.submission.runs import check_arguments


@dsl.component
def noop(s: str) -> str:
    return s


@dsl.pipeline(name="typed-args")
def typed(s: str, i: int, f: float, b: bool, lst: list, st: dict = {"d": 1}, opt: str = "x") -> str:  # noqa: B006
    return noop(s=s).output


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> LoadedPipeline:
    return load_pipeline_file(compile_pipeline(typed, tmp_path_factory.mktemp("a") / "typed.yaml"))


BASE = ("s=a", "i=1", "f=1.5", "b=false", "lst=[]")


def _check(loaded: LoadedPipeline, *pairs: str) -> dict[str, Any]:
    given = dict(parse_args(BASE))
    given.update(parse_args(pairs))
    return check_arguments(loaded, given)


@pytest.mark.parametrize(
    ("pair", "name", "expected"),
    [
        ("s=123", "s", "123"),  # JSON-looking text for a STRING stays the user's text
        ("s=hello world", "s", "hello world"),
        ("i=42", "i", 42),
        ("f=2", "f", 2.0),
        ("f=2.5", "f", 2.5),
        ("b=true", "b", True),
        ("b=false", "b", False),
        ('lst=[1, "a", [2]]', "lst", [1, "a", [2]]),
        ('st={"k": {"n": null}}', "st", {"k": {"n": None}}),
    ],
)
def test_values_take_the_declared_type(loaded: LoadedPipeline, pair: str, name: str, expected: Any) -> None:
    got = _check(loaded, pair)[name]
    assert got == expected and type(got) is type(expected)


def test_unset_parameters_are_left_to_their_defaults(loaded: LoadedPipeline) -> None:
    # A run stores what was given (as KFP does); defaults apply when it runs
    # (tests/unit/engine/test_engine_fstrings.py).
    got = _check(loaded)
    assert got == {"s": "a", "i": 1, "f": 1.5, "b": False, "lst": []}


@pytest.mark.parametrize(
    ("pairs", "name"),
    [
        (("i=abc",), "i"),
        (("i=1.5",), "i"),
        (("i=true",), "i"),
        (("f=x",), "f"),
        (("b=maybe",), "b"),
        (("b=1",), "b"),
        (("lst=5",), "lst"),
        (('lst={"a": 1}',), "lst"),
        (("st=[1]",), "st"),
        (("unknown=1",), "unknown"),
    ],
)
def test_wrong_values_are_refused_naming_the_parameter(loaded: LoadedPipeline, pairs: tuple[str, ...],
                                                       name: str) -> None:
    with pytest.raises(PipeyardError) as info:
        _check(loaded, *pairs)
    assert name in str(info.value)


def test_missing_required_parameter_is_named(loaded: LoadedPipeline) -> None:
    with pytest.raises(PipeyardError, match="'lst'"):
        check_arguments(loaded, dict(parse_args(BASE[:-1])))


@pytest.mark.parametrize("pair", ["novalue", "=1"])
def test_malformed_pairs(pair: str) -> None:
    with pytest.raises(PipeyardError, match="NAME=VALUE"):
        parse_args((pair,))


def test_value_may_contain_equals_signs() -> None:
    assert parse_args(("s=a=b",)) == {"s": "a=b"}


def test_runs_list_shows_whole_run_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The run is real (SQL store, engine); its one task is played by the fake launcher.
    harness = EngineHarness(tmp_path / "home", FakeLauncher({"noop": returning(lambda s: s)}))
    try:
        spec = compile_pipeline(typed, tmp_path / "typed.yaml")
        run = harness.run(spec, {"s": "a", "i": 1, "f": 1.0, "b": True, "lst": []})
    finally:
        harness.close()
    monkeypatch.setenv("PIPEYARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PIPEYARD_DATABASE_URL", raising=False)
    inspect_cmds.register(cli)
    result = CliRunner().invoke(cli, ["runs", "list"], terminal_width=60)
    assert result.exit_code == 0, result.output
    assert run.run.run_id in result.output
    shown = CliRunner().invoke(cli, ["runs", "show", run.run.run_id])
    assert shown.exit_code == 0 and "SUCCEEDED" in shown.output
