"""A kfp 1.x Argo Workflow as a v2 ``PipelineSpec`` (JSON form) plus a platform spec.

The engine runs one model: KFP's IR. A v1 workflow is translated into it once, at load
time, so runs, caching, logs, the store and the UI treat it like any other pipeline:

- each DAG task becomes an IR task; a container call gets a component of its own
  (see ``containers.py``), a DAG template a DAG component;
- ``dependencies`` / ``depends`` (of ``Succeeded`` only) become ``dependentTasks``;
  ``steps`` templates become DAGs whose groups depend on the group before;
- ``withItems`` / ``withParam`` become parameter iterators whose item feeds the
  template's inputs (``{{item.key}}`` through a CEL selector, as the v2 compiler does);
  the loop template's ``parallelism`` is the iterator's limit;
- ``when`` becomes a CEL trigger condition over inputs added to the task (``when.py``);
- ``onExit`` becomes a root task triggered when all others completed;
- ``retryStrategy`` becomes a retry policy, ``activeDeadlineSeconds`` the task timeout,
  kfp's ``enable_caching`` / ``max_cache_staleness: P0D`` the caching option.

Every parameter is a string, as in Argo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pipeyard.errors import SpecError
from pipeyard.ir.argo.containers import container_call
from pipeyard.ir.argo.options import KFP_PREFIX, dependencies, leaf_options, steps_as_dag
from pipeyard.ir.argo.refs import Ref, item_selector, split, workflow_placeholder
from pipeyard.ir.argo.when import when_to_cel

LOOP_ITEM = "loop-item"
LOOP_ITEMS = "loop-items"


def is_argo_workflow(doc: Any) -> bool:
    return (isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith("argoproj.io/")
            and doc.get("kind") == "Workflow")


def is_kfp_v1_workflow(doc: Any) -> bool:
    if not is_argo_workflow(doc):
        return False
    meta = doc.get("metadata") or {}
    keys = [*(meta.get("annotations") or {}), *(meta.get("labels") or {})]
    return any(str(k).startswith(KFP_PREFIX) for k in keys)


def translate_workflow(doc: Mapping[str, Any], source: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The IR (camelCase JSON form) and the kfp-kubernetes platform spec (or None)."""
    return _Translator(doc, source).translate()


class _Dag:
    """Name resolution inside one DAG component."""

    def __init__(self, bindings: Mapping[str, dict[str, Any]], is_root: bool, where: str) -> None:
        self.bindings = bindings
        self.is_root = is_root
        self.where = where

    def param(self, ref: Ref) -> dict[str, Any]:
        if ref.kind == "input":
            if ref.name not in self.bindings:
                raise SpecError(f"{ref.text}: the template has no such input", where=self.where)
            return dict(self.bindings[ref.name])
        if ref.kind == "task_param":
            return {"taskOutputParameter": {"producerTask": ref.task, "outputParameterKey": ref.name}}
        if ref.kind == "workflow" and ref.name.startswith("workflow.parameters."):
            if not self.is_root:
                raise SpecError(f"{ref.text} is only supported in the top-level DAG", where=self.where)
            return {"componentInputParameter": ref.name[len("workflow.parameters."):]}
        if ref.kind == "workflow":
            return {"runtimeValue": {"constant": workflow_placeholder(ref, self.where)}}
        raise SpecError(f"{ref.text} cannot be used here", where=self.where)

    def artifact(self, ref: Ref) -> dict[str, Any]:
        if ref.kind == "task_artifact":
            return {"taskOutputArtifact": {"producerTask": ref.task, "outputArtifactKey": ref.name}}
        if ref.kind == "input_artifact":
            return {"componentInputArtifact": ref.name}
        raise SpecError(f"{ref.text} is not an artifact reference", where=self.where)


