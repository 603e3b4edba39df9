"""What a component imported last time, and whether a fork server may import it for it.

An ML step pays for ``import numpy, sklearn`` (seconds) on every run. A fork server that
has already imported them forks a task that finds them in ``sys.modules``. The task's
child writes down which modules it imported beyond the fork server's own (names and
where they came from); that record, kept per interpreter and component source under
PIPEYARD_HOME, is the list a "warm" fork server imports next time.

Forking a process is only safe while it runs a single thread, so a list is used only
when ``plan`` accepts it: only modules installed in the interpreter (standard library
or site-packages, never a task's own directories, whose names could mean another file
for another task), none from packages known to start threads or to break in a forked
child (CUDA, gRPC, Ray...), and none already found unsafe. The warm server itself also
checks, after importing, that it still runs one thread; if not, the list is marked
unsafe for good and its tasks go back to the plain fork server, whose children import
what they need themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Top-level packages whose import starts threads, or whose state does not survive fork().
FORK_UNSAFE_PACKAGES = frozenset({
    "torch", "tensorflow", "jax", "jaxlib", "grpc", "ray", "cupy", "pycuda", "numba", "pyspark",
    "tensorrt", "onnxruntime", "xgboost", "lightgbm", "dask", "distributed", "mlflow", "wandb",
})
# Thread pools that size themselves at import: one thread each, so the warm server stays forkable.
THREAD_LIMITS = {
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1",
}
# Recorded modules of these kinds may be preloaded (written by the child, see _forkserver_main.py).
PRELOADABLE_KINDS = ("stdlib", "site")
MAX_MODULES = 5000
_KEPT = 1024  # paths and records kept in memory by one Records


@dataclass(frozen=True)
class Record:
    modules: tuple[tuple[str, str], ...]  # (module name, kind: stdlib | site | other)
    unsafe: str | None = None


def plan(record: Record | None) -> tuple[str, ...] | None:
    """The modules a warm server should import for this record, or None when it must not.

    None also when nothing beyond the standard library is listed: the plain fork server
    has paid for what matters there already."""
    if record is None or record.unsafe is not None or not record.modules:
        return None
    names: list[str] = []
    for name, kind in record.modules:
        if kind not in PRELOADABLE_KINDS:
            continue  # a task's own module: the same name may be another file for another task
        if name.split(".", 1)[0] in FORK_UNSAFE_PACKAGES or name == "__main__":
            return None
        names.append(name)
    if not any(kind == "site" for _, kind in record.modules):
        return None
    if len(names) > MAX_MODULES:
        return None
    return tuple(sorted(names))


def union(plans: Iterable[Sequence[str]]) -> tuple[str, ...]:
    return tuple(sorted({name for p in plans for name in p}))


class Records:
    """Module records under ``root``: one JSON file per (interpreter, component source).

    Every task asks for its record (``WarmServers.pick``); a chain of one component asks
    for the same one a thousand times. Paths are kept by (interpreter, source), and a
    record read once is kept while its file's stat says it is the same file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: dict[tuple[str, str], Path] = {}
        self._read: dict[Path, tuple[tuple[int, int, int], Record]] = {}

    def path(self, interpreter: str, source: str) -> Path:
        known = self._paths.get((interpreter, source))
        if known is not None:
            return known
        where = hashlib.sha256(os.path.abspath(interpreter).encode()).hexdigest()[:16]
        what = hashlib.sha256(source.encode()).hexdigest()[:32]
        path = self.root / where / f"{what}.json"
        if len(self._paths) >= _KEPT:
            self._paths.clear()
        self._paths[(interpreter, source)] = path
        return path

    def read(self, path: Path) -> Record | None:
        try:
            st = os.stat(path)
        except OSError:
            return None  # absent: the task simply runs cold and records again
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        kept = self._read.get(path)
        if kept is not None and kept[0] == key:
            return kept[1]
        try:
            data = json.loads(path.read_text())
            modules = tuple((str(n), str(k)) for n, k in data.get("modules", []))
            unsafe = data.get("unsafe")
            record = Record(modules, None if unsafe is None else str(unsafe))
        except (OSError, ValueError, TypeError, AttributeError):
            return None  # damaged: as if absent
        if len(self._read) >= _KEPT:
            self._read.clear()
        self._read[path] = (key, record)
        return record

    def write(self, path: Path, record: Record) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(json.dumps({"modules": [list(m) for m in record.modules], "unsafe": record.unsafe}))
        partial.replace(path)

    def merge_child_report(self, path: Path, report: Path, keep_previous: bool) -> None:
        """Fold what a task's child wrote into the record (a warm child lists only what
        the warm server lacked, so the previous list is kept then)."""
        try:
            found = [(str(n), str(k)) for n, k in json.loads(report.read_text())]
        except (OSError, ValueError, TypeError):
            return
        finally:
            report.unlink(missing_ok=True)
        previous = self.read(path)
        if previous is not None and previous.unsafe is not None:
            return  # found unsafe once: stays so
        before = dict(previous.modules) if previous is not None else {}
        merged = {**(before if keep_previous else {}), **dict(found)}
        if previous is None or merged != before:
            self.write(path, Record(tuple(sorted(merged.items()))))

    def mark_unsafe(self, paths: Iterable[Path], reason: str) -> None:
        for path in paths:
            record = self.read(path)
            self.write(path, Record(record.modules if record else (), reason))
