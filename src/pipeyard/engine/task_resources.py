"""A task's resource requests and limits as numbers, once its placeholders are resolved.

KFP 2.x lets ``set_cpu_limit``/``set_memory_limit``/``set_accelerator_limit`` take
pipeline parameters, so the spec holds ``{{$.inputs.parameters['pipelinechannel--mem']}}``
text until the attempt's inputs are known. Requests and limits stay apart here: the
launcher's admission (``launchers/resources.py``) applies Kubernetes' rule for a limit
without a request, capped at the machine. A bad quantity fails the attempt with the
field named.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeyard.errors import SpecError
from pipeyard.ir.placeholders import PlaceholderContext, substitute_string
from pipeyard.ir.views import Resources, parse_cpu, parse_memory


@dataclass(frozen=True)
class TaskResources:
    cpu: float = 0.0
    memory_bytes: int = 0
    cpu_limit: float = 0.0
    memory_limit_bytes: int = 0
    accelerator_type: str = ""
    accelerator_count: int = 0


def _text(value: str, ctx: PlaceholderContext, where: str, name: str) -> str:
    resolved = substitute_string(value, ctx, where=where).strip() if value else ""
    if resolved.startswith("{{$"):
        raise SpecError(f"{where}: {name} {value!r} did not resolve to a value")
    return resolved


def resolve(resources: Resources, ctx: PlaceholderContext, where: str) -> TaskResources:
    """Numbers for the launcher; raises ``SpecError`` naming the task and the field."""

    def quantity(value: str, name: str, parse: type[float] | type[int]) -> float:
        text = _text(value, ctx, where, name)
        if not text:
            return 0
        try:
            number = parse_cpu(text) if parse is float else parse_memory(text)
        except SpecError:
            example = "0.5 or 500m" if parse is float else "512Mi or 1G"
            raise SpecError(f"{where}: {name} {text!r} is not a quantity (like {example})") from None
        if number < 0:
            raise SpecError(f"{where}: {name} {text!r} is negative")
        return number

    cpu_limit = float(quantity(resources.cpu_limit, "cpu limit", float))
    memory_limit = int(quantity(resources.memory_limit, "memory limit", int))
    cpu = float(quantity(resources.cpu, "cpu request", float))
    memory = int(quantity(resources.memory, "memory request", int))
    kind = _text(resources.accelerator_type, ctx, where, "accelerator type")
    count = 0
    if kind:
        count_text = _text(resources.accelerator_count, ctx, where, "accelerator limit") or "1"
        try:
            count = int(float(count_text))
        except ValueError:
            raise SpecError(f"{where}: accelerator limit {count_text!r} is not a number") from None
    return TaskResources(cpu, memory, cpu_limit, memory_limit, kind, count)
