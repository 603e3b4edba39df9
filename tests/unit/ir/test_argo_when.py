"""Argo ``when`` expressions become CEL that the engine's evaluator agrees with."""

from __future__ import annotations

import pytest

from pipeyard.errors import SpecError
from pipeyard.ir.argo.refs import Ref
from pipeyard.ir.argo.when import when_to_cel
from pipeyard.ir.cel import evaluate_condition


def _check(expr: str, values: list[str]) -> bool:
    names: list[Ref] = []

    def bind(ref: Ref) -> str:
        names.append(ref)
        return f"in{len(names) - 1}"

    cel = when_to_cel(expr, bind, "t")
    return evaluate_condition(cel, {f"in{i}": v for i, v in enumerate(values)}, "t")


@pytest.mark.parametrize(("expr", "values", "expected"), [
    ("{{tasks.a.outputs.parameters.n}} > 5", ["10"], True),
    ("{{tasks.a.outputs.parameters.n}} > 5", ["9"], True),
    ("{{tasks.a.outputs.parameters.n}} > 50", ["9"], False),  # as text "9" > "50"
    ("{{inputs.parameters.x}} <= {{inputs.parameters.y}}", ["10", "9.5"], False),
    ('"{{inputs.parameters.w}}" == "heads"', ["heads"], True),
    ('"{{inputs.parameters.w}}" != "heads"', ["heads"], False),
    ('"{{inputs.parameters.w}}" == "1.0"', ["1"], False),  # quoted: compared as text
    ("{{inputs.parameters.n}} == 1", ["1.0"], True),  # a number literal: as numbers
    ('"{{inputs.parameters.a}}" == "x" && {{inputs.parameters.b}} < 3', ["x", "2"], True),
    ('("{{inputs.parameters.a}}" == "y") || {{inputs.parameters.b}} < 3', ["x", "4"], False),
    ('"pre-{{inputs.parameters.a}}" == "pre-x"', ["x"], True),
])
def test_conditions_evaluate_as_argo_does(expr: str, values: list[str], expected: bool) -> None:
    assert _check(expr, values) is expected


def test_unreadable_conditions_name_the_expression() -> None:
    with pytest.raises(SpecError, match="cannot read condition"):
        when_to_cel("{{inputs.parameters.a}} =~ 'x'", lambda r: "a", "t")
