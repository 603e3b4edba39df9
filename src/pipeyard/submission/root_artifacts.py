"""Root input artifacts: an ``Input[Dataset]`` (or any artifact) of the pipeline itself.

KFP has no field for them in ``RuntimeConfig``; pipeyard takes them as
``{input name: URI}`` (``pipeyard run --artifact NAME=PATH_OR_URI``, the API's
``runtime_config.pipeyard_input_artifacts``), checks them against the root's
``inputDefinitions.artifacts`` when the run is created, and stores them with the run
(``Run.input_artifacts``) so a retry or resume sees the same ones. The engine hands
them to the root DAG (``engine/runner.py``).

A local file or directory named on the command line is copied into the pipeline
root first (``<root>/_inputs/<content digest>/<name>``), so the run does not depend
on it staying where it was; the same content is copied once.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeyard.artifacts.filesystems import content_digest, filesystem
from pipeyard.artifacts.uris import is_local, local_path
from pipeyard.errors import InvalidArgument, SpecError

FIELD = "runtime_config.pipeyard_input_artifacts"


def root_artifact_inputs(spec: Mapping[str, Any]) -> dict[str, Any]:
    root = spec.get("root") or {}
    arts = (root.get("inputDefinitions") or {}).get("artifacts") or {}
    if not isinstance(arts, dict):
        raise SpecError("root.inputDefinitions.artifacts is not a mapping", where="pipeline_spec")
    return arts


def parse_artifact_args(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--artifact NAME=PATH_OR_URI`` options to {name: value}."""
    given: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value:
            raise InvalidArgument(f"{pair!r}: expected NAME=PATH_OR_URI", field="--artifact")
        given[name.strip()] = value
    return given


def check_input_artifacts(spec: Mapping[str, Any], given: Any, field: str = FIELD) -> dict[str, str]:
    """{name: URI} checked against the root's artifact inputs. A local path must be
    absolute and exist (the server cannot tell what a relative one is relative to)."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise InvalidArgument("must be an object {input name: artifact URI}", field=field)
    inputs = root_artifact_inputs(spec)
    out: dict[str, str] = {}
    for name, uri in given.items():
        if name not in inputs:
            known = ", ".join(sorted(inputs)) or "none"
            raise InvalidArgument(
                f"the pipeline has no input artifact {name!r}; its input artifacts: {known}", field=field
            )
        if (inputs[name] or {}).get("isArtifactList"):
            raise InvalidArgument(f"{name!r} is a list of artifacts; only single ones can be given",
                                  field=field)
        if not isinstance(uri, str) or not uri.strip():
            raise InvalidArgument(f"the URI of {name!r} must be a non-empty string", field=field)
        if is_local(uri):
            path = Path(local_path(uri))
            if not path.is_absolute():
                raise InvalidArgument(f"{name!r}: {uri!r} is a relative path; give an absolute one or a URI",
                                      field=field)
            if not path.exists():
                raise InvalidArgument(f"{name!r}: {uri} does not exist", field=field)
            uri = str(path)
        out[name] = uri
    return out


def import_local(given: Mapping[str, str], pipeline_root: str, base: Path) -> dict[str, str]:
    """The command line's artifacts with local files and directories (relative to
    ``base``) copied into the pipeline root; URIs are passed through."""
    out: dict[str, str] = {}
    for name, value in given.items():
        if not is_local(value):
            out[name] = value
            continue
        source = (base / local_path(value)).resolve()
        if not source.exists():
            raise InvalidArgument(f"{name!r}: {source} does not exist", field="--artifact")
        digest = (content_digest(str(source)) or "unknown").removeprefix("sha256:")[:32]
        target = f"{pipeline_root.rstrip('/')}/_inputs/{digest}/{source.name}"
        _copy(source, target)
        out[name] = target
    return out


def _copy(source: Path, target: str) -> None:
    if is_local(target):
        dest = Path(local_path(target))
        if dest.exists():
            return  # the same content, copied before
        tmp = dest.with_name(dest.name + ".partial")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        if source.is_dir():
            shutil.copytree(source, tmp)
        else:
            shutil.copyfile(source, tmp)
        try:
            tmp.rename(dest)  # a concurrent import of the same content leaves one whole copy
        except OSError:
            if not dest.exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
        return
    fs, path = filesystem(target)
    if not fs.exists(path):
        fs.put(str(source), path, recursive=source.is_dir())
