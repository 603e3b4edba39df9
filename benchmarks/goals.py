"""Issue 13's goals, each measured in the same run as the peers table and judged by its ratio.

No goal is asserted anywhere: the benchmark prints what it measured, the ratio, the target and
whether this run met it, so a reader sees how far off a missed goal is.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engines import KfpLocalEngine, PipeyardEngine, scrubbed_env
from load import server_loop as run_through_server
from load import submit_many
from measure import Measurement, run_measured
from pipelines import chain, fan_out, loop

ONE_TASK_PY = '''
from kfp import dsl


@dsl.component(base_image="python:3.11")
def step(x: int) -> int:
    return x + 1


@dsl.pipeline(name="one-task-py")
def pipeline() -> None:
    step(x=0)
'''


@dataclass
class Goal:
    name: str
    measured: str
    ratio_text: str
    target: str
    met: bool | None  # None: not measured in this run


def _unmeasured(name: str, target: str, why: str) -> Goal:
    return Goal(name, why, "-", target, None)


def _median_seconds(command: list[str], env: dict[str, str], times: int = 5) -> float:
    samples = []
    for _ in range(times):
        completed = run_measured(command, env=env, timeout=120)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {completed.returncode}: {completed.stderr[-500:]}")
        samples.append(completed.seconds)
    return statistics.median(samples)


def measure_goals(
    *,
    rows: dict[str, dict[str, Measurement]],
    pipeyard: PipeyardEngine,
    kfp_local: KfpLocalEngine | None,
    compiled: dict[str, Path],
    workdir: Path,
    quick: bool,
    load_runs: int | None,
    big_loop: int | None,
    server_loop: bool,
    timeout: float,
    log: Callable[[str], object],
    goals: list[Goal],
) -> list[Goal]:
    """Append each goal to ``goals`` as it is measured (the caller saves it as it goes)."""
    names = list(rows)
    single, chain_name, loop_name = rows["single"], names[1], names[3]
    chain_tasks = int(chain_name.split("-")[1])

    def safely(name: str, target: str, measure: Callable[[], Goal]) -> None:
        log(f"[bold]goal[/] {name}")
        try:
            goals.append(measure())
        except Exception as error:  # noqa: BLE001 - a failed goal is reported, the rest still run
            log(f"  [red]failed[/] {str(error)[:600]}")
            goals.append(Goal(name, "failed", "-", target, False))

    # -- per task: the marginal cost of one more task in a chain
    def marginal(engine: str) -> float | None:
        if engine not in single or rows[chain_name][engine].median is None or single[engine].median is None:
            return None
        return 1000 * (rows[chain_name][engine].median - single[engine].median) / (chain_tasks - 1)  # type: ignore[operator]

    mine, theirs = marginal("pipeyard"), marginal("kfp.local")
    if mine is None:
        goals.append(_unmeasured("per-task marginal (chain)", "<= 5 ms, >= 100x kfp.local", "pipeyard not measured"))
    else:
        ratio = theirs / mine if theirs and mine > 0 else None
        goals.append(
            Goal(
                f"per-task marginal ({chain_name})",
                f"{mine:.1f} ms" + (f" (kfp.local {theirs:.0f} ms)" if theirs else ""),
                "-" if ratio is None else f"{ratio:.0f}x faster",
                "<= 5 ms, >= 100x kfp.local",
                mine <= 5 and (ratio is None or ratio >= 100),
            )
        )

    # -- start: one task
    p_single, k_single = single["pipeyard"].median, single.get("kfp.local", Measurement()).median
    if p_single is None or k_single is None:
        goals.append(_unmeasured("pipeyard run one_task.yaml vs kfp.local", "<= 0.25", "needs both engines"))
    else:
        goals.append(
            Goal(
                "pipeyard run one_task.yaml vs kfp.local",
                f"{p_single:.2f} s vs {k_single:.2f} s",
                f"{p_single / k_single:.2f}",
                "<= 0.25",
                p_single / k_single <= 0.25,
            )
        )

    def py_start() -> Goal:
        source = workdir / "one_task.py"
        source.write_text(ONE_TASK_PY)
        seconds = statistics.median(pipeyard.run_file(source, 1, timeout).seconds for _ in range(3))
        return Goal("pipeyard run one_task.py", f"{seconds:.2f} s", "-", "<= 0.6 s", seconds <= 0.6)

    safely("pipeyard run one_task.py", "<= 0.6 s", py_start)

    def cli_start() -> list[Goal]:
        env = scrubbed_env(PIPEYARD_HOME=str(pipeyard.home))
        bare = _median_seconds(["python3", "-c", "pass"], env)
        out = []
        for label, argv in (("--help", ["--help"]), ("runs list", ["runs", "list"])):
            seconds = _median_seconds([str(pipeyard.cli), *argv], env)
            out.append(
                Goal(
                    f"pipeyard {label} vs python3 -c pass",
                    f"{seconds * 1000:.0f} ms vs {bare * 1000:.0f} ms",
                    f"{seconds / bare:.1f}x",
                    "<= 10x",
                    seconds / bare <= 10,
                )
            )
        return out

    log("[bold]goal[/] CLI start")
    try:
        goals.extend(cli_start())
    except RuntimeError as error:
        log(f"  [red]failed[/] {error}")
        goals.append(Goal("pipeyard --help / runs list vs python3 -c pass", "failed", "-", "<= 10x", False))

    # -- ML steps: the iris example again, in the same home, without the cache
    first = rows["iris"]["pipeyard"].median

    def iris_goal() -> list[Goal]:
        second = pipeyard.run_file(compiled["iris"], 4, timeout).seconds
        out = [
            Goal(
                "iris 2nd run --no-cache vs 1st",
                f"{second:.1f} s vs {first:.1f} s",
                f"{second / first:.2f}" if first else "-",
                "<= 0.3",
                None if not first else second / first <= 0.3,
            )
        ]
        k_iris = rows["iris"].get("kfp.local", Measurement()).median
        out.append(
            Goal(
                "iris 2nd run vs kfp.local",
                "kfp.local not measured" if k_iris is None else f"{second:.1f} s vs {k_iris:.1f} s",
                "-" if k_iris is None else f"{k_iris / second:.1f}x faster",
                ">= 5x faster",
                None if k_iris is None else k_iris / second >= 5,
            )
        )
        return out

    log("[bold]goal[/] iris second run")
    try:
        goals.extend(iris_goal())
    except Exception as error:  # noqa: BLE001 - a failed goal is reported, the rest still run
        log(f"  [red]failed[/] {str(error)[:600]}")
        goals.append(Goal("iris 2nd run --no-cache vs 1st", "failed", "-", "<= 0.3", False))

    # -- many runs at once through kfp.Client
    runs = load_runs or (5 if quick else 200)

    def load_goal() -> list[Goal]:
        result = submit_many(pipeyard.cli, workdir / "load-home", compiled["single"], runs, max(timeout, 1800))
        log(f"  {result}")
        return [
            Goal(
                f"{runs} runs at once via kfp.Client",
                f"{result.succeeded}/{result.runs} succeeded in {result.seconds:.0f} s",
                f"{result.seconds / runs * 1000:.0f} ms/run",
                "all finish",
                result.succeeded == result.runs,
            ),
            Goal(
                "GET /runs?page_size=50 p95 during the load",
                f"{result.list_p95_ms:.0f} ms (p50 {result.list_p50_ms:.0f}, n={result.list_samples}); server peak RSS {result.server_peak_rss_mb:.0f} MB",
                "-",
                "<= 100 ms",
                result.list_p95_ms <= 100,
            ),
        ]

    log(f"[bold]goal[/] {runs} runs at once")
    try:
        goals.extend(load_goal())
    except Exception as error:  # noqa: BLE001 - a failed goal is reported, the rest still run
        log(f"  [red]failed[/] {str(error)[:600]}")
        goals.append(Goal(f"{runs} runs at once via kfp.Client", "failed", "-", "all finish", False))
    # -- fan-out uses the machine
    width = 10 if quick else 1000

    def fan_out_goal() -> Goal:
        fan_path, chain_path = fan_out(width).compile(workdir), chain(width).compile(workdir)
        fan = pipeyard.run_file(fan_path, width, timeout).seconds
        seq = pipeyard.run_file(chain_path, width, timeout).seconds
        return Goal(f"fan-out {width} vs chain {width}", f"{fan:.1f} s vs {seq:.1f} s", f"{fan / seq:.2f}", "<= 0.6", fan / seq <= 0.6)

    safely(f"fan-out {width} vs chain {width}", "<= 0.6", fan_out_goal)

    # -- scale: the big loop under `pipeyard run` (and, if asked, the server)
    items = big_loop or (30 if quick else 10_000)
    small = rows[loop_name]["pipeyard"].median
    big_path = loop(items).compile(workdir)

    def scale_goal() -> Goal:
        completed = pipeyard.run_file(big_path, items, max(timeout, 3600))
        ratio = f"{completed.seconds / small:.1f}x {loop_name}" if small else "-"
        met = completed.peak_rss_mb <= 500 and (small is None or completed.seconds / small <= 12)
        return Goal(
            f"loop-{items} under pipeyard run",
            f"{completed.seconds:.0f} s, peak RSS {completed.peak_rss_mb:.0f} MB",
            ratio,
            "<= 500 MB, <= 12x",
            met,
        )

    safely(f"loop-{items} under pipeyard run", "<= 500 MB, <= 12x", scale_goal)

    if server_loop:

        def server_goal() -> Goal:
            state, seconds, rss = run_through_server(pipeyard.cli, workdir / "server-loop-home", big_path, max(timeout, 3600))
            return Goal(f"loop-{items} through the server", f"{state}, {seconds:.0f} s, server peak RSS {rss:.0f} MB", "-", "<= 500 MB", state == "SUCCEEDED" and rss <= 500)

        safely(f"loop-{items} through the server", "<= 500 MB", server_goal)

    return goals

