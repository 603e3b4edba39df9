"""The pipeline of the docker browser scenario (ui/e2e/docker.mjs).

python docker_pipelines.py OUT_YAML builds the test tools image (a static busybox plus
/opt/tools/produce, a program that exists only in the image; tests/support/docker_images.py)
and compiles a one-task container pipeline that runs it. Run with the repository root on
PYTHONPATH.
"""

import sys

from kfp import compiler, dsl
from kfp.dsl import Dataset, Output, OutputPath
from tests.support.docker_images import build_tools_image

TOOLS_IMAGE = build_tools_image()


@dsl.container_component
def produce(word: str, value: OutputPath(str), data: Output[Dataset]):  # type: ignore[valid-type]
    return dsl.ContainerSpec(image=TOOLS_IMAGE, command=["produce"], args=[word, value, data.path])


@dsl.pipeline(name="e2e-docker-produce")
def produce_pipeline(word: str = "browser") -> None:
    produce(word=word).set_env_variable("GREETING", "from-the-ui-test")


if __name__ == "__main__":
    compiler.Compiler().compile(produce_pipeline, sys.argv[1])
