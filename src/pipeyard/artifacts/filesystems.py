"""The file systems behind artifact URIs: fsspec for remote schemes (imported only
when a remote URI is met), and content identities for local and remote data (the
cache key's view of an artifact). Used by the engine's staging and by the
server's file endpoints."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeyard.artifacts.uris import is_local, local_path
from pipeyard.errors import PipeyardError

# minio:// is KFP's name for S3 on a MinIO endpoint; fsspec has no such protocol.
_PROTOCOL_ALIASES = {"minio": "s3"}
# Fields of fsspec's info() that identify content, strongest first. S3 gives an
# ETag, GCS md5Hash/crc32c, most others only size and a modification time.
_CONTENT_KEYS = ("ETag", "etag", "md5Hash", "crc32c", "checksum", "md5")
_TIME_KEYS = ("LastModified", "mtime", "updated", "last_modified", "created")


class RemoteError(PipeyardError):
    """Moving an artifact to or from remote storage failed."""


def filesystem(uri: str) -> tuple[Any, str]:
    """fsspec's filesystem for ``uri`` and the path within it. ImportError when the
    package for the scheme (s3fs, gcsfs, ...) is not installed."""
    import fsspec

    scheme, _, rest = uri.partition("://")
    fs = fsspec.filesystem(_PROTOCOL_ALIASES.get(scheme, scheme))
    return fs, rest.rstrip("/")


def _identity(info: Mapping[str, Any]) -> str:
    content = [f"{k}={info[k]}" for k in _CONTENT_KEYS if info.get(k)]
    if not content:
        content = [f"{k}={info[k]}" for k in _TIME_KEYS if info.get(k)]
    return f"size={info.get('size')};" + ";".join(content)


def listing(fs: Any, path: str) -> dict[str, dict[str, Any]]:
    """Files under ``path`` by relative name ("" for ``path`` itself being a file).
    Caches are dropped first: a listing cached earlier in this process would hide
    changed data."""
    fs.invalidate_cache(path)
    info = fs.info(path)
    if info.get("type") != "directory":
        return {"": info}
    found = fs.find(path, detail=True, withdirs=False)
    prefix = path.rstrip("/") + "/"
    return {name[len(prefix):]: i for name, i in found.items() if name.startswith(prefix)}


def digest_of_listing(files: Mapping[str, Mapping[str, Any]]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + _identity(files[rel]).encode() + b"\n")
    return "remote:" + h.hexdigest()


def remote_digest(uri: str) -> str | None:
    """A content identity from the store's metadata (ETag, md5, or size and mtime),
    without reading the data. None when it cannot be had (no filesystem for the
    scheme, no such object, no access): the URI alone then identifies the data."""
    try:
        fs, path = filesystem(uri)
        return digest_of_listing(listing(fs, path))
    except Exception:  # any backend error means "unknown", never a failed task
        return None


def content_digest(uri: str) -> str | None:
    """sha256 over a local file, or over a directory's relative names and file
    contents. Remote data is identified by its store's metadata (ETag, md5, size
    and mtime), so that changed remote data still misses the cache."""
    if not is_local(uri):
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
