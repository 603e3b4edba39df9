"""The pipeline of the UI's KFP-features scenario (ui/e2e/kfp_features.mjs).

python kfp_features_pipelines.py OUT_DIR writes OUT_DIR/choose.yaml in KFP's
Kubernetes-native format (kind: Pipeline + kind: PipelineVersion): a root input
artifact ``data`` and a parameter ``mode`` limited to "fast" / "slow" (the
``literals`` a Literal[...] annotation stands for; kfp 2.17.3 does not write them).
"""

import sys
from pathlib import Path

import yaml
from kfp import compiler, dsl
from kfp.compiler.compiler_utils import KubernetesManifestOptions


@dsl.component(base_image="python:3.11")
def combine(mode: str, data: dsl.Input[dsl.Dataset]) -> str:
    with open(data.path) as f:
        return f"{mode}:{f.read().strip()}"


@dsl.pipeline(name="e2e-choose", description="A literal parameter and a root input artifact.")
def choose(data: dsl.Input[dsl.Dataset], mode: str = "fast") -> str:
    return combine(mode=mode, data=data).output


def main(out_dir: str) -> None:
    out = Path(out_dir) / "choose.yaml"
    compiler.Compiler().compile(
        choose, str(out), kubernetes_manifest_format=True,
        kubernetes_manifest_options=KubernetesManifestOptions(pipeline_name="e2e-choose",
                                                              include_pipeline_manifest=True))
    docs = list(yaml.safe_load_all(out.read_text()))
    docs[1]["spec"]["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]["mode"]["literals"] = ["fast", "slow"]
    out.write_text(yaml.safe_dump_all(docs, sort_keys=False))


if __name__ == "__main__":
    main(sys.argv[1])
