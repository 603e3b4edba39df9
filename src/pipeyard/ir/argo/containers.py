"""One call of an Argo container template as a v2 component, executor and task inputs.

A kfp 1.x container writes outputs to absolute paths (``/tmp/outputs/x/data``) that Argo
collects afterwards, and reads inputs from paths Argo fills in. Locally, tasks run side
by side on one file system, so those paths are rewritten, wherever the command line
names them, into the engine's per-task locations (``{{$.outputs.parameters['x'].output_file}}``,
``{{$.outputs.artifacts['x'].path}}``...). What a rewrite cannot reach (a path only the
program knows, an output that is both a parameter and an artifact, a raw input artifact,
``packages_to_install``) is handled by ``pipeyard.v1.step``, a small wrapper the command is
prefixed with.

The component is made per call (not per template) because kfp 1.x arguments may be
text with references inside (``gs://{{inputs.parameters.bucket}}/x``): such an argument
is inlined into this call's command, its references becoming inputs of their own.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeyard.errors import SpecError
from pipeyard.ir.argo.refs import (
    TAG,
    WORKFLOW_PLACEHOLDERS,
    Ref,
    split,
    v2_artifact_path,
    v2_input,
    v2_output_file,
)

ParamResolver = Callable[[Ref], dict[str, Any]]
ArtifactResolver = Callable[[Ref], dict[str, Any]]

VISUAL_OUTPUTS = ("mlpipeline-ui-metadata", "mlpipeline-metrics")
# kfp 1.x's bootstrap for packages_to_install, before the program itself.
_PIP_BOOTSTRAP = re.compile(r"python3 -m pip install (?P<args>.*?)(?:\|\||\))")
STEP_MODULE = "pipeyard.v1.step"


@dataclass
class Call:
    """What a container call contributes to the IR."""

    component: dict[str, Any]
    executor: dict[str, Any]
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    platform: dict[str, Any] = field(default_factory=dict)


def visual_kind(name: str) -> str:
    """"mlpipeline-ui-metadata" / "mlpipeline-metrics" if the output is one, else ""."""
    norm = name.replace("_", "-").lower()
    for kind in VISUAL_OUTPUTS:
        if norm == kind or norm.endswith("-" + kind):
            return kind
    return ""


def container_call(
    template: Mapping[str, Any],
    label: str,
    arguments: Mapping[str, Any],
    *,
    resolve_param: ParamResolver,
    resolve_artifact: ArtifactResolver,
    used_artifacts: set[str],
    volumes: Mapping[str, Mapping[str, Any]],
    where: str,
) -> Call:
    container = dict(template.get("container") or template.get("script") or {})
    if "script" in template:
        source = str(container.get("source", ""))
        container["command"] = [*(container.get("command") or ["sh"]), "-c", source]
    inputs = template.get("inputs") or {}
    outputs = template.get("outputs") or {}
    call = Call(component={}, executor={})
    in_params: dict[str, dict[str, Any]] = {}
    replacements: dict[str, str] = {}
    given = {p["name"]: p for p in (arguments.get("parameters") or [])}
    for p in inputs.get("parameters") or []:
        name = p["name"]
        in_params[name] = {"parameterType": "STRING"}
        arg = given.get(name, {})
        if "value" in arg:
            replacements[name] = _bind_argument(call, in_params, name, str(arg["value"]),
                                                resolve_param, where)
        elif "value" in p or "default" in p:
            in_params[name].update(defaultValue=str(p.get("value", p.get("default"))), isOptional=True)
            replacements[name] = v2_input(name)
        else:
            raise SpecError(f"input parameter {name!r} has no value and no default", where=where)

    step: dict[str, Any] = {}
    path_map: dict[str, str] = {}
    in_artifacts: dict[str, dict[str, Any]] = {}
    given_arts = {a["name"]: a for a in (arguments.get("artifacts") or [])}
    for a in inputs.get("artifacts") or []:
        name, path = a["name"], str(a.get("path", ""))
        raw = (a.get("raw") or {}).get("data")
        source = given_arts.get(name, {}).get("from") or a.get("from")
        if raw is not None and not source:
            local = f"v1-raw/{_safe(name)}"
            step.setdefault("raw", []).append([local, str(raw)])
            path_map[path] = local
            continue
        if not source:
            if a.get("optional"):
                continue
            raise SpecError(f"input artifact {name!r} has no source (from) and no raw data", where=where)
        refs = [p for p in split(str(source), where) if isinstance(p, Ref)]
        if len(refs) != 1:
            raise SpecError(f"input artifact {name!r}: cannot read source {source!r}", where=where)
        in_artifacts[name] = {"artifactType": {"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}}
        call.artifacts[name] = resolve_artifact(refs[0])
        if path:
            path_map[path] = v2_artifact_path("inputs", name)

    out_params: dict[str, dict[str, Any]] = {}
    out_artifacts: dict[str, dict[str, Any]] = {}
    param_paths: dict[str, str] = {}
    for p in outputs.get("parameters") or []:
        vf = p.get("valueFrom") or {}
        if "path" not in vf:
            raise SpecError(f"output parameter {p['name']!r}: only valueFrom.path is supported", where=where)
        out_params[p["name"]] = {"parameterType": "STRING"}
        param_paths[str(vf["path"])] = p["name"]
        path_map[str(vf["path"])] = v2_output_file(p["name"])
    for a in outputs.get("artifacts") or []:
        name, path = a["name"], str(a.get("path", ""))
        duplicate = path in param_paths
        kind = visual_kind(name)
        if duplicate and name not in used_artifacts and not kind:
            continue  # kfp 1.x's artifact twin of an output parameter, which nobody reads
        title = "system.Metrics" if kind == "mlpipeline-metrics" else "system.Artifact"
        out_artifacts[name] = {"artifactType": {"schemaTitle": title, "schemaVersion": "0.0.1"}}
        target = v2_artifact_path("outputs", name)
        if duplicate:
            step.setdefault("copy", []).append([v2_output_file(param_paths[path]), target])
        elif path:
            path_map[path] = target
        if kind:
            step.setdefault("visual", []).append(
                [kind, target, f"{{{{$.outputs.artifacts['{name}'].uri}}}}", name])
    if step.get("visual"):
        step["output_file"] = "{{$.outputs.output_file}}"

    command = [str(c) for c in container.get("command") or []]
    args = [str(c) for c in container.get("args") or []]
    command, packages = _strip_pip_bootstrap(command)
    if packages:
        step["packages"] = packages
    texts = command + args
    for path in sorted(path_map, key=len, reverse=True):
        if path and not any(path in t for t in texts):
            # The program knows the path itself: the wrapper moves the file.
            if path_map[path].startswith("{{$.inputs"):
                step.setdefault("before", []).append([path_map[path], path])
            elif path_map[path].startswith("{{$.outputs"):
                step.setdefault("after", []).append([path, path_map[path]])
            else:
                step.setdefault("before", []).append([path_map[path], path])
    command = [_rewrite(t, replacements, path_map, where) for t in command]
    args = [_rewrite(t, replacements, path_map, where) for t in args]
    if step:
        command = ["python3", "-m", STEP_MODULE, json.dumps(step, sort_keys=True), "--", *command]

    env: dict[str, str] = {}
    for e in container.get("env") or []:
        if "value" in e:
            env[e["name"]] = _rewrite(str(e["value"]), replacements, {}, where)
        elif "valueFrom" in e:
            _env_from(call.platform, e, where)
    ir_container: dict[str, Any] = {"image": str(container.get("image", "")), "command": command,
                                    "args": args}
    if env:
        ir_container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    resources = _resources(container.get("resources") or {})
    if resources:
        ir_container["resources"] = resources
    _volumes(call.platform, container.get("volumeMounts") or [], volumes, where)
    if template.get("activeDeadlineSeconds"):
        call.platform["activeDeadlineSeconds"] = int(str(template["activeDeadlineSeconds"]))

    component: dict[str, Any] = {"executorLabel": label}
    if in_params or in_artifacts:
        component["inputDefinitions"] = {k: v for k, v in (("parameters", in_params),
                                                           ("artifacts", in_artifacts)) if v}
    if out_params or out_artifacts:
        component["outputDefinitions"] = {k: v for k, v in (("parameters", out_params),
                                                            ("artifacts", out_artifacts)) if v}
    call.component = component
    call.executor = {"container": ir_container}
    return call


def _bind_argument(call: Call, in_params: dict[str, dict[str, Any]], name: str, value: str,
                   resolve: ParamResolver, where: str) -> str:
    """Set the task input ``name`` from an argument; returns the text that stands for
    ``{{inputs.parameters.<name>}}`` in this call's command."""
    parts = split(value, where)
    if len(parts) == 1 and isinstance(parts[0], Ref) and parts[0].kind != "workflow":
        call.parameters[name] = resolve(parts[0])
        return v2_input(name)
    if all(isinstance(p, str) or p.kind == "workflow" for p in parts):
        text = "".join(p if isinstance(p, str) else _workflow_text(p, resolve, call, in_params, where)
                       for p in parts)
        call.parameters[name] = {"runtimeValue": {"constant": text}}
        return v2_input(name)
    # Text with references inside: each reference becomes an input of its own, and the
    # text is rebuilt in the command line.
    pieces: list[str] = []
    for i, p in enumerate(parts):
        if isinstance(p, str):
            pieces.append(p)
        elif p.kind == "workflow":
            pieces.append(_workflow_text(p, resolve, call, in_params, where))
        else:
            sub = f"{name}--{i}"
            in_params[sub] = {"parameterType": "STRING"}
            call.parameters[sub] = resolve(p)
            pieces.append(v2_input(sub))
    call.parameters.pop(name, None)
    in_params.pop(name, None)
    return "".join(pieces)


