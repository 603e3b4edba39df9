"""A local secret store: what kfp-kubernetes ``use_secret_as_env`` and
``use_secret_as_volume`` (and config maps) read on this machine.

One JSON file per secret under ``PIPEYARD_HOME/secrets`` (directory 0700, files
0600). Values never appear in logs, task details or the UI.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from pipeyard.config import Settings
from pipeyard.errors import InvalidArgument, NotFound

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")


class SecretStore:
    def __init__(self, directory: Path, kind: str = "secret") -> None:
        self.directory = directory
        self.kind = kind

    @staticmethod
    def default(kind: str = "secret") -> SecretStore:
        settings = Settings.from_env()
        sub = settings.secrets_dir if kind == "secret" else settings.home / "configmaps"
        return SecretStore(sub, kind)

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise InvalidArgument(f"invalid {self.kind} name {name!r}", field="name")
        return self.directory / f"{name}.json"

    def put(self, name: str, data: dict[str, str]) -> None:
        path = self._path(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)

    def get(self, name: str) -> dict[str, str]:
        path = self._path(name)
        if not path.is_file():
            raise NotFound(self.kind, name)
        return dict(json.loads(path.read_text()))

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json"))

    def delete(self, name: str) -> None:
        path = self._path(name)
        if not path.is_file():
            raise NotFound(self.kind, name)
        path.unlink()
