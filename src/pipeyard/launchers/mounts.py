"""Making host directories visible at container paths (``LaunchRequest.mounts``).

Preferred: a private mount namespace per task. The command runs under
``unshare --mount --propagation private`` (as root) or
``unshare --user --map-root-user --mount`` (unprivileged, when user namespaces
work), and a tiny shell prologue bind-mounts each host directory onto its
container path before exec'ing the command. The task sees the whole host
filesystem plus its mounts; nothing outside the task sees the bind mounts.

A bind mount needs an existing mount point. When the container path does not
exist, the launcher creates the (empty) directory and leaves it there: another
process (a second `pipeyard run`, a server's worker) may be binding onto it at
that moment, and removing a mount point in one mount namespace detaches the
mounts on it in all others. Writes under it land in the host directory, never in
the mount point itself, so what stays behind is an empty directory.

Fallback, when namespaces are unavailable (no ``unshare``, no privileges, or
the mount point cannot be created): every argv element has the container path
prefix rewritten to the host directory. This covers commands that receive
their paths as arguments (KFP passes paths through the command line and the
executor input) but not paths hard-coded inside a program.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Bind-mount each (host, container) pair given as arguments, then run the command.
# The mkdir repeats the launcher's: an older pipeyard may have removed the point.
_PROLOGUE = (
    'while [ "$1" != "--" ]; do mkdir -p "$2" 2>/dev/null; mount --bind "$1" "$2" || exit 125; '
    'shift 2; done; shift; exec "$@"'
)


def _probe_unshare() -> list[str] | None:
    """The unshare prefix that works on this machine, or None."""
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("mount") is None:
        return None
    candidates = [[unshare, "--mount", "--propagation", "private"]]
    if os.geteuid() != 0:
        candidates = [[unshare, "--user", "--map-root-user", "--mount", "--propagation", "private"]]
    for prefix in candidates:
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


def rewrite_argv(argv: Sequence[str], mounts: Mapping[str, str]) -> tuple[str, ...]:
    """Replace each container path prefix (at a path boundary) with its host directory."""
    result = list(argv)
    # Longest first, so "/data/sub" wins over "/data".
    for container, host in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
        pattern = re.compile(r"(?<![\w.\-/])" + re.escape(container.rstrip("/")) + r"(?=/|$|[^\w.\-])")
        replacement = host.rstrip("/").replace("\\", "\\\\")
        result = [pattern.sub(replacement, arg) for arg in result]
    return tuple(result)


@dataclass
class MountPlan:
    """What to run, and which mount points to release when the task ends."""

    argv: tuple[str, ...]
    created: list[Path] = field(default_factory=list)
    namespaced: bool = False


class Mounter:
    """Owns the namespace probe and the mount points this launcher created."""

    def __init__(self, use_namespaces: bool = True) -> None:
        self._use_namespaces = use_namespaces
        self._prefix: list[str] | None = None
        self._probed = False
        self._users: dict[Path, int] = {}  # mount points we created -> running tasks using them

    def _namespace_prefix(self) -> list[str] | None:
        if not self._use_namespaces:
            return None
        if not self._probed:
            self._prefix = _probe_unshare()
            self._probed = True
        return self._prefix

    def plan(self, argv: Sequence[str], mounts: Mapping[str, str]) -> MountPlan:
        if not mounts:
            return MountPlan(tuple(argv))
        for host in mounts.values():
            Path(host).mkdir(parents=True, exist_ok=True)
        prefix = self._namespace_prefix()
        if prefix is None:
            return MountPlan(rewrite_argv(argv, mounts))
        created: list[Path] = []
        pairs: list[str] = []
        for container, host in mounts.items():
            try:
                created += self._claim(Path(container))
            except OSError:
                self.release(created)
                return MountPlan(rewrite_argv(argv, mounts))
            pairs += [host, container]
        wrapped = (*prefix, "/bin/sh", "-c", _PROLOGUE, "sh", *pairs, "--", *argv)
        return MountPlan(wrapped, created, namespaced=True)

    def _claim(self, point: Path) -> list[Path]:
        """Create the missing directories of ``point`` (or share ones we created); deepest first."""
        chain = [point, *point.parents]
        ours = [p for p in chain if p in self._users or not p.exists()]
        # Only a contiguous run from the mount point upwards can be ours.
        claimed: list[Path] = []
        for path in chain:
            if path not in ours:
                break
            claimed.append(path)
        done: list[Path] = []
        try:
            for path in reversed(claimed):
                if path in self._users:
                    self._users[path] += 1
                else:
                    path.mkdir()
                    self._users[path] = 1
                done.insert(0, path)
        except OSError:
            self.release(done)
            raise
        return claimed

    def release(self, created: Sequence[Path]) -> None:
        """Forget a task's use of the mount points; they stay (see the module docstring)."""
        for path in created:
            self._users[path] -= 1
            if self._users[path] == 0:
                del self._users[path]
