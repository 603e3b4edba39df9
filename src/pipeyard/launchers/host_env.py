"""The environment a task process starts from: this process's, less the server's secrets.

A task runs the user's pipeline code, and pipelines come from anyone allowed to create a
run: the bearer token that guards the API and the database URL (which may carry a
password) must never reach it, or any run could take over the server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

SERVER_SECRETS = frozenset({"PIPEYARD_AUTH_TOKEN", "PIPEYARD_DATABASE_URL"})


_cache: tuple[dict[bytes, bytes], dict[str, str]] | None = None


def task_base_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    if environ is None:
        return dict(_current())
    return {name: value for name, value in environ.items() if name not in SERVER_SECRETS}


def task_base_env_shared() -> Mapping[str, str]:
    """``task_base_env()`` without the copy: the same object for as long as os.environ does
    not change (a caller may cache what it derives from it by identity); never mutate it."""
    return _current()


def _current() -> dict[str, str]:
    # Decoding os.environ costs a quarter of a millisecond, per task; it changes rarely, and
    # comparing its raw bytes with the last copy is cheap.
    global _cache
    raw = getattr(os.environ, "_data", None)
    if not isinstance(raw, dict):
        return {name: value for name, value in os.environ.items() if name not in SERVER_SECRETS}
    if _cache is None or _cache[0] != raw:
        _cache = (dict(raw), {name: value for name, value in os.environ.items() if name not in SERVER_SECRETS})
    return _cache[1]
