"""KFP components that pipeyard provides.

``deploy_model`` compiles into ordinary KFP IR (a Python component), so a pipeline that
uses it still compiles for any KFP backend; what it does when it runs is pipeyard's:
under ``pipeyard server`` it creates or updates a deployment of its model that the
server keeps serving, and outputs the deployment's URL (see pipeyard.serving.from_task).
On a KFP cluster, KServe's own component (an InferenceService) takes this place.
"""

# No `from __future__ import annotations`: kfp reads the component's signature when the
# decorator runs and cannot interpret string annotations such as "Input[Model]".
from kfp import dsl
from kfp.dsl import Input, Model

__all__ = ["deploy_model"]


@dsl.component(base_image="python:3.11")
def deploy_model(
    model: Input[Model],
    name: str,
    action: str = "apply",
    runtime: str = "kserve",
    replicas: int = 1,
) -> str:
    """Serve ``model`` as deployment ``name`` (action "apply") or remove it ("delete");
    returns the deployment's URL (empty after a delete)."""
    from pipeyard.serving.from_task import deploy_from_task

    return deploy_from_task(model.uri, name=name, action=action, runtime=runtime, replicas=replicas)
