"""Argo's ``{{...}}`` references, as the kfp 1.x compiler writes them.

A v1 workflow passes values with Argo template tags: ``{{inputs.parameters.x}}``,
``{{tasks.t.outputs.parameters.p}}``, ``{{item}}`` / ``{{item.key}}`` inside loops,
``{{workflow.uid}}`` and friends. This module parses them into ``Ref`` values and
rewrites the ones that have a meaning inside a container into the v2 ``{{$...}}``
placeholders the engine substitutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pipeyard.errors import SpecError

TAG = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")

RefKind = Literal["input", "task_param", "task_artifact", "item", "workflow", "input_artifact"]

# Argo workflow variables with a pipeyard meaning, as v2 runtime placeholders.
WORKFLOW_PLACEHOLDERS = {
    "workflow.uid": "{{$.pipeline_job_uuid}}",
    "workflow.name": "{{$.pipeline_job_name}}",
    "workflow.creationTimestamp": "{{$.pipeline_job_create_time_utc}}",
    "workflow.namespace": "default",
    "workflow.serviceAccountName": "pipeline-runner",
    "pod.name": "{{$.pipeline_task_uuid}}",
}


@dataclass(frozen=True)
class Ref:
    kind: RefKind
    name: str = ""  # input / output name, item field ("" for the whole item)
    task: str = ""  # producer task for task_param / task_artifact

    @property
    def text(self) -> str:
        if self.kind == "input":
            return f"{{{{inputs.parameters.{self.name}}}}}"
        if self.kind == "input_artifact":
            return f"{{{{inputs.artifacts.{self.name}}}}}"
        if self.kind == "task_param":
            return f"{{{{tasks.{self.task}.outputs.parameters.{self.name}}}}}"
        if self.kind == "task_artifact":
            return f"{{{{tasks.{self.task}.outputs.artifacts.{self.name}}}}}"
        if self.kind == "item":
            return "{{item}}" if not self.name else f"{{{{item.{self.name}}}}}"
        return f"{{{{{self.name}}}}}"


_TASK = re.compile(r"^(?:tasks|steps)\.([^.]+)\.outputs\.(parameters|artifacts)\.(.+)$")


def parse_tag(body: str, where: str) -> Ref:
    """One tag's body (without braces) as a Ref; unknown tags are an error."""
    if body.startswith("inputs.parameters."):
        return Ref("input", body[len("inputs.parameters."):])
    if body.startswith("inputs.artifacts."):
        return Ref("input_artifact", body[len("inputs.artifacts."):])
    m = _TASK.match(body)
    if m:
        return Ref("task_param" if m.group(2) == "parameters" else "task_artifact", m.group(3), m.group(1))
    if body == "item":
        return Ref("item")
    if body.startswith("item."):
        return Ref("item", body[len("item."):])
    if body in WORKFLOW_PLACEHOLDERS or body.startswith("workflow.parameters."):
        return Ref("workflow", body)
    raise SpecError(f"unsupported Argo reference {{{{{body}}}}}", where=where)


def split(text: str, where: str) -> list[str | Ref]:
    """``text`` as literal parts and references, in order."""
    parts: list[str | Ref] = []
    pos = 0
    for m in TAG.finditer(text):
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        parts.append(parse_tag(m.group(1), where))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return parts


def single_ref(text: str, where: str) -> Ref | None:
    """The reference if ``text`` is exactly one tag, else None."""
    parts = split(text, where)
    return parts[0] if len(parts) == 1 and isinstance(parts[0], Ref) else None


def item_selector(field: str) -> str:
    """CEL selector of one field of a loop item (the v2 compiler's form)."""
    return f'parseJson(string_value)["{field}"]' if field else ""


def workflow_placeholder(ref: Ref, where: str) -> str:
    if ref.name in WORKFLOW_PLACEHOLDERS:
        return WORKFLOW_PLACEHOLDERS[ref.name]
    raise SpecError(f"{ref.text} is only supported in the arguments of the pipeline's top-level tasks",
                    where=where)


def v2_input(name: str) -> str:
    return f"{{{{$.inputs.parameters['{name}']}}}}"


def v2_output_file(name: str) -> str:
    return f"{{{{$.outputs.parameters['{name}'].output_file}}}}"


def v2_artifact_path(io: str, name: str) -> str:
    return f"{{{{$.{io}.artifacts['{name}'].path}}}}"