class _Translator:
    def __init__(self, doc: Mapping[str, Any], source: str) -> None:
        self.doc = doc
        self.source = source
        self.spec = doc.get("spec") or {}
        self.templates: dict[str, dict[str, Any]] = {}
        for t in self.spec.get("templates") or []:
            self.templates[t["name"]] = steps_as_dag(t) if "steps" in t else dict(t)
        text = json.dumps(self.spec)
        self.used_artifacts = set(re.findall(r"outputs\.artifacts\.([^}\s\"']+)\}\}", text))
        self.volumes = {v["name"]: v for v in self.spec.get("volumes") or []}
        self.components: dict[str, Any] = {}
        self.executors: dict[str, Any] = {}
        self.platform: dict[str, Any] = {}

    # ------------------------------------------------------------------ top level

    def translate(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        meta = self.doc.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        try:
            info = json.loads(annotations.get(KFP_PREFIX + "pipeline_spec") or "{}")
        except json.JSONDecodeError:
            info = {}
        name = info.get("name") or str(meta.get("name") or meta.get("generateName") or "pipeline").rstrip("-")
        entry = self.spec.get("entrypoint")
        if entry not in self.templates:
            raise SpecError(f"spec.entrypoint {entry!r} names no template", where=self.source)
        root_inputs: dict[str, Any] = {}
        for p in (self.spec.get("arguments") or {}).get("parameters") or []:
            d: dict[str, Any] = {"parameterType": "STRING"}
            if p.get("value") is not None:
                d.update(defaultValue=str(p["value"]), isOptional=True)
            root_inputs[p["name"]] = d
        root_template = self._as_dag_template(self.templates[entry])
        bindings = {n: {"componentInputParameter": n} for n in root_inputs}
        root = self._dag_component(root_template, bindings, is_root=True, extra_inputs={})
        root["inputDefinitions"] = {"parameters": root_inputs} if root_inputs else {}
        if not root["inputDefinitions"]:
            del root["inputDefinitions"]
        on_exit = self.spec.get("onExit")
        if on_exit:
            self._add_exit_task(root, on_exit, bindings)
        ir: dict[str, Any] = {
            "pipelineInfo": {"name": name, **({"description": info["description"]} if info.get("description") else {})},
            "root": root,
            "components": self.components,
            "deploymentSpec": {"executors": self.executors},
            "schemaVersion": "2.1.0",
            "sdkVersion": "kfp-" + str(annotations.get(KFP_PREFIX + "kfp_sdk_version", "1")),
        }
        platform = ({"platforms": {"kubernetes": {"deploymentSpec": {"executors": self.platform}}}}
                    if self.platform else None)
        return ir, platform

    def _as_dag_template(self, template: dict[str, Any]) -> dict[str, Any]:
        if "dag" in template:
            return template
        # A workflow whose entrypoint is one container: a DAG of that one task.
        args = [{"name": p["name"], "value": f"{{{{inputs.parameters.{p['name']}}}}}"}
                for p in (template.get("inputs") or {}).get("parameters") or []]
        return {"name": template["name"] + "-dag", "inputs": template.get("inputs") or {},
                "dag": {"tasks": [{"name": template["name"], "template": template["name"],
                                   "arguments": {"parameters": args}}]}}

    def _add_exit_task(self, root: dict[str, Any], template_name: str,
                       bindings: Mapping[str, dict[str, Any]]) -> None:
        tasks = root["dag"]["tasks"]
        name = template_name if template_name not in tasks else f"{template_name}-exit"
        ctx = _Dag(bindings, True, f"{self.source}: onExit {template_name!r}")
        # Argo hands the workflow's arguments to the onExit template, as to the entrypoint.
        args = [{"name": n, "value": f"{{{{inputs.parameters.{n}}}}}"} for n in bindings]
        task = self._task({"name": name, "template": template_name, "arguments": {"parameters": args}}, ctx)
        task["dependentTasks"] = sorted(tasks)
        task["triggerPolicy"] = {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
        tasks[name] = task

    # ------------------------------------------------------------------ components

    def _name(self, template: str) -> str:
        base = "comp-" + re.sub(r"[^A-Za-z0-9-]", "-", template)
        name, n = base, 1
        while name in self.components:
            n += 1
            name = f"{base}-{n}"
        self.components[name] = {}
        return name

    def _template(self, name: str, where: str) -> dict[str, Any]:
        if name not in self.templates:
            raise SpecError(f"template {name!r} is not in spec.templates", where=where)
        t = self.templates[name]
        kinds = [k for k in ("container", "script", "dag") if k in t]
        if not kinds:
            other = [k for k in ("resource", "suspend", "data", "http", "containerSet") if k in t]
            raise SpecError(f"template {name!r}: {other[0] if other else 'this'} templates are not "
                            "supported (container, script, dag and steps are)", where=where)
        return t

    def _dag_component(self, template: Mapping[str, Any], bindings: Mapping[str, dict[str, Any]],
                       is_root: bool, extra_inputs: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        where = f"{self.source}: template {template['name']!r}"
        tasks: dict[str, Any] = {}
        for t in (template.get("dag") or {}).get("tasks") or []:
            tasks[t["name"]] = self._task(t, _Dag(bindings, is_root, f"{where}, task {t['name']!r}"))
        comp: dict[str, Any] = {"dag": {"tasks": tasks}}
        # Inputs fed by the loop item are not set by the calling task: not declared.
        params = {p["name"]: {"parameterType": "STRING"} for p in (template.get("inputs") or {}).get("parameters") or []
                  if not is_root and bindings.get(p["name"]) == {"componentInputParameter": p["name"]}}
        params.update(extra_inputs)
        arts = {a["name"]: {"artifactType": {"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}}
                for a in (template.get("inputs") or {}).get("artifacts") or []}
        if params or arts:
            comp["inputDefinitions"] = {k: v for k, v in (("parameters", params), ("artifacts", arts)) if v}
        outputs = template.get("outputs") or {}
        out_params: dict[str, Any] = {}
        out_defs: dict[str, Any] = {}
        for p in outputs.get("parameters") or []:
            ref = self._single(str((p.get("valueFrom") or {}).get("parameter", "")), where)
            if ref is None or ref.kind != "task_param":
                raise SpecError(f"DAG output {p['name']!r}: valueFrom.parameter must name a task output",
                                where=where)
            out_params[p["name"]] = {"valueFromParameter": {"producerSubtask": ref.task,
                                                            "outputParameterKey": ref.name}}
            out_defs.setdefault("parameters", {})[p["name"]] = {"parameterType": "STRING"}
        out_arts: dict[str, Any] = {}
        for a in outputs.get("artifacts") or []:
            ref = self._single(str(a.get("from", "")), where)
            if ref is None or ref.kind != "task_artifact":
                raise SpecError(f"DAG output artifact {a['name']!r}: from must name a task output", where=where)
            out_arts[a["name"]] = {"artifactSelectors": [{"producerSubtask": ref.task,
                                                          "outputArtifactKey": ref.name}]}
            out_defs.setdefault("artifacts", {})[a["name"]] = {
                "artifactType": {"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}}
        if out_params or out_arts:
            comp["dag"]["outputs"] = {k: v for k, v in (("parameters", out_params), ("artifacts", out_arts)) if v}
            comp["outputDefinitions"] = out_defs
        return comp

    def _single(self, text: str, where: str) -> Ref | None:
        parts = split(text, where)
        return parts[0] if len(parts) == 1 and isinstance(parts[0], Ref) else None

    # ------------------------------------------------------------------ tasks

    def _task(self, t: Mapping[str, Any], ctx: _Dag) -> dict[str, Any]:
        where = ctx.where
        if "templateRef" in t:
            raise SpecError("templateRef (WorkflowTemplates) is not supported", where=where)
        template = self._template(str(t.get("template", "")), where)
        arguments = dict(t.get("arguments") or {})
        loop = "withItems" in t or "withParam" in t
        if "withSequence" in t:
            raise SpecError("withSequence is not supported (withItems and withParam are)", where=where)
        task: dict[str, Any] = {"taskInfo": {"name": self._display_name(t, template)}}
        inputs: dict[str, Any] = {}
        extra_inputs: dict[str, dict[str, Any]] = {}
        if loop and "dag" not in template:
            template = self._loop_wrapper(template)
        if loop:
            task.update(self._iterator(t, template, ctx, inputs))
            extra_inputs[LOOP_ITEM] = {"parameterType": "STRING"}
            if LOOP_ITEMS in inputs.get("parameters", {}):
                extra_inputs[LOOP_ITEMS] = {"parameterType": "STRING"}
        if "dag" in template:
            bindings, params = self._dag_arguments(template, arguments, ctx, loop)
            if params:
                inputs.setdefault("parameters", {}).update(params)
            arts = {a["name"]: ctx.artifact(self._artifact_ref(a, where))
                    for a in arguments.get("artifacts") or []}
            if arts:
                inputs["artifacts"] = arts
            cond_inputs = self._condition(t, ctx, inputs, task)
            label = self._name(template["name"])
            self.components[label] = self._dag_component(template, bindings, False,
                                                         {**extra_inputs, **cond_inputs})
        else:
            label = self._name(template["name"])
            call = container_call(template, "exec-" + label[len("comp-"):], arguments,
                                  resolve_param=ctx.param, resolve_artifact=ctx.artifact,
                                  used_artifacts=self.used_artifacts, volumes=self.volumes, where=where)
            if call.parameters:
                inputs.setdefault("parameters", {}).update(call.parameters)
            if call.artifacts:
                inputs["artifacts"] = call.artifacts
            cond_inputs = self._condition(t, ctx, inputs, task)
            if cond_inputs:
                call.component.setdefault("inputDefinitions", {}).setdefault("parameters", {}).update(cond_inputs)
            self.components[label] = call.component
            self.executors[call.component["executorLabel"]] = call.executor
            if call.platform:
                self.platform[call.component["executorLabel"]] = call.platform
            task.update(leaf_options(template, where))
        task["componentRef"] = {"name": label}
        if inputs:
            task["inputs"] = inputs
        deps = dependencies(t, where)
        if deps:
            task["dependentTasks"] = deps
        return task

    def _display_name(self, t: Mapping[str, Any], template: Mapping[str, Any]) -> str:
        annotations = (template.get("metadata") or {}).get("annotations") or {}
        return str(annotations.get(KFP_PREFIX + "task_display_name") or t["name"])

    def _artifact_ref(self, a: Mapping[str, Any], where: str) -> Ref:
        ref = self._single(str(a.get("from", "")), where)
        if ref is None:
            raise SpecError(f"artifact argument {a.get('name')!r}: cannot read from {a.get('from')!r}", where=where)
        return ref

    def _dag_arguments(self, template: Mapping[str, Any], arguments: Mapping[str, Any], ctx: _Dag,
                       loop: bool) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """Bindings of the DAG template's inputs and the task's parameters feeding them."""
        given = {p["name"]: p for p in arguments.get("parameters") or []}
        bindings: dict[str, dict[str, Any]] = {}
        params: dict[str, dict[str, Any]] = {}
        for p in (template.get("inputs") or {}).get("parameters") or []:
            name = p["name"]
            bindings[name] = {"componentInputParameter": name}
            if name not in given or "value" not in given[name]:
                if "value" in p or "default" in p:
                    params[name] = {"runtimeValue": {"constant": str(p.get("value", p.get("default")))}}
                    continue
                raise SpecError(f"input parameter {name!r} of template {template['name']!r} has no value",
                                where=ctx.where)
            parts = split(str(given[name]["value"]), ctx.where)
            if len(parts) == 1 and isinstance(parts[0], Ref) and parts[0].kind == "item":
                if not loop:
                    raise SpecError(f"{parts[0].text} outside a withItems/withParam task", where=ctx.where)
                b: dict[str, Any] = {"componentInputParameter": LOOP_ITEM}
                if parts[0].name:
                    b["parameterExpressionSelector"] = item_selector(parts[0].name)
                bindings[name] = b
            elif len(parts) == 1 and isinstance(parts[0], Ref):
                params[name] = ctx.param(parts[0])
            elif all(isinstance(x, str) or x.kind == "workflow" for x in parts):
                text = "".join(x if isinstance(x, str) else str(ctx.param(x)["runtimeValue"]["constant"])
                               if not x.name.startswith("workflow.parameters.") else "" for x in parts)
                params[name] = {"runtimeValue": {"constant": text}}
            else:
                raise SpecError(f"argument {name!r}: text with references inside ({given[name]['value']!r}) "
                                "can only be passed to a container template", where=ctx.where)
        return bindings, params

    def _loop_wrapper(self, template: Mapping[str, Any]) -> dict[str, Any]:
        """A loop over a container template: a one-task DAG around it, as kfp does."""
        inputs = template.get("inputs") or {}
        params = [{"name": p["name"], "value": f"{{{{inputs.parameters.{p['name']}}}}}"}
                  for p in inputs.get("parameters") or []]
        arts = [{"name": a["name"], "from": f"{{{{inputs.artifacts.{a['name']}}}}}"}
                for a in inputs.get("artifacts") or [] if "raw" not in a]
        return {"name": f"{template['name']}-loop", "inputs": inputs,
                "parallelism": template.get("parallelism", 0),
                "dag": {"tasks": [{"name": template["name"], "template": template["name"],
                                   "arguments": {"parameters": params, "artifacts": arts}}]}}

    def _iterator(self, t: Mapping[str, Any], template: Mapping[str, Any], ctx: _Dag,
                  inputs: dict[str, Any]) -> dict[str, Any]:
        if "withItems" in t:
            items: dict[str, Any] = {"raw": json.dumps(t["withItems"])}
        else:
            ref = self._single(str(t["withParam"]), ctx.where)
            if ref is None:
                raise SpecError(f"withParam must be one reference, got {t['withParam']!r}", where=ctx.where)
            inputs.setdefault("parameters", {})[LOOP_ITEMS] = ctx.param(ref)
            items = {"inputParameter": LOOP_ITEMS}
        out: dict[str, Any] = {"parameterIterator": {"itemInput": LOOP_ITEM, "items": items}}
        limit = int(str(template.get("parallelism") or 0))
        if limit > 0:
            out["iteratorPolicy"] = {"parallelismLimit": limit}
        return out

    def _condition(self, t: Mapping[str, Any], ctx: _Dag, inputs: dict[str, Any],
                   task: dict[str, Any]) -> dict[str, dict[str, Any]]:
        expr = t.get("when")
        if not expr:
            return {}
        added: dict[str, dict[str, Any]] = {}

        def bind(ref: Ref) -> str:
            name = f"condition-in-{len(added)}"
            inputs.setdefault("parameters", {})[name] = ctx.param(ref)
            added[name] = {"parameterType": "STRING"}
            return name

        task["triggerPolicy"] = {"condition": when_to_cel(str(expr), bind, ctx.where)}
        return added
