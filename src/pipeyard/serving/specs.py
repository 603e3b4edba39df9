"""What a client asks for when it deploys a model, checked and turned into a stored row.

The REST API, the CLI and the ``deploy_model`` task all go through ``prepare``: one set
of rules for names, hosts, ports and models wherever a deployment comes from.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeyard.config import Settings
from pipeyard.errors import InvalidArgument
from pipeyard.serving.formats import resolve_model
from pipeyard.serving.runtime import check_runtime_name
from pipeyard.store.deployments import Deployment

# KServe's model names end up in URL paths (/v2/models/{name}); keep them plain.
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
MAX_REPLICAS = 1


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    model: str  # artifact URI or path, or RUN_ID/TASK/OUTPUT
    host: str = "127.0.0.1"
    port: int | None = None
    runtime: str = "kserve"
    framework: str | None = None  # override the detected model format
    replicas: int = 1


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"{name!r} is not a deployment name: 1-63 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit",
            field="name",
        )
    return name


def is_loopback(host: str) -> bool:
    # The same rule as the server's binding check (server/auth.py), without importing the web stack.
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, *, token_set: bool) -> str:
    """A deployment follows the server's rule: loopback only, unless a token is set."""
    host = (host or "127.0.0.1").strip()
    if not is_loopback(host) and not token_set:
        raise InvalidArgument(
            f"refusing to serve on {host!r} without authentication: set PIPEYARD_AUTH_TOKEN "
            "(clients then send 'Authorization: Bearer <token>'), or serve on 127.0.0.1",
            field="host",
        )
    return host


def model_cache_dir(settings: Settings) -> Path:
    return settings.home / "serving" / "models"


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def prepare(spec: DeploymentSpec, store: Any, settings: Settings, *, token_set: bool) -> Deployment:
    name = check_name(spec.name)
    host = check_host(spec.host, token_set=token_set)
    runtime = check_runtime_name(spec.runtime)
    if spec.port is not None and not 1 <= spec.port <= 65535:
        raise InvalidArgument(f"port {spec.port} is out of range 1-65535", field="port")
    if not isinstance(spec.replicas, int) or not 1 <= spec.replicas <= MAX_REPLICAS:
        raise InvalidArgument(
            f"replicas={spec.replicas!r}: on one machine a deployment runs {MAX_REPLICAS} model server "
            "process (one process already answers concurrent requests)",
            field="replicas",
        )
    source = resolve_model(spec.model, store, model_cache_dir(settings), framework=spec.framework)
    now = datetime.now(timezone.utc)
    return Deployment(
        name=name,
        model_uri=source.uri,
        framework=source.framework,
        created_at=now,
        updated_at=now,
        desired="apply",
        state="PENDING",
        host=host,
        port=spec.port,
        url=url_for(host, spec.port) if spec.port else "",
        run_id=source.run_id,
        task=source.task,
        artifact_id=source.artifact_id,
        runtime=runtime,
        replicas=spec.replicas,
    )
