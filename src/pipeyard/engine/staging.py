"""Artifacts under a remote pipeline root (s3://, gs://, minio://), staged locally.

KFP's executor turns ``s3://b/k`` into ``/s3/b/k`` and expects a mount there; on a
cluster the launcher provides it. Here, as KFP's launcher does with its local
staging, remote inputs are downloaded into a per-run directory before an attempt
and outputs are written there and uploaded after it. The executor only ever sees
local paths (as artifact URIs in its ExecutorInput); the store only ever records
the remote URIs.

The staging tree mirrors URIs: ``<home>/staging/<run_id>/s3/b/k`` holds
``s3://b/k``. An output uploaded by one task is therefore already in place for
its consumers in the same run, and a sidecar of digests says whether a staged
copy still matches the remote data.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeyard.artifacts.filesystems import RemoteError, digest_of_listing, filesystem, listing, remote_digest
from pipeyard.artifacts.uris import is_local, is_remote, local_path
from pipeyard.engine.outcome import ArtifactDict

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def staging_root(home: Path, run_id: str) -> Path:
    return home / "staging" / run_id


def staged_path(root: Path, uri: str) -> Path:
    """Where ``uri`` is staged under ``root``. Empty, ``.`` and ``..`` segments are
    dropped so that no URI reaches outside the staging tree."""
    scheme, _, rest = uri.partition("://")
    parts = [p for p in rest.split("/") if p not in ("", ".", "..")]
    return root.joinpath(scheme or "_", *parts)


def remote_uri_of(root: Path, path: str) -> str | None:
    """The remote URI a staged path stands for, None if it is not under ``root``."""
    try:
        rel = Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return None
    if len(rel.parts) < 2:
        return None
    return f"{rel.parts[0]}://" + "/".join(rel.parts[1:])


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _marker(root: Path, uri: str) -> Path:
    return root / ".digests" / hashlib.sha256(uri.encode()).hexdigest()


def _read_marker(root: Path, uri: str) -> str | None:
    try:
        return _marker(root, uri).read_text()
    except OSError:
        return None


def _write_marker(root: Path, uri: str, digest: str) -> None:
    marker = _marker(root, uri)
    marker.parent.mkdir(parents=True, exist_ok=True)
    tmp = marker.with_name(marker.name + f".{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(digest)
    os.replace(tmp, marker)


def download(root: Path, uri: str, known_digest: str | None = None) -> Path:
    """Stage ``uri`` (a file or a directory) under ``root`` and return its path. A
    staged copy whose digest matches ``known_digest`` (or the remote data's current
    digest) is reused. FileNotFoundError if nothing is there."""
    target = staged_path(root, uri)
    with _lock(str(target)):
        marker = _read_marker(root, uri)
        if marker is not None and marker == known_digest and target.exists():
            return target
        fs, path = filesystem(uri)
        files = listing(fs, path)
        digest = digest_of_listing(files)
        if marker == digest and target.exists():
            return target
        # Into a fresh sibling first: a task never sees half a download.
        tmp = target.with_name(f".{target.name}.partial")
        _remove(tmp)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        if "" in files:
            fs.get_file(path, str(tmp))
        else:
            tmp.mkdir()
            rels = sorted(files)
            for rel in rels:
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            if rels:
                fs.get([f"{path}/{rel}" for rel in rels], [str(tmp / rel) for rel in rels])
        _remove(target)
        os.replace(tmp, target)
        _write_marker(root, uri, digest)
        return target


def upload(root: Path, source: Path, uri: str) -> str | None:
    """Copy a staged file or directory (recursively) to ``uri``; its digest after."""
    fs, path = filesystem(uri)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file())
        if files:
            fs.put([str(p) for p in files], [f"{path}/{p.relative_to(source).as_posix()}" for p in files])
    else:
        fs.put_file(str(source), path)
    digest = remote_digest(uri)
    if digest is not None:
        _write_marker(root, uri, digest)
    return digest


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@dataclass
class Staging:
    """One attempt's view of its artifacts: what the executor is given, and the
    uploads owed after it succeeds."""

    root: Path
    task_root: str  # where the executor writes (its outputs and executor_output.json)
    inputs: dict[str, list[ArtifactDict]]
    outputs: dict[str, str]
    remote_outputs: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def details(self) -> dict[str, Any]:
        return {"remote_staging": list(self.warnings)} if self.warnings else {}

    @property
    def note(self) -> str:
        """Appended to a failed attempt's error: a missing download is the likely cause."""
        return "".join(f"; {w}" for w in self.warnings)

    async def publish(self, produced: dict[str, list[dict[str, Any]]],
                      uploaded: bool = False) -> dict[str, list[dict[str, Any]]]:
        """Upload what the executor wrote under this task's staging directory and
        give the items back with their remote URIs (and digests). ``uploaded``: the
        launcher already uploaded them from where the task ran; only digests are read."""
        if not self.remote_outputs:
            return produced
        task_dir = Path(self.task_root).resolve()
        out: dict[str, list[dict[str, Any]]] = {}
        for name, items in produced.items():
            out[name] = []
            for item in items:
                source = Path(local_path(item["uri"]))
                remote = remote_uri_of(self.root, str(source)) if is_local(item["uri"]) else None
                if remote is None:
                    out[name].append(item)
                    continue
                item = dict(item, uri=remote)
                # Only this task's own outputs: an input handed back as an output is
                # already at its remote URI.
                if uploaded and task_dir in source.resolve().parents:
                    item["digest"] = await asyncio.to_thread(remote_digest, remote)
                elif source.exists() and task_dir in source.resolve().parents:
                    try:
                        item["digest"] = await asyncio.to_thread(upload, self.root, source, remote)
                    except Exception as e:
                        raise RemoteError(f"output artifact {name!r}: uploading to {remote} failed: "
                                          f"{type(e).__name__}: {e}") from e
                out[name].append(item)
        return out


