"""`pipeyard run`: execute a pipeline in this process and report it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from pipeyard.cli.progress import Progress
from pipeyard.cli.report import print_summary, run_json
from pipeyard.cli.submit import check_arguments, create_run
from pipeyard.config import Settings
from pipeyard.engine.runner import execute_run
from pipeyard.errors import PipeyardError
from pipeyard.launchers.local import LocalLauncher
from pipeyard.spec.loader import load_pipeline_file
from pipeyard.spec.params import parse_cli_value
from pipeyard.store import Store, open_store

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def parse_args(pairs: tuple[str, ...]) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise PipeyardError(f"--arg {pair!r}: expected NAME=VALUE")
        given[name.strip()] = parse_cli_value(text)
    return given


def run_pipeline(
    path: str, *, args: tuple[str, ...], pipeline_name: str | None, as_json: bool, verbose: bool,
    parallelism: int | None, no_cache: bool, pipeline_root: str | None,
) -> int:
    err = Console(stderr=True)
    out = Console(stderr=as_json)  # with --json, stdout carries only the JSON object
    settings = Settings.from_env()
    try:
        loaded = load_pipeline_file(path, pipeline_name)
        parameters = check_arguments(loaded, parse_args(args))
    except PipeyardError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False)
        return EXIT_USAGE
    settings.ensure_dirs()
    root = pipeline_root or settings.pipeline_root
    if "://" not in root:
        root = str(Path(root).expanduser().resolve())
    store = open_store(settings.database_url)
    try:
        run = create_run(store, loaded, parameters, pipeline_root=root,
                         enable_caching=False if no_cache else None,
                         local_worker=f"cli:{socket.gethostname()}:{os.getpid()}")
        out.print(f"run [bold]{run.run_id}[/] of [bold]{run.pipeline_name}[/]", highlight=False)
        progress = Progress(out, verbose=verbose)
        final = _execute(run.run_id, store, settings, progress, parallelism, live=not as_json)
        if as_json:
            sys.stdout.write(json.dumps(run_json(store, final)) + "\n")
            sys.stdout.flush()
        else:
            print_summary(out, store, final, settings)
        return EXIT_OK if final.state == "SUCCEEDED" else EXIT_FAILED
    finally:
        store.close()


def _execute(run_id: str, store: Store, settings: Settings, progress: Progress,
             parallelism: int | None, *, live: bool) -> Any:
    async def main() -> Any:
        launcher = LocalLauncher(max_parallel=parallelism, envs_dir=settings.envs_dir)
        try:
            return await execute_run(run_id, recorder=store, launcher=launcher, settings=settings,
                                     on_event=progress, parallelism=parallelism)
        finally:
            await launcher.aclose()

    use_live = live and progress.console.is_terminal
    try:
        if use_live:
            with Live(progress.render(), console=progress.console, refresh_per_second=8,
                      transient=False) as lv:
                progress.live = lv
                try:
                    return asyncio.run(main())
                finally:
                    progress.live = None
        return asyncio.run(main())
    except KeyboardInterrupt:
        # asyncio.run cancelled the run (processes terminated, run marked CANCELED).
        return store.get_run(run_id)
