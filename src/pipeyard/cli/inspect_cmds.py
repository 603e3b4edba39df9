"""`pipeyard runs list|show` and `pipeyard logs`: read runs from the local store
or, with --server / PIPEYARD_SERVER, from a pipeyard server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from pipeyard.cli.console import make_console
from pipeyard.cli.exiting import allow_fast_exit
from pipeyard.cli.progress import STATE_STYLES, display_state, duration
from pipeyard.cli.report import run_json
from pipeyard.config import Settings
from pipeyard.entities import ListQuery, Task
from pipeyard.errors import NotFound
from pipeyard.store import Store, open_store
from pipeyard.submission.local_claims import settle_abandoned_local_runs

server_option = click.option("--server", envvar="PIPEYARD_SERVER", help="Read from this pipeyard server.")


def _store() -> Store:
    settings = Settings.from_env()
    settings.ensure_dirs()
    return open_store(settings.database_url)


def register(cli: click.Group) -> None:
    cli.add_command(runs)
    cli.add_command(logs)


@click.group()
def runs() -> None:
    """Inspect runs."""
    allow_fast_exit()  # each command closes its store before it returns


@runs.command("list")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@server_option
def list_runs(limit: int, as_json: bool, server: str | None) -> None:
    """The newest runs."""
    if server:
        from pipeyard.cli.remote import remote_list_runs

        sys.exit(remote_list_runs(server, limit, as_json))
    with _store() as store:
        settle_abandoned_local_runs(store)
        page = store.list_runs(ListQuery(page_size=limit))
    if as_json:
        click.echo(json.dumps([{"run_id": r.run_id, "display_name": r.display_name, "state": r.state,
                                "created_at": r.created_at.isoformat()} for r in page.items]))
        return
    table = Table(box=None, header_style="bold")
    # The id is what `runs show` and `logs` take: never shorten it, even on a
    # narrow terminal or when piped (rich assumes 80 columns then).
    table.add_column("run id", no_wrap=True, min_width=max((len(r.run_id) for r in page.items), default=6))
    for col in ("name", "state", "created", "duration"):
        table.add_column(col)
    for r in page.items:
        took = ""
        if r.started_at and r.finished_at:
            took = f"{(r.finished_at - r.started_at).total_seconds():.1f}s"
        table.add_row(r.run_id, r.display_name, Text(r.state, style=STATE_STYLES.get(r.state, "")),
                      r.created_at.strftime("%Y-%m-%d %H:%M:%S"), took)
    make_console().print(table)
    if not page.items:
        click.echo("no runs yet: try `pipeyard run examples/sequential.py`")


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
@server_option
def show_run(run_id: str, as_json: bool, server: str | None) -> None:
    """A run's state, tasks and outputs."""
    if server:
        from pipeyard.cli.remote import remote_show_run

        sys.exit(remote_show_run(server, run_id, as_json))
    with _store() as store:
        try:
            run = store.get_run(run_id)
        except NotFound as e:
            raise click.ClickException(str(e)) from None
        doc = run_json(store, run)
        tasks = store.list_tasks(run_id)
    if as_json:
        click.echo(json.dumps(doc))
        return
    console = make_console()
    console.print(f"[bold]{escape(run.display_name)}[/]  {run.run_id}", highlight=False)
    console.print(Text("state: ") + Text(run.state, style=STATE_STYLES.get(run.state, "")))
    table = Table(box=None, header_style="bold")
    for col in ("task", "kind", "state", "attempts", "time", "outputs"):
        table.add_column(col)
    for t in tasks:
        shown = display_state(t)
        state = Text(shown + (" (cached)" if t.cached else ""), style=STATE_STYLES.get(shown, ""))
        params = (t.outputs or {}).get("parameters") or {}
        table.add_row(t.path, t.kind, state, str(t.attempts), duration(t),
                      ", ".join(f"{k}={v!r}" for k, v in params.items())[:80])
    console.print(table)
    if run.outputs:
        console.print(f"outputs: {json.dumps(run.outputs)}", highlight=False, markup=False)
    if run.error:
        console.print(Text("error: ", style="bold red") + Text(run.error))


def match_tasks(tasks: list[Task], key: str | None) -> list[Task]:
    """Tasks named by id, path, name or display name (all leaf tasks when no key)."""
    leaves = [t for t in tasks if t.kind in ("CONTAINER", "IMPORTER")]
    if key is None:
        return leaves
    exact = [t for t in tasks if key in (t.task_id, t.path)]
    if exact:
        return exact
    return [t for t in leaves if key in (t.name, t.display_name)]


@click.command()
@click.argument("run_id")
@click.argument("task", required=False)
@click.option("--attempt", type=int, help="Which attempt (default: every attempt).")
@server_option
def logs(run_id: str, task: str | None, attempt: int | None, server: str | None) -> None:
    """Print the logs of a run's tasks (TASK: id, path or name)."""
    allow_fast_exit()
    if server:
        from pipeyard.cli.remote import remote_logs

        sys.exit(remote_logs(server, run_id, task, attempt))
    with _store() as store:
        try:
            store.get_run(run_id)
        except NotFound as e:
            raise click.ClickException(str(e)) from None
        chosen = match_tasks(store.list_tasks(run_id), task)
        if not chosen:
            raise click.ClickException(f"no task {task!r} in run {run_id}")
        several = len(chosen) > 1
        for t in chosen:
            attempts = store.list_attempts(t.task_id)
            # With several attempts every one gets a header, the first included,
            # so the reader sees where each begins.
            retried = len(attempts) > 1
            for a in attempts:
                if attempt is not None and a.attempt != attempt:
                    continue
                if several or retried:
                    click.secho(f"==> {t.path} (attempt {a.attempt}, {a.state}) <==", bold=True)
                path = Path(a.log_path)
                if path.is_file():
                    sys.stdout.write(path.read_text(errors="replace"))
                sys.stdout.flush()
