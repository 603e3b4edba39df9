"""Request bodies of the v2beta1 API (snake_case, as ``kfp.Client`` sends them).

Unknown fields are ignored, as protobuf's JSON parser does for newer clients. Deep
structures (specs, triggers, parameters) are checked by the code that uses them, which
names the field at fault.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RuntimeConfig(_Body):
    parameters: dict[str, Any] | None = None
    pipeline_root: str | None = None
    # pipeyard's extension: root input artifacts, {input name: artifact URI} (docs/api.md).
    pipeyard_input_artifacts: dict[str, Any] | None = None


class VersionReference(_Body):
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None


class ExperimentBody(_Body):
    display_name: str
    description: str | None = None
    namespace: str | None = None


class PipelineBody(_Body):
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    namespace: str | None = None
    # KFP 2.15+: None leaves tags as they are (PATCH), {} clears them.
    tags: dict[str, Any] | None = None


class PackageUrl(_Body):
    pipeline_url: str | None = None


class PipelineVersionBody(_Body):
    pipeline_id: str | None = None
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    code_source_url: str | None = None
    package_url: PackageUrl | None = None
    pipeline_spec: dict[str, Any] | None = None
    tags: dict[str, Any] | None = None


class CreatePipelineAndVersion(_Body):
    pipeline: PipelineBody
    pipeline_version: PipelineVersionBody


class RunBody(_Body):
    display_name: str | None = None
    description: str | None = None
    experiment_id: str | None = None
    pipeline_spec: dict[str, Any] | None = None
    pipeline_version_reference: VersionReference | None = None
    # Deprecated in v2beta1 but still sent by older clients.
    pipeline_version_id: str | None = None
    runtime_config: RuntimeConfig | None = None
    service_account: str | None = None
    namespace: str | None = None


class RecurringRunBody(RunBody):
    trigger: dict[str, Any] | None = None
    mode: str | None = None
    # int64 in protobuf JSON: a number or a string.
    max_concurrency: int | str | None = None
    no_catchup: bool | None = None
