"""An attempt's files on a Ray node that does not share the driver's filesystem.

With a remote pipeline root the engine stages artifacts under ``PIPEYARD_HOME``
on the driver and hands the executor local paths. On another machine those
paths do not exist, so the Ray task, on its node and before the command runs:

- downloads each staged input from its remote URI to the same local path (a copy
  already there, as on the driver's own node, is used as it is);
- creates the task's folders (work folder, task root, output folders);

and after a successful command:

- uploads what the task wrote under its staged task root to the root's remote
  URI (the executor output file excepted), so consumers on any node, and the
  store, see it in the bucket;
- sends back the small files the engine reads (the executor output file, output
  parameter files in the work folder), which the driver writes in place.

On a node other than the driver's, everything it created under the attempt's
paths is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeyard.artifacts.filesystems import filesystem, listing

# The files sent back are the engine's small bookkeeping files, not data.
MAX_RETURNED_BYTES = 16 << 20
EXECUTOR_OUTPUT = "executor_output.json"


@dataclass(frozen=True)
class NodeFiles:
    """The file side of one attempt, as plain data for the Ray task."""

    staged_inputs: Mapping[str, str] = field(default_factory=dict)  # local path -> remote URI
    task_root: str | None = None
    task_root_uri: str | None = None
    folders: tuple[str, ...] = ()  # work folder, output folders
    work: str | None = None

    @property
    def remote(self) -> bool:
        return self.task_root is not None and self.task_root_uri is not None


def _download(uri: str, target: Path) -> None:
    fs, path = filesystem(uri)
    files = listing(fs, path)
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    if "" in files:
        fs.get_file(path, str(tmp))
    else:
        tmp.mkdir()
        for rel in sorted(files):
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(f"{path}/{rel}", str(tmp / rel))
    os.replace(tmp, target)


def prepare(files: NodeFiles) -> list[str]:
    """Fetch missing inputs and make the folders; the paths this created."""
    created: list[str] = []
    for folder in (*files.folders, *([files.task_root] if files.task_root else [])):
        if not os.path.exists(folder):
            created.append(folder)
            Path(folder).mkdir(parents=True, exist_ok=True)
    for local, uri in files.staged_inputs.items():
        target = Path(local)
        if target.exists():
            continue
        try:
            _download(uri, target)
        except FileNotFoundError:
            continue  # as on the driver: the executor gets a path with nothing at it
        created.append(local)
    return created


def _written(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not (path.parent == root and path.name == EXECUTOR_OUTPUT):
            yield path


def upload_outputs(files: NodeFiles) -> int:
    """Upload the task root's files to its remote URI; how many."""
    if not files.remote:
        return 0
    assert files.task_root is not None and files.task_root_uri is not None
    root = Path(files.task_root)
    written = list(_written(root)) if root.is_dir() else []
    if written:
        fs, path = filesystem(files.task_root_uri)
        base = path.rstrip("/")
        fs.put([str(p) for p in written], [f"{base}/{p.relative_to(root).as_posix()}" for p in written])
    return len(written)


def collect_returned(files: NodeFiles) -> dict[str, bytes]:
    """The executor output file and the work folder's files, by absolute path."""
    found: list[Path] = []
    if files.task_root:
        output = Path(files.task_root, EXECUTOR_OUTPUT)
        if output.is_file():
            found.append(output)
    if files.work and os.path.isdir(files.work):
        found += [p for p in sorted(Path(files.work).rglob("*")) if p.is_file()]
    out: dict[str, bytes] = {}
    total = 0
    for path in found:
        size = path.stat().st_size
        if total + size > MAX_RETURNED_BYTES:
            break
        out[str(path)] = path.read_bytes()
        total += size
    return out


def write_returned(returned: Mapping[str, bytes]) -> None:
    """On the driver: put the files the remote attempt sent back in place."""
    for name, data in returned.items():
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.returned")
        tmp.write_bytes(data)
        os.replace(tmp, path)


def remove_created(created: Iterable[str]) -> None:
    for name in created:
        path = Path(name)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
