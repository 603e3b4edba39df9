"""Parse and type-check run parameters against a component's input definitions.

Values reach us from the CLI (text), from the REST API (JSON, where numbers and booleans
sometimes arrive as strings) and from defaults in the spec (where protobuf's JSON form
turns every number into a double). ``coerce_parameters`` turns them all into the native
Python value the parameter's declared type calls for, or says precisely what is wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pipeyard.errors import InvalidArgument

# The declared types, as they appear in the JSON form of ``ParameterType.ParameterTypeEnum``.
STRING = "STRING"
NUMBER_INTEGER = "NUMBER_INTEGER"
NUMBER_DOUBLE = "NUMBER_DOUBLE"
BOOLEAN = "BOOLEAN"
LIST = "LIST"
STRUCT = "STRUCT"
TASK_FINAL_STATUS = "TASK_FINAL_STATUS"
TASK_CONFIG = "TASK_CONFIG"

# Filled in by the engine at run time; a user can neither give nor be asked for them.
_RUNTIME_TYPES = frozenset({TASK_FINAL_STATUS, TASK_CONFIG})


def parse_cli_value(text: str) -> Any:
    """A command-line value: JSON when it parses (``3``, ``true``, ``[1, 2]``), else the
    text itself, so ``--param name=alice`` needs no quoting."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def coerce_parameters(
    input_definitions: Mapping[str, Mapping[str, Any]],
    given: Mapping[str, Any],
    where: str = "pipeline",
    *,
    with_defaults: bool = True,
) -> dict[str, Any]:
    """Check ``given`` against ``input_definitions`` (the camelCase JSON form of
    ``ComponentInputsSpec.parameters``) and return every parameter's native value,
    defaults included. Optional parameters without a default and without a value are
    left out, as KFP leaves them out of the executor input.

    ``with_defaults=False`` checks the same (a required parameter without a default
    must be given) but returns only the given values: what a run stores, as KFP keeps
    a run's ``runtime_config.parameters`` as submitted and applies defaults when it runs.
    """
    # Runtime-filled inputs are hidden unless given: a component compiled as a
    # pipeline may take its PipelineTaskFinalStatus from the caller.
    user_facing = {n: d for n, d in input_definitions.items()
                   if _type_of(d) not in _RUNTIME_TYPES or n in given}
    unknown = sorted(set(given) - set(user_facing))
    if unknown:
        known = ", ".join(sorted(user_facing)) or "none"
        noun = "parameter" if len(unknown) == 1 else "parameters"
        raise InvalidArgument(
            f"unknown {noun} {', '.join(map(repr, unknown))} for {where}; known parameters: {known}",
            field=unknown[0],
        )
    result: dict[str, Any] = {}
    missing: list[str] = []
    for name, definition in user_facing.items():
        ptype = _type_of(definition)
        if name in given and given[name] is not None:
            result[name] = coerce_value(given[name], ptype, name)
            check_literal(name, result[name], definition)
        elif "defaultValue" in definition and definition["defaultValue"] is not None:
            if with_defaults:
                result[name] = coerce_value(definition["defaultValue"], ptype, name)
        elif definition.get("isOptional", False):
            continue
        else:
            missing.append(name)
    if missing:
        noun = "parameter" if len(missing) == 1 else "parameters"
        raise InvalidArgument(
            f"missing required {noun} {', '.join(map(repr, missing))} for {where}", field=missing[0]
        )
    return result


def allowed_literals(definition: Mapping[str, Any]) -> list[Any]:
    """The values a ``Literal[...]`` parameter allows (``literals`` in its spec, in the
    parameter's type), or [] when any value of the type goes."""
    raw = definition.get("literals") or []
    if not isinstance(raw, list):
        return []
    ptype = _type_of(definition)
    return [coerce_value(v, ptype, "literals") for v in raw]


def check_literal(name: str, value: Any, definition: Mapping[str, Any]) -> None:
    """KFP's ValidateLiteralParameter: a value outside the allowed literals is refused."""
    allowed = allowed_literals(definition)
    if allowed and not any(value == v and type(value) is type(v) for v in allowed):
        shown = ", ".join(json.dumps(v) for v in allowed)
        raise InvalidArgument(f"{_shown(value)} is not one of the allowed values: {shown}", field=name)


def coerce_value(value: Any, parameter_type: str, name: str) -> Any:
    """One value converted to ``parameter_type``; InvalidArgument names the parameter."""
    if parameter_type == TASK_FINAL_STATUS:
        return _to_dict(value, name)
    convert = _CONVERTERS.get(parameter_type)
    # An unspecified or future type: pass the value through rather than guess.
    result = value if convert is None else convert(value, name)
    _check_finite(result, name)
    return result


def _check_finite(value: Any, name: str) -> None:
    """NaN and Infinity have no JSON form: KFP's protobuf Value cannot carry them, and a
    task would receive a document no JSON parser accepts."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise InvalidArgument(f"{item} is not a JSON number (NaN and Infinity are not allowed)", field=name)
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def value_text(value: Any) -> str:
    """A parameter value's text form, as KFP's ``PbValueToText`` (what a STRING input
    receives from a value of another type, and what a placeholder in an f-string
    becomes): strings raw, numbers in their shortest form without an exponent (``3``,
    ``0.25``, ``0.0000001``), booleans ``true``/``false``, lists and dicts as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return number_text(value)
    return json.dumps(_whole_numbers(value), separators=(",", ":"))


def _whole_numbers(value: Any) -> Any:
    """protobuf Value numbers are doubles, and Go's JSON writes 1.0 as ``1``."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _whole_numbers(v) for k, v in value.items()}
    return value


def number_text(value: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'f', -1, 64)``: the shortest digits that read back
    as the same double, never in exponent form; whole numbers without a fraction."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return repr(value)
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text


# --------------------------------------------------------------------------- converters


def _type_of(definition: Mapping[str, Any]) -> str:
    return str(definition.get("parameterType") or definition.get("type") or "")


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _to_string(value: Any, name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        # A CLI "true" was parsed as JSON; the user meant the text.
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise InvalidArgument(f"expected a string, got {_shown(value)}", field=name)


def _to_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidArgument(f"expected an integer, got {_shown(value)}", field=name)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if math.isfinite(number) and number.is_integer():
                return int(number)
    raise InvalidArgument(f"expected an integer, got {_shown(value)}", field=name)


def _to_float(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise InvalidArgument(f"expected a number, got {_shown(value)}", field=name)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise InvalidArgument(f"expected a number, got {_shown(value)}", field=name)


def _to_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidArgument(f"expected a boolean (true or false), got {_shown(value)}", field=name)


def _parsed(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _to_list(value: Any, name: str) -> list[Any]:
    value = _parsed(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise InvalidArgument(f"expected a list (a JSON array), got {_shown(value)}", field=name)


def _to_dict(value: Any, name: str) -> dict[str, Any]:
    value = _parsed(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise InvalidArgument(f"expected a dict (a JSON object), got {_shown(value)}", field=name)


_CONVERTERS: dict[str, Callable[[Any, str], Any]] = {
    STRING: _to_string,
    NUMBER_INTEGER: _to_int,
    NUMBER_DOUBLE: _to_float,
    BOOLEAN: _to_bool,
    LIST: _to_list,
    STRUCT: _to_dict,
}
