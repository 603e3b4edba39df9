"""The environment a task process starts from: this process's, less the server's secrets.

A task runs the user's pipeline code, and pipelines come from anyone allowed to create a
run: the bearer token that guards the API and the database URL (which may carry a
password) must never reach it, or any run could take over the server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

SERVER_SECRETS = frozenset({"PIPEYARD_AUTH_TOKEN", "PIPEYARD_DATABASE_URL"})


def task_base_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    source = os.environ if environ is None else environ
    return {name: value for name, value in source.items() if name not in SERVER_SECRETS}
