"""``literals`` on a parameter (what KFP's ``Literal[...]`` compiles to): a value
outside them is refused at run creation, as KFP's ValidateLiteralParameter does."""

from __future__ import annotations

from typing import Any

import pytest

from pipeyard.errors import InvalidArgument
from pipeyard.ir.params import allowed_literals, coerce_parameters

DEFS: dict[str, dict[str, Any]] = {
    "mode": {"parameterType": "STRING", "literals": ["fast", "slow"], "defaultValue": "fast"},
    # protobuf's JSON form writes integers as doubles.
    "n": {"parameterType": "NUMBER_INTEGER", "literals": [1.0, 2.0, 3.0], "isOptional": True},
    "free": {"parameterType": "STRING", "isOptional": True},
}


def test_allowed_values_pass_and_are_typed() -> None:
    assert coerce_parameters(DEFS, {"mode": "slow", "n": "2"}) == {"mode": "slow", "n": 2}
    assert allowed_literals(DEFS["n"]) == [1, 2, 3]
    assert allowed_literals(DEFS["free"]) == []


@pytest.mark.parametrize(
    "given, message",
    [
        ({"mode": "medium"}, "mode: 'medium' is not one of the allowed values: \"fast\", \"slow\""),
        ({"n": 4}, "n: 4 is not one of the allowed values: 1, 2, 3"),
    ],
)
def test_other_values_are_refused_naming_the_allowed_ones(given: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        coerce_parameters(DEFS, given)
    assert str(err.value) == message
