"""What the ``deploy_model`` component does inside a run executed by ``pipeyard server``.

The task never receives the server's API token (tasks run user code). It needs none:
it runs as the server's user with the server's ``PIPEYARD_HOME`` and database in its
environment, so it writes the deployment's desired state to the store, where the
server's deployment manager (announced in ``$PIPEYARD_HOME/serving/manager.json``)
acts on it; the task waits until the manager reports the deployment ready and
returns its URL. Nothing is reachable to a task that its user could not already
reach, and no credential is copied into task environments.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from pipeyard.config import Settings
from pipeyard.errors import FailedPrecondition, InvalidArgument, NotFound, PipeyardError
from pipeyard.serving.manager import manager_file
from pipeyard.serving.specs import DeploymentSpec, prepare

WAIT_SECONDS = float(os.environ.get("PIPEYARD_DEPLOY_WAIT_SECONDS") or 600)
POLL_SECONDS = 0.25
ACTIONS = ("apply", "delete")


def _check_manager(settings: Settings) -> None:
    path = manager_file(settings)
    try:
        announced: dict[str, Any] = json.loads(path.read_text())
        pid = int(announced["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        raise FailedPrecondition(
            "deploy_model creates deployments when its run is executed by `pipeyard server` "
            f"(no running server manages deployments for {settings.home}); run the pipeline with "
            "`pipeyard run --server URL ...` or kfp.Client against pipeyard server, "
            "or serve the model with `pipeyard serve MODEL --name NAME`"
        ) from None
    if announced.get("database_url") != settings.database_url:
        raise FailedPrecondition(
            f"the server managing deployments under {settings.home} uses another database "
            f"({announced.get('database_url')}) than this task ({settings.database_url})"
        )


def deploy_from_task(model_uri: str, *, name: str, action: str = "apply", runtime: str = "kserve",
                     replicas: int = 1) -> str:
    """Apply or delete the deployment ``name``; returns its URL ("" after a delete)."""
    if action not in ACTIONS:
        raise InvalidArgument(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}", field="action")
    settings = Settings.from_env()
    _check_manager(settings)
    from pipeyard.store import open_store

    with open_store(settings.database_url) as store:
        if action == "delete":
            try:
                store.request_deployment_delete(name)
            except NotFound:
                print(f"deploy_model: no deployment {name!r} to delete")
                return ""
            _wait(lambda: _gone(store, name), f"deployment {name!r} to be deleted")
            print(f"deploy_model: deleted deployment {name!r}")
            return ""
        spec = DeploymentSpec(name=name, model=model_uri, runtime=runtime or "kserve", replicas=replicas)
        stored = store.put_deployment(prepare(spec, store, settings, token_set=False))
        print(f"deploy_model: applied deployment {name!r} (generation {stored.generation}) for {model_uri}")
        final = _wait(lambda: _settled(store, name, stored.generation), f"deployment {name!r} to be ready")
        if final.state != "READY":
            raise PipeyardError(f"deployment {name!r} is {final.state}: {final.error or 'not ready'}")
        print(f"deploy_model: {name!r} is READY at {final.url}")
        print(f"  V1: POST {final.url}/v1/models/{name}:predict")
        print(f"  V2: POST {final.url}/v2/models/{name}/infer")
        return str(final.url)


def _gone(store: Any, name: str) -> Any:
    try:
        store.get_deployment(name)
    except NotFound:
        return True
    return None


def _settled(store: Any, name: str, generation: int) -> Any:
    d = store.get_deployment(name)
    if d.observed_generation >= generation and d.state in ("READY", "FAILED"):
        return d
    return None


def _wait(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise PipeyardError(f"gave up after {WAIT_SECONDS:.0f} s waiting for {what}")
        time.sleep(POLL_SECONDS)
