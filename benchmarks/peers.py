"""pipeyard beside kfp.local, Dagster and Prefect on the same workloads, and issue 13's goals.

Usage (from the repository root)::

    .venv/bin/python benchmarks/peers.py                   # everything; peers' venvs created once
    .venv/bin/python benchmarks/peers.py --quick           # smoke run: tiny sizes, once
    .venv/bin/python benchmarks/peers.py --engines pipeyard,prefect --no-goals

Workloads: a single task (the fixed cost of a run), a chain of 25, a fan-out of 100, a
ParallelFor over 1,000 and the iris example. pipeyard and kfp.local run the same compiled YAML;
Dagster (multiprocess executor, a process per op) and Prefect (its default thread task runner)
run the same work written in their own API (``peers/``). Every number is the wall time of a
whole fresh command, which is what a user waits for. Each peer lives in its own venv under
``benchmarks/`` created by this script; nothing is installed into pipeyard's environment.

After the table come issue 13's goals, each with its measured value, the ratio it is judged by
and whether it is met. The JSON report goes to ``benchmarks/results/peers.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from engines import KfpLocalEngine, NativePeer, PipeyardEngine, ensure_venv
from goals import Goal, measure_goals
from measure import Completed, Measurement, Unsupported
from pipelines import BenchPipeline, chain, fan_out, iris, loop
from rich.console import Console
from rich.table import Table

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
ENGINES = ("pipeyard", "kfp.local", "dagster", "prefect")

console = Console(stderr=True)


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str  # chain | fanout | loop | iris: what the native peers rebuild
    size: int
    tasks: int
    pipeline: BenchPipeline


def workloads(quick: bool) -> list[Workload]:
    sizes = {"chain": 3, "fanout": 3, "loop": 3} if quick else {"chain": 25, "fanout": 100, "loop": 1000}
    return [
        Workload("single", "chain", 1, 1, BenchPipeline("single", 1, "one task", chain(1).build)),
        Workload(f"chain-{sizes['chain']}", "chain", sizes["chain"], sizes["chain"], chain(sizes["chain"])),
        Workload(f"fanout-{sizes['fanout']}", "fanout", sizes["fanout"], sizes["fanout"], fan_out(sizes["fanout"])),
        Workload(f"loop-{sizes['loop']}", "loop", sizes["loop"], sizes["loop"], loop(sizes["loop"])),
        Workload("iris", "iris", 4, 4, iris()),
    ]


@dataclass
class Row:
    workload: str
    tasks: int
    results: dict[str, Measurement] = field(default_factory=dict)

    def ratio(self, engine: str) -> float | None:
        """How many times longer ``engine`` took than pipeyard."""
        mine, theirs = self.results["pipeyard"].median, self.results[engine].median
        return theirs / mine if mine and theirs else None


def record(measurement: Measurement, label: str, run: Callable[[], Completed]) -> Completed | None:
    if measurement.error is not None or measurement.skipped:
        return None  # one failure is enough to know; do not spend minutes repeating it
    try:
        completed = run()
    except Unsupported as error:
        measurement.unsupported, measurement.error = True, str(error)
        console.print(f"  {label}: [yellow]unsupported[/] ({str(error)[:160]})")
    except (RuntimeError, TimeoutError) as error:
        measurement.error = str(error) if not isinstance(error, TimeoutError) else f"timeout: {error}"
        console.print(f"  {label}: [red]{measurement.cell}[/] {str(error)[:600]}")
    else:
        measurement.seconds.append(completed.seconds)
        measurement.peak_rss_mb.append(completed.peak_rss_mb)
        console.print(f"  {label}: {completed.seconds:.2f} s, peak RSS {completed.peak_rss_mb:.0f} MB")
        return completed
    return None


def render(rows: list[Row], engines: list[str], repeat: int) -> Table:
    table = Table(
        title=f"Wall time of the whole command, seconds (median of {repeat}); ratio = peer / pipeyard",
        caption="dagster: multiprocess executor; prefect: default thread task runner (no process isolation)",
    )
    table.add_column("workload")
    table.add_column("tasks", justify="right")
    for engine in engines:
        table.add_column(f"{engine} s", justify="right")
        if engine != "pipeyard":
            table.add_column("ratio", justify="right")
    for row in rows:
        cells = [row.workload, str(row.tasks)]
        for engine in engines:
            cells.append(row.results[engine].cell)
            if engine != "pipeyard":
                ratio = row.ratio(engine) if "pipeyard" in row.results else None
                cells.append("-" if ratio is None else f"{ratio:.1f}x")
        table.add_row(*cells)
    return table


def render_goals(goals: list[Goal]) -> Table:
    table = Table(title="Issue 13 goals, measured in this run")
    for column in ("goal", "measured", "ratio", "target", "met"):
        table.add_column(column, justify="left" if column in ("goal", "target") else "right")
    for goal in goals:
        met = "-" if goal.met is None else ("yes" if goal.met else "[red]no[/]")
        table.add_row(goal.name, goal.measured, goal.ratio_text, goal.target, met)
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes of 3, small goals, once")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per workload and engine")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated subset of {ENGINES}")
    parser.add_argument("--workloads", default=None, help="comma-separated subset of the workload names")
    parser.add_argument("--no-goals", action="store_true", help="only the side-by-side table")
    parser.add_argument("--load-runs", type=int, default=None, help="runs submitted at once (default 200)")
    parser.add_argument("--big-loop", type=int, default=None, help="items of the scale loop (default 10000)")
    parser.add_argument(
        "--server-loop", action="store_true", help="also run the big loop through the server (its peak RSS)"
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed for one workload run")
    parser.add_argument("--render", type=Path, default=None, help="only print the tables of a saved report")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results" / "peers.json")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(args.engines) - set(ENGINES))
    if unknown:
        parser.error(f"--engines: unknown {unknown}; choose from {ENGINES}")
    if args.quick:
        args.repeat = 1
    return args


def find_pipeyard() -> Path:
    beside = Path(sys.executable).parent / "pipeyard"
    if not beside.exists():
        raise SystemExit(f"pipeyard CLI not found at {beside}; run `pip install -e .` in this venv")
    return beside


def print_tables(rows: list[Row], goals: list[Goal], engines: list[str], repeat: int) -> None:
    out = Console(width=None if sys.stdout.isatty() else 160)
    out.print(render(rows, engines, repeat))
    if goals:
        out.print(render_goals(goals))


def render_saved(path: Path) -> int:
    """Print the tables of a report saved by an earlier (possibly interrupted) run."""
    report = json.loads(path.read_text())
    fields = set(Measurement.__dataclass_fields__)
    rows = [
        Row(r["workload"], r["tasks"], {e: Measurement(**{k: v for k, v in m.items() if k in fields}) for e, m in r["results"].items()})
        for r in report["rows"]
    ]
    goals = [Goal(**g) for g in report["goals"]]
    print_tables(rows, goals, report["args"]["engines"], report["args"]["repeat"])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render is not None:
        return render_saved(args.render)
    cli = find_pipeyard()
    chosen = workloads(args.quick)
    if args.workloads:
        wanted = {w.strip() for w in args.workloads.split(",")}
        unknown = sorted(wanted - {w.name for w in chosen})
        if unknown:
            raise SystemExit(f"--workloads: unknown {unknown}; choose from {[w.name for w in chosen]}")
        if not args.no_goals:
            raise SystemExit("--workloads needs --no-goals: the goals read every workload's row")
        chosen = [w for w in chosen if w.name in wanted or w.name == "single"]
    with tempfile.TemporaryDirectory(prefix="pipeyard-peers-") as scratch:
        workdir = Path(scratch)
        compiled = {w.name: w.pipeline.compile(workdir) for w in chosen}
        pipeyard = PipeyardEngine(cli, workdir / "pipeyard-home")
        kfp_local = KfpLocalEngine(ensure_venv("kfp.local", console.print), workdir) if "kfp.local" in args.engines else None
        natives = {
            name: NativePeer(name, ensure_venv(name, console.print), workdir)
            for name in ("dagster", "prefect")
            if name in args.engines
        }
        # One untimed pipeyard run creates the database and warms the file cache.
        goals: list[Goal] = []

        def checkpoint(message: str) -> None:
            # Saved as it goes: a long run stopped half-way still leaves what it measured.
            save(rows, goals, args)
            console.print(message)

        rows: list[Row] = []
        record(Measurement(), "pipeyard warm-up", lambda: pipeyard.run_file(compiled["single"], 1, args.timeout))
        rows[:] = [Row(w.name, w.tasks, {e: Measurement() for e in args.engines}) for w in chosen]
        def run_one(engine: str, workload: Workload) -> Completed:
            if engine == "pipeyard":
                # The iris row is its first run in this home: the goal compares the second.
                return pipeyard.run_file(compiled[workload.name], workload.tasks, args.timeout)
            if engine == "kfp.local":
                assert kfp_local is not None
                return kfp_local.run_file(compiled[workload.name], workload.tasks, args.timeout)
            return natives[engine].run_workload(workload.kind, workload.size, args.timeout)

        for workload, row in zip(chosen, rows, strict=True):
            checkpoint(f"[bold]{workload.name}[/]")
            for attempt in range(1, args.repeat + 1):
                for engine in args.engines:
                    record(row.results[engine], f"{engine:9} #{attempt}", partial(run_one, engine, workload))
        if not args.no_goals:
            measure_goals(
                rows={r.workload: r.results for r in rows},
                pipeyard=pipeyard,
                kfp_local=kfp_local,
                compiled=compiled,
                workdir=workdir,
                quick=args.quick,
                load_runs=args.load_runs,
                big_loop=args.big_loop,
                server_loop=args.server_loop,
                timeout=args.timeout,
                log=checkpoint,
                goals=goals,
            )
    print_tables(rows, goals, args.engines, args.repeat)
    save(rows, goals, args)
    console.print(f"Saved {args.output}")
    return 1 if any(m.error and not m.unsupported and not m.error.startswith("timeout") for r in rows for m in r.results.values()) else 0


def save(rows: list[Row], goals: list[Goal], args: argparse.Namespace) -> None:
    import subprocess

    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    report = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_revision": revision.stdout.strip() or None,
        "cpus": os.cpu_count(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "rows": [
            {"workload": r.workload, "tasks": r.tasks, "results": {e: {**asdict(m), "median": m.median} for e, m in r.results.items()}}
            for r in rows
        ],
        "goals": [asdict(g) for g in goals],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
