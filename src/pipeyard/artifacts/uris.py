"""Artifact URIs: where outputs live under the pipeline root, and the local path a
KFP executor uses for a URI. Pure string work, no I/O: every layer may use it."""

from __future__ import annotations

import re

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


def is_remote(uri: str) -> bool:
    return not is_local(uri)
