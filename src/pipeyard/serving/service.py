"""Deployments as the REST API and the CLI see them: list, get, apply, delete, logs."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx

from pipeyard.config import Settings
from pipeyard.errors import FailedPrecondition, NotFound
from pipeyard.serving.manager import DeploymentManager, read_logs
from pipeyard.serving.specs import DeploymentSpec, is_loopback, prepare
from pipeyard.store.deployments import Deployment

DELETE_WAIT_SECONDS = 60.0
TRY_TIMEOUT_SECONDS = 30.0


class Deployments:
    """``manager`` is None where no model servers run (an API-only server): changes are
    then only recorded, for a server with a manager to act on."""

    def __init__(
        self, store: Any, settings: Settings, manager: DeploymentManager | None, *, token: str | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.manager = manager
        self.token = token
        self.token_set = bool(token)

    def list(self) -> list[Deployment]:
        return list(self.store.list_deployments())

    def get(self, name: str) -> Deployment:
        return self.store.get_deployment(name)  # type: ignore[no-any-return]

    def apply(self, spec: DeploymentSpec) -> Deployment:
        stored = self.store.put_deployment(prepare(spec, self.store, self.settings, token_set=self.token_set))
        if self.manager is not None:
            self.manager.wake()
        return stored  # type: ignore[no-any-return]

    def delete(self, name: str) -> None:
        """Stops the model server and removes the deployment (waits for both when a
        manager runs here)."""
        self.store.request_deployment_delete(name)
        if self.manager is None:
            self.store.delete_deployment(name)
            return
        for _ in range(3):
            self.manager.wait_for_pass(DELETE_WAIT_SECONDS)
            try:
                self.store.get_deployment(name)
            except NotFound:
                return
        with contextlib.suppress(NotFound):
            self.store.delete_deployment(name)

    def try_request(self, name: str, protocol: str, body: Any) -> dict[str, Any]:
        d = self.get(name)
        if d.state != "READY" or not d.url:
            raise FailedPrecondition(f"deployment {name!r} is {d.state}, not READY")
        path = f"/v1/models/{name}:predict" if protocol == "v1" else f"/v2/models/{name}/infer"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token and not is_loopback(d.host) else {}
        try:
            answer = httpx.post(d.url + path, json=body, headers=headers, timeout=TRY_TIMEOUT_SECONDS,
                                trust_env=False)
        except httpx.HTTPError as e:
            raise FailedPrecondition(f"deployment {name!r} did not answer at {d.url}: {e}") from e
        try:
            content: Any = answer.json()
        except ValueError:
            content = answer.text
        return {"status": answer.status_code, "url": d.url + path, "response": content}

    def logs(self, name: str) -> str:
        self.get(name)
        return read_logs(self.settings, name)
