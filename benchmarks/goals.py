"""Issue 13's goals, each measured in the same run as the peers table and judged by its ratio.

No goal is asserted anywhere: the benchmark prints what it measured, the ratio, the target and
whether this run met it, so a reader sees how far off a missed goal is. Every goal is listed
from the start as "not reached": a run stopped half-way (or a goal past its timeout) still
shows every goal, and says which ones it did not measure.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engines import KfpLocalEngine, PipeyardEngine, scrubbed_env
from load import server_loop as run_through_server
from load import submit_many
from measure import Completed, Measurement, run_measured
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

NOT_REACHED = "not reached"


@dataclass
class Goal:
    name: str
    measured: str
    ratio_text: str
    target: str
    met: bool | None  # None: not measured in this run
    key: str = ""  # stable across sizes (--quick), so a measurement replaces its placeholder


@dataclass(frozen=True)
class Sizes:
    chain: str  # the peers table's chain workload, e.g. "chain-25"
    loop: str  # the peers table's loop workload, e.g. "loop-1000"
    width: int  # fan-out vs chain
    big_loop: int
    load_runs: int

    @property
    def chain_tasks(self) -> int:
        return int(self.chain.split("-")[1])


def placeholders(sizes: Sizes, server_loop: bool) -> list[Goal]:
    """Every goal, in the order the run measures them (cheap ones first)."""
    wanted = [
        ("cli-help", "pipeyard --help vs python3 -c pass", "<= 10x"),
        ("cli-list", "pipeyard runs list vs python3 -c pass", "<= 10x"),
        ("py-start", "pipeyard run one_task.py", "<= 0.6 s"),
        ("one-task", "pipeyard run one_task.yaml vs kfp.local", "<= 0.25"),
        ("per-task", f"per-task marginal ({sizes.chain})", "<= 5 ms, >= 100x kfp.local"),
        ("iris-2nd", "iris 2nd run --no-cache vs 1st", "<= 0.3"),
        ("iris-kfp", "iris 2nd run vs kfp.local", ">= 5x faster"),
        ("load", f"{sizes.load_runs} runs at once via kfp.Client", "all finish"),
        ("load-p95", "GET /runs?page_size=50 p95 during the load", "<= 100 ms"),
        ("fan-out", f"fan-out {sizes.width} vs chain {sizes.width}", "<= 0.6"),
        ("big-loop", f"loop-{sizes.big_loop} under pipeyard run", "<= 500 MB, <= 12x"),
    ]
    if server_loop:
        wanted.append(("server-loop", f"loop-{sizes.big_loop} through the server", "<= 500 MB"))
    return [Goal(name, NOT_REACHED, "-", target, None, key) for key, name, target in wanted]


def _median_seconds(command: list[str], env: dict[str, str], times: int = 5) -> tuple[float, float]:
    """Median wall and CPU seconds of a short command run ``times`` times."""
    samples, cpu = [], []
    for _ in range(times):
        completed = run_measured(command, env=env, timeout=120)
        if completed.timed_out:
            raise TimeoutError("timeout after 120 s")
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {completed.returncode}: {completed.stderr[-500:]}")
        samples.append(completed.seconds)
        cpu.append(completed.cpu_seconds)
    return statistics.median(samples), statistics.median(cpu)


@dataclass
class GoalRunner:
    """Measures the goals one group at a time; ``peers.py`` calls the groups in its own order."""

    goals: list[Goal]
    pipeyard: PipeyardEngine
    kfp_local: KfpLocalEngine | None
    compiled: dict[str, Path]
    workdir: Path
    sizes: Sizes
    timeout: float
    long_timeout: float
    log: Callable[[str], object]
    # From the rows, for the per-task goal's second reading on the long chain.
    _single: Measurement | None = None
    _kfp_marginal_ms: float | None = None
    _short_ms: float | None = None
    deadline: float | None = None  # time.monotonic() at which --budget runs out

    def _limit(self, seconds: float) -> float:
        """A step's timeout, cut to what is left of the budget."""
        if self.deadline is None:
            return seconds
        return max(0.0, min(seconds, self.deadline - time.monotonic()))

    def _put(self, goal: Goal) -> None:
        for index, old in enumerate(self.goals):
            if old.key == goal.key:
                goal.name = goal.name or old.name
                goal.target = goal.target or old.target
                self.goals[index] = goal
                break
        else:
            self.goals.append(goal)
        self.log(f"  {goal.name}: {goal.measured} ({goal.ratio_text})")

    def _safely(self, keys: tuple[str, ...], measure: Callable[[], list[Goal]]) -> None:
        """A goal that fails or times out is reported as such; the others still run."""
        self.log(f"[bold]goal[/] {', '.join(keys)}")
        if self._limit(1.0) <= 0:
            for key in keys:
                self._put(Goal("", f"{NOT_REACHED} (--budget spent)", "-", "", None, key))
            return
        try:
            for goal in measure():
                self._put(goal)
        except Exception as error:  # noqa: BLE001 - a failed goal is reported, the rest still run
            # TimeoutError's text is "timeout after N s": the cell says which limit stopped it.
            outcome = str(error) if isinstance(error, TimeoutError) else "failed"
            self.log(f"  [red]{outcome}[/] {str(error)[:600]}")
            for key in keys:
                self._put(Goal("", outcome, "-", "", False, key))

    # -- start-up ---------------------------------------------------------------------------

    def cli_start(self) -> None:
        def measure() -> list[Goal]:
            env = scrubbed_env(PIPEYARD_HOME=str(self.pipeyard.home))
            bare, bare_cpu = _median_seconds(["python3", "-c", "pass"], env)
            out = []
            for key, argv in (("cli-help", ["--help"]), ("cli-list", ["runs", "list"])):
                seconds, cpu = _median_seconds([str(self.pipeyard.cli), *argv], env)
                # The goal is judged on wall time; CPU shows what the load on a shared machine hides.
                out.append(
                    Goal(
                        "",
                        f"{seconds * 1000:.0f} ms vs {bare * 1000:.0f} ms"
                        f" (CPU {cpu * 1000:.0f} ms vs {bare_cpu * 1000:.0f} ms)",
                        f"{seconds / bare:.1f}x",
                        "",
                        seconds / bare <= 10,
                        key,
                    )
                )
            return out

        self._safely(("cli-help", "cli-list"), measure)

    def py_start(self) -> None:
        def measure() -> list[Goal]:
            source = self.workdir / "one_task.py"
            source.write_text(ONE_TASK_PY)
            runs = [self.pipeyard.run_file(source, 1, self._limit(self.timeout)) for _ in range(3)]
            seconds = statistics.median(r.seconds for r in runs)
            cpu = statistics.median(r.cpu_seconds for r in runs)
            return [Goal("", f"{seconds:.2f} s (CPU {cpu:.2f} s)", "-", "", seconds <= 0.6, "py-start")]

        self._safely(("py-start",), measure)

    # -- from the peers table's rows ----------------------------------------------------------

    def from_rows(self, rows: dict[str, dict[str, Measurement]]) -> None:
        """The one-task start and the per-task marginal, read from the single and chain rows."""
        single, chained = rows.get("single", {}), rows.get(self.sizes.chain, {})

        def median(row: dict[str, Measurement], engine: str) -> float | None:
            return row[engine].median if engine in row else None

        p_single, k_single = median(single, "pipeyard"), median(single, "kfp.local")
        if p_single is not None and k_single is not None:
            start = p_single / k_single
            self._put(Goal("", f"{p_single:.2f} s vs {k_single:.2f} s", f"{start:.2f}", "", start <= 0.25, "one-task"))
        else:
            self._put(Goal("", "needs pipeyard and kfp.local's single row", "-", "", None, "one-task"))

        def marginal(engine: str) -> float | None:
            one, many = median(single, engine), median(chained, engine)
            if one is None or many is None:
                return None
            return 1000 * (many - one) / (self.sizes.chain_tasks - 1)

        mine, theirs = marginal("pipeyard"), marginal("kfp.local")
        self._single, self._kfp_marginal_ms, self._short_ms = single.get("pipeyard"), theirs, mine
        if mine is None:
            why = f"pipeyard's single or {self.sizes.chain} row missing"
            self._put(Goal("", why, "-", "", None, "per-task"))
            return
        ratio = theirs / mine if theirs is not None and mine > 0 else None
        # On a loaded machine the short chain's wall difference can drown in noise (even come out
        # negative); its CPU difference is steadier, and the long chain reads it again later.
        one_cpu, many_cpu = single["pipeyard"].cpu_seconds, chained["pipeyard"].cpu_seconds
        cpu = (
            f", {1000 * (statistics.median(many_cpu) - statistics.median(one_cpu)) / (self.sizes.chain_tasks - 1):.1f} ms CPU"
            if one_cpu and many_cpu
            else ""
        )
        self._put(
            Goal(
                "",
                f"{mine:.1f} ms wall{cpu}" + ("" if theirs is None else f" (kfp.local {theirs:.0f} ms)"),
                "-" if ratio is None else f"{ratio:.0f}x faster",
                "",
                mine <= 5 and ratio is not None and ratio >= 100,
                "per-task",
            )
        )

    def iris(self, rows: dict[str, dict[str, Measurement]]) -> None:
        """The iris example again, in the same home, without the cache: its warm imports."""
        first = rows.get("iris", {}).get("pipeyard", Measurement()).median
        k_iris = rows.get("iris", {}).get("kfp.local", Measurement()).median

        def measure() -> list[Goal]:
            second = self.pipeyard.run_file(self.compiled["iris"], 4, self._limit(self.timeout)).seconds
            return [
                Goal(
                    "",
                    f"{second:.1f} s vs " + ("(1st not measured)" if first is None else f"{first:.1f} s"),
                    f"{second / first:.2f}" if first else "-",
                    "",
                    None if not first else second / first <= 0.3,
                    "iris-2nd",
                ),
                Goal(
                    "",
                    "kfp.local not measured" if k_iris is None else f"{second:.1f} s vs {k_iris:.1f} s",
                    "-" if k_iris is None else f"{k_iris / second:.1f}x faster",
                    "",
                    None if k_iris is None else k_iris / second >= 5,
                    "iris-kfp",
                ),
            ]

        self._safely(("iris-2nd", "iris-kfp"), measure)

    # -- the long ones ------------------------------------------------------------------------

    def load(self) -> None:
        runs = self.sizes.load_runs

        def measure() -> list[Goal]:
            result = submit_many(self.pipeyard.cli, self.workdir / "load-home", self.compiled["single"], runs, self._limit(self.long_timeout))
            return [
                Goal(
                    "",
                    f"{result.succeeded}/{result.runs} succeeded in {result.seconds:.0f} s",
                    f"{result.seconds / runs * 1000:.0f} ms/run",
                    "",
                    result.succeeded == result.runs,
                    "load",
                ),
                Goal(
                    "",
                    f"{result.list_p95_ms:.0f} ms (p50 {result.list_p50_ms:.0f}, n={result.list_samples}); "
                    f"server peak RSS {result.server_peak_rss_mb:.0f} MB",
                    "-",
                    "",
                    result.list_p95_ms <= 100,
                    "load-p95",
                ),
            ]

        self._safely(("load", "load-p95"), measure)

    def fan_out(self) -> None:
        width = self.sizes.width

        def measure() -> list[Goal]:
            fan_path, chain_path = fan_out(width).compile(self.workdir), chain(width).compile(self.workdir)
            fan = self.pipeyard.run_file(fan_path, width, self._limit(self.long_timeout)).seconds
            self.log(f"  fan-out {width}: {fan:.1f} s")
            chained = self.pipeyard.run_file(chain_path, width, self._limit(self.long_timeout))
            seq = chained.seconds
            out = [Goal("", f"{fan:.1f} s vs {seq:.1f} s", f"{fan / seq:.2f}", "", fan / seq <= 0.6, "fan-out")]
            per_task = self._long_chain_marginal(chained, width)
            return out if per_task is None else [*out, per_task]

        self._safely(("fan-out",), measure)

    def _long_chain_marginal(self, chained: Completed, width: int) -> Goal | None:
        """The per-task goal again from chain-1000: 40x the signal of the short chain's, which the
        noise of a shared machine can swamp (the short chain's reading stays in the text)."""
        single = self._single
        if single is None or single.median is None or not single.cpu_seconds:
            return None
        wall = 1000 * (chained.seconds - single.median) / (width - 1)
        cpu = 1000 * (chained.cpu_seconds - statistics.median(single.cpu_seconds)) / (width - 1)
        short = self._short_ms
        theirs = self._kfp_marginal_ms
        ratio = theirs / wall if theirs is not None and wall > 0 else None
        return Goal(
            f"per-task marginal (chain-{width}; {self.sizes.chain} in brackets)",
            f"{wall:.1f} ms wall, {cpu:.1f} ms CPU"
            + ("" if theirs is None else f" (kfp.local {theirs:.0f} ms)")
            + ("" if short is None else f" [{short:.1f} ms]"),
            "-" if ratio is None else f"{ratio:.0f}x faster",
            "",
            wall <= 5 and ratio is not None and ratio >= 100,
            "per-task",
        )

    def big_loop(self, rows: dict[str, dict[str, Measurement]]) -> Path:
        items = self.sizes.big_loop
        small = rows.get(self.sizes.loop, {}).get("pipeyard", Measurement()).median
        big_path = loop(items).compile(self.workdir)

        def measure() -> list[Goal]:
            completed = self.pipeyard.run_file(big_path, items, self._limit(self.long_timeout))
            ratio = completed.seconds / small if small else None
            return [
                Goal(
                    "",
                    f"{completed.seconds:.0f} s, peak RSS {completed.peak_rss_mb:.0f} MB",
                    f"{ratio:.1f}x {self.sizes.loop}" if ratio is not None else f"({self.sizes.loop} not measured)",
                    "",
                    completed.peak_rss_mb <= 500 and ratio is not None and ratio <= 12,
                    "big-loop",
                )
            ]

        self._safely(("big-loop",), measure)
        return big_path

    def server_loop(self, big_path: Path) -> None:
        def measure() -> list[Goal]:
            home = self.workdir / "server-loop-home"
            state, seconds, rss = run_through_server(self.pipeyard.cli, home, big_path, self._limit(self.long_timeout))
            met = state == "SUCCEEDED" and rss <= 500
            return [Goal("", f"{state}, {seconds:.0f} s, server peak RSS {rss:.0f} MB", "-", "", met, "server-loop")]

        self._safely(("server-loop",), measure)
