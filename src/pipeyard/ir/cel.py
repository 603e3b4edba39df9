"""The CEL expressions of a compiled pipeline: the entry points the engine calls.

The evaluator (``cel_eval.py``) needs cel-python, whose import (lark, its grammar,
pendulum) costs more than starting a run of a pipeline that has no condition or
selector at all; it is imported on the first expression instead.
"""

from __future__ import annotations

from typing import Any


def evaluate_condition(expression: str, parameter_values: dict[str, Any], where: str) -> bool:
    """Whether a task's ``triggerPolicy.condition`` holds for these parameter values
    (an evaluation error is a SpecError, never a silent false)."""
    from pipeyard.ir import cel_eval

    return cel_eval.evaluate_condition(expression, parameter_values, where)


def evaluate_selector(expression: str, value: Any, where: str) -> Any:
    """Apply a ``parameterExpressionSelector`` to one parameter value."""
    from pipeyard.ir import cel_eval

    return cel_eval.evaluate_selector(expression, value, where)


