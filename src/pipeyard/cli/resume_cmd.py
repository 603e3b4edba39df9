"""`pipeyard resume RUN_ID TASK`: let a task held by `set_debug_pause` go on."""

from __future__ import annotations

import sys
from urllib.parse import quote

import click

from pipeyard.config import Settings
from pipeyard.errors import PipeyardError


def register(cli: click.Group) -> None:
    cli.add_command(resume)


@click.command()
@click.argument("run_id")
@click.argument("task")
@click.option("--server", envvar="PIPEYARD_SERVER", help="The pipeyard server that runs it.")
def resume(run_id: str, task: str, server: str | None) -> None:
    """Resume TASK (id, path or name) of RUN_ID, paused by set_debug_pause."""
    try:
        if server:
            from pipeyard.cli.remote import _check, client

            with client(server) as http:
                _check(http.post(f"/apis/v2beta1/runs/{run_id}/tasks/{quote(task, safe='')}:resume"))
        else:
            from pipeyard.engine.debug_pause import find_paused, request_resume
            from pipeyard.store import open_store

            settings = Settings.from_env()
            with open_store(settings.database_url) as store:
                store.get_run(run_id)
                request_resume(find_paused(store.list_tasks(run_id), task))
    except PipeyardError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    click.echo(f"resumed {task} of run {run_id}")
