"""The `pipeyard` command."""

from __future__ import annotations

import sys

import click

from pipeyard import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipeyard")
def cli() -> None:
    """Run Kubeflow Pipelines on this machine: the kfp SDK and its compiled YAML,
    KFP's REST API and a web UI, without Kubernetes."""


@cli.command()
@click.argument("pipeline", type=click.Path(dir_okay=False))
@click.option("--arg", "args", multiple=True, metavar="NAME=VALUE",
              help="A pipeline parameter; VALUE is JSON when it parses, else a string. Repeatable.")
@click.option("--artifact", "artifacts", multiple=True, metavar="NAME=PATH_OR_URI",
              help="A root input artifact; a local file or directory is copied into the pipeline root. "
                   "Repeatable.")
@click.option("--pipeline", "pipeline_name", help="Which @dsl.pipeline of a .py file to run.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document describing the run.")
@click.option("-v", "--verbose", is_flag=True, help="Stream task logs.")
@click.option("--parallelism", type=click.IntRange(min=1), help="Tasks at once (default: CPU count).")
@click.option("--no-cache", is_flag=True, help="Run every task even when a cached result exists.")
@click.option("--pipeline-root", help="Where artifacts go (path or fsspec URL).")
@click.option("--server", envvar="PIPEYARD_SERVER", help="Submit to a pipeyard server instead.")
@click.option("--launcher", envvar="PIPEYARD_LAUNCHER", type=click.Choice(["local", "ray", "docker"]),
              help="Where tasks run: local processes (default), a Ray cluster (PIPEYARD_RAY_ADDRESS) "
                   "or containers of the tasks' images (docker).")
def run(pipeline: str, args: tuple[str, ...], artifacts: tuple[str, ...], pipeline_name: str | None,
        as_json: bool, verbose: bool, parallelism: int | None, no_cache: bool, pipeline_root: str | None,
        server: str | None, launcher: str | None) -> None:
    """Run PIPELINE (.py, compiled .yaml/.json, or .zip/.tar.gz) and report it."""
    if server:
        from pipeyard.cli.remote import run_remote

        sys.exit(run_remote(server, pipeline, args=args, pipeline_name=pipeline_name, as_json=as_json,
                            no_cache=no_cache, pipeline_root=pipeline_root, artifacts=artifacts))
    from pipeyard.cli.local_run import run_pipeline

    sys.exit(run_pipeline(pipeline, args=args, pipeline_name=pipeline_name, as_json=as_json,
                          verbose=verbose, parallelism=parallelism, no_cache=no_cache,
                          pipeline_root=pipeline_root, launcher=launcher, artifacts=artifacts))


def main() -> None:
    from pipeyard.cli import inspect_cmds, serve_cmds, service_cmds

    inspect_cmds.register(cli)
    service_cmds.register(cli)
    serve_cmds.register(cli)
    cli(prog_name="pipeyard")


if __name__ == "__main__":
    main()
