"""kfp-kubernetes platform settings mapped to their local meaning.

Secrets and config maps become environment variables or files, PVCs and the
pipeline workspace become named local directories, timeouts are enforced;
settings with no local meaning (node selectors, tolerations...) are recorded
in the task's details as not applicable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeyard.engine.context import RunContext
    from pipeyard.spec.views import ComponentView
    from pipeyard.store.entities import Task

# Keys of a kfp-kubernetes executor config that mean nothing on one machine.
NOT_APPLICABLE = (
    "nodeSelector", "tolerations", "nodeAffinity", "podAffinity", "podMetadata",
    "imagePullSecret", "imagePullPolicy", "securityContext",
)


@dataclass(frozen=True)
class Setup:
    env: Mapping[str, str] = field(default_factory=dict)
    mounts: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float | None = None
    workspace_path: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def prepare(ctx: RunContext, component: ComponentView, task: Task, params: Mapping[str, Any],
            where: str) -> Setup:
    config = ctx.pipeline.platform.get(component.executor_label, {})
    details: dict[str, Any] = {}
    ignored = {k: config[k] for k in NOT_APPLICABLE if k in config}
    if ignored:
        details["not_applicable_locally"] = ignored
    timeout = config.get("activeDeadlineSeconds")
    return Setup(timeout_seconds=float(timeout) if timeout else None, details=details)
