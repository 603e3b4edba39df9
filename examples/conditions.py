"""Branch with ``dsl.If`` / ``dsl.Elif`` / ``dsl.Else``; ``dsl.OneOf`` returns whichever branch ran.

By default the number is random; pass one to choose the branch:
``pipeyard run examples/conditions.py --arg number=80``.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.
from kfp import dsl

# The local launcher ignores the image; naming it keeps kfp from warning about its default changing.
BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def pick_number(requested: int) -> int:
    import random

    # Anything outside 0..100 means "surprise me", so the default run exercises a random branch.
    number = requested if 0 <= requested <= 100 else random.randint(0, 100)
    print(f"Picked {number}")
    return number


@dsl.component(base_image=BASE_IMAGE)
def describe(number: int, verdict: str) -> str:
    message = f"{number} is {verdict}"
    print(message)
    return message


@dsl.pipeline(name="conditions-pipeline", description="Take one of three branches depending on a number.")
def conditions_pipeline(number: int = -1) -> str:
    picked = pick_number(requested=number)
    with dsl.If(picked.output > 66, name="high"):
        high = describe(number=picked.output, verdict="high")
    with dsl.Elif(picked.output > 33, name="medium"):
        medium = describe(number=picked.output, verdict="medium")
    with dsl.Else(name="low"):
        low = describe(number=picked.output, verdict="low")
    return dsl.OneOf(high.output, medium.output, low.output)


if __name__ == "__main__":
    from kfp import compiler

    compiler.Compiler().compile(conditions_pipeline, "conditions_pipeline.yaml")
