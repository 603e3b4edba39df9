"""The CLI against a pipeyard server (``--server URL`` or ``PIPEYARD_SERVER``):
submit runs and read runs, tasks and logs over the REST API."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from pipeyard.artifacts.uris import is_remote, local_path
from pipeyard.cli.console import make_console
from pipeyard.cli.local_run import EXIT_FAILED, EXIT_OK, EXIT_USAGE, parse_args
from pipeyard.cli.progress import STATE_STYLES
from pipeyard.cli.report import public_outputs
from pipeyard.engine.debug_pause import display_state_json
from pipeyard.errors import PipeyardError
from pipeyard.ir.loader import spec_to_dict
from pipeyard.submission.root_artifacts import parse_artifact_args
from pipeyard.submission.runs import check_arguments
from pipeyard.v1.compile import load_any_pipeline_file

FINAL = ("SUCCEEDED", "FAILED", "CANCELED", "SKIPPED")
POLL_SECONDS = 0.5


def client(server: str) -> httpx.Client:
    headers = {}
    token = os.environ.get("PIPEYARD_AUTH_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=30.0)


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            message = response.json().get("error_message") or response.text
        except ValueError:
            message = response.text
        raise PipeyardError(f"server answered {response.status_code}: {message}")
    return response.json() if response.content else {}


def _task_json(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": task["display_name"] if task["kind"] != "ITERATION" else task["name"],
        "path": task["path"], "kind": task["kind"], "index": task.get("iteration_index"),
        "state": display_state_json(task), "attempts": task.get("attempts", 0), "cached": task.get("cached", False),
        "outputs": public_outputs(task.get("outputs") or {}), "error": task.get("error"),
        "task_id": task["task_id"],
    }


def _run_document(http: httpx.Client, run_id: str) -> dict[str, Any]:
    run = _check(http.get(f"/apis/v2beta1/runs/{run_id}"))
    tasks = _check(http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks")).get("tasks", [])
    error = (run.get("error") or {}).get("message") if isinstance(run.get("error"), dict) else run.get("error")
    return {"run_id": run_id, "state": run.get("state"), "outputs": run.get("outputs", {}),
            "error": error, "tasks": [_task_json(t) for t in tasks]}


def run_remote(server: str, path: str, *, args: tuple[str, ...], pipeline_name: str | None,
               as_json: bool, no_cache: bool, pipeline_root: str | None,
               artifacts: tuple[str, ...] = ()) -> int:
    err = make_console(stderr=True)
    out = make_console(stderr=as_json)
    try:
        loaded = load_any_pipeline_file(path, pipeline_name)
        parameters = check_arguments(loaded, parse_args(args))
        # The server (on this machine) reads local paths; they are sent absolute.
        input_artifacts = {n: v if is_remote(v) else str(Path(local_path(v)).resolve())
                           for n, v in parse_artifact_args(artifacts).items()}
    except PipeyardError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        return EXIT_USAGE
    spec: dict[str, Any] = spec_to_dict(loaded.spec)
    if no_cache:
        for component_tasks in _all_dag_tasks(spec):
            component_tasks.setdefault("cachingOptions", {})["enableCache"] = False
    body: dict[str, Any] = {
        "display_name": loaded.spec.pipeline_info.name,
        "pipeline_spec": {"pipeline_spec": spec, "platform_spec": loaded.platform_spec}
        if loaded.platform_spec else spec,
        "runtime_config": {"parameters": parameters, **({"pipeline_root": pipeline_root} if pipeline_root else {}),
                           **({"pipeyard_input_artifacts": input_artifacts} if input_artifacts else {})},
    }
    try:
        with client(server) as http:
            run_id = _check(http.post("/apis/v2beta1/runs", json=body))["run_id"]
            out.print(f"run [bold]{run_id}[/] submitted to {escape(server)}", highlight=False)
            seen: dict[str, str] = {}
            while True:
                doc = _run_document(http, run_id)
                if not as_json:
                    for t in doc["tasks"]:
                        if t["kind"] in ("CONTAINER", "IMPORTER") and seen.get(t["task_id"]) != t["state"]:
                            seen[t["task_id"]] = t["state"]
                            out.print(Text(f"{t['state']:<10}", style=STATE_STYLES.get(t["state"], ""))
                                      + Text(f" {t['path']}"))
                if doc["state"] in FINAL:
                    break
                time.sleep(POLL_SECONDS)
    except (PipeyardError, httpx.HTTPError) as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        return EXIT_USAGE
    if as_json:
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        out.print(Text("run ") + Text(doc["state"], style=STATE_STYLES.get(doc["state"], "")))
        for name, value in (doc["outputs"] or {}).items():
            out.print(f"  {name} = {value!r}", highlight=False, markup=False)
        if doc["error"]:
            out.print(Text("error: ", style="bold red") + Text(str(doc["error"])))
    return EXIT_OK if doc["state"] == "SUCCEEDED" else EXIT_FAILED


def _all_dag_tasks(spec: dict[str, Any]) -> list[dict[str, Any]]:
    dags = [spec.get("root", {})] + list((spec.get("components") or {}).values())
    return [t for d in dags for t in ((d.get("dag") or {}).get("tasks") or {}).values()]


def remote_list_runs(server: str, limit: int, as_json: bool) -> int:
    with client(server) as http:
        runs = _check(http.get("/apis/v2beta1/runs", params={"page_size": limit,
                                                             "sort_by": "created_at desc"})).get("runs", [])
    if as_json:
        sys.stdout.write(json.dumps([{"run_id": r["run_id"], "display_name": r.get("display_name"),
                                      "state": r.get("state"), "created_at": r.get("created_at")}
                                     for r in runs]) + "\n")
        return EXIT_OK
    table = Table(box=None, header_style="bold")
    for col in ("run id", "name", "state", "created"):
        table.add_column(col)
    for r in runs:
        table.add_row(r["run_id"], r.get("display_name", ""),
                      Text(r.get("state", ""), style=STATE_STYLES.get(r.get("state", ""), "")),
                      r.get("created_at", ""))
    make_console().print(table)
    return EXIT_OK


def remote_show_run(server: str, run_id: str, as_json: bool) -> int:
    try:
        with client(server) as http:
            doc = _run_document(http, run_id)
    except PipeyardError as e:
        make_console(stderr=True).print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        return EXIT_FAILED
    if as_json:
        sys.stdout.write(json.dumps(doc) + "\n")
        return EXIT_OK
    console = make_console()
    console.print(Text(f"{run_id}  ") + Text(str(doc["state"]), style=STATE_STYLES.get(str(doc["state"]), "")))
    for t in doc["tasks"]:
        console.print(f"  {t['path']:<40} {t['kind']:<10} {t['state']:<10} attempts={t['attempts']}",
                      highlight=False, markup=False)
    return EXIT_OK


def remote_logs(server: str, run_id: str, task: str | None, attempt: int | None) -> int:
    with client(server) as http:
        try:
            tasks = _check(http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks")).get("tasks", [])
        except PipeyardError as e:
            make_console(stderr=True).print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
            return EXIT_FAILED
        leaves = [t for t in tasks if t["kind"] in ("CONTAINER", "IMPORTER")]
        chosen = leaves if task is None else [
            t for t in tasks if task in (t["task_id"], t["path"], t["name"], t["display_name"])]
        for t in chosen:
            params = {"attempt": attempt} if attempt else {}
            response = http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks/{t['task_id']}/log", params=params)
            if len(chosen) > 1:
                sys.stdout.write(f"==> {t['path']} <==\n")
            sys.stdout.write(response.text if response.status_code < 400 else "")
    return EXIT_OK if chosen else EXIT_FAILED
