"""How long a peers run will take, and which engine cannot finish a workload within its timeout.

Before anything runs, a rough model (fixed start-up plus a per-task cost for each engine, as
measured on a 2-core machine with little load) gives an expected time, and the sum of every
step's timeout gives the bound. Once an engine's single and chain rows are measured, its own
per-task cost predicts the bigger workloads: one that would exceed the timeout even spread over
every core is skipped and marked with the estimate, instead of spending the timeout to learn it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from measure import Measurement

# (start-up s, per task s, iris s) on the 2-core development machine, nearly idle; only an estimate.
MODEL = {
    "pipeyard": (1.2, 0.03, 12.0),
    "kfp.local": (1.3, 0.55, 14.0),
    "dagster": (6.0, 1.2, 25.0),
    "prefect": (5.0, 0.08, 14.0),
}
CPUS = os.cpu_count() or 1
Table = dict[str, tuple[str, int, dict[str, Measurement]]]  # workload -> (kind, tasks, results)


@dataclass
class Estimator:
    engines: list[str]
    timeout: float
    long_timeout: float
    repeat: int

    def _workload(self, engine: str, kind: str, tasks: int) -> float:
        start, per_task, iris = MODEL[engine]
        if kind == "iris":
            return iris
        spread = CPUS if kind in ("fanout", "loop") else 1
        return start + tasks * per_task / spread

    def describe(
        self, workloads: list[tuple[str, str, int]], *, goals: bool, quick: bool, budget: float | None = None
    ) -> str:
        expected = bound = 0.0
        for _, kind, tasks in workloads:
            for engine in self.engines:
                expected += self.repeat * min(self.timeout, self._workload(engine, kind, tasks))
                bound += self.repeat * self.timeout
        if goals:
            width, big, runs = (10, 30, 5) if quick else (1000, 10_000, 200)
            quick_goals = 15 * 1.0 + 3 * 1.5 + 12.0  # CLI start (15 commands), .py start, iris 2nd run
            long_goals = [
                0.3 * runs + 10,  # the load: server start and the runs
                2 * 1.2 + width * 0.03 * (1 + 1 / CPUS),  # fan-out then chain
                1.2 + big * 0.03,  # the big loop
            ]
            expected += quick_goals + sum(min(self.long_timeout, g) for g in long_goals)
            bound += 15 * 120 + 4 * self.timeout + 4 * self.long_timeout  # fan-out + chain: 2 long timeouts
        if budget is not None:
            bound = min(bound, 60 * budget)
        load = os.getloadavg()[0]
        factor = max(1.0, (load + 1) / CPUS)
        return (
            f"Estimate: about {expected / 60:.0f} min on a quiet {CPUS}-CPU machine, perhaps {min(bound, expected * factor) / 60:.0f} min"
            f" at the current load average {load:.1f}; at most {bound / 60:.0f} min (every step stops at its"
            f" timeout: {self.timeout:.0f} s per workload run, {self.long_timeout:.0f} s per long goal)"
        )

    def why_skip(self, engine: str, kind: str, tasks: int, table: Table) -> str | None:
        """Why ``engine`` should not attempt this workload, or None to run it."""
        if kind in ("single", "iris"):
            return None
        for name, (other_kind, other_tasks, results) in table.items():
            measured = results.get(engine)
            # This row is not measured yet, so a timeout found is on another, no bigger, workload.
            if measured is None or other_kind == "iris" or other_tasks > tasks or measured.error is None:
                continue
            if measured.error.startswith("timeout"):
                return f"timed out on {name}"
        if kind == "chain":
            return None
        single = next((r[engine].median for k, _, r in table.values() if k == "single" and engine in r), None)
        chained = next(((r[engine].median, n) for k, n, r in table.values() if k == "chain" and engine in r), None)
        if single is None or chained is None or chained[0] is None or chained[1] < 2:
            return None
        per_task = max(0.0, (chained[0] - single) / (chained[1] - 1))
        # Even with every task overlapping on every core it would not finish: not worth the timeout.
        best_case = single + tasks * per_task / CPUS
        if best_case > self.timeout:
            return f"est. {best_case:.0f} s > {self.timeout:.0f} s"
        return None
