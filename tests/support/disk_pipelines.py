"""The two pipelines of the full-disk tests (tests/integration/test_disk_full.py through
the CLI, test_server_disk_full.py through a server): one whose task writes far more than
the test's small disk holds, and a small one that must work again afterwards."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

from kfp import dsl

# The size of the tmpfs the tests mount as PIPEYARD_HOME.
SIZE_MB = 48


@dsl.component(base_image="python:3.11")
def fill(out: dsl.Output[dsl.Dataset]) -> None:
    block = b"x" * (1 << 20)
    with open(out.path, "wb") as f:
        for _ in range(1000):  # far more than the disk holds
            f.write(block)
            f.flush()


@dsl.pipeline(name="fill-disk")
def fill_pipeline() -> None:
    fill().set_caching_options(False)


@dsl.component(base_image="python:3.11")
def small() -> str:
    return "fine"


@dsl.pipeline(name="small")
def small_pipeline() -> str:
    return small().output
