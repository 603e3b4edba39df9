"""KFP's executor contract: the ExecutorInput we write and the ExecutorOutput we read."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeyard.artifacts.uris import local_path
from pipeyard.engine.outcome import ArtifactDict
from pipeyard.ir.views import ComponentView, IODefs


def runtime_artifact(a: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": a.get("name", ""),
        "uri": a["uri"],
        "metadata": dict(a.get("metadata") or {}),
        "type": {"schemaTitle": a.get("type", "system.Artifact")},
    }


def executor_input(
    component: ComponentView,
    params: Mapping[str, Any],
    artifacts: Mapping[str, list[ArtifactDict]],
    output_uris: Mapping[str, str],
    param_files: Mapping[str, str],
    output_file: str,
) -> dict[str, Any]:
    outputs_artifacts = {
        name: {
            "artifacts": [
                {
                    "name": name,
                    "uri": output_uris[name],
                    "metadata": {},
                    "type": {"schemaTitle": adef.schema_title, "schemaVersion": adef.schema_version},
                }
            ]
        }
        for name, adef in component.outputs.artifacts.items()
    }
    return {
        "inputs": {
            "parameterValues": dict(params),
            "artifacts": {
                name: {"artifacts": [runtime_artifact(a) for a in arts]} for name, arts in artifacts.items()
            },
        },
        "outputs": {
            "parameters": {name: {"outputFile": path} for name, path in param_files.items()},
            "artifacts": outputs_artifacts,
            "outputFile": output_file,
        },
    }


class OutputError(Exception):
    """The task exited 0 but its outputs are missing or unreadable."""


def parse_parameter_text(text: str, type_name: str, name: str) -> Any:
    """An output parameter written to its output file by a container component."""
    if type_name == "STRING":
        return text
    stripped = text.strip()
    if type_name == "BOOLEAN" and stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError:
        raise OutputError(f"output parameter {name!r} of type {type_name} is not valid: {text[:200]!r}") from None
    if type_name == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


def read_outputs(
    outputs: IODefs,
    output_file: str,
    param_files: Mapping[str, str],
    output_uris: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Output parameters and artifacts (uri, metadata, type) after a successful attempt.

    The Python executor reports through ``output_file``; container components write
    each parameter to its own file. Artifacts keep the URI we gave them unless the
    executor reports another one (custom artifact paths, lists of artifacts)."""
    reported: dict[str, Any] = {}
    try:  # one open, not a stat, a second stat and an open (this runs once per task)
        with open(output_file, "rb") as f:
            text = f.read()
    except (FileNotFoundError, IsADirectoryError):
        text = b""
    if text:
        try:
            reported = json.loads(text)
        except json.JSONDecodeError as e:
            raise OutputError(f"executor output {output_file} is not JSON: {e}") from None
    reported_params = reported.get("parameterValues") or {}
    params: dict[str, Any] = {}
    for name, pdef in outputs.parameters.items():
        if name in reported_params:
            value = reported_params[name]
            if pdef.type == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
                value = int(value)
            params[name] = value
            continue
        file = Path(param_files[name])
        if not file.is_file():
            raise OutputError(f"output parameter {name!r} was not written (expected {file})")
        params[name] = parse_parameter_text(file.read_text(), pdef.type, name)
    reported_artifacts = reported.get("artifacts") or {}
    artifacts: dict[str, list[dict[str, Any]]] = {}
    for name, adef in outputs.artifacts.items():
        items = (reported_artifacts.get(name) or {}).get("artifacts")
        if items:
            artifacts[name] = []
            for item in items:
                uri = item.get("uri") or output_uris[name]
                if item.get("custom_path"):
                    _adopt_custom_path(item["custom_path"], uri)
                artifacts[name].append(
                    {"name": name, "uri": uri, "metadata": item.get("metadata") or {},
                     "type": adef.schema_title}
                )
        else:
            artifacts[name] = [{"name": name, "uri": output_uris[name], "metadata": {}, "type": adef.schema_title}]
    return params, artifacts


def _adopt_custom_path(custom_path: str, uri: str) -> None:
    """``Artifact.set_path``: the component wrote elsewhere; KFP's launcher uploads
    from there to the artifact's URI, so we copy it to the URI's path."""
    source, target = Path(custom_path), Path(local_path(uri))
    if not source.exists() or source.resolve() == target.resolve():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def prepare_output_paths(output_uris: Mapping[str, str]) -> None:
    """Containers write straight to ``{{$.outputs.artifacts['x'].path}}``; KFP's
    launcher makes the parent directory, so we do too."""
    for uri in output_uris.values():
        Path(local_path(uri)).parent.mkdir(parents=True, exist_ok=True)
