"""The deployment manager: keeps every applied deployment's model server running.

The store holds the desired state (``DeploymentStore``); the manager, one per
``pipeyard server``, reconciles this machine's processes with it on its own thread:
it starts a model server for each applied deployment, marks it READY once its
``/v2/health/ready`` answers, starts it again when it dies (giving up after repeated
failures before readiness), stops and removes deleted ones, and on start restores
what the store says should run - so deployments survive a server restart.

Writers that are not in this process (the ``deploy_model`` task) only write the store;
the manager notices them at its next check (``check_seconds``). Writers in this
process call ``wake()``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pipeyard.config import Settings
from pipeyard.errors import NotFound
from pipeyard.serving.formats import local_copy
from pipeyard.serving.runtime import PROGRAM, server_command, server_env, serving_python
from pipeyard.serving.specs import is_loopback, model_cache_dir, url_for
from pipeyard.store.deployments import Deployment

log = logging.getLogger(__name__)

LOG_TAIL_BYTES = 64 * 1024
STOP_GRACE_SECONDS = 5.0


def manager_file(settings: Settings) -> Path:
    """Where a running manager announces itself to tasks of its server's runs."""
    return settings.home / "serving" / "manager.json"


def logs_path(settings: Settings, name: str) -> Path:
    return settings.logs_dir / "deployments" / f"{name}.log"


def read_logs(settings: Settings, name: str, tail_bytes: int = LOG_TAIL_BYTES) -> str:
    path = logs_path(settings, name)
    if not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - tail_bytes))
        return handle.read().decode(errors="replace")


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host if host not in ("", "0.0.0.0") else "127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class _Process:
    generation: int
    popen: subprocess.Popen[bytes] | None
    port: int
    ready: bool = False
    failures: int = 0  # consecutive exits before readiness
    next_start: float = 0.0
    gave_up: bool = False
    log_handle: Any = field(default=None, repr=False)


