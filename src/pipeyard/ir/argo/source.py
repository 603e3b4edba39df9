"""Recognise a pipeline file written with the kfp 1.x SDK from its source text.

Only names that kfp 2 removed count: a kfp 2 file may also call
``Compiler().compile`` or ``load_component_from_file``.
"""

from __future__ import annotations

import re

_V1_APIS = re.compile(
    r"\b(create_component_from_func|func_to_container_op|ContainerOp|VolumeOp|ResourceOp|"
    r"build_python_component|InputBinaryFile|OutputBinaryFile|PipelineExecutionMode\.V1_LEGACY|"
    r"dsl\.get_pipeline_conf|kfp\.gcp|use_gcp_secret)\b"
)


def uses_kfp1(source: str) -> bool:
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())
    return _V1_APIS.search(code) is not None


def kfp1_apis(source: str) -> list[str]:
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())
    return sorted(set(_V1_APIS.findall(code)))
