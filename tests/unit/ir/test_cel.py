from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from tests.conftest import CONFORMANCE_PIPELINES

from pipeyard.errors import SpecError
from pipeyard.ir.cel import evaluate_condition, evaluate_selector
from pipeyard.ir.loader import load_pipeline_file
from pipeyard.ir.params import value_text

CONFORMANCE = CONFORMANCE_PIPELINES
needs_conformance = pytest.mark.usefixtures("conformance_pipelines")

PV = "inputs.parameter_values"


def cond(expr: str, **values: Any) -> bool:
    return evaluate_condition(expr, {f"pipelinechannel--{k}": v for k, v in values.items()}, "task 't'")


def test_kfp_forms() -> None:
    assert cond(f"int({PV}['pipelinechannel--n']) > 5", n=7) is True
    assert cond(f"int({PV}['pipelinechannel--n']) > 5", n=5) is False
    assert cond(f"{PV}['pipelinechannel--c'] == 'heads'", c="heads") is True
    assert cond(
        f"!({PV}['pipelinechannel--c'] == 'heads') && {PV}['pipelinechannel--c'] == 'tails'", c="tails"
    )
    assert not cond(
        f"!({PV}['pipelinechannel--c'] == 'heads') && !({PV}['pipelinechannel--c'] == 'tails')", c="tails"
    )
    assert cond(f"{PV}['pipelinechannel--b'] == true", b=True) is True
    assert cond(f"{PV}['pipelinechannel--a'] == {PV}['pipelinechannel--b']", a="x", b="x") is True


def test_int_conversion_like_cel_go() -> None:
    # Numbers are doubles (protobuf.Value); int() truncates them and parses integer strings.
    assert cond(f"int({PV}['pipelinechannel--x']) == 2", x=2.9) is True
    assert cond(f"int({PV}['pipelinechannel--x']) == -2", x=-2.9) is True
    assert cond(f"int({PV}['pipelinechannel--x']) == 5", x="5") is True
    with pytest.raises(SpecError, match="2.0"):
        cond(f"int({PV}['pipelinechannel--x']) == 2", x="2.0")


def test_numbers_compare_across_int_and_double() -> None:
    assert cond(f"{PV}['pipelinechannel--n'] == 3", n=3) is True
    assert cond(f"{PV}['pipelinechannel--n'] == 3.0", n=3) is True
    assert cond(f"3 < {PV}['pipelinechannel--n']", n=3.5) is True
    assert cond(f"{PV}['pipelinechannel--n'] >= 3", n=3) is True
    assert cond(f"{PV}['pipelinechannel--n'] != 3", n=4) is True
    assert cond("1 == 1.0 && 2u > 1.5 && 1.5 < 2") is True
    assert cond(f"2 in {PV}['pipelinechannel--l']", l=[1.0, 2.0]) is True
    assert cond(f"{PV}['pipelinechannel--l'] == [1, 2]", l=[1, 2]) is True
    assert cond(f"{PV}['pipelinechannel--d']['k'] == 1", d={"k": 1}) is True


def test_heterogeneous_equality_is_false_but_ordering_is_an_error() -> None:
    assert cond(f"{PV}['pipelinechannel--s'] == 1", s="1") is False
    assert cond(f"{PV}['pipelinechannel--s'] != 1", s="1") is True
    with pytest.raises(SpecError, match="no such overload"):
        cond(f"{PV}['pipelinechannel--s'] < 1", s="1")


@pytest.mark.parametrize(
    "expr, values, reason",
    [
        (f"{PV}['pipelinechannel--missing'] == 'x'", {}, "no such key"),
        (f"{PV}['pipelinechannel--n']", {"n": 1}, "must give a bool"),
        ("'a' + 'b'", {}, "must give a bool"),
        ("(((", {}, "invalid CEL expression"),
        ("1 / 0 == 1", {}, "cannot evaluate"),
    ],
)
def test_errors_are_never_silently_false(expr: str, values: dict[str, Any], reason: str) -> None:
    with pytest.raises(SpecError, match=re.escape(reason)) as e:
        cond(expr, **values)
    assert e.value.where == "task 't'"
    assert expr in e.value.reason


