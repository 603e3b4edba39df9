"""The peers benchmark's bound: which engine it does not let attempt a workload, and how a
skipped or timed-out cell reads (benchmarks/estimate.py, benchmarks/measure.py)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> Iterator[tuple[ModuleType, ModuleType]]:
    # The benchmark scripts import each other by bare name, as they do when run from benchmarks/;
    # the bare names leave sys.modules afterwards so they shadow nothing else.
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("estimate"), importlib.import_module("measure")
    finally:
        sys.path.remove(str(BENCH))
        for name in ("estimate", "measure"):
            sys.modules.pop(name, None)


def test_an_engine_whose_rows_predict_a_timeout_is_skipped_with_its_estimate(bench: tuple[ModuleType, ModuleType]) -> None:
    estimate, measure = bench
    slow = {"single": measure.Measurement(seconds=[10.0]), "chain": measure.Measurement(seconds=[34.0])}
    fast = {"single": measure.Measurement(seconds=[1.0]), "chain": measure.Measurement(seconds=[1.5])}
    # workload -> (kind, tasks, results per engine), as peers.py passes it
    table = {
        "single": ("single", 1, {"kfp.local": slow["single"], "pipeyard": fast["single"]}),
        "chain-25": ("chain", 25, {"kfp.local": slow["chain"], "pipeyard": fast["chain"]}),
    }
    estimator = estimate.Estimator(["pipeyard", "kfp.local"], timeout=150, long_timeout=600, repeat=1)
    # kfp.local: 1 s per task; 1,000 tasks over 2 cores is still 10 + 500 s > 150 s.
    reason = estimator.why_skip("kfp.local", "loop", 1000, table)
    assert reason == f"est. {10 + 1000 * 1.0 / estimate.CPUS:.0f} s > 150 s"
    assert estimator.why_skip("pipeyard", "loop", 1000, table) is None
    # The single and iris rows are always attempted: they are what the estimate is made from.
    assert estimator.why_skip("kfp.local", "iris", 4, table) is None


def test_a_timeout_on_a_smaller_workload_skips_the_bigger_ones(bench: tuple[ModuleType, ModuleType]) -> None:
    estimate, measure = bench
    timed_out = measure.Measurement(error="timeout: timeout after 150 s")
    table = {
        "single": ("single", 1, {"dagster": measure.Measurement(seconds=[30.0])}),
        "chain-25": ("chain", 25, {"dagster": timed_out}),
    }
    estimator = estimate.Estimator(["pipeyard", "dagster"], timeout=150, long_timeout=600, repeat=1)
    assert estimator.why_skip("dagster", "fanout", 100, table) == "timed out on chain-25"
    assert estimator.why_skip("dagster", "iris", 4, table) is None
    assert timed_out.cell == "timeout (150 s)"
    skipped = measure.Measurement(skipped=True, reason="timed out on chain-25")
    assert skipped.cell == "skipped (timed out on chain-25)"
    assert measure.Measurement().cell == "not reached"