def _stage_input(root: Path, name: str, a: ArtifactDict, warnings: list[str]) -> ArtifactDict:
    uri = a["uri"]
    try:
        return dict(a, uri=str(download(root, uri, a.get("digest"))))
    except FileNotFoundError:
        # Like a local output that was never written (a Metrics artifact keeps its
        # values in metadata): the executor gets a path with nothing at it.
        warnings.append(f"input artifact {name!r}: nothing at {uri}")
        return dict(a, uri=str(staged_path(root, uri)))
    except ImportError as e:
        # Components that only pass the URI on or print it must still run (KFP's
        # importer works by reference), so this is a warning, not a failure.
        warnings.append(f"input artifact {name!r}: cannot download {uri}: {e} "
                        "(install the fsspec filesystem package for this scheme)")
    except Exception as e:
        warnings.append(f"input artifact {name!r}: cannot download {uri}: {type(e).__name__}: {e}")
    return a


def _stage_all(root: Path, artifacts: Mapping[str, list[ArtifactDict]],
               warnings: list[str]) -> dict[str, list[ArtifactDict]]:
    return {name: [_stage_input(root, name, a, warnings) if is_remote(a["uri"]) else a for a in arts]
            for name, arts in artifacts.items()}


async def stage(home: Path, run_id: str, artifacts: Mapping[str, list[ArtifactDict]],
                output_uris: Mapping[str, str], task_uri: str) -> Staging:
    """Download remote inputs and choose local places for remote outputs. Local
    URIs pass through untouched, without touching fsspec."""
    root = staging_root(home, run_id)

    def local(uri: str) -> str:
        return str(staged_path(root, uri)) if is_remote(uri) else uri

    outputs = {name: local(uri) for name, uri in output_uris.items()}
    warnings: list[str] = []
    if any(is_remote(a["uri"]) for arts in artifacts.values() for a in arts):
        inputs = await asyncio.to_thread(_stage_all, root, artifacts, warnings)
    else:
        inputs = {name: list(arts) for name, arts in artifacts.items()}
    return Staging(root, local(task_uri), inputs, outputs, is_remote(task_uri), warnings)


def discard(home: Path, run_id: str) -> None:
    """Drop a run's staged copies once it is over; the remote store has the data."""
    shutil.rmtree(staging_root(home, run_id), ignore_errors=True)
