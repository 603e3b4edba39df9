"""Starting the server (``pipeyard server``) and a stand-alone worker (``pipeyard worker``).

``python -m pipeyard.server.main --port 8888`` does what ``pipeyard server`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any

from pipeyard.config import Settings
from pipeyard.errors import InvalidArgument
from pipeyard.launchers.priority import NICE_ENV, SERVER_NICE
from pipeyard.server.auth import is_loopback
from pipeyard.server.workers import RunWorkers, WorkerConfig

log = logging.getLogger("pipeyard.server")

DEFAULT_PORT = 8888
# Python's default is 5 ms.
SWITCH_INTERVAL = 0.001


def check_binding(host: str, token: str | None) -> None:
    """Refuse to expose the API beyond this machine without a token."""
    if not is_loopback(host) and not token:
        raise InvalidArgument(
            f"refusing to listen on {host!r} without authentication: set PIPEYARD_AUTH_TOKEN "
            "(clients then send 'Authorization: Bearer <token>', e.g. kfp.Client(existing_token=...)), "
            "or bind to 127.0.0.1",
            field="host",
        )


def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    workers: int | None = None,
    settings: Settings | None = None,
    *,
    auth_token: str | None = None,
    log_level: str = "info",
) -> None:
    """Run the API and the run workers in this process until interrupted.

    ``workers``: runs executed at once (default ``PIPEYARD_WORKER_RUNS`` or 4); 0 serves
    the API only. ``auth_token`` defaults to ``PIPEYARD_AUTH_TOKEN``."""
    import uvicorn

    from pipeyard.server.app import create_app
    from pipeyard.store import open_store

    token = auth_token if auth_token is not None else (os.environ.get("PIPEYARD_AUTH_TOKEN") or None)
    # Read once, then gone from the environment that run workers, fork servers, Ray and
    # every task would otherwise inherit.
    os.environ.pop("PIPEYARD_AUTH_TOKEN", None)
    check_binding(host, token)
    # The API's threads share the GIL with the run workers' engine: a request that waits on
    # SQLite or a socket waits up to this interval to get it back, many times per request.
    sys.setswitchinterval(SWITCH_INTERVAL)
    # Tasks yield the CPU to the API when cores are contended (launchers/priority.py).
    os.environ.setdefault(NICE_ENV, str(SERVER_NICE))
    settings = settings or Settings.from_env()
    settings.ensure_dirs()
    store = open_store(settings.database_url)
    app = create_app(
        settings, store, auth_token=token, start_workers=workers != 0, workers=workers or None, bind_host=host
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        # Open SSE streams would otherwise hold a shutdown forever.
        timeout_graceful_shutdown=5,
        access_log=log_level == "debug",
    )
    hub = app.state.ctx.hub

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # uvicorn waits for open connections before the app's shutdown runs; SSE
            # streams never close by themselves, so end them first.
            hub.close_streams()
            super().handle_exit(sig, frame)

    try:
        _Server(config).run()
    finally:
        store.close()


def run_worker(
    settings: Settings | None = None,
    *,
    max_runs: int | None = None,
    worker_id: str | None = None,
) -> None:
    """Execute runs from the store without serving the API, until SIGINT/SIGTERM.

    Uses the same claims and leases as the server's workers, so any number of workers
    and servers can share one (PostgreSQL) database."""
    from pipeyard.store import open_store

    settings = settings or Settings.from_env()
    settings.ensure_dirs()
    store = open_store(settings.database_url)
    workers = RunWorkers(store, settings, WorkerConfig.from_env(max_runs), worker_id=worker_id)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, workers._begin_stop)
        await workers.run_forever()

    try:
        log.info("worker %s: executing runs from %s", workers.worker_id, settings.database_url)
        asyncio.run(main())
    finally:
        store.close()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m pipeyard.server.main", description="Serve pipeyard's API.")
    p.add_argument("--host", default=os.environ.get("PIPEYARD_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PIPEYARD_PORT", DEFAULT_PORT)))
    p.add_argument("--workers", type=int, default=None, help="runs executed at once (0: API only)")
    p.add_argument("--worker-only", action="store_true", help="execute runs without serving the API")
    p.add_argument("--log-level", default="info")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.worker_only:
            run_worker(max_runs=args.workers)
        else:
            serve(args.host, args.port, args.workers, log_level=args.log_level)
    except InvalidArgument as e:
        print(f"pipeyard: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
