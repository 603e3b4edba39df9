"""Always run a clean-up step with ``dsl.ExitHandler``, and tell it how the guarded steps ended.

The exit task runs whether the work succeeds or fails; ``PipelineTaskFinalStatus`` tells it which:
``state`` is ``FAILED`` after a failure and, as on a KFP cluster, ``COMPLETE`` after success
(kfp.local says ``SUCCEEDED`` instead).
Try both: ``pipeyard run examples/exit_handler.py`` and ``... --arg should_fail=true``.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.
from kfp import dsl
from kfp.dsl import PipelineTaskFinalStatus

# The local launcher ignores the image; naming it keeps kfp from warning about its default changing.
BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def do_work(should_fail: bool) -> str:
    print("Doing the work")
    if should_fail:
        raise RuntimeError("the work failed, as requested by should_fail")
    return "work done"


@dsl.component(base_image=BASE_IMAGE)
def clean_up(status: PipelineTaskFinalStatus) -> str:
    # The pipeline's final state is known only to the exit task, via this injected status.
    print(f"Cleaning up after {status.pipeline_task_name}: state={status.state}")
    if status.error_message:
        print(f"Error: {status.error_message}")
    return status.state


@dsl.pipeline(name="exit-handler-pipeline", description="Run a step inside an exit handler.")
def exit_handler_pipeline(should_fail: bool = False) -> None:
    cleanup = clean_up()
    with dsl.ExitHandler(exit_task=cleanup, name="guarded-work"):
        do_work(should_fail=should_fail)


if __name__ == "__main__":
    from kfp import compiler

    compiler.Compiler().compile(exit_handler_pipeline, "exit_handler_pipeline.yaml")
