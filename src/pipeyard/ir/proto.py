"""KFP's ``pipeline_spec_pb2``, imported without the half second ``kfp/__init__`` costs.

The proto classes live in the ``kfp`` package (``kfp.pipeline_spec``, installed by
``kfp-pipeline-spec``), so importing them runs ``kfp/__init__.py``, which imports
``kfp.dsl`` and ``kfp.client`` - and through the client the whole Kubernetes client -
unless ``_KFP_RUNTIME=true``, the switch KFP's own executor uses for the same reason.
Reading a spec needs none of that, so this module imports ``kfp`` with the switch on
when nobody imported it yet, and then makes the names the switch skipped
(``kfp.dsl``, ``kfp.components``, ``kfp.Client``) resolve on first use, so code that
later does ``import kfp; kfp.Client(...)`` in the same process still works.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any

_SKIPPED = {"dsl": "kfp.dsl", "components": "kfp.components", "Client": "kfp.client"}


def _lazy_kfp_attribute(name: str) -> Any:
    target = _SKIPPED.get(name)
    if target is None:
        raise AttributeError(f"module 'kfp' has no attribute {name!r}")
    module = importlib.import_module(target)
    return module.Client if name == "Client" else module


def _import_kfp_lightly() -> None:
    if "kfp" in sys.modules:
        return
    previous = os.environ.get("_KFP_RUNTIME")
    os.environ["_KFP_RUNTIME"] = "true"
    try:
        kfp = importlib.import_module("kfp")
    finally:
        # kfp.dsl reads the switch too when it is imported: later imports must see the caller's value.
        if previous is None:
            del os.environ["_KFP_RUNTIME"]
        else:
            os.environ["_KFP_RUNTIME"] = previous
    if isinstance(kfp, types.ModuleType) and not hasattr(kfp, "Client"):
        kfp.__getattr__ = _lazy_kfp_attribute  # type: ignore[method-assign]


_import_kfp_lightly()

from google.protobuf import json_format  # noqa: E402 - after kfp's light import, on purpose
from kfp.pipeline_spec import pipeline_spec_pb2  # noqa: E402

__all__ = ["json_format", "pipeline_spec_pb2"]
