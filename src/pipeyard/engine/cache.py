"""Cache fingerprints for tasks.

KFP's backend hashes input artifact *names*, input parameter values, output
specs and the container spec. That gives stale hits when the data behind an
artifact changes under the same name; we also fold in each input artifact's URI
and content digest. A custom ``cache_key`` replaces the computed key, as in KFP.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pipeyard.spec.views import ComponentView


def fingerprint(
    *,
    pipeline_name: str,
    component: ComponentView,
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, list[dict[str, Any]]],
    cache_key: str = "",
) -> str:
    if cache_key:
        material: dict[str, Any] = {"component": component.name, "cache_key": cache_key}
    else:
        container = component.container
        material = {
            "parameters": dict(parameters),
            "artifacts": {
                name: [{"uri": a.get("uri"), "digest": a.get("digest"), "type": a.get("type")} for a in arts]
                for name, arts in sorted(artifacts.items())
            },
            "outputs": {
                "parameters": {n: p.type for n, p in component.outputs.parameters.items()},
                "artifacts": {n: a.schema_title for n, a in component.outputs.artifacts.items()},
            },
            "container": None
            if container is None
            else {
                "image": container.image,
                "command": list(container.command),
                "args": list(container.args),
                "env": dict(container.env),
            },
            "importer": None if component.importer is None else repr(component.importer),
        }
    blob = json.dumps({"pipeline": pipeline_name, **material}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
