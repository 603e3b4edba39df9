"""KFP's Kubernetes-native pipeline format (``kfp dsl compile --kubernetes-manifest-format``).

The compiler writes a ``kind: PipelineVersion`` document (``apiVersion:
pipelines.kubeflow.org/v2beta1``) whose ``spec.pipelineSpec`` is the usual compiled
spec and ``spec.platformSpec`` the kfp-kubernetes platform spec, optionally preceded by
a ``kind: Pipeline`` document naming the pipeline. This module finds the spec inside
those documents so every place that takes a pipeline file takes this form too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeyard.errors import SpecError

API_GROUP = "pipelines.kubeflow.org/"
KINDS = frozenset({"Pipeline", "PipelineVersion"})


def is_manifest(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and doc.get("kind") in KINDS
        and str(doc.get("apiVersion") or "").startswith(API_GROUP)
    )


def unwrap(docs: Sequence[Any], source: str) -> tuple[Any, Any] | None:
    """(pipeline spec, platform spec or None) from the manifest documents, or None when
    the file is not in this format; SpecError when it is but holds no single version."""
    if not docs or not any(is_manifest(d) for d in docs):
        return None
    others = [d for d in docs if not is_manifest(d)]
    if others:
        raise SpecError(
            "a Kubernetes-format pipeline file may hold only kind: Pipeline and kind: "
            "PipelineVersion documents", where=source,
        )
    versions = [d for d in docs if d.get("kind") == "PipelineVersion"]
    if len(versions) != 1:
        found = "no" if not versions else str(len(versions))
        raise SpecError(
            f"a Kubernetes-format pipeline file needs exactly one kind: PipelineVersion "
            f"document (it holds the pipeline spec); found {found}", where=source,
        )
    spec = versions[0].get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("pipelineSpec"), dict):
        raise SpecError("the PipelineVersion document has no spec.pipelineSpec mapping", where=source)
    platform = spec.get("platformSpec")
    if platform is not None and not isinstance(platform, dict):
        raise SpecError("spec.platformSpec of the PipelineVersion document is not a mapping", where=source)
    return spec["pipelineSpec"], platform
