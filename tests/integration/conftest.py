"""Fixtures for tests that start a real pipeyard server process.

``ServerProcess`` runs ``python -m pipeyard.server.main`` on a free loopback port with
a private ``PIPEYARD_HOME`` (and, when given, a database URL), waits until it answers
``/apis/v2beta1/healthz``, and can be stopped, SIGKILLed and restarted on the same
home and port. Nothing here is specific to one API test, so the browser tests reuse
it: ``start_server(...)`` for a server of one's own, ``server`` for the module's
shared server, ``backend_url`` for the database (SQLite, and PostgreSQL when
``PIPEYARD_TEST_POSTGRES_URL`` is set: ``export PIPEYARD_TEST_POSTGRES_URL="$(scripts/start-postgres.sh)"``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

POSTGRES_ENV = "PIPEYARD_TEST_POSTGRES_URL"
# Guards against a hung server, not performance assertions.
READY_DEADLINE_SECONDS = 60.0
RUN_DEADLINE_SECONDS = 120.0
FINAL_STATES = frozenset({"SUCCEEDED", "SKIPPED", "FAILED", "CANCELED"})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """One ``pipeyard`` server (or ``--worker-only`` worker) child process."""

    home: Path
    port: int = field(default_factory=free_port)
    database_url: str | None = None
    host: str = "127.0.0.1"
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / f"server-{self.port}.log"

    def env(self) -> dict[str, str]:
        # A developer's own PIPEYARD_* settings must not leak into the server under test.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
        env["PIPEYARD_HOME"] = str(self.home)
        if self.database_url:
            env["PIPEYARD_DATABASE_URL"] = self.database_url
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.update(self.extra_env)
        return env

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pipeyard.server.main",
            "--host",
            self.host,
            "--port",
            str(self.port),
            *self.extra_args,
        ]

    def start(self, *, wait: bool = True) -> ServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        log.write(f"\n===== start #{self.starts + 1}: {' '.join(self.command())}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            self.command(), env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.starts += 1
        if wait and "--worker-only" not in self.extra_args:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (
                    httpx.get(
                        f"{self.url}/apis/v2beta1/healthz", headers=self.auth_headers(), timeout=2
                    ).status_code
                    == 200
                ):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not become ready:\n{self.log_tail()}")

    def auth_headers(self) -> dict[str, str]:
        token = self.extra_env.get("PIPEYARD_AUTH_TOKEN")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def stop(self) -> int | None:
        """Graceful stop (SIGTERM, as a service manager does); SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int | None:
        """SIGKILL the server process only, as a crash would: its task processes live
        in sessions of their own and are not signalled."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait(timeout=30)

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def client(self, **kwargs: Any) -> Any:
        import kfp

        token = self.extra_env.get("PIPEYARD_AUTH_TOKEN")
        if token:
            kwargs.setdefault("existing_token", token)
        return kfp.Client(host=self.url, **kwargs)

    def http(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("headers", self.auth_headers())
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    @staticmethod
    def wait_run(http: httpx.Client, run_id: str, states: frozenset[str] | None = None) -> dict[str, Any]:
        return wait_run(http, run_id, states or FINAL_STATES)


class ServerFactory:
    """Starts servers and makes sure every one of them is stopped afterwards."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.servers: list[ServerProcess] = []

    def __call__(
        self,
        *,
        home: Path | None = None,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        host: str = "127.0.0.1",
        wait: bool = True,
    ) -> ServerProcess:
        srv = ServerProcess(
            home=home or self.base / f"home-{len(self.servers)}",
            database_url=database_url,
            host=host,
            extra_env=dict(env or {}),
            extra_args=list(args or []),
        )
        self.servers.append(srv)
        return srv.start(wait=wait)

    def close(self) -> None:
        for srv in self.servers:
            with contextlib.suppress(Exception):
                srv.stop()


@contextlib.contextmanager
def postgres_schema_url(base_url: str) -> Iterator[str]:
    """A URL whose connections live in a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"srv_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(Exception), admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def backend_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite under the server's home; a fresh PostgreSQL schema otherwise."""
    if request.param == "sqlite":
        yield None
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set; start PostgreSQL with scripts/start-postgres.sh")
    with postgres_schema_url(base) as url:
        yield url


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (the test is skipped without PostgreSQL)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set; start PostgreSQL with scripts/start-postgres.sh")
    with postgres_schema_url(base) as url:
        yield url


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    factory = ServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(scope="module")
def module_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    factory = ServerFactory(tmp_path_factory.mktemp("servers"))
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory, backend_url: str | None) -> ServerProcess:
    """A server shared by the tests of one module, on each database backend."""
    return module_servers(database_url=backend_url)


@pytest.fixture(scope="module")
def kfp_client(server: ServerProcess) -> Any:
    return server.client()


def wait_run(http: httpx.Client, run_id: str, states: frozenset[str] = FINAL_STATES) -> dict[str, Any]:
    """Poll ``GET /runs/{id}`` every 0.2 s until its state is in ``states``."""
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        resp = http.get(f"/apis/v2beta1/runs/{run_id}")
        resp.raise_for_status()
        body = resp.json()
        if body["state"] in states:
            return body
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {body.get('state')} after {RUN_DEADLINE_SECONDS}s: {body}")


@pytest.fixture
def run_waiter() -> Callable[..., dict[str, Any]]:
    return wait_run
