"""kfp-kubernetes platform settings mapped to their local meaning.

Secrets and config maps become environment variables or files, PVCs and the
pipeline workspace become named local directories, timeouts are enforced;
settings with no local meaning (node selectors, tolerations...) are recorded
in the task's details as not applicable.

Secret and config map values only ever travel in ``Setup.env`` (handed to the
launcher, never stored) or in files inside the attempt's private work
directory; the details record names and keys, never values.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeyard.errors import FailedPrecondition, InvalidArgument, NotFound, PipeyardError
from pipeyard.ir.placeholders import PlaceholderContext, substitute_string
from pipeyard.secrets import SecretStore

if TYPE_CHECKING:
    from pipeyard.engine.context import RunContext
    from pipeyard.engine.outcome import Outcome
    from pipeyard.entities import Task
    from pipeyard.ir.views import ComponentView

# kfp.dsl.constants.WORKSPACE_MOUNT_PATH: where KFP's backend mounts the run's
# workspace PVC in every pod, so programs may use the literal path.
WORKSPACE_MOUNT_PATH = "/kfp-workspace"

# Settings that mean nothing on one machine, with the reason shown to the user.
NOT_APPLICABLE = {
    "nodeSelector": "one machine: there are no nodes to select",
    "tolerations": "one machine: there are no node taints to tolerate",
    "nodeAffinity": "one machine: there are no nodes to prefer or avoid",
    "podAffinity": "one machine: tasks are not pods placed beside each other",
    "imagePullSecret": "images are not pulled: commands run on the host",
    "imagePullPolicy": "images are not pulled: commands run on the host",
    "securityContext": "tasks run as the user that runs pipeyard",
    "enabledSharedMemory": "tasks use the host's /dev/shm",
    "initContainers": "init containers are not run locally",
}

_VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")
_POD_FIELD = re.compile(r"""^metadata\.(labels|annotations)\[['"](.*)['"]\]$""")


@dataclass(frozen=True)
class Refs:
    """Where a platform field's ``InputParameterSpec`` finds its value: the
    enclosing DAG's inputs (``componentInputParameter``; loops pass outer values
    in as ``pipelinechannel--`` inputs) and the outcomes of the task's direct
    upstream tasks (``taskOutputParameter``; the compiler adds the dependency)."""

    dag_parameters: Mapping[str, Any] = field(default_factory=dict)
    upstream: Mapping[str, Outcome] = field(default_factory=dict)


def resolve(spec: Any, refs: Refs, params: Mapping[str, Any]) -> Any:
    """The value an ``InputParameterSpec`` (as a camelCase dict) stands for, or None."""
    if not isinstance(spec, Mapping):
        return None
    if "runtimeValue" in spec:
        return (spec["runtimeValue"] or {}).get("constant")
    if "componentInputParameter" in spec:
        name = spec["componentInputParameter"]
        return refs.dag_parameters.get(name, params.get(name))
    if "taskOutputParameter" in spec:
        out = spec["taskOutputParameter"] or {}
        producer = refs.upstream.get(out.get("producerTask", ""))
        if producer is None or not producer.ok:
            return None
        return producer.parameters.get(out.get("outputParameterKey", ""))
    return None


def describe(spec: Any) -> str:
    """Where a value comes from, for error messages."""
    if not isinstance(spec, Mapping):
        return "nowhere (no name is set)"
    if "componentInputParameter" in spec:
        return f"input {spec['componentInputParameter']!r}"
    if "taskOutputParameter" in spec:
        out = spec["taskOutputParameter"] or {}
        return f"output {out.get('outputParameterKey')!r} of task {out.get('producerTask')!r}"
    return "a constant"


def name_of(item: Mapping[str, Any], legacy_key: str, param_key: str, refs: Refs,
            params: Mapping[str, Any]) -> Any:
    """A secret/config map name: the parameter form, else the deprecated plain string."""
    if param_key in item:
        return resolve(item[param_key], refs, params)
    return item.get(legacy_key)


def pvc_reference(item: Mapping[str, Any], refs: Refs, params: Mapping[str, Any]) -> tuple[Any, Any]:
    """(where the name comes from, the name) of a ``pvcMount``, old and new field forms."""
    if "pvcNameParameter" in item:
        spec = item["pvcNameParameter"]
    elif "constant" in item:
        spec = {"runtimeValue": {"constant": item["constant"]}}
    elif "componentInputParameter" in item:
        spec = {"componentInputParameter": item["componentInputParameter"]}
    else:
        spec = {"taskOutputParameter": item.get("taskOutputParameter") or {}}
    return spec, resolve(spec, refs, params)


def field_path_value(path: str, ctx: RunContext, task: Task, metadata: Mapping[str, Any]) -> str | None:
    """A Downward API field for a task that is a process, not a pod; None when unknown.
    Labels and annotations the pod would not have read as empty, as on Kubernetes."""
    match = _POD_FIELD.match(path)
    if match:
        return str((metadata.get(match.group(1)) or {}).get(match.group(2), ""))
    simple = {
        "metadata.name": f"{task.name}-{task.task_id[:8]}",
        "metadata.namespace": "default",
        "metadata.uid": task.task_id,
        "spec.nodeName": socket.gethostname(),
        "spec.serviceAccountName": "default",
        "status.hostIP": "127.0.0.1",
        "status.podIP": "127.0.0.1",
    }
    return simple.get(path)


@dataclass(frozen=True)
class Setup:
    env: Mapping[str, str] = field(default_factory=dict)
    mounts: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float | None = None
    workspace_path: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def volume_dir(ctx: RunContext, name: str, where: str) -> Path:
    """The directory that stands for the PVC called ``name``; it persists across runs."""
    if not isinstance(name, str) or not _VOLUME_NAME.match(name):
        raise FailedPrecondition(f"{where}: {name!r} is not a valid volume (PVC) name")
    return ctx.settings.volumes_dir / name


def workspace_dir(ctx: RunContext) -> Path | None:
    """The run's workspace directory when the pipeline asks for one (``pipelineConfig.workspace``)."""
    if not ctx.pipeline.platform_pipeline.get("workspace"):
        return None
    return ctx.settings.home / "workspaces" / ctx.run_id


def prepare(ctx: RunContext, component: ComponentView, task: Task, params: Mapping[str, Any],
            where: str, *, refs: Refs | None = None, work: Path | None = None) -> Setup:
    """What the task's process needs from its platform config. Raises a
    ``PipeyardError`` naming the setting when it cannot be honoured (a missing
    secret or key, an invalid volume name)."""
    config = ctx.pipeline.platform.get(component.executor_label, {})
    b = _Builder(ctx, task, params, refs or Refs(), where, work)
    b.secrets(config)
    b.config_maps(config)
    b.volumes(config)
    b.field_paths(config)
    b.not_applicable(config)
    b.accelerator(component)
    workspace = workspace_dir(ctx)
    if workspace is not None:
        workspace.mkdir(parents=True, exist_ok=True)
        b.mounts[WORKSPACE_MOUNT_PATH] = str(workspace)
    timeout = config.get("activeDeadlineSeconds")
    return Setup(env=b.env, mounts=b.mounts, timeout_seconds=float(timeout) if timeout else None,
                 workspace_path=str(workspace) if workspace is not None else None, details=b.details)


class _Builder:
    """Accumulates one task's env, mounts and details while reading its config."""

    def __init__(self, ctx: RunContext, task: Task, params: Mapping[str, Any], refs: Refs,
                 where: str, work: Path | None) -> None:
        self.ctx = ctx
        self.task = task
        self.params = params
        self.refs = refs
        self.where = where
        self._work = work
        self.env: dict[str, str] = {}
        self.mounts: dict[str, str] = {}
        self.details: dict[str, Any] = {}

    # ------------------------------------------------------------------ helpers

    def _note(self, key: str, item: Any) -> None:
        self.details.setdefault(key, []).append(item)

    def _mount(self, setting: str, item: Mapping[str, Any], host: Path) -> None:
        path = str(item.get("mountPath") or "")
        if not path.startswith("/"):
            raise FailedPrecondition(f"{self.where}: {setting}: mountPath {path!r} is not an absolute path")
        self.mounts[path] = str(host)

    def _private_dir(self, label: str) -> Path:
        """A fresh directory for this attempt only: it goes away with the attempt's work dir."""
        if self._work is None:
            self._work = Path(tempfile.mkdtemp(prefix="pipeyard-platform-"))
        base = self._work / ".platform"
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = base / label
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(mode=0o700)
        return path

    def _load(self, store: SecretStore, setting: str, item: Mapping[str, Any],
              legacy_key: str, param_key: str, keys: list[str]) -> tuple[str, dict[str, str]] | None:
        """The named secret/config map's data; None when optional and absent. ``keys``
        (the ones the task wants, if it names them) only make the error clearer."""
        kind = store.kind.replace("configmap", "config map")
        optional = bool(item.get("optional", False))
        name = name_of(item, legacy_key, param_key, self.refs, self.params)
        if name in (None, ""):
            if optional:
                self._note("skipped_optional", f"{setting}: no {kind} name given "
                           f"({describe(item.get(param_key))})")
                return None
            raise FailedPrecondition(
                f"{self.where}: {setting}: the {kind} name comes from "
                f"{describe(item.get(param_key))}, which has no value")
        try:
            return str(name), store.get(str(name))
        except NotFound:
            if optional:
                self._note("skipped_optional", f"{setting}: {kind} {name!r} not found (optional)")
                return None
            cli = "secrets" if store.kind == "secret" else "configmaps"
            wanted = f" (wanted for key {', '.join(repr(k) for k in keys)})" if keys else ""
            raise FailedPrecondition(
                f"{self.where}: {setting}: {kind} {name!r}{wanted} not found in the local {kind} "
                f"store ({store.directory}); create it with "
                f"`pipeyard {cli} set {name} {(keys or ['KEY'])[0]}=VALUE`") from None
        except InvalidArgument as e:
            raise FailedPrecondition(f"{self.where}: {setting}: {e.reason}") from None

    def _as_env(self, store: SecretStore, setting: str, items: list[Mapping[str, Any]],
                legacy_key: str, param_key: str, key_field: str) -> None:
        kind = store.kind.replace("configmap", "config map")
        for item in items:
            pairs = list(item.get("keyToEnv") or [])
            loaded = self._load(store, setting, item, legacy_key, param_key,
                                [str(p.get(key_field, "")) for p in pairs])
            if loaded is None:
                continue
            name, data = loaded
            for pair in pairs:
                key, var = pair.get(key_field, ""), pair.get("envVar", "")
                if key not in data:
                    if item.get("optional"):
                        continue
                    raise FailedPrecondition(
                        f"{self.where}: {setting}: {kind} {name!r} has no key {key!r} "
                        f"(its keys: {', '.join(sorted(data)) or 'none'})")
                self.env[var] = data[key]
                self._note(setting, {"name": name, "key": key, "env": var})

    def _as_volume(self, store: SecretStore, setting: str, items: list[Mapping[str, Any]],
                   legacy_key: str, param_key: str) -> None:
        for i, item in enumerate(items):
            loaded = self._load(store, setting, item, legacy_key, param_key, [])
            if loaded is None:
                continue
            name, data = loaded
            directory = self._private_dir(f"{store.kind}-{i}")
            for key, value in data.items():
                if "/" in key or key in (".", ".."):
                    raise FailedPrecondition(f"{self.where}: {setting}: key {key!r} of {name!r} "
                                             "cannot be a file name")
                fd = os.open(directory / key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(value)
            self._mount(setting, item, directory)
            self._note(setting, {"name": name, "keys": sorted(data), "mount_path": item.get("mountPath")})

    # ------------------------------------------------------------------ settings

    def secrets(self, config: Mapping[str, Any]) -> None:
        store = SecretStore(self.ctx.settings.secrets_dir, "secret")
        self._as_env(store, "secretAsEnv", config.get("secretAsEnv") or [], "secretName",
                     "secretNameParameter", "secretKey")
        self._as_volume(store, "secretAsVolume", config.get("secretAsVolume") or [], "secretName",
                        "secretNameParameter")

    def config_maps(self, config: Mapping[str, Any]) -> None:
        store = SecretStore(self.ctx.settings.home / "configmaps", "configmap")
        self._as_env(store, "configMapAsEnv", config.get("configMapAsEnv") or [], "configMapName",
                     "configMapNameParameter", "configMapKey")
        self._as_volume(store, "configMapAsVolume", config.get("configMapAsVolume") or [],
                        "configMapName", "configMapNameParameter")

    def volumes(self, config: Mapping[str, Any]) -> None:
        for item in config.get("pvcMount") or []:
            spec, name = pvc_reference(item, self.refs, self.params)
            if name in (None, ""):
                raise FailedPrecondition(f"{self.where}: pvcMount at {item.get('mountPath')!r}: the "
                                         f"volume name comes from {describe(spec)}, which has no value")
            host = volume_dir(self.ctx, str(name), f"{self.where}: pvcMount")
            sub = str(item.get("subPath") or "")
            if sub:
                if Path(sub).is_absolute() or ".." in Path(sub).parts:
                    raise FailedPrecondition(f"{self.where}: pvcMount subPath {sub!r} must stay "
                                             "inside the volume")
                host = host / sub
            # Like a named Docker volume, a PVC that no CreatePVC made (mount_pvc of an
            # existing claim) starts empty and then persists.
            host.mkdir(parents=True, exist_ok=True)
            self._mount("pvcMount", item, host)
            self._note("volumes", {"pvc": name, "sub_path": sub or None,
                                   "mount_path": item.get("mountPath"), "host_path": str(host)})
        ephemeral = [("emptyDirMounts", m) for m in config.get("emptyDirMounts") or []]
        ephemeral += [("genericEphemeralVolume", m) for m in config.get("genericEphemeralVolume") or []]
        for i, (setting, item) in enumerate(ephemeral):
            directory = self._private_dir(f"ephemeral-{i}")
            self._mount(setting, item, directory)
            self._note("volumes", {setting: item.get("volumeName"), "mount_path": item.get("mountPath")})

    def field_paths(self, config: Mapping[str, Any]) -> None:
        metadata = config.get("podMetadata") or {}
        if metadata:
            self.details["pod_metadata"] = metadata
        for item in config.get("fieldPathAsEnv") or []:
            path = item.get("fieldPath", "")
            value = field_path_value(path, self.ctx, self.task, metadata)
            if value is None:
                self._note("unknown_field_paths", path)
                value = ""
            self.env[item.get("name", "")] = value

    def not_applicable(self, config: Mapping[str, Any]) -> None:
        ignored = {k: {"reason": reason, "setting": config[k]}
                   for k, reason in NOT_APPLICABLE.items() if k in config}
        if ignored:
            self.details["not_applicable_locally"] = ignored

    def accelerator(self, component: ComponentView) -> None:
        """The manifest's rule (and KFP's local runner's): accelerator requests are
        ignored with a warning rather than failing a laptop run."""
        container = component.container
        if container is None or not container.resources.accelerator_type:
            return
        pctx = PlaceholderContext(input_parameters=self.params)
        try:
            kind = substitute_string(container.resources.accelerator_type, pctx, where=self.where)
            count = substitute_string(container.resources.accelerator_count or "1", pctx,
                                      where=self.where)
        except PipeyardError:
            kind, count = container.resources.accelerator_type, container.resources.accelerator_count
        if _gpu_visible():
            note = "the local and docker launchers give the task devices of its own (CUDA_VISIBLE_DEVICES)"
        else:
            note = "not satisfied: no GPU on this machine, the task runs without one"
        self.details.setdefault("warnings", []).append(f"accelerator {kind} x{count or 1} requested: {note}")


def _gpu_visible() -> bool:
    return Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None
