"""The `pipeyard` command."""

from __future__ import annotations

import gc
import sys

import click

from pipeyard import __version__
from pipeyard.cli.lazy import LazyGroup, lazy_table

_INSPECT, _SERVICE, _SERVE = "pipeyard.cli.inspect_cmds", "pipeyard.cli.service_cmds", "pipeyard.cli.serve_cmds"
# Commands whose modules are imported only when they run (see lazy.py); a unit test
# checks these rows against what each module's ``register`` adds.
LAZY_COMMANDS = lazy_table([
    ("runs", _INSPECT, "Inspect runs."),
    ("logs", _INSPECT, "Print the logs of a run's tasks (TASK: id, path or name)."),
    ("server", _SERVICE, "Serve KFP's REST API and the web UI, and execute runs."),
    ("worker", _SERVICE, "Execute runs from the database without serving the API (PostgreSQL setups)."),
    ("secrets", _SERVICE, "The local secret store that kfp-kubernetes secrets read from."),
    ("configmaps", _SERVICE, "The local config maps that kfp-kubernetes config maps read from."),
    ("serve", _SERVE, "Serve MODEL (an artifact URI or path, or RUN_ID/TASK/OUTPUT) over the Open Inference "
                      "Protocol (v2) and the V1 :predict protocol."),
    ("deployments", _SERVE, "Models a pipeyard server keeps serving."),
    ("resume", "pipeyard.cli.resume_cmd", "Resume TASK (id, path or name) of RUN_ID, paused by set_debug_pause."),
])


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipeyard")
def cli() -> None:
    """Run Kubeflow Pipelines on this machine: the kfp SDK and its compiled YAML,
    KFP's REST API and a web UI, without Kubernetes."""
    if not gc.isenabled():
        # main() turned collection off while the command's module was imported: none of
        # those objects is garbage, so they are frozen out of every later collection.
        gc.freeze()
        gc.enable()


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
@click.option("--parallelism", type=click.IntRange(min=1), help="Tasks at once (default: twice the CPU count; tasks that request CPUs reserve them).")
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
    from pipeyard.cli.exiting import allow_fast_exit
    from pipeyard.cli.local_run import run_pipeline

    allow_fast_exit()  # run_pipeline closes its files before it returns (its store: see there)
    sys.exit(run_pipeline(pipeline, args=args, pipeline_name=pipeline_name, as_json=as_json,
                          verbose=verbose, parallelism=parallelism, no_cache=no_cache,
                          pipeline_root=pipeline_root, launcher=launcher, artifacts=artifacts))


def main() -> None:
    from pipeyard.cli.exiting import entered_from_main

    entered_from_main()
    gc.disable()  # until the group's callback, once the command's module is imported
    try:
        cli(prog_name="pipeyard")
    except SystemExit as exit:
        from pipeyard.cli.exiting import leave

        leave(exit)


if __name__ == "__main__":
    main()
