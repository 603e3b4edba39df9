"""The classic first Kubeflow pipeline: two steps, the second after the first.

Run it with ``pipeyard run examples/sequential.py``.
"""

# No `from __future__ import annotations` here: kfp reads component signatures at decoration
# time and cannot interpret string annotations such as "None" or "Output[Dataset]".
from kfp import dsl

# The local launcher ignores the image; naming it keeps kfp from warning about its default changing.
BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def process_data() -> None:
    print("Processing Data")


@dsl.component(base_image=BASE_IMAGE)
def train_model() -> None:
    print("Training ML Model")


@dsl.pipeline(name="sequential-pipeline", description="Process data, then train a model.")
def sequential_pipeline() -> None:
    process = process_data()
    # No data flows between the two steps, so the order has to be stated explicitly.
    train_model().after(process)


if __name__ == "__main__":
    from kfp import compiler

    compiler.Compiler().compile(sequential_pipeline, "sequential_pipeline.yaml")
