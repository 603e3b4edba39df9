"""What the CLI prints about a run: the --json document and the human summary."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeyard.cli.progress import STATE_STYLES, display_state, duration
from pipeyard.config import Settings
from pipeyard.entities import Run, Task
from pipeyard.store import Store


def public_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """A task's recorded outputs as --json shows them: parameter values, and each
    artifact as ``{"uri", "metadata"}`` (a list of those when there are several)."""
    # Imported here: `runs list` and `runs show` need no engine until a run has outputs.
    from pipeyard.engine.runner import public_artifact

    params = dict(outputs.get("parameters") or {})
    for name, arts in (outputs.get("artifacts") or {}).items():
        items = [public_artifact(a) for a in arts]
        params[name] = items[0] if len(items) == 1 else items
    return params


def task_json(task: Task) -> dict[str, Any]:
    return {
        "name": task.display_name if task.kind != "ITERATION" else task.name,
        "path": task.path,
        "kind": task.kind,
        "index": task.iteration_index,
        "state": display_state(task),  # PAUSED while a debug pause holds it
        "attempts": task.attempts,
        "cached": task.cached,
        "outputs": public_outputs(task.outputs or {}),
        "error": task.error,
        "task_id": task.task_id,
        # E.g. an accelerator request this machine could not satisfy.
        "warnings": list((task.details or {}).get("warnings") or []),
    }


def run_json(store: Store, run: Run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "state": run.state,
        "outputs": run.outputs,
        "error": run.error,
        "tasks": [task_json(t) for t in store.list_tasks(run.run_id)],
    }


def print_summary(console: Console, store: Store, run: Run, settings: Settings) -> None:
    tasks = store.list_tasks(run.run_id)
    leaves = [t for t in tasks if t.kind in ("CONTAINER", "IMPORTER")]
    table = Table(title=f"run {run.run_id}", box=None, header_style="bold")
    for col in ("task", "state", "attempts", "time"):
        table.add_column(col)
    for t in leaves:
        state = Text(t.state + (" (cached)" if t.cached else ""), style=STATE_STYLES.get(t.state, ""))
        table.add_row(t.path, state, str(t.attempts), duration(t))
    if not console.is_terminal:
        console.print(table)
    style = STATE_STYLES.get(run.state, "")
    console.print(Text("run ") + Text(run.state, style=style) + Text(f"  ({len(leaves)} tasks)"))
    if run.outputs:
        console.print("[bold]outputs[/]")
        for name, value in run.outputs.items():
            console.print(f"  {name} = {value!r}", highlight=False, markup=False)
    if run.error:
        console.print(Text("error: ", style="bold red") + Text(run.error))
    console.print(f"logs:      pipeyard logs {run.run_id}  ({settings.logs_dir / run.run_id})", highlight=False,
                  markup=False)
    root = run.pipeline_root or settings.pipeline_root
    console.print(f"artifacts: {root.rstrip('/')}/{run.pipeline_name}/{run.run_id}", highlight=False,
                  markup=False)
