"""`pipeyard run`: execute a pipeline in this process and report it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeyard.cli.exiting import fast_exit_allowed
from pipeyard.config import Settings
from pipeyard.errors import PipeyardError, is_disk_full
from pipeyard.launchers.choose import launcher_name

if TYPE_CHECKING:
    from rich.console import Console

    from pipeyard.cli.compile_ahead import CompileAhead
    from pipeyard.cli.console import PlainConsole
    from pipeyard.ir.loader import LoadedPipeline

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def parse_args(pairs: tuple[str, ...]) -> dict[str, Any]:
    from pipeyard.ir.params import parse_cli_value

    given: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise PipeyardError(f"--arg {pair!r}: expected NAME=VALUE")
        given[name.strip()] = parse_cli_value(text)
    return given


@dataclass
class _Session:
    """What a Ctrl-C needs to report the run it interrupted."""

    store: Any = None
    run_id: str | None = None
    # A .py file being compiled in a forked child (compile_ahead.py), until it is received.
    ahead: CompileAhead | None = None


def run_pipeline(
    path: str, *, args: tuple[str, ...], pipeline_name: str | None, as_json: bool, verbose: bool,
    parallelism: int | None, no_cache: bool, pipeline_root: str | None, launcher: str | None = None,
    artifacts: tuple[str, ...] = (),
) -> int:
    # Importing the engine, the store and SQLAlchemy creates objects by the hundred thousand
    # and none of them is garbage: collecting while they arrive cost about a tenth of the
    # start-up's CPU. Collection resumes, with them frozen out of it, before the run executes.
    gc.disable()
    _start_fork_server_early(launcher, path)
    from pipeyard.cli import compile_ahead

    session = _Session(ahead=compile_ahead.start(path, pipeline_name))  # before any thread starts
    from pipeyard.cli.console import run_console

    out = run_console(stderr=as_json)  # with --json, stdout carries only the JSON object
    settings = Settings.from_env()
    try:
        return asyncio.run(_session(session, settings, out, path, args=args, pipeline_name=pipeline_name,
                                    as_json=as_json, verbose=verbose, parallelism=parallelism,
                                    no_cache=no_cache, pipeline_root=pipeline_root,
                                    launcher_choice=launcher, artifacts=artifacts))
    except KeyboardInterrupt:
        # asyncio.run cancelled the run: its processes are gone and it is marked CANCELED.
        if session.run_id is None:
            return EXIT_FAILED
        _report(out, session.store, session.store.get_run(session.run_id), settings, as_json)
        return EXIT_FAILED
    except Exception as exc:  # pipeyard itself failed (a full disk, a lost database)
        return _report_crash(out, session, settings, as_json, exc)
    finally:
        gc.enable()  # a run that failed to start never reached the freeze
        if session.ahead is not None:
            session.ahead.discard()
        if session.store is not None and not fast_exit_allowed():
            # Leaving with os._exit, the connection is dropped as a killed process's is
            # (nothing committed is lost): closing it first checkpointed SQLite's WAL into
            # the database on the way out, ~5-15 ms that the next checkpoint does anyway.
            session.store.close()


def _start_fork_server_early(choice: str | None, path: str) -> None:
    """Start the fork server and the task watchdog before importing the engine, the store
    and rich: their interpreters start (the fork server's imports the KFP executor) on the
    other core meanwhile, and the launcher adopts them (``forkserver.prestart``,
    ``watchdog.prestart``) when the first task needs them."""
    try:
        local = launcher_name(choice) == "local"
    except PipeyardError:
        return  # reported by _session
    from pipeyard.launchers import forkserver, watchdog

    if local:
        watchdog.prestart()
    if local and forkserver.fork_server_enabled():
        # The warm servers this file used last time first: on an ML pipeline's second run
        # their import is the critical path (launchers/warm.py).
        from pipeyard.launchers.warm import prestart_remembered

        prestart_remembered(path, sys.executable, Settings.from_env().envs_dir)
        forkserver.prestart(sys.executable)


async def _session(
    session: _Session, settings: Settings, out: Console | PlainConsole, path: str, *, args: tuple[str, ...],
    pipeline_name: str | None, as_json: bool, verbose: bool, parallelism: int | None, no_cache: bool,
    pipeline_root: str | None, launcher_choice: str | None = None, artifacts: tuple[str, ...] = (),
) -> int:
    from pipeyard.launchers.choose import make_launcher
    from pipeyard.launchers.local import LocalLauncher

    try:
        launcher = make_launcher(launcher_name(launcher_choice), envs_dir=settings.envs_dir,
                                 max_parallel=parallelism)
    except PipeyardError as e:
        _usage_error(e)
        return EXIT_USAGE
    if isinstance(launcher, LocalLauncher):
        # First, so the fork server imports the KFP executor while we import and load.
        launcher.warm_up()
        launcher.preload_file(path)
    try:
        from pipeyard.engine import ttl
        from pipeyard.engine.runner import execute_run
        from pipeyard.store import open_store
        from pipeyard.submission.local_claims import local_worker_id, settle_abandoned_local_runs
        from pipeyard.submission.root_artifacts import (
            check_input_artifacts,
            import_local,
            parse_artifact_args,
        )
        from pipeyard.submission.runs import check_arguments, create_run
        from pipeyard.v1.compile import load_any_pipeline_file

        try:
            loaded = _received(session) or load_any_pipeline_file(path, pipeline_name)
            parameters = check_arguments(loaded, parse_args(args))
        except PipeyardError as e:
            _usage_error(e)
            return EXIT_USAGE
        if isinstance(launcher, LocalLauncher):
            _preload(launcher, loaded)
        settings.ensure_dirs()
        root = pipeline_root or settings.pipeline_root
        if "://" not in root:
            root = str(Path(root).expanduser().resolve())
        try:
            given = parse_artifact_args(artifacts)
            # Names first (a placeholder URI skips the path checks), so nothing is copied for a typo.
            check_input_artifacts(loaded.spec_dict, {n: "unchecked://" for n in given}, "--artifact")
            input_artifacts = import_local(given, root, Path.cwd())
        except PipeyardError as e:
            _usage_error(e)
            return EXIT_USAGE
        session.store = store = open_store(settings.database_url)
        settle_abandoned_local_runs(store)
        ttl.sweep(store, settings, datetime.now(timezone.utc))  # PipelineConfig TTLs of earlier runs
        worker_id = local_worker_id()
        run = create_run(store, loaded, parameters, pipeline_root=root,
                         enable_caching=False if no_cache else None, local_worker=worker_id,
                         input_artifacts=input_artifacts)
        gc.freeze()
        gc.enable()
        renewal = asyncio.ensure_future(_renew_lease(store, run.run_id, worker_id))
        session.run_id = run.run_id
        if out.is_terminal:
            from rich.markup import escape

            out.print(f"run [bold]{run.run_id}[/] of [bold]{escape(run.pipeline_name)}[/]", highlight=False)
        else:
            out.print(f"run {run.run_id} of {run.pipeline_name}", markup=False, highlight=False)
        from pipeyard.cli.console import rich_console
        from pipeyard.cli.progress import Progress

        progress = Progress(out, verbose=verbose)
        live: Any = contextlib.nullcontext()
        if not as_json and out.is_terminal:
            from rich.live import Live

            live = Live(console=rich_console(out), refresh_per_second=8, transient=False, get_renderable=progress.render)
        with live as lv:
            progress.live = lv
            try:
                final = await execute_run(run.run_id, recorder=store, launcher=launcher, settings=settings,
                                          on_event=progress, pipeline=_view_or_none(loaded))
            finally:
                renewal.cancel()
                progress.flush_logs()
                progress.live = None
        _report(out, store, final, settings, as_json)
        return EXIT_OK if final.state == "SUCCEEDED" else EXIT_FAILED
    finally:
        await launcher.aclose()


def _view_or_none(loaded: Any) -> Any:
    """The run's views from the loaded spec; None lets the engine build them, and fail
    the run with the reason if they cannot be built."""
    try:
        return loaded.view()
    except PipeyardError:
        return None


def _usage_error(error: PipeyardError) -> None:
    from rich.markup import escape

    from pipeyard.cli.console import make_console

    make_console(stderr=True).print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)


def _received(session: _Session) -> LoadedPipeline | None:
    """The pipeline the compile-ahead child loaded, if there is one and it could."""
    ahead, session.ahead = session.ahead, None
    return ahead.result() if ahead is not None else None


def _preload(launcher: Any, loaded: Any) -> None:
    """Let the launcher import, while the run is being created, what this pipeline's
    components imported last time (a hint: nothing about the run depends on it)."""
    from pipeyard.ir.python_component import component_programs

    with contextlib.suppress(Exception):
        launcher.preload_for(component_programs(loaded.spec_dict.get("deploymentSpec") or {}))


def _report_crash(out: Console | PlainConsole, session: _Session, settings: Settings, as_json: bool, exc: Exception) -> int:
    """End the run FAILED with the reason and still print its summary, when the store
    lets us (after a failure that filled the disk, the failed task's outputs are gone)."""
    from rich.console import Console
    from rich.markup import escape

    reason = _crash_reason(exc)
    Console(stderr=True).print(f"[bold red]error:[/] {escape(reason)}", highlight=False)
    if session.store is None or session.run_id is None:
        return EXIT_FAILED
    try:
        run = session.store.get_run(session.run_id)
        if run.state not in ("SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"):
            run = session.store.update_run(session.run_id, state="FAILED", finished_at=datetime.now(timezone.utc),
                                           worker_id=None, lease_expires_at=None, error=reason)
        _report(out, session.store, run, settings, as_json)
    except Exception as again:
        Console(stderr=True).print(f"[bold red]error:[/] the run's record cannot be updated either: "
                                   f"{escape(_crash_reason(again))}", highlight=False)
    return EXIT_FAILED


def _crash_reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if is_disk_full(exc):
        return f"the disk is full ({text}); free space and run again"
    return f"pipeyard failed: {text}"


async def _renew_lease(store: Any, run_id: str, worker_id: str) -> None:
    """Keep this process's claim on its run alive, as a server's worker does."""
    from pipeyard.submission.local_claims import LOCAL_LEASE_SECONDS, LOCAL_RENEW_SECONDS

    while True:
        await asyncio.sleep(LOCAL_RENEW_SECONDS)
        with contextlib.suppress(Exception):  # a missed renewal is retried; the lease outlasts several
            store.renew_lease(run_id, worker_id, LOCAL_LEASE_SECONDS, datetime.now(timezone.utc))


def _report(out: Console | PlainConsole, store: Any, run: Any, settings: Settings, as_json: bool) -> None:
    from pipeyard.cli.console import rich_console
    from pipeyard.cli.report import print_summary, run_json

    if as_json:
        sys.stdout.write(json.dumps(run_json(store, run)) + "\n")
        sys.stdout.flush()
    else:
        print_summary(rich_console(out), store, run, settings)
