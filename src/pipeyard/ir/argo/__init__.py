"""KFP v1 front end: Argo Workflows compiled by kfp 1.x, translated into KFP's IR."""

from __future__ import annotations

from typing import Any

from pipeyard.ir.argo.workflow import is_argo_workflow, is_kfp_v1_workflow, translate_workflow

ACCEPTED = ("pipeyard accepts a KFP v2 pipeline spec (IR YAML/JSON compiled by kfp 2.x) or an "
            "Argo Workflow compiled by kfp 1.x")


def describe_document(doc: Any) -> str:
    """What a document that is not a pipeline is, for an error message."""
    if is_argo_workflow(doc):
        return ("an Argo Workflow that kfp 1.x did not compile (no pipelines.kubeflow.org/* "
                "annotations or labels)")
    if isinstance(doc, dict):
        kind, api = doc.get("kind"), doc.get("apiVersion")
        if kind and api:
            return f"a {api} {kind} document"
        keys = ", ".join(sorted(str(k) for k in doc)[:8])
        return f"a mapping with keys {keys}" if keys else "an empty mapping"
    if isinstance(doc, list):
        return "a list"
    return f"a {type(doc).__name__} value"


__all__ = ["ACCEPTED", "describe_document", "is_argo_workflow", "is_kfp_v1_workflow", "translate_workflow"]
