"""Where output artifacts live under the pipeline root, and their content identity."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def task_dir_name(path: str) -> str:
    """A filesystem-safe, readable form of a task path ("for-loop-2[0]/train" ->
    "for-loop-2-0/train")."""
    parts = [_UNSAFE.sub("-", p).strip("-") or "_" for p in path.split("/")]
    return "/".join(parts)


def output_uri(pipeline_root: str, pipeline_name: str, run_id: str, task_path: str, output: str) -> str:
    root = pipeline_root.rstrip("/")
    return f"{root}/{_UNSAFE.sub('-', pipeline_name) or 'pipeline'}/{run_id}/{task_dir_name(task_path)}/{output}"


def local_path(uri: str) -> str:
    """The path a KFP executor uses for a URI (gs:// -> /gcs/ etc.); a plain path
    or file:// URI maps to itself."""
    for scheme, mount in (("gs://", "/gcs/"), ("s3://", "/s3/"), ("minio://", "/minio/")):
        if uri.startswith(scheme):
            return mount + uri[len(scheme):]
    if uri.startswith("file://"):
        return uri[len("file://"):]
    return uri


def is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def content_digest(uri: str) -> str | None:
    """sha256 over a local file, or over a directory's relative names and file
    contents. Remote data is identified by its store's metadata (ETag, md5, size
    and mtime), so that changed remote data still misses the cache."""
    if not is_local(uri):
        from pipeyard.engine.remote import remote_digest  # imports fsspec: only when needed

        return remote_digest(uri)
    path = Path(local_path(uri))
    h = hashlib.sha256()
    if path.is_file():
        _hash_file(h, path)
    elif path.is_dir():
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                f = Path(root) / name
                h.update(str(f.relative_to(path)).encode() + b"\0")
                _hash_file(h, f)
    else:
        return None
    return "sha256:" + h.hexdigest()


def _hash_file(h: Any, path: Path) -> None:
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