def _workflow_text(ref: Ref, resolve: ParamResolver, call: Call, in_params: dict[str, dict[str, Any]],
                   where: str) -> str:
    if ref.name in WORKFLOW_PLACEHOLDERS:
        return WORKFLOW_PLACEHOLDERS[ref.name]
    # {{workflow.parameters.x}}: the resolver knows whether a pipeline parameter is in reach.
    sub = "workflow--" + ref.name[len("workflow.parameters."):]
    in_params[sub] = {"parameterType": "STRING"}
    call.parameters[sub] = resolve(ref)
    return v2_input(sub)


def _rewrite(text: str, replacements: Mapping[str, str], path_map: Mapping[str, str], where: str) -> str:
    for path in sorted(path_map, key=len, reverse=True):
        if path:
            text = text.replace(path, path_map[path])

    def tag(m: re.Match[str]) -> str:
        body = m.group(1)
        if body.startswith("inputs.parameters."):
            name = body[len("inputs.parameters."):]
            if name not in replacements:
                raise SpecError(f"{{{{{body}}}}} names no input parameter of the template", where=where)
            return replacements[name]
        if body in WORKFLOW_PLACEHOLDERS:
            return WORKFLOW_PLACEHOLDERS[body]
        return m.group(0)  # not an Argo tag we know: the program gets it literally

    return TAG.sub(tag, text)


