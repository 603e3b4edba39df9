"""Reading logs and artifact bytes without ever leaving the allowed directories.

Paths recorded in the store are not trusted: a run can be given any pipeline root and
a log path could be anything. Every path is resolved (symlinks and ``..`` included)
and must then lie under the pipeline root or the logs directory of this server.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from pipeyard.artifacts.uris import is_remote
from pipeyard.config import Settings
from pipeyard.errors import Forbidden, NotFound


def _uri_to_path(uri: str) -> str:
    if uri.startswith("file://"):
        return uri[len("file://") :]
    return uri


def allowed_roots(settings: Settings) -> list[Path]:
    roots = [Path(settings.logs_dir).resolve()]
    if not is_remote(settings.pipeline_root):
        roots.append(Path(_uri_to_path(settings.pipeline_root)).resolve())
    return roots


def safe_local_path(settings: Settings, uri_or_path: str, what: str) -> Path:
    """The resolved path, if it is inside an allowed root; Forbidden otherwise."""
    raw = _uri_to_path(uri_or_path)
    if not raw or "\x00" in raw or not os.path.isabs(raw):
        raise Forbidden(f"{what}: {uri_or_path!r} is not an absolute local path")
    path = Path(raw).resolve()
    if not any(path == root or path.is_relative_to(root) for root in allowed_roots(settings)):
        raise Forbidden(f"{what}: {uri_or_path!r} is outside the pipeline root and the logs directory")
    return path


def safe_remote_uri(settings: Settings, uri: str, what: str) -> str:
    root = settings.pipeline_root.rstrip("/") + "/"
    if (
        not is_remote(settings.pipeline_root)
        or not uri.startswith(root)
        or "/../" in uri
        or uri.endswith("/..")
    ):
        raise Forbidden(f"{what}: {uri!r} is outside the pipeline root")
    return uri


def _listing_text(files: dict[str, int]) -> bytes:
    return "".join(f"{rel}\t{size}\n" for rel, size in sorted(files.items())).encode()


def _read_remote(uri: str, what: str, offset: int, max_bytes: int | None) -> tuple[bytes, int]:
    from pipeyard.artifacts import filesystems  # imports fsspec: only for remote URIs

    try:
        fs, path = filesystems.filesystem(uri)
        files = filesystems.listing(fs, path)
    except FileNotFoundError:
        raise NotFound(what, uri) from None
    if "" not in files:  # a directory: its listing, as for a local one
        data = _listing_text({rel: int(i.get("size") or 0) for rel, i in files.items()})
        return data[offset : None if max_bytes is None else offset + max_bytes], len(data)
    size = int(files[""].get("size") or 0)
    with fs.open(path, "rb") as f:
        f.seek(min(offset, size))
        data = f.read() if max_bytes is None else f.read(max_bytes)
    return data, size


def is_directory(uri: str) -> bool:
    """Whether an artifact (local or remote) is a directory; False when unknown."""
    if not is_remote(uri):
        return Path(_uri_to_path(uri)).is_dir()
    from pipeyard.artifacts import filesystems

    try:
        fs, path = filesystems.filesystem(uri)
        return "" not in filesystems.listing(fs, path)
    except Exception:  # missing object, no filesystem, no access: not a directory we can list
        return False


def read_bytes(
    settings: Settings, uri: str, what: str, *, offset: int = 0, max_bytes: int | None = None
) -> tuple[bytes, int]:
    """(content from ``offset``, up to ``max_bytes``; total size). A directory reads as
    a listing of its files (relative path and size, one per line)."""
    if is_remote(uri):
        return _read_remote(safe_remote_uri(settings, uri, what), what, offset, max_bytes)
    path = safe_local_path(settings, uri, what)
    if path.is_dir():
        data = _listing_text(_directory_files(path))
        return data[offset : None if max_bytes is None else offset + max_bytes], len(data)
    if not path.is_file():
        raise NotFound(what, uri)
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(min(offset, size))
        data = f.read() if max_bytes is None else f.read(max_bytes)
    return data, size


def _directory_files(path: Path) -> dict[str, int]:
    """Regular files under ``path`` and their sizes. Symbolic links are not followed: a
    link a task left in its output could otherwise name and measure any file here."""
    files: dict[str, int] = {}
    for dirpath, _dirs, names in os.walk(path, followlinks=False):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISREG(st.st_mode):
                files[os.path.relpath(os.path.join(dirpath, name), path)] = st.st_size
    return files


CHUNK_BYTES = 256 * 1024


def open_local_range(
    settings: Settings, uri: str, what: str, *, offset: int = 0, max_bytes: int | None = None
) -> tuple[Iterator[bytes], int] | None:
    """A local regular file's bytes from ``offset`` (at most ``max_bytes``) as chunks, and
    its size; None when ``uri`` is remote or a directory (use :func:`read_bytes`). Large
    logs and artifacts are sent without holding them in memory."""
    if is_remote(uri):
        return None
    path = safe_local_path(settings, uri, what)
    if path.is_dir():
        return None
    try:
        f = path.open("rb")
    except FileNotFoundError:
        raise NotFound(what, uri) from None
    except IsADirectoryError:
        return None
    size = os.fstat(f.fileno()).st_size
    start = min(offset, size)
    remaining = size - start if max_bytes is None else min(max_bytes, size - start)
    f.seek(start)

    def chunks() -> Iterator[bytes]:
        left = remaining
        try:
            while left > 0:
                block = f.read(min(CHUNK_BYTES, left))
                if not block:
                    break
                left -= len(block)
                yield block
        finally:
            f.close()

    return chunks(), size
