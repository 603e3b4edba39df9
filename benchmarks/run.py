"""Time pipeyard against kfp.local on the same compiled pipelines, in the same run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run.py            # single, chain-20, fanout-20, loop-100; median of 3
    .venv/bin/python benchmarks/run.py --quick    # smoke run: single and chain-5, once

Both sides are timed as the wall time of a whole fresh command, which is what a user waits for:
``pipeyard run FILE.yaml --json --no-cache`` and a Python process that loads the same YAML and
calls it under ``kfp.local`` with ``SubprocessRunner(use_venv=False)``. kfp.local runs in its own
virtual environment (``benchmarks/.venv-kfp-local``, created on first use) because it reinstalls
kfp into the interpreter that runs it, and ours must stay untouched.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipelines import BenchPipeline, chain, suite
from rich.console import Console
from rich.table import Table

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
KFP_LOCAL_VENV = BENCH_DIR / ".venv-kfp-local"
KFP_LOCAL_RUNNER = BENCH_DIR / "kfp_local_runner.py"
DEFAULT_KFP_VERSION = "2.17.3"
RESULT_MARKER = "KFP_LOCAL_RESULT "

console = Console(stderr=True)


@dataclass
class Side:
    """The repeated measurements of one engine on one pipeline."""

    seconds: list[float] = field(default_factory=list)
    # kfp.local only: the pipeline call alone, without interpreter start and `import kfp`, so a
    # reader can see the gap is not just start-up cost.
    in_process_seconds: list[float] = field(default_factory=list)
    error: str | None = None
    unsupported: bool = False

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds and self.error is None else None


@dataclass
class Row:
    pipeline: str
    description: str
    tasks: int
    pipeyard: Side = field(default_factory=Side)
    kfp_local: Side = field(default_factory=Side)

    @property
    def ratio(self) -> float | None:
        mine, theirs = self.pipeyard.median, self.kfp_local.median
        return theirs / mine if mine and theirs else None


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _kfp_local_python() -> Path:
    return KFP_LOCAL_VENV / "bin" / "python"


def ensure_kfp_local_venv(version: str) -> Path:
    """Create (once) the separate venv kfp.local runs in, holding exactly ``kfp==version``."""
    python = _kfp_local_python()
    if python.exists():
        probe = subprocess.run(
            [str(python), "-c", "import kfp; print(kfp.__version__)"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return python
    console.print(
        f"[bold]Setting up {KFP_LOCAL_VENV.relative_to(REPO_ROOT)} with kfp=={version}[/] (first use only)"
    )
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(KFP_LOCAL_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"kfp=={version}"], check=True)
    return python


def find_pipeyard() -> Path | None:
    beside_interpreter = Path(sys.executable).parent / "pipeyard"
    if beside_interpreter.exists():
        return beside_interpreter
    found = shutil.which("pipeyard")
    return Path(found) if found else None


def time_pipeyard(
    cli: Path, pipeline_yaml: Path, home: Path, parallelism: int | None, timeout: float, expected_tasks: int
) -> float:
    """Run the CLI once; return its wall time, or raise RuntimeError saying why the run did not succeed."""
    command = [str(cli), "run", str(pipeline_yaml), "--json", "--no-cache"]
    if parallelism is not None:
        command += ["--parallelism", str(parallelism)]
    # Only the scratch home: an inherited database URL or pipeline root would send the runs elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env["PIPEYARD_HOME"] = str(home)
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    elapsed = time.perf_counter() - started
    try:
        summary = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(
            f"exit code {completed.returncode}, no JSON on stdout\n{_tail(completed.stderr or completed.stdout)}"
        ) from None
    if summary.get("state") != "SUCCEEDED":
        failed = [t["name"] for t in summary.get("tasks", []) if t.get("state") != "SUCCEEDED"]
        raise RuntimeError(
            f"run {summary.get('state')}; tasks not succeeded: {failed}\n{_tail(completed.stderr)}"
        )
    # A fast time is only meaningful if every task really ran: none skipped, none served from cache.
    executed = [t for t in summary["tasks"] if t.get("state") == "SUCCEEDED" and not t.get("cached")]
    if len(executed) < expected_tasks:
        raise RuntimeError(
            f"only {len(executed)} of {expected_tasks} tasks executed (others cached or missing)"
        )
    return elapsed


class KfpLocalUnsupported(RuntimeError):
    """kfp.local refused the pipeline (as opposed to a task failing)."""


def time_kfp_local(python: Path, pipeline_yaml: Path, workdir: Path, timeout: float, side: Side) -> float:
    root = Path(tempfile.mkdtemp(prefix="kfp-local-root-", dir=workdir))
    command = [str(python), str(KFP_LOCAL_RUNNER), str(pipeline_yaml), "--pipeline-root", str(root)]
    started = time.perf_counter()
    # cwd is a scratch dir because kfp.local drops its local_outputs there.
    completed = subprocess.run(command, capture_output=True, text=True, cwd=root, timeout=timeout)
    elapsed = time.perf_counter() - started
    shutil.rmtree(root, ignore_errors=True)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if not lines:
        raise RuntimeError(f"exit code {completed.returncode}\n{_tail(completed.stderr or completed.stdout)}")
    result = json.loads(lines[-1][len(RESULT_MARKER) :])
    if not result["ok"]:
        message = f"{result['error_type']}: {result['error']}"
        if result["error_type"] == "NotImplementedError" or "support" in result["error"].lower():
            raise KfpLocalUnsupported(message)
        raise RuntimeError(message)
    side.in_process_seconds.append(result["pipeline_seconds"])
    return elapsed


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _per_task_ms(value: float | None, tasks: int) -> str:
    return "-" if value is None else f"{1000 * value / tasks:.0f}"


def _side_cell(side: Side, note_when_missing: str) -> str:
    if side.unsupported:
        return "unsupported by kfp.local"
    if side.error is not None:
        return "[red]failed[/]"
    return _seconds(side.median) if side.seconds else note_when_missing


def marginal_ms(side: Side, baseline: Side, tasks: int) -> float | None:
    """Milliseconds each task beyond the first adds to a run, i.e. the wall time with the fixed
    cost of starting a run (interpreter, imports, database) taken out."""
    if tasks < 2 or side.median is None or baseline.median is None:
        return None
    return 1000 * (side.median - baseline.median) / (tasks - 1)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def render(rows: list[Row], repeat: int) -> Table:
    table = Table(
        title=f"pipeyard vs kfp.local: median of {repeat}, wall time of the whole command",
        caption="per-task = wall / tasks; marginal = (wall - single) / (tasks - 1); ratio = kfp.local / pipeyard",
    )
    table.add_column("pipeline")
    table.add_column("tasks", justify="right")
    table.add_column("pipeyard s", justify="right")
    table.add_column("per-task ms", justify="right")
    table.add_column("marginal ms", justify="right")
    table.add_column("kfp.local s", justify="right")
    table.add_column("per-task ms", justify="right")
    table.add_column("marginal ms", justify="right")
    table.add_column("ratio", justify="right")
    baseline = rows[0]
    for row in rows:
        table.add_row(
            row.pipeline,
            str(row.tasks),
            _side_cell(row.pipeyard, "skipped"),
            _per_task_ms(row.pipeyard.median, row.tasks),
            _ms(marginal_ms(row.pipeyard, baseline.pipeyard, row.tasks)),
            _side_cell(row.kfp_local, "skipped"),
            _per_task_ms(row.kfp_local.median, row.tasks),
            _ms(marginal_ms(row.kfp_local, baseline.kfp_local, row.tasks)),
            "-" if row.ratio is None else f"{row.ratio:.1f}x",
        )
    return table


def _git_revision() -> str | None:
    completed = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return completed.stdout.strip() or None


def save(rows: list[Row], args: argparse.Namespace, output: Path) -> None:
    import kfp

    report = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_revision": _git_revision(),
        "host": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "kfp_version": kfp.__version__,
        "kfp_local_version": args.kfp_version,
        "repeat": args.repeat,
        "parallelism": args.parallelism,
        "rows": [
            {
                **asdict(row),
                "pipeyard_median_s": row.pipeyard.median,
                "pipeyard_per_task_ms": None
                if row.pipeyard.median is None
                else 1000 * row.pipeyard.median / row.tasks,
                "kfp_local_median_s": row.kfp_local.median,
                "kfp_local_per_task_ms": None
                if row.kfp_local.median is None
                else 1000 * row.kfp_local.median / row.tasks,
                "pipeyard_marginal_ms": marginal_ms(row.pipeyard, rows[0].pipeyard, row.tasks),
                "kfp_local_marginal_ms": marginal_ms(row.kfp_local, rows[0].kfp_local, row.tasks),
                "ratio": row.ratio,
            }
            for row in rows
        ],
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="measurements per pipeline and engine (median reported)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: one task and a chain of 5, once")
    parser.add_argument(
        "--parallelism", type=int, default=None, help="passed to pipeyard run (default: its own)"
    )
    parser.add_argument("--skip-kfp-local", action="store_true")
    parser.add_argument("--skip-pipeyard", action="store_true")
    parser.add_argument(
        "--kfp-version", default=DEFAULT_KFP_VERSION, help="kfp installed in the kfp.local venv"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed for one pipeline run")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results" / "latest.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def _measure(side: Side, label: str, measure: Callable[[], float]) -> None:
    if side.error is not None:
        return  # one failure is enough to know; do not spend minutes repeating it
    try:
        side.seconds.append(measure())
    except KfpLocalUnsupported as error:
        side.unsupported, side.error = True, str(error)
        console.print(f"  {label}: [yellow]unsupported by kfp.local[/] ({_tail(str(error), 2)})")
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        side.error = str(error)
        console.print(f"  {label}: [red]failed[/]\n{error}")
    else:
        console.print(f"  {label}: {side.seconds[-1]:.2f} s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pipelines: list[BenchPipeline] = suite(args.quick)

    cli = None if args.skip_pipeyard else find_pipeyard()
    if cli is None and not args.skip_pipeyard:
        console.print(
            "[yellow]pipeyard CLI not found next to this interpreter or on PATH; run `pip install -e .`[/]"
        )
    kfp_python = None if args.skip_kfp_local else ensure_kfp_local_venv(args.kfp_version)

    with tempfile.TemporaryDirectory(prefix="pipeyard-bench-") as scratch:
        workdir = Path(scratch)
        compiled = {p.name: p.compile(workdir) for p in pipelines}
        warmup = chain(2).compile(workdir)
        home = workdir / "pipeyard-home"

        # One untimed run per engine pays the one-off costs (database creation, cold file cache)
        # so that they do not land on whichever pipeline happens to be measured first.
        console.print("[bold]Warming up[/]")
        if cli is not None:
            _measure(
                Side(),
                "pipeyard warm-up",
                lambda: time_pipeyard(cli, warmup, home, args.parallelism, args.timeout, 2),
            )
        if kfp_python is not None:
            _measure(
                Side(),
                "kfp.local warm-up",
                lambda: time_kfp_local(kfp_python, warmup, workdir, args.timeout, Side()),
            )

        rows = [Row(p.name, p.description, p.tasks) for p in pipelines]
        for row in rows:
            path = compiled[row.pipeline]
            console.print(f"[bold]{row.pipeline}[/] ({row.description})")
            # Alternating the engines spreads any drift in machine load over both.
            for attempt in range(1, args.repeat + 1):
                if cli is not None:
                    _measure(
                        row.pipeyard,
                        f"pipeyard  #{attempt}",
                        lambda path=path, row=row: time_pipeyard(
                            cli, path, home, args.parallelism, args.timeout, row.tasks
                        ),
                    )
                if kfp_python is not None:
                    _measure(
                        row.kfp_local,
                        f"kfp.local #{attempt}",
                        lambda path=path, row=row: time_kfp_local(
                            kfp_python, path, workdir, args.timeout, row.kfp_local
                        ),
                    )

    # Piped or captured output would otherwise be cut to 80 columns and wrap the table's headers.
    Console(width=None if sys.stdout.isatty() else 120).print(render(rows, args.repeat))
    save(rows, args, args.output)
    console.print(f"Saved {args.output}")
    failed = any(
        side.error is not None and not side.unsupported
        for row in rows
        for side in (row.pipeyard, row.kfp_local)
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