def _strip_pip_bootstrap(command: list[str]) -> tuple[list[str], list[str]]:
    """Remove kfp 1.x's ``sh -c "(python3 -m pip install ...) && \"$0\" \"$@\""`` prefix;
    its packages go into a cached environment instead of the host interpreter."""
    if len(command) < 3 or command[:2] != ["sh", "-c"] or '"$0" "$@"' not in command[2]:
        return command, []
    m = _PIP_BOOTSTRAP.search(command[2])
    if m is None:
        return command, []
    words = shlex.split(m.group("args"))
    packages = [w for w in words if not w.startswith("-")]
    return command[3:], packages


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _env_from(platform: dict[str, Any], e: Mapping[str, Any], where: str) -> None:
    vf = e["valueFrom"]
    if "secretKeyRef" in vf:
        ref = vf["secretKeyRef"]
        platform.setdefault("secretAsEnv", []).append(
            {"secretName": ref["name"], "keyToEnv": [{"secretKey": ref["key"], "envVar": e["name"]}],
             "optional": bool(ref.get("optional", False))})
    elif "configMapKeyRef" in vf:
        ref = vf["configMapKeyRef"]
        platform.setdefault("configMapAsEnv", []).append(
            {"configMapName": ref["name"], "keyToEnv": [{"configMapKey": ref["key"], "envVar": e["name"]}],
             "optional": bool(ref.get("optional", False))})
    elif "fieldRef" in vf:
        platform.setdefault("fieldPathAsEnv", []).append(
            {"name": e["name"], "fieldPath": vf["fieldRef"].get("fieldPath", "")})
    else:
        raise SpecError(f"env {e['name']!r}: valueFrom {sorted(vf)} is not supported", where=where)


def _resources(r: Mapping[str, Any]) -> dict[str, str]:
    requests = {**(r.get("limits") or {}), **(r.get("requests") or {})}
    out: dict[str, str] = {}
    if "cpu" in requests:
        out["resourceCpuRequest"] = str(requests["cpu"])
    if "memory" in requests:
        out["resourceMemoryRequest"] = str(requests["memory"])
    return out


def _volumes(platform: dict[str, Any], mounts: list[Mapping[str, Any]],
             volumes: Mapping[str, Mapping[str, Any]], where: str) -> None:
    for m in mounts:
        vol = volumes.get(m.get("name", ""))
        if vol is None:
            raise SpecError(f"volumeMount {m.get('name')!r} names no volume of the workflow", where=where)
        path = m.get("mountPath", "")
        if "persistentVolumeClaim" in vol:
            item = {"constant": vol["persistentVolumeClaim"]["claimName"], "mountPath": path}
            if m.get("subPath"):
                item["subPath"] = m["subPath"]
            platform.setdefault("pvcMount", []).append(item)
        elif "secret" in vol:
            platform.setdefault("secretAsVolume", []).append(
                {"secretName": vol["secret"]["secretName"], "mountPath": path})
        elif "configMap" in vol:
            platform.setdefault("configMapAsVolume", []).append(
                {"configMapName": vol["configMap"]["name"], "mountPath": path})
        elif "emptyDir" in vol:
            platform.setdefault("emptyDirMounts", []).append({"volumeName": m.get("name"), "mountPath": path})
        else:
            raise SpecError(f"volume {m.get('name')!r}: only PVCs, secrets, config maps and emptyDir "
                            "are supported", where=where)
