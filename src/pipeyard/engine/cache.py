"""Cache fingerprints for tasks.

KFP's backend hashes input artifact *names*, input parameter values, output
specs and the container spec. That gives stale hits when the data behind an
artifact changes under the same name; we also fold in each input artifact's URI
and content digest. A custom ``cache_key`` replaces the computed key, as in KFP.

Importers fold in the current content of the URI they import: an importer served
from the cache would hand downstream tasks the digest of the data as it was then,
and they would hit the cache on changed data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pipeyard.engine.artifacts import content_digest
from pipeyard.spec.views import ComponentView


def cacheable(component: ComponentView) -> bool:
    """``dsl.importer(reimport=True)`` asks for a new import every time."""
    return component.importer is None or not component.importer.reimport


def _importer_material(component: ComponentView, parameters: Mapping[str, Any]) -> Any:
    imp = component.importer
    if imp is None:
        return None
    uri = imp.uri.value if imp.uri.kind == "constant" else parameters.get(imp.uri.name)
    digest = content_digest(uri) if isinstance(uri, str) and uri else None
    return {"spec": repr(imp), "uri": uri, "digest": digest}


def _artifact_identity(a: Mapping[str, Any]) -> dict[str, Any]:
    # Artifacts handed in from outside (run inputs) carry no digest yet.
    digest = a.get("digest")
    if digest is None and isinstance(a.get("uri"), str):
        digest = content_digest(a["uri"])
    return {"uri": a.get("uri"), "digest": digest, "type": a.get("type")}


def fingerprint(
    *,
    pipeline_name: str,
    component: ComponentView,
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, list[dict[str, Any]]],
    cache_key: str = "",
    platform: Mapping[str, Any] | None = None,
) -> str:
    """``platform``: the task's kfp-kubernetes config (names of secrets, volumes and
    mount paths, never secret values). KFP's key covers PVC names; a task that reads
    another volume or secret is another execution."""
    if cache_key:
        material: dict[str, Any] = {"component": component.name, "cache_key": cache_key}
    else:
        container = component.container
        material = {
            "parameters": dict(parameters),
            "artifacts": {
                name: [_artifact_identity(a) for a in arts]
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
            "importer": _importer_material(component, parameters),
            "platform": dict(platform or {}),
        }
    blob = json.dumps({"pipeline": pipeline_name, **material}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
