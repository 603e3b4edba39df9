"""Evaluate the CEL expressions of a compiled pipeline, as KFP's Go driver does (through
``cel.py``, which imports this module, and cel-python, only when a pipeline has CEL).

Two kinds occur (``backend/src/v2/expression/expression.go``):

- ``triggerPolicy.condition``: a boolean over ``inputs.parameter_values[...]``, e.g.
  ``int(inputs.parameter_values['pipelinechannel--n']) > 5``.
- ``parameterExpressionSelector``: picks a value out of one parameter, e.g.
  ``parseJson(string_value)["a"]`` for a field of a ParallelFor item.

KFP binds parameter values as ``google.protobuf.Value``, so every number is a double in
CEL; we do the same, so that ``int()`` truncates and ``/`` divides as there. cel-python is
stricter than cel-go about mixing types, so equality, ordering and ``in`` are replaced by
cel-go's rules: numbers compare by value across int/uint/double, and ``==`` between values
of different kinds is false rather than an error.
"""

from __future__ import annotations

import functools
import json
import math
import operator
from collections.abc import Callable
from typing import Any

import celpy
from celpy import celtypes

from pipeyard.errors import SpecError
from pipeyard.ir.params import value_text

_NUMBER_TYPES = (celtypes.IntType, celtypes.UintType, celtypes.DoubleType)


def evaluate_condition(expression: str, parameter_values: dict[str, Any], where: str) -> bool:
    """Whether a task's ``triggerPolicy.condition`` holds for these parameter values.

    Any evaluation error (missing parameter, bad conversion, type mismatch) is a SpecError:
    silently treating it as false would skip a branch for the wrong reason.
    """
    activation = {
        "inputs": celtypes.MapType({celtypes.StringType("parameter_values"): to_cel(parameter_values)})
    }
    result = _run(expression, activation, where)
    if not isinstance(result, celtypes.BoolType):
        raise SpecError(
            f"condition {expression!r} must give a bool, got {type(result).__name__} {result!r}", where=where
        )
    return bool(result)


def evaluate_selector(expression: str, value: Any, where: str) -> Any:
    """Apply a ``parameterExpressionSelector`` to one parameter value.

    As in KFP, the value's set ``google.protobuf.Value`` field is bound by name
    (``number_value``, ``string_value``, ``bool_value``, ``list_value``, ``struct_value``)
    and ``string_value`` is always bound to the value's text form.
    """
    activation: dict[str, Any] = {}
    if isinstance(value, bool):
        activation["bool_value"] = celtypes.BoolType(value)
    elif isinstance(value, (int, float)):
        activation["number_value"] = celtypes.DoubleType(value)
    elif isinstance(value, (list, tuple)):
        activation["list_value"] = to_cel(value)
    elif isinstance(value, dict):
        activation["struct_value"] = to_cel(value)
    if value is not None:
        activation["string_value"] = celtypes.StringType(value_text(value))
    return from_cel(_run(expression, activation, where))


# --------------------------------------------------------------------------- conversions


