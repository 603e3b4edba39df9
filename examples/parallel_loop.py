"""Fan out over a list with ``dsl.ParallelFor``, then fan back in with ``dsl.Collected``.

Run it with ``pipeyard run examples/parallel_loop.py --arg 'numbers=[1,2,3,4,5,6]'``.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.
from kfp import dsl

# The local launcher ignores the image; naming it keeps kfp from warning about its default changing.
BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def square(number: int) -> int:
    result = number * number
    print(f"{number} squared is {result}")
    return result


@dsl.component(base_image=BASE_IMAGE)
def add_up(values: list[int]) -> int:
    # Collected values travel as JSON numbers, and some backends (kfp.local among them) hand ints
    # back as floats; converting keeps the declared int return type honest everywhere.
    total = sum(int(value) for value in values)
    print(f"Sum of {sorted(int(value) for value in values)} is {total}")
    return total


@dsl.pipeline(name="parallel-loop-pipeline", description="Square each number in parallel, then sum them.")
def parallel_loop_pipeline(numbers: list[int] = [1, 2, 3, 4, 5]) -> int:  # noqa: B006 - KFP reads the default from the signature
    # parallelism caps how many iterations run at once; the rest wait for a free slot.
    with dsl.ParallelFor(items=numbers, parallelism=3) as number:
        squared = square(number=number)
    return add_up(values=dsl.Collected(squared.output)).output


if __name__ == "__main__":
    from kfp import compiler

    compiler.Compiler().compile(parallel_loop_pipeline, "parallel_loop_pipeline.yaml")
