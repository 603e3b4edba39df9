"""Where pipeyard keeps its data, from the environment (see DESIGN.md, data layout)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    pipeline_root: str
    envs_dir: Path
    logs_dir: Path
    secrets_dir: Path
    volumes_dir: Path

    @staticmethod
    def from_env(env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        home = Path(env.get("PIPEYARD_HOME") or Path.home() / ".pipeyard").expanduser().resolve()
        database_url = env.get("PIPEYARD_DATABASE_URL") or f"sqlite:///{home / 'pipeyard.db'}"
        pipeline_root = env.get("PIPEYARD_PIPELINE_ROOT") or str(home / "artifacts")
        return Settings(
            home=home,
            database_url=database_url,
            pipeline_root=pipeline_root,
            envs_dir=Path(env.get("PIPEYARD_ENVS_DIR") or home / "envs"),
            logs_dir=home / "logs",
            secrets_dir=home / "secrets",
            volumes_dir=home / "volumes",
        )

    def ensure_dirs(self) -> None:
        for d in (self.home, self.envs_dir, self.logs_dir, self.volumes_dir):
            d.mkdir(parents=True, exist_ok=True)
        if "://" not in self.pipeline_root:
            Path(self.pipeline_root).mkdir(parents=True, exist_ok=True)
