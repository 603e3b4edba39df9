"""kfp 1.8 ContainerOps: file_outputs, a directory artifact, metrics and UI metadata,
an artifact passed by path and packages_to_install."""
import kfp
from kfp import dsl
from kfp.components import InputPath, OutputPath, create_component_from_func


@create_component_from_func
def make_dir(out_dir: OutputPath(), mlpipeline_ui_metadata_path: OutputPath("UI_Metadata"),
             mlpipeline_metrics_path: OutputPath("Metrics")):
    import json
    import os
    os.makedirs(out_dir)
    for name in ("a.txt", "b.txt"):
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(name.upper())
    with open(os.path.join(out_dir, "cm.csv"), "w") as f:
        f.write("cat,cat,3\ncat,dog,1\ndog,dog,4\n")
    metadata = {"outputs": [
        {"type": "markdown", "storage": "inline", "source": "# Hello v1"},
        {"type": "confusion_matrix", "format": "csv",
         "schema": [{"name": "target", "type": "CATEGORY"}, {"name": "predicted", "type": "CATEGORY"},
                    {"name": "count", "type": "NUMBER"}],
         "source": os.path.join(out_dir, "cm.csv"), "labels": ["cat", "dog"]},
        {"type": "tensorboard", "source": "gs://bucket/logs"},
    ]}
    with open(mlpipeline_ui_metadata_path, "w") as f:
        json.dump(metadata, f)
    with open(mlpipeline_metrics_path, "w") as f:
        json.dump({"metrics": [{"name": "accuracy-score", "numberValue": 0.875, "format": "PERCENTAGE"}]}, f)


@create_component_from_func
def count_files(in_dir: InputPath()) -> int:
    import os
    return len(os.listdir(in_dir))


def yaml_size(text: str) -> int:
    import yaml  # from packages_to_install
    return len(yaml.safe_load(text))


yaml_size_op = create_component_from_func(yaml_size, packages_to_install=["PyYAML"])


@dsl.pipeline(name="v1-containerop")
def containerop(msg: str = "hello"):
    write = dsl.ContainerOp(
        name="write",
        image="alpine",
        command=["sh", "-c"],
        arguments=[f"mkdir -p /tmp/pipeyard-v1-test && echo {msg}-{{{{workflow.uid}}}} > /tmp/pipeyard-v1-test/out.txt"],
        file_outputs={"out": "/tmp/pipeyard-v1-test/out.txt"},
    )
    dsl.ContainerOp(name="read", image="alpine", command=["sh", "-c", 'echo "got: $0"', write.outputs["out"]])
    d = make_dir()
    count_files(d.outputs["out_dir"])
    yaml_size_op("[1, 2, 3]")


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(containerop, __file__ + ".yaml")
