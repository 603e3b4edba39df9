"""Parameter values crossing a task boundary, checked and converted as KFP's driver does.

KFP's driver (``backend/src/v2/driver/resolve.go``) compares each resolved input value
with the type its component declares: any value goes into a STRING input as its text
(``PbValueToText``: a loop item field that is an int arrives as ``"3"``), integers and
doubles are both numbers, and every other mismatch fails the task. ``convert_input`` is
that rule for one value at run time; ``check_bindings`` finds the mismatches a compiled
spec already shows (a constant, a root parameter or an upstream output of the wrong
type), so a run that could only fail is refused when it is created.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pipeyard.errors import InvalidArgument, PipeyardError
from pipeyard.ir.params import value_text

# The kind of value each declared type takes; None: any (STRING converts, unknown types pass).
_KIND_OF_TYPE = {
    "NUMBER_INTEGER": "number",
    "NUMBER_DOUBLE": "number",
    "BOOLEAN": "bool",
    "LIST": "list",
    "STRUCT": "struct",
    "TASK_FINAL_STATUS": "struct",
    "TASK_CONFIG": "struct",
}


class TypeMismatch(PipeyardError):
    """A value whose kind the consuming input's declared type does not take."""

    def __init__(self, input_name: str, expected: str, actual: str, value: Any, where: str) -> None:
        super().__init__(
            f"{where}: input parameter {input_name!r} expects {expected}, got a {actual} ({_shown(value)})"
        )
        self.input_name = input_name
        self.expected = expected
        self.actual = actual


def kind_of(value: Any) -> str:
    """The ``google.protobuf.Value`` kind a native value travels as."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "struct"
    return "null" if value is None else type(value).__name__


def convert_input(value: Any, type_name: str, input_name: str, where: str) -> Any:
    """``value`` as the input ``input_name`` of declared type ``type_name`` receives it,
    or TypeMismatch naming ``where`` (the task), the input and both types."""
    if value is None:
        return None
    if type_name == "STRING":
        return value if isinstance(value, str) else value_text(value)
    expected = _KIND_OF_TYPE.get(type_name)
    if expected is None:
        return value
    actual = kind_of(value)
    if actual != expected:
        raise TypeMismatch(input_name, type_name, actual, value, where)
    # protobuf Value numbers are doubles: give integers back their type.
    if type_name == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        return int(value)
    if type_name == "NUMBER_DOUBLE" and isinstance(value, int):
        return float(value)
    return value


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- static check


def check_bindings(spec: Mapping[str, Any]) -> None:
    """Refuse a spec (camelCase JSON form) where a task input is bound to a value of a
    kind its declared type does not take, when the spec alone shows it: a constant, a
    root parameter (run parameters are coerced to their declared types) or an upstream
    task's declared output. Selectors and loop items are only known at run time."""
    problems = list(_mismatches(spec))
    if problems:
        raise InvalidArgument("; ".join(problems[:5]), field="pipeline_spec")


def _mismatches(spec: Mapping[str, Any]) -> Iterator[str]:
    components = spec.get("components") or {}
    dags: list[tuple[str, Mapping[str, Any]]] = [("root", spec.get("root") or {})]
    dags += [(name, c) for name, c in components.items() if isinstance(c, Mapping) and c.get("dag")]
    for dag_name, component in dags:
        tasks = (component.get("dag") or {}).get("tasks") or {}
        for task_name, task in tasks.items():
            consumer = components.get((task.get("componentRef") or {}).get("name", "")) or {}
            declared = _param_defs(consumer, "inputDefinitions")
            iterator = task.get("parameterIterator") or {}
            for name, source in ((task.get("inputs") or {}).get("parameters") or {}).items():
                target = _type(declared.get(name))
                if not isinstance(source, Mapping) or source.get("parameterExpressionSelector"):
                    continue
                if name == iterator.get("itemInput") or target not in _KIND_OF_TYPE:
                    continue
                found = _source_kind(source, dag_name, component, tasks, components)
                if found is not None and found[0] != _KIND_OF_TYPE[target]:
                    yield (f"task {task_name!r}: input parameter {name!r} expects {target}, "
                           f"but {found[1]} gives a {found[0]}")


def _source_kind(source: Mapping[str, Any], dag_name: str, component: Mapping[str, Any],
                 tasks: Mapping[str, Any], components: Mapping[str, Any]) -> tuple[str, str] | None:
    """(the kind of value, what supplies it) when the spec alone tells."""
    if "runtimeValue" in source:
        constant = (source.get("runtimeValue") or {}).get("constant")
        return None if constant is None else (kind_of(constant), f"the constant {_shown(constant)}")
    if "componentInputParameter" in source and dag_name == "root":
        name = source["componentInputParameter"]
        kind = _declared_kind(_param_defs(component, "inputDefinitions").get(name))
        return (kind, f"pipeline parameter {name!r}") if kind else None
    out = source.get("taskOutputParameter")
    if isinstance(out, Mapping):
        producer = tasks.get(out.get("producerTask", "")) or {}
        produced = components.get((producer.get("componentRef") or {}).get("name", "")) or {}
        key = out.get("outputParameterKey", "")
        kind = _declared_kind(_param_defs(produced, "outputDefinitions").get(key))
        return (kind, f"output {key!r} of task {out.get('producerTask')!r}") if kind else None
    return None


def _param_defs(component: Mapping[str, Any], section: str) -> Mapping[str, Any]:
    params = (component.get(section) or {}).get("parameters") or {}
    return params if isinstance(params, Mapping) else {}


def _declared_kind(definition: Any) -> str:
    type_name = _type(definition)
    return "string" if type_name == "STRING" else _KIND_OF_TYPE.get(type_name, "")


def _type(definition: Any) -> str:
    if not isinstance(definition, Mapping):
        return ""
    return str(definition.get("parameterType") or definition.get("type") or "")
