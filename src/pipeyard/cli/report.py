"""What the CLI prints about a run: the --json document and the human summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeyard.cli.progress import STATE_STYLES, display_state, duration
from pipeyard.config import Settings
from pipeyard.entities import Run, Task
from pipeyard.store import Store

if TYPE_CHECKING:
    from rich.console import Console


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
    from rich.text import Text  # here: a --json run imports no rich at all

    tasks = store.list_tasks(run.run_id)
    leaves = [t for t in tasks if t.kind in ("CONTAINER", "IMPORTER")]
    if not console.is_terminal:
        # A terminal saw the live table; a log gets the table as plain text.
        rows = [(t.path, t.state + (" (cached)" if t.cached else ""), str(t.attempts), duration(t)) for t in leaves]
        console.print(plain_table(f"run {run.run_id}", ("task", "state", "attempts", "time"), rows),
                      highlight=False, markup=False, soft_wrap=True)
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


def plain_table(title: str, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """Columns padded as rich's borderless table pads them, without rich's layout work
    (which took 1.5 s for a 1,000-task run) and without wrapping long task paths."""
    widths = [max([len(cell) for cell in column]) for column in zip(header, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "".join(f" {cell.ljust(width)} " for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([title, line(header), *(line(row) for row in rows)])
