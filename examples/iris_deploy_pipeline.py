"""Train the iris classifier and deploy it as the pipeline's last step.

The steps are those of ``iris_pipeline.py``; ``deploy_model`` (from ``pipeyard.components``)
then serves the trained Model as the deployment ``iris`` and returns its URL. Run it through
a server, which keeps the deployment alive after the run ends:

    pipeyard server &
    pipeyard run examples/iris_deploy_pipeline.py --server http://127.0.0.1:8888
    curl -H 'Content-Type: application/json' -d '{"instances": [[6.7, 3.0, 5.2, 2.3]]}' \\
        "$(pipeyard deployments list --json | jq -r '.deployments[0].url')/v1/models/iris:predict"

The pipeline still compiles for a KFP cluster; there, KServe's component (an
InferenceService) would take deploy_model's place.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.
from iris_pipeline import evaluate, load_data, preprocess, train
from kfp import dsl

from pipeyard.components import deploy_model


@dsl.pipeline(
    name="iris-deploy-pipeline",
    description="Train and evaluate the iris classifier, then serve it as the deployment 'iris'.",
)
def iris_deploy_pipeline(
    deployment_name: str = "iris",
    C: float = 1.0,
    max_iter: int = 200,
    test_size: float = 0.3,
    random_state: int = 42,
) -> str:
    load_task = load_data()
    preprocess_task = preprocess(
        raw_data=load_task.outputs["raw_data"], test_size=test_size, random_state=random_state
    )
    train_task = train(
        train_data=preprocess_task.outputs["train_data"], max_iter=max_iter, C=C, random_state=random_state
    )
    evaluate_task = evaluate(
        model=train_task.outputs["model"], test_data=preprocess_task.outputs["test_data"], roc_class=2
    )
    deploy_task = deploy_model(model=train_task.outputs["model"], name=deployment_name)
    # Serve only a model that passed evaluation; and always act, never reuse a cached URL:
    # the deployment is state outside the run, which a cache hit would not recreate.
    deploy_task.after(evaluate_task)
    deploy_task.set_caching_options(False)
    return deploy_task.output


if __name__ == "__main__":
    from kfp import compiler

    compiler.Compiler().compile(iris_deploy_pipeline, "iris_deploy_pipeline.yaml")
