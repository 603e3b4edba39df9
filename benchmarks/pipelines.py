"""The pipelines the benchmark times: trivial Python tasks, so what is measured is per-task overhead."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def step(x: int) -> int:
    return x + 1


@dataclass(frozen=True)
class BenchPipeline:
    name: str
    tasks: int
    description: str
    build: Callable[[], Callable[..., object]]

    def compile(self, directory: Path) -> Path:
        path = directory / f"{self.name}.yaml"
        compiler.Compiler().compile(self.build(), str(path))
        return path


def chain(length: int) -> BenchPipeline:
    def build() -> Callable[..., object]:
        @dsl.pipeline(name=f"bench-chain-{length}")
        def pipeline() -> None:
            # Each task consumes the previous output, so nothing can overlap: pure sequential overhead.
            task = step(x=0)
            for _ in range(length - 1):
                task = step(x=task.output)

        return pipeline

    return BenchPipeline(f"chain-{length}", length, f"chain of {length} dependent tasks", build)


def fan_out(width: int) -> BenchPipeline:
    def build() -> Callable[..., object]:
        @dsl.pipeline(name=f"bench-fanout-{width}")
        def pipeline() -> None:
            for i in range(width):
                step(x=i)

        return pipeline

    return BenchPipeline(f"fanout-{width}", width, f"{width} independent tasks", build)


def loop(items: int) -> BenchPipeline:
    def build() -> Callable[..., object]:
        @dsl.pipeline(name=f"bench-loop-{items}")
        def pipeline() -> None:
            with dsl.ParallelFor(items=list(range(items))) as item:
                step(x=item)

        return pipeline

    return BenchPipeline(f"loop-{items}", items, f"ParallelFor over {items} items", build)


def suite(quick: bool) -> list[BenchPipeline]:
    """The pipelines to time; the first, a single task, is the baseline: the fixed cost of any run."""
    single = BenchPipeline("single", 1, "one task: the fixed cost of a run", chain(1).build)
    if quick:
        return [single, chain(5)]
    return [single, chain(20), fan_out(20), loop(100)]


def iris() -> BenchPipeline:
    """The repository's iris example (examples/iris_pipeline.py), four ML steps."""

    def build() -> Callable[..., object]:
        import importlib.util

        source = Path(__file__).resolve().parent.parent / "examples" / "iris_pipeline.py"
        spec = importlib.util.spec_from_file_location("bench_iris_example", source)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.iris_pipeline  # type: ignore[no-any-return]

    return BenchPipeline("iris", 4, "the iris example: load, split, train, evaluate", build)
