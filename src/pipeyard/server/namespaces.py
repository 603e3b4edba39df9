"""Namespaces in single-user mode.

pipeyard answers ``multi_user: false``, and KFP's API server in that mode replaces
every namespace a caller sends with "" (``ResourceManager.ReplaceNamespace``): what is
created is stored without one, and lists and look-ups by name ignore the one given.
Clients send one anyway: kfp 2.17's ``kfp.kubeflow_client.PipelinesClient`` passes
``namespace=<kubeconfig namespace or "default">`` on every list, so honouring it
would hide everything. Every router goes through these two functions.
"""

from __future__ import annotations

# The only namespace there is on a single-user server.
SINGLE_USER_NAMESPACE = ""


def stored(namespace: str | None) -> str:
    """The namespace a new pipeline, experiment, run or recurring run is stored in."""
    del namespace  # ignored, as KFP ignores it when multi_user is false
    return SINGLE_USER_NAMESPACE


def scope(namespace: str | None) -> str | None:
    """The namespace a list is restricted to: none, so rows an older pipeyard stored
    with a namespace still show."""
    del namespace
    return None
