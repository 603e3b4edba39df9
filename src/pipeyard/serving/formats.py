"""Which model a reference names, where its files are, and which format they are in.

A reference is an artifact URI or path (as ``pipeyard run --json`` and the UI show it,
under a local or remote pipeline root) or ``RUN_ID/TASK/OUTPUT``. The format comes
from the artifact's ``framework`` metadata when it has one, else from its files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeyard.errors import InvalidArgument, NotFound

# The formats the model server loads (see _model_server.py), and the names a
# ``framework`` metadata value may use for each.
FORMATS = ("sklearn", "xgboost", "lightgbm", "mlflow")
_ALIASES = {
    "sklearn": "sklearn",
    "scikit-learn": "sklearn",
    "scikit_learn": "sklearn",
    "scikitlearn": "sklearn",
    "joblib": "sklearn",
    "pickle": "sklearn",
    "xgboost": "xgboost",
    "xgb": "xgboost",
    "lightgbm": "lightgbm",
    "lgbm": "lightgbm",
    "mlflow": "mlflow",
}
_FORMAT_HELP = (
    "scikit-learn (a joblib or pickle file), XGBoost (.json/.ubj/.bst saved by save_model), "
    "LightGBM (a model .txt saved by save_model) or an MLflow model directory (with an MLmodel file); "
    "set the artifact's 'framework' metadata to one of " + ", ".join(FORMATS)
)


@dataclass(frozen=True)
class ModelSource:
    uri: str  # as recorded (a path or a URL)
    path: Path  # local file or directory the model server loads
    framework: str
    run_id: str | None = None
    task: str | None = None
    artifact_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def normalise_framework(value: str, where: str = "framework") -> str:
    fmt = _ALIASES.get(value.strip().lower())
    if fmt is None:
        raise InvalidArgument(f"unknown model format {value!r}; understood: {_FORMAT_HELP}", field=where)
    return fmt


def resolve_model(
    ref: str, store: Any, cache_dir: Path, *, framework: str | None = None
) -> ModelSource:
    """``store`` may be None (a bare path then needs no lookup); ``cache_dir`` holds
    copies of models under a remote pipeline root."""
    ref = ref.strip()
    if not ref:
        raise InvalidArgument("no model given: an artifact URI or path, or RUN_ID/TASK/OUTPUT", field="model")
    uri: str = ref
    run_id: str | None = None
    task: str | None = None
    artifact_id: str | None = None
    metadata: dict[str, Any] = {}
    if store is not None and _looks_like_run_ref(ref):
        found = _from_run_ref(ref, store)
        if found is not None:
            uri, run_id, task, artifact_id, metadata = found
    if store is not None and run_id is None:
        origin = store.artifact_origin(uri)
        if origin is not None:
            run_id, task, artifact_id, metadata = origin.run_id, origin.task, origin.artifact_id, origin.metadata
    path = local_copy(uri, cache_dir)
    if not path.exists():
        raise InvalidArgument(f"no model files at {uri!r}", field="model")
    if framework:
        fmt = normalise_framework(framework, "runtime")
    elif isinstance(metadata.get("framework"), str) and metadata["framework"]:
        fmt = normalise_framework(metadata["framework"], f"{uri}: metadata.framework")
    else:
        fmt = detect_format(path)
    return ModelSource(uri, path, fmt, run_id, task, artifact_id, metadata)


def detect_format(path: Path) -> str:
    """The format of model files without metadata to say it."""
    if path.is_dir():
        if (path / "MLmodel").is_file():
            return "mlflow"
        files = sorted(p for p in path.iterdir() if p.is_file())
        for candidate in files:
            try:
                return detect_format(candidate)
            except InvalidArgument:
                continue
        raise InvalidArgument(f"{path}: no model file found; understood: {_FORMAT_HELP}", field="model")
    suffix = path.suffix.lower()
    if suffix in (".joblib", ".pkl", ".pickle"):
        return "sklearn"
    if suffix in (".ubj", ".bst"):
        return "xgboost"
    with path.open("rb") as handle:
        head = handle.read(256)
    # pickle protocol 2+ starts with PROTO (0x80); joblib files are pickles too.
    if head[:1] == b"\x80":
        return "sklearn"
    if head.startswith(b"tree\n") or b"\nversion=v" in head[:64]:
        return "lightgbm"
    if head.lstrip()[:1] == b"{" and _is_xgboost_json(path):
        return "xgboost"
    raise InvalidArgument(f"{path}: cannot tell the model format; understood: {_FORMAT_HELP}", field="model")


def _is_xgboost_json(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "learner" in doc


def _looks_like_run_ref(ref: str) -> bool:
    return "://" not in ref and not ref.startswith(("/", ".", "~")) and ref.count("/") >= 2


def _from_run_ref(ref: str, store: Any) -> tuple[str, str, str, str, dict[str, Any]] | None:
    """``RUN_ID/TASK/OUTPUT``: TASK is a task name or path (``for-loop-2[0]/train``)."""
    run_id, rest = ref.split("/", 1)
    task_ref, output = rest.rsplit("/", 1)
    try:
        tasks = store.list_tasks(run_id)
    except NotFound:
        return None
    if not tasks:
        return None
    matches = [t for t in tasks if t.path == task_ref] or [t for t in tasks if t.name == task_ref]
    if not matches:
        known = ", ".join(sorted({t.path for t in tasks if t.kind == "CONTAINER"} or {t.path for t in tasks}))
        raise InvalidArgument(f"run {run_id} has no task {task_ref!r} (tasks: {known})", field="model")
    task = matches[0]
    produced = [a for a in store.list_artifacts_for_task(task.task_id) if a.name == output]
    if not produced:
        names = sorted(a.name for a in store.list_artifacts_for_task(task.task_id))
        raise InvalidArgument(
            f"task {task.path!r} of run {run_id} has no output artifact {output!r} "
            f"(outputs: {', '.join(names) or 'none'})",
            field="model",
        )
    art = produced[-1]
    return art.uri, run_id, task.path, art.artifact_id, dict(art.metadata)


def local_copy(uri: str, cache_dir: Path) -> Path:
    """A local path for the model: itself, or a copy of a remote artifact."""
    from pipeyard.artifacts.uris import is_local, local_path

    if is_local(uri):
        return Path(local_path(uri)).expanduser().resolve()
    import fsspec

    target = cache_dir / hashlib.sha256(uri.encode()).hexdigest()[:16]
    done = target / ".complete"
    if done.exists():
        return next(p for p in target.iterdir() if p.name != ".complete")
    fs, remote = fsspec.core.url_to_fs(uri)
    if not fs.exists(remote):
        raise InvalidArgument(f"no model files at {uri!r}", field="model")
    target.mkdir(parents=True, exist_ok=True)
    dest = target / (Path(remote).name or "model")
    fs.get(remote, str(dest), recursive=fs.isdir(remote))
    done.touch()
    return dest
