"""Per-task settings of a v1 workflow: retries, caching, dependencies; and steps as DAGs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pipeyard.errors import SpecError

KFP_PREFIX = "pipelines.kubeflow.org/"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")


def _seconds(value: Any, where: str) -> str:
    m = _DURATION.match(str(value).strip())
    if m is None:
        raise SpecError(f"cannot read duration {value!r}", where=where)
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return f"{float(m.group(1)) * scale:g}s"


def steps_as_dag(template: Mapping[str, Any]) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = []
    previous: list[str] = []
    for group in template.get("steps") or []:
        steps = group if isinstance(group, list) else [group]
        names = []
        for s in steps:
            task = dict(s)
            if previous:
                task["dependencies"] = list(previous)
            tasks.append(task)
            names.append(s["name"])
        previous = names
    out = {k: v for k, v in template.items() if k != "steps"}
    out["dag"] = {"tasks": tasks}
    return out



def leaf_options(template: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    meta = template.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    staleness = str(annotations.get(KFP_PREFIX + "max_cache_staleness", labels.get(
        KFP_PREFIX + "max_cache_staleness", "")))
    enabled = str(labels.get(KFP_PREFIX + "enable_caching", "true")).lower() != "false"
    out["cachingOptions"] = {"enableCache": enabled and staleness not in ("P0D", "0", "PT0S")}
    retry = template.get("retryStrategy")
    if retry:
        policy: dict[str, Any] = {"maxRetryCount": int(str(retry.get("limit", 0)))}
        backoff = retry.get("backoff") or {}
        if backoff.get("duration"):
            policy["backoffDuration"] = _seconds(backoff["duration"], where)
        if backoff.get("factor"):
            policy["backoffFactor"] = float(str(backoff["factor"]))
        if backoff.get("maxDuration"):
            policy["backoffMaxDuration"] = _seconds(backoff["maxDuration"], where)
        out["retryPolicy"] = policy
    return out



def dependencies(t: Mapping[str, Any], where: str) -> list[str]:
    deps = [str(d) for d in t.get("dependencies") or []]
    depends = t.get("depends")
    if depends:
        for term in str(depends).split("&&"):
            term = term.strip().strip("()").strip()
            name, _, status = term.partition(".")
            if not re.fullmatch(r"[A-Za-z0-9_-]+", name) or status not in ("", "Succeeded"):
                raise SpecError(f"depends {depends!r}: only task names and .Succeeded joined by && are "
                                "supported", where=where)
            deps.append(name)
    return sorted(set(deps))
