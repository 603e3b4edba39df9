"""`pipeyard server`, `pipeyard worker` and `pipeyard secrets`."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    cli.add_command(server)
    cli.add_command(worker)
    cli.add_command(secrets)
    cli.add_command(configmaps)


@click.command()
@click.option("--host", envvar="PIPEYARD_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PIPEYARD_PORT", default=8888, show_default=True, type=int)
@click.option("--workers", envvar="PIPEYARD_WORKER_RUNS", default=4, show_default=True, type=int,
              help="Runs executed at once.")
def server(host: str, port: int, workers: int) -> None:
    """Serve KFP's REST API and the web UI, and execute runs."""
    from pipeyard.errors import InvalidArgument
    from pipeyard.server.main import serve

    try:
        serve(host=host, port=port, workers=workers)
    except InvalidArgument as e:
        raise click.UsageError(str(e)) from None


@click.command()
@click.option("--workers", envvar="PIPEYARD_WORKER_RUNS", default=4, show_default=True, type=int,
              help="Runs executed at once.")
def worker(workers: int) -> None:
    """Execute runs from the database without serving the API (PostgreSQL setups)."""
    from pipeyard.server.main import run_worker

    run_worker(max_runs=workers)


@click.group()
def secrets() -> None:
    """The local secret store that kfp-kubernetes secrets read from."""


def _pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    data = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}: expected KEY=VALUE")
        data[key] = value
    return data


@secrets.command("set")
@click.argument("name")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
def secrets_set(name: str, pairs: tuple[str, ...]) -> None:
    """Create or replace secret NAME with the given keys."""
    from pipeyard.secrets import SecretStore

    data = _pairs(pairs)
    SecretStore.default().put(name, data)
    click.echo(f"secret {name!r} saved with keys: {', '.join(sorted(data))}")


@secrets.command("list")
def secrets_list() -> None:
    """Secret names and their keys (never the values)."""
    from pipeyard.secrets import SecretStore

    store = SecretStore.default()
    for name in store.names():
        click.echo(f"{name}: {', '.join(sorted(store.get(name)))}")


@secrets.command("delete")
@click.argument("name")
def secrets_delete(name: str) -> None:
    from pipeyard.secrets import SecretStore

    SecretStore.default().delete(name)


@click.group()
def configmaps() -> None:
    """The local config maps that kfp-kubernetes config maps read from."""


@configmaps.command("set")
@click.argument("name")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
def configmaps_set(name: str, pairs: tuple[str, ...]) -> None:
    """Create or replace config map NAME with the given keys."""
    from pipeyard.secrets import SecretStore

    data = _pairs(pairs)
    SecretStore.default("configmap").put(name, data)
    click.echo(f"config map {name!r} saved with keys: {', '.join(sorted(data))}")


@configmaps.command("list")
def configmaps_list() -> None:
    """Config map names and their keys."""
    from pipeyard.secrets import SecretStore

    store = SecretStore.default("configmap")
    for name in store.names():
        click.echo(f"{name}: {', '.join(sorted(store.get(name)))}")
