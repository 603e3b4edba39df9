"""The files holding KFP Python components' source, written once per launcher.

KFP's executor imports a component from ``--component_module_path``; a lightweight
component's source travels in its command line, so it must first be written to a file.
Every task of a chain of the same component used to get its own temporary directory,
file and removal; on a loaded disk those few metadata operations cost milliseconds
each. The file's content is fixed by the source, so one file per distinct source
serves every task that runs it, and the launcher removes them all when it closes.
The file keeps the name KFP's own bootstrap gives it (``ephemeral_component.py``), in
a directory of its own, because the executor puts that directory on ``sys.path``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

MODULE_NAME = "ephemeral_component.py"


class ComponentFiles:
    def __init__(self) -> None:
        self._root: Path | None = None
        self._written: dict[str, Path] = {}

    def path_for(self, source: str) -> Path:
        """The module file holding ``source``, written on first use."""
        digest = hashlib.sha256(source.encode()).hexdigest()[:32]
        known = self._written.get(digest)
        if known is not None and os.path.exists(known):  # a temp cleaner may have removed it
            return known
        if self._root is None or not self._root.exists():
            self._root = Path(tempfile.mkdtemp(prefix="pipeyard-components-"))
        directory = self._root / digest
        directory.mkdir(exist_ok=True)
        path = directory / MODULE_NAME
        # Written under another name and renamed, so no task ever imports a half-written file.
        partial = directory / f".{MODULE_NAME}.{os.getpid()}"
        partial.write_text(source)
        partial.replace(path)
        self._written[digest] = path
        return path

    def close(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        self._written.clear()
