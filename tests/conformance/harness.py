"""Running one conformance manifest entry through the engine, in process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeyard.config import Settings
from pipeyard.engine.runner import execute_run
from pipeyard.entities import Run, Task
from pipeyard.ir.loader import load_pipeline_file
from pipeyard.launchers.local import LocalLauncher
from pipeyard.secrets import SecretStore
from pipeyard.store import Store, open_store
from pipeyard.submission.runs import check_arguments, create_run

# The secrets the manifest assumes (as in KFP's backend e2e setup).
MANIFEST_SECRETS = {
    "test-secret-1": {"username": "user1"},
    "test-secret-2": {"password": "psw1"},
    "test-secret-3": {"password": "psw2"},
}


@dataclass
class Result:
    run: Run
    tasks: list[Task]
    store: Store


def _fill(value: Any, tmpdir: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{tmpdir}", str(tmpdir))
    if isinstance(value, list):
        return [_fill(v, tmpdir) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, tmpdir) for k, v in value.items()}
    return value


def prepare_home(home: Path) -> Settings:
    settings = Settings.from_env({"PIPEYARD_HOME": str(home)})
    settings.ensure_dirs()
    secrets = SecretStore(settings.secrets_dir)
    for name, data in MANIFEST_SECRETS.items():
        secrets.put(name, data)
    return settings


def run_entry(entry: dict[str, Any], pipelines: Path, settings: Settings, store: Store,
              tmpdir: Path) -> Result:
    loaded = load_pipeline_file(pipelines / entry["file"])
    args = _fill(entry.get("args") or {}, tmpdir)
    params = check_arguments(loaded, args)
    inputs: dict[str, list[dict[str, Any]]] = {}
    root_artifacts = loaded.spec.root.input_definitions.artifacts
    for name, art in (entry.get("artifacts") or {}).items():
        path = tmpdir / f"input-{name}"
        path.write_text(art["content"])
        schema = root_artifacts[name].artifact_type.schema_title if name in root_artifacts else "system.Artifact"
        inputs[name] = [{"artifact_id": None, "name": name, "uri": str(path), "type": schema,
                         "metadata": {}}]
    run = create_run(store, loaded, params, pipeline_root=settings.pipeline_root, enable_caching=None,
                     local_worker="conformance")

    async def main() -> Run:
        launcher = LocalLauncher(envs_dir=settings.envs_dir)
        try:
            return await execute_run(run.run_id, recorder=store, launcher=launcher, settings=settings,
                                     input_artifacts=inputs)
        finally:
            await launcher.aclose()

    final = asyncio.run(main())
    return Result(final, store.list_tasks(run.run_id), store)


def open_home_store(settings: Settings) -> Store:
    return open_store(settings.database_url)
