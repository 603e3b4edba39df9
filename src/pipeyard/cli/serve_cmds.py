"""`pipeyard serve` and `pipeyard deployments`.

``pipeyard serve MODEL --name NAME`` runs the model server in the foreground until
Ctrl-C; with ``--server URL`` it creates a deployment on that server instead, which
the server keeps running. ``pipeyard deployments`` lists and deletes a server's
deployments over its REST API.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import click

from pipeyard.errors import PipeyardError

DEFAULT_SERVER = "http://127.0.0.1:8888"
READY_WAIT_SECONDS = 300.0


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(deployments)


def _fail(e: Exception) -> click.ClickException:
    return click.ClickException(str(e))


@click.command()
@click.argument("model")
@click.option("--name", required=True, help="The model's name in /v1/models/NAME and /v2/models/NAME.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default 8080; with --server: any free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; beyond loopback it needs PIPEYARD_AUTH_TOKEN.")
@click.option("--framework", help="Model format, when neither metadata nor files tell it "
              "(sklearn, xgboost, lightgbm, mlflow).")
@click.option("--server", help="Create a deployment on this pipeyard server instead of serving here.")
def serve(model: str, name: str, port: int | None, host: str, framework: str | None, server: str | None) -> None:
    """Serve MODEL (an artifact URI or path, or RUN_ID/TASK/OUTPUT) over the Open Inference
    Protocol (v2) and the V1 :predict protocol."""
    if server:
        _serve_on_server(server, model, name, port, host, framework)
        return
    from pipeyard.config import Settings
    from pipeyard.serving.formats import local_copy
    from pipeyard.serving.runtime import server_command, server_env, serving_python
    from pipeyard.serving.specs import DeploymentSpec, is_loopback, model_cache_dir, prepare, url_for
    from pipeyard.store import open_store

    settings = Settings.from_env()
    token = os.environ.get("PIPEYARD_AUTH_TOKEN") or None
    try:
        spec = DeploymentSpec(name=name, model=model, host=host, port=port or 8080, framework=framework)
        with open_store(settings.database_url) as store:
            deployment = prepare(spec, store, settings, token_set=bool(token))
        path = local_copy(deployment.model_uri, model_cache_dir(settings))
        python = serving_python(settings.envs_dir)
    except PipeyardError as e:
        raise _fail(e) from None
    url = url_for(deployment.host, spec.port or 8080)
    origin = f" (run {deployment.run_id}, task {deployment.task})" if deployment.run_id else ""
    click.echo(f"Serving {deployment.framework} model {name!r} from {deployment.model_uri}{origin}")
    click.echo(f"  V1: POST {url}/v1/models/{name}:predict   {{\"instances\": [[...]]}}")
    click.echo(f"  V2: POST {url}/v2/models/{name}/infer")
    command = server_command(python, model_path=path, model_name=name, framework=deployment.framework,
                             host=deployment.host, port=spec.port or 8080)
    env = server_env(token if token and not is_loopback(deployment.host) else None)
    child = subprocess.Popen(list(command), env=env)

    def forward(signum: int, _frame: Any) -> None:
        child.send_signal(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    sys.exit(child.wait())


def _serve_on_server(server: str, model: str, name: str, port: int | None, host: str,
                     framework: str | None) -> None:
    from pipeyard.cli.remote import _check, client

    body: dict[str, Any] = {"name": name, "model": model, "host": host, "port": port, "framework": framework}
    try:
        with client(server) as http:
            created = _check(http.post("/apis/pipeyard/v1/deployments", json=body))
            deadline = time.monotonic() + READY_WAIT_SECONDS
            state = created
            while state["state"] not in ("READY", "FAILED") and time.monotonic() < deadline:
                time.sleep(0.5)
                state = _check(http.get(f"/apis/pipeyard/v1/deployments/{name}"))
    except PipeyardError as e:
        raise _fail(e) from None
    if state["state"] != "READY":
        raise click.ClickException(f"deployment {name!r} is {state['state']}: {state.get('error') or 'not ready'}")
    click.echo(f"Deployment {name!r} is READY at {state['url']}")
    click.echo(f"  V1: POST {state['endpoints']['v1_predict']}")
    click.echo(f"  V2: POST {state['endpoints']['v2_infer']}")


@click.group()
def deployments() -> None:
    """Models a pipeyard server keeps serving."""


_server_option = click.option("--server", envvar="PIPEYARD_SERVER", default=DEFAULT_SERVER, show_default=True,
                              help="The pipeyard server.")


@deployments.command("list")
@_server_option
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
def list_deployments(server: str, as_json: bool) -> None:
    """List deployments: name, state, URL and the model they serve."""
    from pipeyard.cli.remote import _check, client

    try:
        with client(server) as http:
            found = _check(http.get("/apis/pipeyard/v1/deployments"))["deployments"]
    except PipeyardError as e:
        raise _fail(e) from None
    if as_json:
        click.echo(json.dumps({"deployments": found}, indent=2))
        return
    if not found:
        click.echo("No deployments.")
        return
    for d in found:
        origin = f"{d['run_id']}/{d['task']}" if d.get("run_id") else d["model_uri"]
        click.echo(f"{d['name']}\t{d['state']}\t{d['url'] or '-'}\t{origin}")


@deployments.command("delete")
@click.argument("name")
@_server_option
def delete_deployment(name: str, server: str) -> None:
    """Stop and remove the deployment NAME."""
    from pipeyard.cli.remote import _check, client

    try:
        with client(server) as http:
            _check(http.delete(f"/apis/pipeyard/v1/deployments/{name}"))
    except PipeyardError as e:
        raise _fail(e) from None
    click.echo(f"Deleted deployment {name!r}")


@deployments.command("logs")
@click.argument("name")
@_server_option
def deployment_logs(name: str, server: str) -> None:
    """Print the model server's log of deployment NAME."""
    from pipeyard.cli.remote import client

    with client(server) as http:
        response = http.get(f"/apis/pipeyard/v1/deployments/{name}/logs")
    if response.status_code >= 400:
        raise click.ClickException(f"server answered {response.status_code}: {response.text}")
    click.echo(response.text, nl=False)