def to_cel(value: Any) -> Any:
    """A native (JSON-like) value as a CEL value, numbers as doubles like protobuf.Value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, (int, float)):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, (list, tuple)):
        return celtypes.ListType([to_cel(v) for v in value])
    if isinstance(value, dict):
        return celtypes.MapType({celtypes.StringType(str(k)): to_cel(v) for k, v in value.items()})
    raise TypeError(f"cannot use a {type(value).__name__} in a CEL expression")


def from_cel(value: Any) -> Any:
    """A CEL result as a native value. Numbers that are whole come back as ints: CEL (like
    protobuf.Value) cannot tell 1 from 1.0, and the consumer's declared type decides."""
    value = _as_cel(value)
    if value is None:
        return None
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, _NUMBER_TYPES):
        f = float(value)
        if isinstance(value, celtypes.DoubleType) and not (math.isfinite(f) and f.is_integer()):
            return f
        return int(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [from_cel(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {str(k): from_cel(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- cel-go semantics


def _as_cel(v: Any) -> Any:
    """cel-python's ``+`` on strings and lists gives plain ``str`` and ``list`` (Python's
    own operators on the subclasses); give them back their CEL types, or ``'a' + 'b'``
    would be of another kind than ``'ab'`` and never equal to it."""
    if isinstance(v, str) and not isinstance(v, celtypes.StringType):
        return celtypes.StringType(v)
    if isinstance(v, bytes) and not isinstance(v, celtypes.BytesType):
        return celtypes.BytesType(v)
    if isinstance(v, list) and not isinstance(v, celtypes.ListType):
        return celtypes.ListType(v)
    if isinstance(v, dict) and not isinstance(v, celtypes.MapType):
        return celtypes.MapType(v)
    return v


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER_TYPES) and not isinstance(v, celtypes.BoolType)


def _kind(v: Any) -> str:
    if _is_number(v):
        return "number"
    return type(v).__name__


def _equal(a: Any, b: Any) -> bool:
    a, b = _as_cel(a), _as_cel(b)
    if _is_number(a) and _is_number(b):
        return _num(a) == _num(b)
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, celtypes.ListType):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, celtypes.MapType):
        return len(a) == len(b) and all(any(_equal(k, k2) and _equal(a[k], b[k2]) for k2 in b) for k in a)
    return bool(a == b)


def _num(v: Any) -> int | float:
    return float(v) if isinstance(v, celtypes.DoubleType) else int(v)


def _errors_first(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    """Propagate CEL error values instead of comparing them."""

    @functools.wraps(fn)
    def wrapped(a: Any, b: Any) -> Any:
        if isinstance(a, celpy.CELEvalError):
            return a
        if isinstance(b, celpy.CELEvalError):
            return b
        return celtypes.BoolType(fn(a, b))

    return wrapped


def _ordering(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        a, b = _as_cel(a), _as_cel(b)
        if _is_number(a) and _is_number(b):
            return bool(op(_num(a), _num(b)))
        if _kind(a) != _kind(b):
            raise TypeError(f"no such overload: {type(a).__name__} and {type(b).__name__}")
        return bool(op(a, b))

    return compare


def _contains(item: Any, container: Any) -> bool:
    item, container = _as_cel(item), _as_cel(container)
    if isinstance(container, (celtypes.ListType, celtypes.MapType)):
        return any(_equal(item, x) for x in container)
    if isinstance(container, celtypes.StringType) and isinstance(item, celtypes.StringType):
        return str(item) in str(container)
    raise TypeError(f"no such overload: {type(item).__name__} in {type(container).__name__}")


def _parse_json(text: Any) -> Any:
    text = _as_cel(text)
    if not isinstance(text, celtypes.StringType):
        raise TypeError(f"parseJson expects a string, got {type(text).__name__}")
    try:
        return to_cel(json.loads(str(text)))
    except ValueError as e:
        # cel-python turns exceptions raised by functions into CEL error values.
        raise ValueError(f"parseJson: invalid JSON: {e}") from e


_FUNCTIONS: dict[str, Any] = {
    "_==_": _errors_first(_equal),
    "_!=_": _errors_first(lambda a, b: not _equal(a, b)),
    "_<_": _errors_first(_ordering(operator.lt)),
    "_<=_": _errors_first(_ordering(operator.le)),
    "_>_": _errors_first(_ordering(operator.gt)),
    "_>=_": _errors_first(_ordering(operator.ge)),
    "_in_": _errors_first(_contains),
    "parseJson": _parse_json,
}


@functools.lru_cache(maxsize=512)
def _program(expression: str) -> celpy.Runner:
    env = celpy.Environment()
    return env.program(env.compile(expression), functions=_FUNCTIONS)


def _run(expression: str, activation: dict[str, Any], where: str) -> Any:
    try:
        program = _program(expression)
    except celpy.CELParseError as e:
        raise SpecError(f"invalid CEL expression {expression!r}: {e}", where=where) from e
    try:
        result = program.evaluate(activation)
    except celpy.CELEvalError as e:
        raise SpecError(f"cannot evaluate {expression!r}: {_reason(e)}", where=where) from e
    except (TypeError, ValueError, KeyError, ZeroDivisionError) as e:
        raise SpecError(f"cannot evaluate {expression!r}: {e}", where=where) from e
    if isinstance(result, celpy.CELEvalError):
        raise SpecError(f"cannot evaluate {expression!r}: {_reason(result)}", where=where)
    return result


def _reason(err: celpy.CELEvalError) -> str:
    args = err.args
    message = str(args[0]) if args else "error"
    detail = args[2] if len(args) > 2 else ()
    if isinstance(detail, tuple) and detail:
        return f"{message} ({detail[0]})"
    return message
