"""kfp 1.x ``mlpipeline-metrics`` and ``mlpipeline-ui-metadata`` outputs as artifact metadata.

KFP's v1 UI reads these two files after a step: metrics as
``{"metrics": [{"name", "numberValue", "format"}]}`` and visualizations as
``{"outputs": [{"type": "markdown" | "table" | "confusion_matrix" | "roc" | "web-app" |
"tensorboard", "source", "storage", ...}]}``. Here they become the artifacts' metadata
(reported through the executor output file the engine reads), so the UI and the API show
them from the store: metrics by name (a ``system.Metrics`` artifact, as v2 metrics are),
visualizations with their ``source`` read in when it is a local file (``storage: inline``
keeps it as written).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAX_SOURCE_BYTES = 2_000_000


def metrics_metadata(data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in (data or {}).get("metrics") or []:
        if isinstance(m, dict) and "name" in m:
            try:
                out[str(m["name"])] = float(m.get("numberValue", 0))
            except (TypeError, ValueError):
                continue
    return out


def _read_source(source: str) -> str | None:
    path = Path(source[len("file://"):] if source.startswith("file://") else source)
    if "://" in source and not source.startswith("file://"):
        return None
    try:
        if path.is_file() and path.stat().st_size <= MAX_SOURCE_BYTES:
            return path.read_text(errors="replace")
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file())
            return "".join(p.read_text(errors="replace") for p in files)[:MAX_SOURCE_BYTES]
    except OSError:
        return None
    return None


def ui_metadata(data: Any) -> dict[str, Any]:
    outputs = []
    for o in (data or {}).get("outputs") or []:
        if not isinstance(o, dict):
            continue
        item = dict(o)
        source = str(item.get("source", ""))
        if item.get("storage") != "inline" and source and item.get("type") != "tensorboard":
            content = _read_source(source)
            if content is not None:
                item["content"] = content
        if item.get("type") == "tensorboard":
            item["note"] = "TensorBoard is not available locally"
        outputs.append(item)
    return {"v1_ui_metadata": outputs}


def report(visual: list[list[str]], output_file: str) -> None:
    """Write the metadata of each visual output into the executor output file."""
    artifacts: dict[str, Any] = {}
    for kind, path, uri, name in visual:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError):
            continue
        meta = metrics_metadata(data) if kind == "mlpipeline-metrics" else ui_metadata(data)
        artifacts[name] = {"artifacts": [{"name": name, "uri": uri, "metadata": meta}]}
    if artifacts and output_file:
        Path(output_file).parent.mkdir(parents=True, exist_ok=True)
        Path(output_file).write_text(json.dumps({"artifacts": artifacts}))
