"""The peers benchmark's report: saved as JSON as it goes, printed as tables, rendered as Markdown.

``peers.py --render FILE`` prints the Markdown the README shows (the sentence naming the command,
the revision and the load, then the two tables), so the README's figures are pasted, not retyped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from goals import Goal
from measure import Measurement
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parent.parent
PEER_NOTES = "dagster: multiprocess executor; prefect: default thread task runner (no process isolation)"


@dataclass
class Row:
    workload: str
    tasks: int
    results: dict[str, Measurement] = field(default_factory=dict)

    def ratio(self, engine: str) -> float | None:
        """How many times longer ``engine`` took than pipeyard."""
        if "pipeyard" not in self.results:
            return None
        mine, theirs = self.results["pipeyard"].median, self.results[engine].median
        return theirs / mine if mine and theirs else None


@dataclass
class Report:
    rows: list[Row]
    goals: list[Goal]
    engines: list[str]
    repeat: int
    meta: dict[str, object] = field(default_factory=dict)

    def header(self) -> list[str]:
        columns = ["workload", "tasks"]
        for engine in self.engines:
            columns.append(f"{engine} s")
            if engine != "pipeyard":
                columns.append("ratio")
        return columns

    def cells(self, row: Row) -> list[str]:
        cells = [row.workload, str(row.tasks)]
        for engine in self.engines:
            cells.append(row.results[engine].cell if engine in row.results else "-")
            if engine != "pipeyard":
                ratio = row.ratio(engine) if engine in row.results else None
                cells.append("-" if ratio is None else f"{ratio:.1f}x")
        return cells

    @staticmethod
    def goal_cells(goal: Goal) -> list[str]:
        met = "-" if goal.met is None else ("yes" if goal.met else "no")
        return [goal.name, goal.measured, goal.ratio_text, goal.target, met]


GOAL_COLUMNS = ["goal", "measured", "ratio", "target", "met"]


def print_tables(report: Report) -> None:
    out = Console(width=None if sys.stdout.isatty() else 200)
    table = Table(
        title=f"Wall time of the whole command, seconds (median of {report.repeat}); ratio = peer / pipeyard",
        caption=PEER_NOTES,
    )
    for column in report.header():
        table.add_column(column, justify="left" if column == "workload" else "right")
    for row in report.rows:
        table.add_row(*report.cells(row))
    out.print(table)
    if report.goals:
        goals = Table(title="Issue 13 goals, measured in this run")
        for column in GOAL_COLUMNS:
            goals.add_column(column, justify="left" if column in ("goal", "target") else "right")
        for goal in report.goals:
            cells = report.goal_cells(goal)
            if goal.met is False:
                cells[-1] = "[red]no[/]"
            goals.add_row(*cells)
        out.print(goals)


def _markdown_table(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(report: Report) -> str:
    """What the README pastes: how the figures were made, then the peers table and the goals table."""
    meta = report.meta
    load = meta.get("loadavg_start"), meta.get("loadavg_end")
    sentence = (
        f"Command: `{meta.get('command', '?')}` at `{meta.get('git_revision', '?')}`"
        f" on {meta.get('cpus', '?')} CPUs, started {meta.get('created', '?')}"
        f" ({meta.get('minutes', '?')} min; load average {_load(load[0])} at the start, {_load(load[1])} at the end)."
        f" Median of {report.repeat}; {PEER_NOTES}."
    )
    parts = [sentence, "", _markdown_table(report.header(), [report.cells(r) for r in report.rows])]
    if report.goals:
        parts += ["", _markdown_table(GOAL_COLUMNS, [report.goal_cells(g) for g in report.goals])]
    return "\n".join(parts) + "\n"


def _load(value: object) -> str:
    return "?" if not isinstance(value, list) else " / ".join(f"{v:.1f}" for v in value)


def save(report: Report, path: Path, args: dict[str, object]) -> None:
    report.meta.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if "git_revision" not in report.meta:
        # Read once, at the first save: commits made while a long run goes on change nothing it measures.
        uncommitted = " + uncommitted src/ changes" if _git("status", "--porcelain", "src") != "?" else ""
        report.meta["git_revision"] = _git("rev-parse", "--short", "HEAD") + uncommitted
    report.meta["cpus"] = os.cpu_count()
    report.meta["loadavg_end"] = list(os.getloadavg())
    data = {
        **report.meta,
        "args": args,
        "rows": [
            {
                "workload": r.workload,
                "tasks": r.tasks,
                "results": {e: {**asdict(m), "median": m.median} for e, m in r.results.items()},
            }
            for r in report.rows
        ],
        "goals": [asdict(g) for g in report.goals],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def _git(*argv: str) -> str:
    done = subprocess.run(["git", *argv], cwd=REPO_ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "?"


def load(path: Path) -> Report:
    """A report saved by an earlier (possibly interrupted, possibly older) run."""
    data = json.loads(path.read_text())
    fields = set(Measurement.__dataclass_fields__)
    goal_fields = set(Goal.__dataclass_fields__)
    rows = [
        Row(
            r["workload"],
            r["tasks"],
            {e: Measurement(**{k: v for k, v in m.items() if k in fields}) for e, m in r["results"].items()},
        )
        for r in data["rows"]
    ]
    goals = [Goal(**{k: v for k, v in g.items() if k in goal_fields}) for g in data["goals"]]
    meta = {k: v for k, v in data.items() if k not in ("rows", "goals", "args")}
    return Report(rows, goals, data["args"]["engines"], data["args"]["repeat"], meta)
