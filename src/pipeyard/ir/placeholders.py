"""Substitute KFP placeholders into a container's command and arguments.

KFP compiles component I/O into ``{{$...}}`` placeholders inside ``command``/``args``,
plus two structural forms that arrive as JSON strings: ``{"Concat": [...]}`` (one
argument made of several parts) and ``{"IfPresent": {"InputName", "Then", "Else"}}``
(zero or more arguments depending on whether an optional input was given). The rules
here follow ``kfp.local.placeholder_utils`` and the backend launcher
(``backend/src/v2/component/launcher_v2.go``); where they differ we follow kfp.local,
since our executor is KFP's Python one.

Unlike both, an unknown placeholder or a reference to an input that has no value is an
error here: passing ``{{$.inputs.parameters['x']}}`` through literally only makes the
task fail later with a confusing message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeyard.errors import SpecError
from pipeyard.ir.params import value_text

# One placeholder token. Names inside ['...'] never contain "}" in compiled specs.
_TOKEN = re.compile(r"\{\{\$(?:\.[^{}]*)?\}\}")
_INPUT_PARAM = re.compile(r"inputs\.parameters\['(?P<name>[^']+)'\]")
_OUTPUT_PARAM = re.compile(r"outputs\.parameters\['(?P<name>[^']+)'\]\.output_file")
_ARTIFACT = re.compile(
    r"(?P<io>inputs|outputs)\.artifacts\['(?P<name>[^']+)'\]"
    r"(?:\.(?P<attr>uri|path|metadata)(?:\['(?P<key>[^']+)'\])?)?"
)

_STRUCT_KEYS = ("Concat", "IfPresent")
_INPUT_REFERENCE = re.compile(r"\{\{\$\.inputs\.parameters\['(?P<name>[^']+)'\]\}\}")


@dataclass(frozen=True)
class PlaceholderContext:
    """Everything a task's placeholders can refer to, already resolved by the engine.

    Input artifacts are lists (a task may take a list of artifacts); each item is a dict
    with ``uri``, ``path``, ``metadata``, ``name`` and ``type``. Output artifacts are dicts
    with ``uri``, ``path`` and optionally ``metadata``.
    """

    input_parameters: Mapping[str, Any] = field(default_factory=dict)
    input_artifacts: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    output_parameter_files: Mapping[str, str] = field(default_factory=dict)
    output_artifacts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    executor_input_json: str = "{}"
    output_file: str = ""
    pipeline_job_name: str = ""
    pipeline_job_resource_name: str = ""
    pipeline_job_uuid: str = ""
    pipeline_job_create_time_utc: str = ""
    pipeline_job_schedule_time_utc: str = ""
    pipeline_task_name: str = ""
    pipeline_task_uuid: str = ""
    pipeline_root: str = ""
    workspace_path: str | None = None
    # Further literal placeholders, e.g. Vertex's "{{$.pipeline_google_cloud_project_id}}".
    extra: Mapping[str, str] = field(default_factory=dict)

    def is_present(self, input_name: str) -> bool:
        """Whether an input was given, in the sense of ``IfPresent``."""
        if self.input_parameters.get(input_name) is not None:
            return True
        return bool(self.input_artifacts.get(input_name))


def format_parameter(value: Any) -> str:
    """A parameter value as it appears on a command line: strings raw, everything else
    JSON (so booleans are ``true``/``false`` and lists/dicts are JSON text)."""
    return value if isinstance(value, str) else json.dumps(value)


def substitute_args(args: Sequence[str], ctx: PlaceholderContext, *, where: str | None = None) -> list[str]:
    """Resolve every placeholder in ``args`` (a container's command or args list).

    Structural placeholders may expand one element into several or into none.
    """
    at = where or (f"task {ctx.pipeline_task_name!r}" if ctx.pipeline_task_name else "command")
    out: list[str] = []
    for i, arg in enumerate(args):
        struct = _parse_struct(arg)
        if struct is None:
            out.append(substitute_string(arg, ctx, where=f"{at}, argument {i}"))
        else:
            out.extend(_expand(struct, ctx, f"{at}, argument {i}"))
    return out


def substitute_string(text: str, ctx: PlaceholderContext, *, where: str | None = None) -> str:
    """Resolve the ``{{$...}}`` placeholders inside one string."""
    at = where or "command"
    if "{{$" not in text:
        return text
    # A single pass with a callback: values are never re-scanned, so a parameter whose
    # value happens to contain "{{$...}}" is passed through as data.
    return _TOKEN.sub(lambda m: _resolve_token(m.group(0), ctx, at), text)


def input_references(value: Any) -> set[str]:
    """The parameters a task argument's template names (``{{$.inputs.parameters['x']}}``
    inside a string, or inside the strings of a list or dict)."""
    if isinstance(value, str):
        return {m["name"] for m in _INPUT_REFERENCE.finditer(value)} if "{{$" in value else set()
    if isinstance(value, list):
        return {n for item in value for n in input_references(item)}
    if isinstance(value, dict):
        return {n for k, v in value.items() for n in input_references(k) | input_references(v)}
    return set()


def substitute_input_references(value: Any, values: Mapping[str, Any]) -> Any:
    """Resolve the references to the task's own inputs inside a task argument, as KFP's
    launcher (and kfp.local) do for f-strings: ``f"hi {name}"`` compiles to the constant
    ``"hi {{$.inputs.parameters['pipelinechannel--name']}}"`` beside an input
    ``pipelinechannel--name``. Each reference becomes its value's text (``value_text``),
    also inside the strings of a list or dict; other placeholders (the job's name and
    times) are left for the task's own substitution. Every name must be in ``values``
    (``input_references`` lists them). Values are not re-scanned: text that looks like a
    placeholder inside a value is data."""
    if isinstance(value, str):
        if "{{$" not in value:
            return value
        return _INPUT_REFERENCE.sub(lambda m: value_text(values[m["name"]]), value)
    if isinstance(value, list):
        return [substitute_input_references(item, values) for item in value]
    if isinstance(value, dict):
        return {substitute_input_references(k, values): substitute_input_references(v, values)
                for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- structural forms


def _parse_struct(arg: str) -> dict[str, Any] | None:
    stripped = arg.lstrip()
    if not stripped.startswith("{") or not any(f'"{k}"' in stripped for k in _STRUCT_KEYS):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if _is_struct(value) else None


def _is_struct(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _STRUCT_KEYS


def _expand(node: Any, ctx: PlaceholderContext, where: str) -> list[str]:
    """Resolve a node of a structural placeholder to the arguments it stands for."""
    if isinstance(node, str):
        return [substitute_string(node, ctx, where=where)]
    if isinstance(node, list):
        return [a for item in node for a in _expand(item, ctx, where)]
    if not _is_struct(node):
        raise SpecError(f"unknown structural placeholder {json.dumps(node)[:200]}", where=where)
    if "Concat" in node:
        parts = node["Concat"]
        if not isinstance(parts, list):
            raise SpecError("Concat must hold a list", where=where)
        return ["".join(a for part in parts for a in _expand(part, ctx, where))]
    body = node["IfPresent"]
    if not isinstance(body, dict) or not isinstance(body.get("InputName"), str):
        raise SpecError("IfPresent needs an InputName", where=where)
    branch = body.get("Then") if ctx.is_present(body["InputName"]) else body.get("Else")
    return [] if branch is None else _expand(branch, ctx, where)


# --------------------------------------------------------------------------- single tokens


def _resolve_token(token: str, ctx: PlaceholderContext, where: str) -> str:
    if token == "{{$}}":
        return ctx.executor_input_json
    if token in ctx.extra:
        return ctx.extra[token]
    inner = token[4:-2]  # strip "{{$." and "}}"
    simple = _simple_value(inner, ctx)
    if simple is not None:
        return simple
    if inner == "workspace_path":
        if ctx.workspace_path is None:
            raise SpecError(f"{token} is used but the pipeline has no workspace", where=where)
        return ctx.workspace_path
    m = _INPUT_PARAM.fullmatch(inner)
    if m:
        value = ctx.input_parameters.get(m["name"])
        if value is None:
            raise SpecError(f"{token}: input parameter {m['name']!r} has no value", where=where)
        return format_parameter(value)
    m = _OUTPUT_PARAM.fullmatch(inner)
    if m:
        path = ctx.output_parameter_files.get(m["name"])
        if path is None:
            raise SpecError(f"{token}: no output parameter {m['name']!r}", where=where)
        return path
    m = _ARTIFACT.fullmatch(inner)
    if m:
        return _artifact_value(token, m, ctx, where)
    raise SpecError(f"unknown placeholder {token}", where=where)


def _simple_value(inner: str, ctx: PlaceholderContext) -> str | None:
    values = {
        "outputs.output_file": ctx.output_file,
        "outputMetadataUri": ctx.output_file,
        "pipeline_job_name": ctx.pipeline_job_name,
        "pipeline_job_resource_name": ctx.pipeline_job_resource_name,
        "pipeline_job_uuid": ctx.pipeline_job_uuid,
        "pipeline_job_create_time_utc": ctx.pipeline_job_create_time_utc,
        "pipeline_job_schedule_time_utc": ctx.pipeline_job_schedule_time_utc,
        "pipeline_task_name": ctx.pipeline_task_name,
        "pipeline_task_uuid": ctx.pipeline_task_uuid,
        "pipeline_root": ctx.pipeline_root,
    }
    return values.get(inner)


def _artifact_value(token: str, m: re.Match[str], ctx: PlaceholderContext, where: str) -> str:
    name, attr, key = m["name"], m["attr"], m["key"]
    if m["io"] == "inputs":
        items = ctx.input_artifacts.get(name)
        if not items:
            raise SpecError(f"{token}: input artifact {name!r} has no value", where=where)
        if attr is None:
            # The whole list, as JSON; KFP's artifacts_simple container reads it this way.
            return json.dumps([dict(a) for a in items])
        artifact: Mapping[str, Any] = items[0]
    else:
        out = ctx.output_artifacts.get(name)
        if out is None:
            raise SpecError(f"{token}: no output artifact {name!r}", where=where)
        if attr is None:
            return json.dumps([dict(out)])
        artifact = out
    if attr == "metadata":
        metadata = artifact.get("metadata") or {}
        if key is None:
            return json.dumps(metadata)
        if key not in metadata:
            raise SpecError(f"{token}: artifact {name!r} has no metadata key {key!r}", where=where)
        return format_parameter(metadata[key])
    if key is not None:
        raise SpecError(f"unknown placeholder {token}", where=where)
    value = artifact.get(attr)
    if value is None and attr == "path":
        value = artifact.get("uri")
    if value is None:
        raise SpecError(f"{token}: artifact {name!r} has no {attr}", where=where)
    return str(value)
