"""pipeyard beside kfp.local, Dagster and Prefect on the same workloads, and issue 13's goals.

Usage (from the repository root)::

    .venv/bin/python benchmarks/peers.py                   # everything; peers' venvs created once
    .venv/bin/python benchmarks/peers.py --goals-only      # the goals, with the rows they read
    .venv/bin/python benchmarks/peers.py --quick           # smoke run: tiny sizes, once
    .venv/bin/python benchmarks/peers.py --engines pipeyard,prefect --no-goals
    .venv/bin/python benchmarks/peers.py --render benchmarks/results/peers.json   # README Markdown

Workloads: a single task (the fixed cost of a run), a chain of 25, a fan-out of 100, a
ParallelFor over 1,000 and the iris example. pipeyard and kfp.local run the same compiled YAML;
Dagster (multiprocess executor, a process per op) and Prefect (its default thread task runner)
run the same work written in their own API (``peers/``). Every number is the wall time of a
whole fresh command, which is what a user waits for. Each peer lives in its own venv (``--venvs``)
created by this script; nothing is installed into pipeyard's environment.

The run is bounded: every workload run stops at ``--timeout`` (the long goals at
``--long-timeout``) and is reported as a timeout; an engine whose own single and chain rows
predict it cannot finish a bigger workload in time, even using every core, is marked skipped
with its estimate. Cheap things come first, so a run stopped early still has them: start-up
goals, the single and chain rows (per-task goals), iris, the rest of the table, the 200-run
load, fan-out 1,000 vs chain 1,000, the 10,000-item loop. The JSON report
(``benchmarks/results/peers.json``) is saved after every step.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import report as reporting
from engines import VENVS_DIR, KfpLocalEngine, NativePeer, PipeyardEngine, ensure_venv
from estimate import Estimator
from goals import GoalRunner, Sizes, placeholders
from measure import Completed, Measurement, Unsupported
from pipelines import BenchPipeline, chain, fan_out, iris, loop
from report import Report, Row
from rich.console import Console

BENCH_DIR = Path(__file__).resolve().parent
ENGINES = ("pipeyard", "kfp.local", "dagster", "prefect")
# --goals-only: the rows the goals read, and which engines they need there.
GOAL_ROWS = {"single": ("pipeyard", "kfp.local"), "chain": ("pipeyard", "kfp.local"), "iris": ("pipeyard", "kfp.local"), "loop": ("pipeyard",)}

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
        Workload("single", "single", 1, 1, BenchPipeline("single", 1, "one task", chain(1).build)),
        Workload(f"chain-{sizes['chain']}", "chain", sizes["chain"], sizes["chain"], chain(sizes["chain"])),
        Workload(f"fanout-{sizes['fanout']}", "fanout", sizes["fanout"], sizes["fanout"], fan_out(sizes["fanout"])),
        Workload(f"loop-{sizes['loop']}", "loop", sizes["loop"], sizes["loop"], loop(sizes["loop"])),
        Workload("iris", "iris", 4, 4, iris()),
    ]


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
        measurement.cpu_seconds.append(completed.cpu_seconds)
        console.print(
            f"  {label}: {completed.seconds:.2f} s wall, {completed.cpu_seconds:.2f} s CPU,"
            f" peak RSS {completed.peak_rss_mb:.0f} MB"
        )
        return completed
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes of 3, small goals, once")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per workload and engine")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated subset of {ENGINES}")
    parser.add_argument("--skip-peers", action="store_true", help="no Dagster or Prefect (same as --engines pipeyard,kfp.local)")
    parser.add_argument("--workloads", default=None, help="comma-separated subset of the workload names (with --no-goals)")
    parser.add_argument("--no-goals", action="store_true", help="only the side-by-side table")
    parser.add_argument("--goals-only", action="store_true", help="only the goals and the rows they read (pipeyard, kfp.local)")
    parser.add_argument("--load-runs", type=int, default=None, help="runs submitted at once (default 200)")
    parser.add_argument("--big-loop", type=int, default=None, help="items of the scale loop (default 10000)")
    parser.add_argument("--width", type=int, default=None, help="tasks of fan-out vs chain (default 1000)")
    parser.add_argument("--server-loop", action="store_true", help="also run the big loop through the server (its peak RSS)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds allowed for one workload run (default 300)")
    parser.add_argument(
        "--long-timeout", type=float, default=None, help="seconds for each long goal: load, fan-out/chain 1000, big loop (default 4x --timeout)"
    )
    parser.add_argument(
        "--budget", type=float, default=None, help="minutes for the whole run: steps past it are marked not reached"
    )
    parser.add_argument("--venvs", type=Path, default=VENVS_DIR, help=f"where the peers' venvs live (default {VENVS_DIR}; env PIPEYARD_BENCH_VENVS)")
    parser.add_argument("--setup-only", action="store_true", help="create the peers' venvs and stop")
    parser.add_argument("--render", type=Path, default=None, help="print a saved report as the README's Markdown")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results" / "peers.json")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(args.engines) - set(ENGINES))
    if unknown:
        parser.error(f"--engines: unknown {unknown}; choose from {ENGINES}")
    if args.skip_peers or args.goals_only:
        args.engines = [e for e in args.engines if e in ("pipeyard", "kfp.local")]
    if "pipeyard" not in args.engines:
        args.engines.insert(0, "pipeyard")  # every ratio is against pipeyard
    if args.goals_only and args.no_goals:
        parser.error("--goals-only and --no-goals exclude each other")
    if args.quick:
        args.repeat = 1
    if args.long_timeout is None:
        args.long_timeout = 4 * args.timeout
    return args


def find_pipeyard() -> Path:
    beside = Path(sys.executable).parent / "pipeyard"
    if not beside.exists():
        raise SystemExit(f"pipeyard CLI not found at {beside}; run `pip install -e .` in this venv")
    return beside


def choose(args: argparse.Namespace) -> list[Workload]:
    chosen = workloads(args.quick)
    if args.workloads:
        wanted = {w.strip() for w in args.workloads.split(",")}
        unknown = sorted(wanted - {w.name for w in chosen})
        if unknown:
            raise SystemExit(f"--workloads: unknown {unknown}; choose from {[w.name for w in chosen]}")
        if not args.no_goals:
            raise SystemExit("--workloads needs --no-goals: the goals read every workload's row")
        chosen = [w for w in chosen if w.name in wanted or w.name == "single"]
    if args.goals_only:
        chosen = [w for w in chosen if w.kind in GOAL_ROWS]
    return chosen


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render is not None:
        sys.stdout.write(reporting.markdown(reporting.load(args.render)))
        return 0
    peers = [e for e in args.engines if e != "pipeyard"]
    if args.setup_only:
        for engine in peers:
            console.print(f"{engine}: {ensure_venv(engine, console.print, args.venvs)}")
        return 0
    cli = find_pipeyard()
    chosen = choose(args)
    sizes = Sizes(
        chain=next((w.name for w in chosen if w.kind == "chain"), "chain-?"),
        loop=next((w.name for w in chosen if w.kind == "loop"), "loop-?"),
        width=args.width or (10 if args.quick else 1000),
        big_loop=args.big_loop or (30 if args.quick else 10_000),
        load_runs=args.load_runs or (5 if args.quick else 200),
    )
    started = time.monotonic()
    command = " ".join([".venv/bin/python", "benchmarks/peers.py", *(argv if argv is not None else sys.argv[1:])])
    meta: dict[str, object] = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "loadavg_start": list(os.getloadavg()),
    }
    goals = [] if args.no_goals else placeholders(sizes, args.server_loop)
    rows = [Row(w.name, w.tasks, {e: Measurement() for e in args.engines}) for w in chosen]
    report = Report(rows, goals, args.engines, args.repeat, meta)
    saved_args = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}

    def checkpoint(message: str) -> None:
        # Saved as it goes: a long run stopped half-way still leaves what it measured.
        meta["minutes"] = round((time.monotonic() - started) / 60, 1)
        reporting.save(report, args.output, saved_args)
        console.print(f"[dim]{meta['minutes']:>5} min[/] {message}")

    estimator = Estimator(args.engines, args.timeout, args.long_timeout, args.repeat)
    console.print(estimator.describe([(w.name, w.kind, w.tasks) for w in chosen], goals=not args.no_goals, quick=args.quick, budget=args.budget))
    with tempfile.TemporaryDirectory(prefix="pipeyard-peers-") as scratch:
        workdir = Path(scratch)
        compiled = {w.name: w.pipeline.compile(workdir) for w in chosen}
        pipeyard = PipeyardEngine(cli, workdir / "pipeyard-home")
        kfp_local = KfpLocalEngine(ensure_venv("kfp.local", console.print, args.venvs), workdir) if "kfp.local" in peers else None
        natives = {name: NativePeer(name, ensure_venv(name, console.print, args.venvs), workdir) for name in ("dagster", "prefect") if name in peers}

        deadline = None if args.budget is None else started + 60 * args.budget

        def limit(seconds: float) -> float:
            return seconds if deadline is None else max(0.0, min(seconds, deadline - time.monotonic()))

        def run_one(engine: str, workload: Workload) -> Completed:
            timeout = limit(args.timeout)
            if engine == "pipeyard":
                # The iris row is its first run in this home: the goal compares the second.
                return pipeyard.run_file(compiled[workload.name], workload.tasks, timeout)
            if engine == "kfp.local":
                assert kfp_local is not None
                return kfp_local.run_file(compiled[workload.name], workload.tasks, timeout)
            kind = "chain" if workload.kind == "single" else workload.kind
            return natives[engine].run_workload(kind, workload.size, timeout)

        by_name = {w.name: (w, r) for w, r in zip(chosen, rows, strict=True)}

        def run_rows(kinds: tuple[str, ...]) -> None:
            for workload, row in [by_name[n] for n in by_name if by_name[n][0].kind in kinds]:
                checkpoint(f"[bold]{workload.name}[/]")
                for engine in args.engines:
                    reason = why_skip(engine, workload, row)
                    if reason:
                        row.results[engine].skipped, row.results[engine].reason = True, reason
                        console.print(f"  {engine:9} [yellow]skipped[/] ({reason})")
                for attempt in range(1, args.repeat + 1):
                    for engine in args.engines:
                        if limit(1.0) <= 0 and not row.results[engine].seconds:
                            row.results[engine].skipped, row.results[engine].reason = True, "--budget spent"
                            continue
                        record(row.results[engine], f"{engine:9} #{attempt}", partial(run_one, engine, workload))

        def why_skip(engine: str, workload: Workload, row: Row) -> str | None:
            if args.goals_only and engine not in GOAL_ROWS.get(workload.kind, ()):
                return "--goals-only"
            return estimator.why_skip(engine, workload.kind, workload.tasks, {w.name: (w.kind, w.tasks, r.results) for w, r in by_name.values()})

        record(Measurement(), "pipeyard warm-up", lambda: pipeyard.run_file(compiled["single"], 1, args.timeout))
        runner = GoalRunner(goals, pipeyard, kfp_local, compiled, workdir, sizes, args.timeout, args.long_timeout, checkpoint)
        runner.deadline = deadline
        measuring = not args.no_goals
        if measuring:
            runner.cli_start()
            runner.py_start()
        run_rows(("single", "chain"))
        if measuring:
            runner.from_rows({r.workload: r.results for r in rows})
        run_rows(("iris",))
        if measuring and "iris" in compiled:
            runner.iris({r.workload: r.results for r in rows})
        run_rows(("fanout", "loop"))
        if measuring:
            runner.load()
            runner.fan_out()
            big_path = runner.big_loop({r.workload: r.results for r in rows})
            if args.server_loop:
                runner.server_loop(big_path)
        checkpoint("done")
    reporting.print_tables(report)
    console.print(f"Saved {args.output}; `--render {args.output}` prints it as the README's Markdown")
    failed = any(m.error and not m.unsupported and not m.error.startswith("timeout") for r in rows for m in r.results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
