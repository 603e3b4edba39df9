"""What a KFP user does with kfp.Client, for the UI's third end-to-end scenario
(ui/e2e/kfp_links.mjs).

python kfp_client_session.py HOST OUT_DIR compiles two pipelines with the kfp SDK,
then through kfp.Client(host=HOST): uploads one as a pipeline with a second
version, creates an experiment, runs the stored version, runs the package of the
same pipeline (no stored pipeline), runs a pipeline that fails in its first task,
waits for the three runs and prints one JSON line: the ids and every link
kfp.Client printed ("Run details: http://.../#/runs/details/<id>", ...).
"""

import contextlib
import io
import json
import re
import sys

from kfp import Client, compiler, dsl
from kfp.dsl import ClassificationMetrics, Dataset, Markdown, Metrics, Output

BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def score(metrics: Output[Metrics], evaluation: Output[ClassificationMetrics], notes: Output[Markdown]) -> None:
    metrics.log_metric("accuracy", 0.92)
    metrics.log_metric("f1", 0.9)
    evaluation.log_confusion_matrix(["cat", "dog"], [[9, 1], [2, 8]])
    evaluation.log_roc_curve([0.0, 0.2, 1.0], [0.0, 0.8, 1.0], [1.0, 0.5, 0.0])
    with open(notes.path, "w") as f:
        f.write("# Scores\n\n**accuracy** is 0.92 on the held-out set\n")


@dsl.component(base_image=BASE_IMAGE)
def publish(floor: float) -> str:
    print(f"publishing above {floor}", flush=True)
    return "published"


@dsl.pipeline(name="e2e-kfp-metrics", description="Metrics, a confusion matrix, a ROC curve and a Markdown note.")
def metrics_pipeline(floor: float = 0.5) -> None:
    s = score()
    publish(floor=floor).after(s)


@dsl.component(base_image=BASE_IMAGE)
def explode() -> int:
    raise RuntimeError("boom on purpose")


@dsl.component(base_image=BASE_IMAGE)
def double(x: int) -> int:
    return 2 * x


@dsl.component(base_image=BASE_IMAGE)
def summarise_the_quarterly_evaluation_for_the_release_review(
    evaluation_summary_for_the_quarterly_release_review_board: Output[Dataset],
) -> None:
    # long names: the graph wraps them rather than cutting them
    with open(evaluation_summary_for_the_quarterly_release_review_board.path, "w") as f:
        f.write("ok\n")


@dsl.pipeline(name="e2e-kfp-broken", description="Fails in its first task; the two after it never run.")
def broken_pipeline() -> None:
    summarise_the_quarterly_evaluation_for_the_release_review()
    a = explode()
    b = double(x=a.output)
    double(x=b.output)


def main() -> None:
    host, out = sys.argv[1], sys.argv[2]
    c = compiler.Compiler()
    c.compile(metrics_pipeline, f"{out}/metrics.yaml")
    c.compile(metrics_pipeline, f"{out}/metrics-v2.yaml", pipeline_parameters={"floor": 0.8})
    c.compile(broken_pipeline, f"{out}/broken.yaml")

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        client = Client(host=host)
        pipeline = client.upload_pipeline(f"{out}/metrics.yaml", pipeline_name="e2e-kfp-metrics")
        version = client.upload_pipeline_version(
            f"{out}/metrics-v2.yaml", pipeline_version_name="floor 0.8", pipeline_id=pipeline.pipeline_id
        )
        experiment = client.create_experiment("e2e kfp links")
        stored = client.run_pipeline(
            experiment_id=experiment.experiment_id,
            job_name="stored version run",
            pipeline_id=pipeline.pipeline_id,
            version_id=version.pipeline_version_id,
        )
        package = client.create_run_from_pipeline_package(
            f"{out}/metrics.yaml", run_name="package run", experiment_name="e2e kfp links"
        )
        failing = client.create_run_from_pipeline_package(
            f"{out}/broken.yaml", run_name="broken run", experiment_name="e2e kfp links"
        )
        states = {}
        for name, run_id in (("stored", stored.run_id), ("package", package.run_id), ("broken", failing.run_id)):
            states[name] = client.wait_for_run_completion(run_id, timeout=300, sleep_duration=1).state
    links = dict(re.findall(r"^(\w+) details: (\S+)$", printed.getvalue(), flags=re.M))
    all_links = re.findall(r"^\w+ details: (\S+)$", printed.getvalue(), flags=re.M)
    print(json.dumps({
        "pipeline_id": pipeline.pipeline_id,
        "version_id": version.pipeline_version_id,
        "experiment_id": experiment.experiment_id,
        "runs": {"stored": stored.run_id, "package": package.run_id, "broken": failing.run_id},
        "states": states,
        "links": all_links,
        "last_link_by_kind": links,
    }))


if __name__ == "__main__":
    main()