class DeploymentManager:
    def __init__(
        self,
        store: Any,
        settings: Settings,
        *,
        auth_token: str | None = None,
        check_seconds: float = 0.5,
        max_failures: int = 5,
    ) -> None:
        self.store = store
        self.settings = settings
        self.auth_token = auth_token
        self.check_seconds = check_seconds
        self.max_failures = max_failures
        self._procs: dict[str, _Process] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=2.0, trust_env=False)
        self._passes = threading.Condition()
        self._pass_count = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        path = manager_file(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"pid": os.getpid(), "database_url": self.settings.database_url}))
        self._thread = threading.Thread(target=self._loop, name="pipeyard-deployments", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for name in list(self._procs):
            self._stop_process(name)
            with contextlib.suppress(NotFound):
                self.store.update_deployment(name, state="STOPPED", pid=None)
        with contextlib.suppress(OSError):
            path = manager_file(self.settings)
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        self._http.close()

    def wake(self) -> None:
        self._wake.set()

    def wait_for_pass(self, timeout: float) -> bool:
        """Wake the loop and wait until one full reconcile pass has begun and ended after now."""
        with self._passes:
            target = self._pass_count + 2
            self._wake.set()
            return self._passes.wait_for(
                lambda: self._pass_count >= target or self._stopping.is_set(), timeout=timeout
            )

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._reconcile()
            except Exception:
                log.exception("deployments: reconcile failed")
            with self._passes:
                self._pass_count += 1
                self._passes.notify_all()
            self._wake.wait(self.check_seconds)
            self._wake.clear()

    def _reconcile(self) -> None:
        wanted = {d.name: d for d in self.store.list_deployments()}
        for name in list(self._procs):
            if name not in wanted:
                self._stop_process(name)
        for d in wanted.values():
            if self._stopping.is_set():
                return
            if d.desired == "delete":
                self._stop_process(d.name)
                with contextlib.suppress(NotFound):
                    self.store.delete_deployment(d.name)
                log.info("deployment %s deleted", d.name)
                continue
            proc = self._procs.get(d.name)
            if proc is None or proc.generation != d.generation:
                if proc is None:
                    self._kill_orphan(d)
                self._stop_process(d.name)
                self._launch(d, restart=False)
            else:
                self._check(d, proc)

    def _launch(self, d: Deployment, *, restart: bool) -> None:
        old = self._procs.get(d.name)
        port = old.port if old is not None else (d.port or free_port(d.host))
        proc = _Process(generation=d.generation, popen=None, port=port)
        if old is not None:
            proc.failures = old.failures
        self._procs[d.name] = proc
        try:
            path = local_copy(d.model_uri, model_cache_dir(self.settings))
            python = serving_python(self.settings.envs_dir)
        except Exception as e:
            proc.gave_up = True
            self.store.update_deployment(d.name, state="FAILED", error=str(e), observed_generation=d.generation)
            return
        log_path = logs_path(self.settings, d.name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        proc.log_handle = log_path.open("ab")
        proc.log_handle.write(f"--- pipeyard: starting model server (generation {d.generation})\n".encode())
        proc.log_handle.flush()
        token = self.auth_token if not is_loopback(d.host) else None
        command = server_command(
            python, model_path=path, model_name=d.name, framework=d.framework, host=d.host, port=port
        )
        proc.popen = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=proc.log_handle,
            stderr=subprocess.STDOUT,
            env=server_env(token),
            # Its own process group: stopping it stops anything it started.
            start_new_session=True,
        )
        fields: dict[str, Any] = {
            "state": "RESTARTING" if restart else "STARTING",
            "pid": proc.popen.pid,
            "port": port,
            "url": url_for(d.host, port),
            "observed_generation": d.generation,
            "error": None,
        }
        if restart:
            fields["restarts"] = d.restarts + 1
        self.store.update_deployment(d.name, **fields)

    def _check(self, d: Deployment, proc: _Process) -> None:
        if proc.gave_up:
            return
        if proc.popen is None or proc.popen.poll() is not None:
            code = proc.popen.returncode if proc.popen is not None else None
            if proc.popen is not None:
                self._close_log(proc)
                proc.popen = None
                proc.failures = 0 if proc.ready else proc.failures + 1
                proc.ready = False
                log.warning("deployment %s: model server exited with %s", d.name, code)
                if proc.failures >= self.max_failures:
                    proc.gave_up = True
                    tail = read_logs(self.settings, d.name, 2000)
                    self.store.update_deployment(
                        d.name, state="FAILED", pid=None,
                        error=f"the model server exited {proc.failures} times before it was ready "
                              f"(last exit code {code}); log tail:\n{tail}",
                    )
                    return
                # Back off a little between attempts that fail fast.
                proc.next_start = time.monotonic() + min(0.5 * 2 ** proc.failures, 10.0)
                self.store.update_deployment(d.name, state="RESTARTING", pid=None)
            if time.monotonic() >= proc.next_start:
                self._launch(d, restart=True)
            return
        if not proc.ready:
            try:
                answer = self._http.get(f"{url_for(d.host, proc.port)}/v2/health/ready")
            except httpx.HTTPError:
                return  # not listening yet
            if answer.status_code == 200:
                proc.ready = True
                proc.failures = 0
                self.store.update_deployment(d.name, state="READY", error=None)
                log.info("deployment %s ready at %s", d.name, url_for(d.host, proc.port))

    # ------------------------------------------------------------------ processes

    def _stop_process(self, name: str) -> None:
        proc = self._procs.pop(name, None)
        if proc is None or proc.popen is None:
            return
        _terminate(proc.popen)
        self._close_log(proc)

    @staticmethod
    def _close_log(proc: _Process) -> None:
        if proc.log_handle is not None:
            with contextlib.suppress(OSError):
                proc.log_handle.close()
            proc.log_handle = None

    def _kill_orphan(self, d: Deployment) -> None:
        """A server that was killed leaves its model servers running; the restored
        deployment needs their port, so stop the recorded process if it is one of ours."""
        if not d.pid:
            return
        try:
            cmdline = Path(f"/proc/{d.pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return
        if str(PROGRAM).encode() in cmdline and d.name.encode() in cmdline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(d.pid, signal.SIGTERM)
            _wait_gone(d.pid)


def _terminate(popen: subprocess.Popen[bytes]) -> None:
    if popen.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGTERM)
    try:
        popen.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait()


def _wait_gone(pid: int, timeout: float = STOP_GRACE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