def _conditions_and_selectors() -> tuple[set[str], set[str]]:
    conditions: set[str] = set()
    selectors: set[str] = set()
    for f in sorted(CONFORMANCE.iterdir()):
        spec = load_pipeline_file(f).spec
        dags = [spec.root] + [c for c in spec.components.values() if c.HasField("dag")]
        for comp in dags:
            for task in comp.dag.tasks.values():
                if task.trigger_policy.condition:
                    conditions.add(task.trigger_policy.condition)
                for p in task.inputs.parameters.values():
                    if p.parameter_expression_selector:
                        selectors.add(p.parameter_expression_selector)
    return conditions, selectors


@needs_conformance
def test_every_conformance_condition_evaluates_both_ways() -> None:
    conditions, _ = _conditions_and_selectors()
    assert len(conditions) > 30
    names_re = re.compile(r"parameter_values\['([^']+)'\]")
    for expr in conditions:
        names = set(names_re.findall(expr))
        # Candidate values a KFP pipeline would bind: the literals the expression compares
        # against, numbers around its thresholds, and booleans.
        literals: list[Any] = re.findall(r"'([^']*)'", expr.split("]", 1)[-1])
        numbers = [int(n) for n in re.findall(r"[<>=]=?\s*(\d+)", expr)]
        candidates: list[Any] = [*literals, "other", True, False]
        candidates += [n + d for n in numbers for d in (-1, 0, 1)]
        if "int(" in expr:
            candidates = [c for c in candidates if not isinstance(c, bool)]
            candidates = [c if isinstance(c, int) else 1 for c in candidates] + [0, 1, 2]
        candidates = list({repr(c): c for c in candidates}.values())  # each value once
        outcomes = set()
        # Each parameter gets each candidate independently, so that expressions
        # comparing two parameters meet both equal and different values.
        for values in itertools.product(candidates, repeat=len(names)):
            try:
                outcomes.add(evaluate_condition(expr, dict(zip(sorted(names), values, strict=True)), "t"))
            except SpecError:
                continue
        assert outcomes == {True, False}, expr


@needs_conformance
def test_every_conformance_selector() -> None:
    _, selectors = _conditions_and_selectors()
    assert selectors
    for expr in selectors:
        key = re.fullmatch(r'parseJson\(string_value\)\["([^"]+)"\]', expr)
        assert key, expr
        assert evaluate_selector(expr, {key[1]: "v", "other": 1}, "t") == "v"
        assert evaluate_selector(expr, f'{{"{key[1]}": 2}}', "t") == 2


def test_selector_values_and_bindings() -> None:
    item = {"a": 1, "b": 2.5, "c": [1, 2], "d": {"e": True}}
    assert evaluate_selector('parseJson(string_value)["a"]', item, "t") == 1
    assert evaluate_selector('parseJson(string_value)["b"]', item, "t") == 2.5
    assert evaluate_selector('parseJson(string_value)["c"]', item, "t") == [1, 2]
    assert evaluate_selector('parseJson(string_value)["d"]["e"]', item, "t") is True
    assert evaluate_selector("struct_value.a", item, "t") == 1
    assert evaluate_selector("number_value + 1.0", 2, "t") == 3
    assert evaluate_selector("string_value", 2.0, "t") == "2"
    assert evaluate_selector("list_value[1]", ["x", "y"], "t") == "y"
    with pytest.raises(SpecError, match="invalid JSON"):
        evaluate_selector("parseJson(string_value)", "not json", "task 'x'")
    with pytest.raises(SpecError, match="no such key"):
        evaluate_selector('parseJson(string_value)["zz"]', item, "t")


def test_value_text_matches_kfp() -> None:
    assert value_text("s") == "s"
    assert value_text(3.0) == "3"
    assert value_text(2.5) == "2.5"
    assert value_text(False) == "false"
    assert value_text({"a": [1, "x"]}) == '{"a":[1,"x"]}'


def test_string_and_list_concatenation_compare_as_their_results() -> None:
    # cel-python's "+" returns plain str/list; they must compare like the literal result.
    assert cond("'a' + 'b' == 'ab'") is True
    assert cond("'ab' == 'a' + 'b'") is True
    assert cond("'a' + 'b' != 'ab'") is False
    assert cond("'a' + 'b' == 'ba'") is False
    assert cond("'a' + 'b' < 'b'") is True
    assert cond("'x' + 'y' in ['xy']") is True
    assert cond("[1] + [2] == [1, 2]") is True
    assert cond(f"{PV}['pipelinechannel--a'] + '-' + {PV}['pipelinechannel--b'] == 'x-y'", a="x", b="y")
    assert evaluate_selector("parseJson('{\"k\": ' + string_value + '}')['k']", 3, "t") == 3
