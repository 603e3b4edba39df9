"""Read a pipeline file into KFP's ``PipelineSpec`` proto and check its references.

Accepted inputs are those KFP itself accepts: compiled YAML or JSON (optionally with a
second YAML document holding the kfp-kubernetes platform spec), KFP's Kubernetes-native
``kind: Pipeline``/``PipelineVersion`` documents (``k8s_manifest.py``), the KFP client's wrapped
``{"pipeline_spec": ..., "platform_spec": ...}`` form, archives holding exactly one such
file, and - as a convenience KFP does not offer - a ``.py`` file on disk defining a
pipeline, compiled here with ``kfp.compiler`` (the user's own file; uploaded bytes named
``.py`` are refused, never imported).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import re
import sys
import tarfile
import tempfile
import traceback
import types
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from pipeyard.errors import SpecError
from pipeyard.ir import argo, k8s_manifest, limits
from pipeyard.ir.argo import source as argo_source
from pipeyard.ir.proto import json_format, pipeline_spec_pb2
from pipeyard.ir.structure import check_structure

if TYPE_CHECKING:
    from pipeyard.ir.views import PipelineView

PipelineSpec = pipeline_spec_pb2.PipelineSpec

_SPEC_SUFFIXES = (".yaml", ".yml", ".json")
_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
UPLOAD_SOURCE = "<upload>"


@dataclass(frozen=True)
class LoadedPipeline:
    spec: pipeline_spec_pb2.PipelineSpec
    platform_spec: dict[str, Any] | None
    source: str

    @functools.cached_property
    def spec_dict(self) -> dict[str, Any]:
        """``spec_to_dict(self.spec)``, converted once: creating a run reads it several
        times, and for a 1,000-task spec each conversion took about 0.2 s. The same dict
        is returned each time: read it, do not change it."""
        return spec_to_dict(self.spec)

    def view(self) -> PipelineView:
        """The spec as the engine's views (what ``engine.runner.pipeline_of`` builds from
        the stored run), from the parsed spec rather than from its JSON form."""
        from pipeyard.ir.views import build_view  # a large module, needed only to run

        deployment = self.spec_dict.get("deploymentSpec")
        return build_view(self.spec, self.platform_spec, deployment=deployment if isinstance(deployment, dict) else None)


# --------------------------------------------------------------------------- entry points


def load_pipeline_file(path: str | Path, pipeline_name: str | None = None) -> LoadedPipeline:
    """Load a pipeline from a file on disk (see the module docstring for the formats)."""
    p = Path(path)
    source = p.name
    if p.suffix == ".py":
        return _from_text(_compile_python_file(p, pipeline_name), source, hint=".yaml")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise SpecError(f"cannot read pipeline file: {e.strerror or e}", where=str(p)) from e
    return load_pipeline_bytes(data, source, pipeline_name=pipeline_name)


def load_pipeline_bytes(data: bytes, filename: str, pipeline_name: str | None = None) -> LoadedPipeline:
    """Load a pipeline from memory (an upload). ``filename`` picks the format; archives are
    also recognised by their magic bytes, since uploads do not always carry a good name."""
    source = filename or UPLOAD_SOURCE
    lower = source.lower()
    if lower.endswith(".py"):
        # Compiling means importing, that is running, the file: what arrives over the
        # network is never run here (a web page can send an upload; see server/edge.py).
        raise SpecError(
            "a Python file is not accepted here: pipeyard never runs uploaded code. Compile it "
            "first (`kfp dsl compile --py FILE.py --output FILE.yaml`) and upload the YAML, or "
            "run it from your machine with `pipeyard run FILE.py [--server URL]`",
            where=source,
        )
    kind = _archive_kind(data, lower)
    if kind is not None:
        member, content = _single_member(data, kind, source)
        return _from_text(_decode(content, f"{source}:{member}"), source, hint=member)
    return _from_text(_decode(data, source), source, hint=lower)


def spec_to_dict(spec: pipeline_spec_pb2.PipelineSpec) -> dict[str, Any]:
    """The camelCase JSON form of the spec, as KFP writes it."""
    return json_format.MessageToDict(spec, preserving_proto_field_name=False)


def dict_to_spec(d: dict[str, Any]) -> pipeline_spec_pb2.PipelineSpec:
    """Parse a JSON-form spec; unknown fields (newer KFP versions) are ignored."""
    try:
        return json_format.ParseDict(d, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True)
    except json_format.ParseError as e:
        raise SpecError(f"invalid pipeline spec: {e}") from e


# --------------------------------------------------------------------------- parsing


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError(f"not a text file (invalid UTF-8 at byte {e.start})", where=where) from e


def _from_text(text: str, source: str, *, hint: str) -> LoadedPipeline:
    docs = _parse_documents(text, source, as_json=hint.lower().endswith(".json"))
    docs = [d for d in docs if d is not None]
    if not docs:
        raise SpecError("empty file: not a KFP pipeline spec (missing root)", where=source)
    first = docs[0]
    platform: Any = docs[1] if len(docs) > 1 else None
    manifest = k8s_manifest.unwrap(docs, source)
    if manifest is not None:
        first, platform = manifest
    if isinstance(first, dict) and "root" not in first:
        wrapped = first.get("pipeline_spec", first.get("pipelineSpec"))
        if isinstance(wrapped, dict):
            platform = first.get("platform_spec", first.get("platformSpec", platform))
            first = wrapped
    if argo.is_kfp_v1_workflow(first):
        first, platform = argo.translate_workflow(first, source)
    if not isinstance(first, dict) or "root" not in first or "pipelineInfo" not in first:
        missing = "root" if not isinstance(first, dict) or "root" not in first else "pipelineInfo"
        raise SpecError(f"not a KFP pipeline spec (missing {missing}): this is "
                        f"{argo.describe_document(first)}; {argo.ACCEPTED}", where=source)
    if platform is not None and not isinstance(platform, dict):
        raise SpecError("the second document (platform spec) is not a mapping", where=source)
    try:
        spec = json_format.ParseDict(first, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True)
    except json_format.ParseError as e:
        raise SpecError(f"invalid pipeline spec: {e}", where=source) from e
    validate_references(spec, source)
    return LoadedPipeline(spec=spec, platform_spec=platform or None, source=source)


def _parse_documents(text: str, source: str, *, as_json: bool) -> list[Any]:
    if as_json:
        try:
            return [json.loads(text)]
        except RecursionError as e:
            raise SpecError("the JSON document is nested too deeply", where=source) from e
        except json.JSONDecodeError as e:
            raise SpecError(
                f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}", where=source
            ) from e
    try:
        return limits.load_yaml_documents(text)
    except SpecError as e:
        raise SpecError(e.reason, where=source) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise SpecError(f"invalid YAML{at}: {problem}", where=source) from e


# --------------------------------------------------------------------------- .py files


def _compile_python_file(path: Path, pipeline_name: str | None) -> str:
    """Import the file, pick its pipeline and compile it with kfp; returns the YAML."""
    # Imported here: the kfp DSL and compiler are heavy and YAML users never need them.
    from kfp import compiler

    apis = argo_source.kfp1_apis(path.read_text(errors="replace"))
    if apis:
        raise SpecError(f"this file uses the kfp 1.x SDK ({', '.join(apis)}), which cannot be imported "
                        "next to kfp 2: compile it with kfp 1.8 (`python file.py` in an environment "
                        "with kfp==1.8.22) and submit the YAML, or run it with `pipeyard run file.py`",
                        where=path.name)

    module = _import_user_module(path)
    chosen = _choose_pipeline(module, path.name, pipeline_name)
    with tempfile.TemporaryDirectory(prefix="pipeyard-compile-") as tmp:
        out = Path(tmp) / "pipeline.yaml"
        try:
            compiler.Compiler().compile(pipeline_func=chosen, package_path=str(out))
        except Exception as e:  # kfp raises bare ValueError/TypeError for user mistakes
            raise SpecError(
                f"kfp could not compile the pipeline: {type(e).__name__}: {e}", where=path.name
            ) from e
        return out.read_text(encoding="utf-8")


def _import_user_module(path: Path) -> types.ModuleType:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    # A unique name per file keeps two pipelines both called pipeline.py from colliding.
    stem = re.sub(r"\W", "_", path.stem)
    mod_name = f"_pipeyard_user_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise SpecError("cannot import this file as a Python module", where=path.name)
    module = importlib.util.module_from_spec(spec)
    directory = str(path.resolve().parent)
    # Pipelines commonly import sibling modules (their components), as `python file.py` would allow.
    sys.path.insert(0, directory)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except SpecError:
        raise
    except BaseException as e:
        sys.modules.pop(mod_name, None)
        if isinstance(e, KeyboardInterrupt):
            raise
        tb = traceback.extract_tb(e.__traceback__)
        frames = [f for f in tb if f.filename == str(path)] or tb[-1:]
        line = f" (line {frames[-1].lineno})" if frames else ""
        raise SpecError(f"importing the file failed{line}: {type(e).__name__}: {e}", where=path.name) from e
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(directory)
    return module


def _choose_pipeline(module: types.ModuleType, source: str, pipeline_name: str | None) -> Any:
    from kfp.dsl import base_component

    found: dict[int, tuple[str, Any]] = {}
    for attr, obj in vars(module).items():
        if isinstance(obj, base_component.BaseComponent) and _is_pipeline(obj):
            found.setdefault(id(obj), (attr, obj))
    pipelines = list(found.values())
    if pipeline_name is not None:
        matches = [o for a, o in pipelines if pipeline_name in _names_of(a, o)]
        if not matches:
            names = ", ".join(sorted(a for a, _ in pipelines)) or "none"
            raise SpecError(
                f"no pipeline named {pipeline_name!r}; pipelines in the file: {names}", where=source
            )
        return matches[0]
    if not pipelines:
        raise SpecError("no @dsl.pipeline function found in the file", where=source)
    if len(pipelines) > 1:
        # Sub-pipelines used by another pipeline of the same file are not candidates.
        outer = [
            (a, o)
            for a, o in pipelines
            if not any(_uses(other, o) for _, other in pipelines if other is not o)
        ]
        pipelines = outer or pipelines
    if len(pipelines) > 1:
        names = ", ".join(sorted(a for a, _ in pipelines))
        raise SpecError(f"the file defines several pipelines ({names}); choose one by name", where=source)
    return pipelines[0][1]


def _names_of(attr: str, obj: Any) -> set[str]:
    names = {attr, str(obj.name)}
    func = getattr(obj, "pipeline_func", None)
    if func is not None:
        names.add(func.__name__)
    spec = getattr(obj, "pipeline_spec", None)
    if spec is not None:
        names.add(spec.pipeline_info.name)
    return names


def _is_pipeline(obj: Any) -> bool:
    impl = getattr(getattr(obj, "component_spec", None), "implementation", None)
    return getattr(impl, "graph", None) is not None


def _uses(outer: Any, inner: Any) -> bool:
    try:
        components = outer.pipeline_spec.components
        inner_root = inner.pipeline_spec.root
    except Exception:
        return False
    return any(c == inner_root for c in components.values())


# --------------------------------------------------------------------------- archives


def _archive_kind(data: bytes, lower_name: str) -> str | None:
    if lower_name.endswith(".zip") or data[:4] == b"PK\x03\x04":
        return "zip"
    if lower_name.endswith((".tar.gz", ".tgz")) or data[:2] == b"\x1f\x8b":
        return "tar"
    if lower_name.endswith(".tar") or data[257:262] == b"ustar":
        return "tar"
    return None


def _is_pipeline_member(name: str) -> bool:
    parts = PurePosixPath(name).parts
    if not parts or any(p == "__MACOSX" for p in parts) or parts[-1].startswith("._"):
        return False
    return parts[-1].lower().endswith(_SPEC_SUFFIXES)


def _single_member(data: bytes, kind: str, source: str) -> tuple[str, bytes]:
    try:
        read_members = limits.zip_members if kind == "zip" else limits.tar_members
        candidates = read_members(data, _is_pipeline_member)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise SpecError(f"cannot read {kind} archive: {e}", where=source) from e
    except SpecError as e:
        raise SpecError(e.reason, where=source) from e
    if len(candidates) != 1:
        found = ", ".join(n for n, _ in candidates) or "none"
        raise SpecError(
            f"the archive must contain exactly one pipeline file ({', '.join(_SPEC_SUFFIXES)}); found: {found}",
            where=source,
        )
    return candidates[0]




# --------------------------------------------------------------------------- validation


def validate_references(spec: pipeline_spec_pb2.PipelineSpec, source: str) -> None:
    """Check that every name the spec refers to exists: components, executors and, within
    each DAG, the tasks that others depend on or take outputs from."""
    executors = (
        set(spec.deployment_spec["executors"].keys()) if "executors" in spec.deployment_spec else set()
    )
    dags: list[tuple[str, pipeline_spec_pb2.ComponentSpec]] = [("root", spec.root)]
    for name, comp in spec.components.items():
        if comp.WhichOneof("implementation") == "executor_label":
            if comp.executor_label not in executors:
                raise SpecError(
                    f"executorLabel {comp.executor_label!r} is not in deploymentSpec.executors",
                    where=f"{source}: component {name!r}",
                )
        elif comp.HasField("dag"):
            dags.append((name, comp))
    for dag_name, comp in dags:
        _validate_dag(spec, dag_name, comp, source)
    check_structure(spec, source)


def _validate_dag(
    spec: pipeline_spec_pb2.PipelineSpec, dag_name: str, comp: pipeline_spec_pb2.ComponentSpec, source: str
) -> None:
    tasks = comp.dag.tasks
    in_dag = "" if dag_name == "root" else f" (in {dag_name!r})"

    def check_task(ref: str, what: str, where: str) -> None:
        if ref and ref not in tasks:
            raise SpecError(f"{what} names task {ref!r}, which is not in the same DAG{in_dag}", where=where)

    for task_name, task in tasks.items():
        where = f"{source}: task {task_name!r}{in_dag}"
        ref = task.component_ref.name
        if ref not in spec.components:
            raise SpecError(f"componentRef.name {ref!r} is not in components", where=where)
        for dep in task.dependent_tasks:
            check_task(dep, "dependentTasks", where)
        for pname, pspec in task.inputs.parameters.items():
            kind = pspec.WhichOneof("kind")
            if kind == "task_output_parameter":
                check_task(pspec.task_output_parameter.producer_task, f"inputs.parameters[{pname!r}]", where)
            elif kind == "task_final_status":
                check_task(pspec.task_final_status.producer_task, f"inputs.parameters[{pname!r}]", where)
        for aname, aspec in task.inputs.artifacts.items():
            if aspec.WhichOneof("kind") == "task_output_artifact":
                check_task(aspec.task_output_artifact.producer_task, f"inputs.artifacts[{aname!r}]", where)
    where = f"{source}: component {dag_name!r}"
    for oname, pout in comp.dag.outputs.parameters.items():
        field = f"dag.outputs.parameters[{oname!r}]"
        if pout.HasField("value_from_parameter"):
            check_task(pout.value_from_parameter.producer_subtask, field, where)
        for sel in pout.value_from_oneof.parameter_selectors:
            check_task(sel.producer_subtask, field, where)
    for oname, aout in comp.dag.outputs.artifacts.items():
        for asel in aout.artifact_selectors:
            check_task(asel.producer_subtask, f"dag.outputs.artifacts[{oname!r}]", where)
