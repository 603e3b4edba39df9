from __future__ import annotations

from typing import Any

import pytest

from pipeyard.errors import InvalidArgument
from pipeyard.ir.params import coerce_parameters, parse_cli_value

DEFS: dict[str, dict[str, Any]] = {
    "s": {"parameterType": "STRING"},
    "i": {"parameterType": "NUMBER_INTEGER", "defaultValue": 2.0, "isOptional": True},
    "f": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 1, "isOptional": True},
    "b": {"parameterType": "BOOLEAN", "defaultValue": False, "isOptional": True},
    "l": {"parameterType": "LIST", "defaultValue": [1, 2], "isOptional": True},
    "d": {"parameterType": "STRUCT", "isOptional": True},
    "status": {"parameterType": "TASK_FINAL_STATUS"},
}


def test_parse_cli_value() -> None:
    assert parse_cli_value("3") == 3
    assert parse_cli_value("2.5") == 2.5
    assert parse_cli_value("true") is True
    assert parse_cli_value("[1, 2]") == [1, 2]
    assert parse_cli_value('{"a": 1}') == {"a": 1}
    assert parse_cli_value("alice") == "alice"
    assert parse_cli_value("") == ""


def test_defaults_are_filled_and_converted() -> None:
    out = coerce_parameters(DEFS, {"s": "x"})
    assert out == {"s": "x", "i": 2, "f": 1.0, "b": False, "l": [1, 2]}
    assert type(out["i"]) is int and type(out["f"]) is float
    assert "d" not in out and "status" not in out


@pytest.mark.parametrize(
    "name, given, expected",
    [
        ("s", 3, "3"),
        ("s", 2.5, "2.5"),
        ("s", True, "true"),
        ("i", 7, 7),
        ("i", 7.0, 7),
        ("i", "42", 42),
        ("i", " -3 ", -3),
        ("f", 3, 3.0),
        ("f", "1e-3", 0.001),
        ("b", True, True),
        ("b", "false", False),
        ("b", "True", True),
        ("l", "[1, 2, 3]", [1, 2, 3]),
        ("l", ("a",), ["a"]),
        ("d", '{"k": [1]}', {"k": [1]}),
        ("d", {"k": 1}, {"k": 1}),
    ],
)
def test_conversions(name: str, given: Any, expected: Any) -> None:
    out = coerce_parameters(DEFS, {"s": "x", name: given})
    assert out[name] == expected
    assert type(out[name]) is type(expected)


@pytest.mark.parametrize(
    "name, given, message",
    [
        ("i", "abc", "expected an integer, got 'abc'"),
        ("i", 2.5, "expected an integer, got 2.5"),
        ("i", True, "expected an integer, got true"),
        ("f", "x", "expected a number"),
        ("f", False, "expected a number"),
        ("b", 1, "expected a boolean"),
        ("b", "yes", "expected a boolean"),
        ("l", "not json", "expected a list"),
        ("l", {"a": 1}, "expected a list"),
        ("d", "[1]", "expected a dict"),
        ("s", [1], "expected a string"),
    ],
)
def test_type_errors_name_the_parameter(name: str, given: Any, message: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        coerce_parameters(DEFS, {"s": "x", name: given})
    assert e.value.field == name
    assert message in e.value.reason


def test_unknown_parameter_lists_the_known_ones() -> None:
    with pytest.raises(InvalidArgument) as e:
        coerce_parameters(DEFS, {"s": "x", "zz": 1}, where="pipeline 'p'")
    assert e.value.field == "zz"
    assert "unknown parameter 'zz' for pipeline 'p'" in e.value.reason
    assert "known parameters: b, d, f, i, l, s" in e.value.reason


def test_runtime_parameters_are_hidden_unless_given() -> None:
    # A component compiled as a pipeline can take its PipelineTaskFinalStatus from the caller.
    assert "status" not in coerce_parameters(DEFS, {"s": "x"})
    status = {"state": "SUCCEEDED", "error": {}}
    assert coerce_parameters(DEFS, {"s": "x", "status": status})["status"] == status
    with pytest.raises(InvalidArgument):
        coerce_parameters(DEFS, {"s": "x", "status": "not a struct"})


def test_missing_required() -> None:
    with pytest.raises(InvalidArgument) as e:
        coerce_parameters(DEFS, {})
    assert e.value.field == "s"
    assert "missing required parameter 's'" in e.value.reason
    with pytest.raises(InvalidArgument, match="missing required parameter 's'"):
        coerce_parameters(DEFS, {"s": None})


def test_explicit_none_for_optional_falls_back_to_default() -> None:
    assert coerce_parameters(DEFS, {"s": "x", "i": None})["i"] == 2


def test_invalid_default_is_reported() -> None:
    with pytest.raises(InvalidArgument, match="expected an integer") as e:
        coerce_parameters({"n": {"parameterType": "NUMBER_INTEGER", "defaultValue": "x"}}, {})
    assert e.value.field == "n"


def test_no_definitions() -> None:
    assert coerce_parameters({}, {}) == {}
    with pytest.raises(InvalidArgument, match="known parameters: none"):
        coerce_parameters({}, {"a": 1})
