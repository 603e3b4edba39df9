"""Making host directories visible at container paths (``LaunchRequest.mounts``).

Preferred: a private mount namespace per task. The command runs under
``unshare --mount --propagation private`` (as root) or
``unshare --user --map-root-user --mount`` (unprivileged, when user namespaces
work), and a shell prologue bind-mounts each host directory onto its container
path before exec'ing the command. Nothing outside the task sees the mounts.

A bind mount needs a mount point, and creating a missing one (``/data``) on the
host would leave it behind. So when a container path does not exist, the task gets
a private root instead, all inside its namespace: a tmpfs (mounted on an empty
directory under ``PIPEYARD_HOME``) holds a bind of every top-level entry of the
host's ``/``; the deepest existing ancestor of the missing path is replaced in it
by a tmpfs holding binds of that ancestor's entries; the missing directories are
made in that tmpfs; the command runs ``chroot``ed into the new root, in its own
working directory. The task sees the host's whole file system plus its mounts, and
the host's file system is not changed.

Fallback, when namespaces are unavailable (no ``unshare``, no privileges): every
argv element has the container path prefix rewritten to the host directory. This
covers commands that receive their paths as arguments (KFP passes paths through
the command line and the executor input) but not paths hard-coded inside a program.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Bind-mount each (host, container) pair given as arguments, then run the command.
# All container paths exist: bind in place.
_PROLOGUE = 'while [ "$1" != "--" ]; do mount --bind "$1" "$2" || exit 125; shift 2; done; shift; exec "$@"'

# Some container path is missing: build a private root in "$1" (see the module docstring).
_PRIVATE_ROOT = r'''
set -e
nr=$1; shift
cwd=$(pwd -P)
mount -t tmpfs -o mode=0755 pipeyard-root "$nr"
for e in /* /.[!.]* /..?*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  n=${e#/}
  if [ -L "$e" ]; then cp -P "$e" "$nr/$n"
  elif [ -d "$e" ]; then mkdir "$nr/$n"; mount --rbind "$e" "$nr/$n"
  else : > "$nr/$n"; mount --bind "$e" "$nr/$n"; fi
done
shadowed=" / "
shadow() {  # replace host dir $1 inside the new root by a tmpfs holding binds of its entries
  case "$shadowed" in *" $1 "*) return 0;; esac
  mount -t tmpfs -o mode=0755 pipeyard-dir "$nr$1"
  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    n=${e##*/}
    if [ -L "$e" ]; then cp -P "$e" "$nr$1/$n"
    elif [ -d "$e" ]; then mkdir "$nr$1/$n"; mount --rbind "$e" "$nr$1/$n"
    else : > "$nr$1/$n"; mount --bind "$e" "$nr$1/$n"; fi
  done
  shadowed="$shadowed$1 "
}
while [ "$1" != "--" ]; do
  host=$1; point=$2; shift 2
  a=$point; rest=
  while [ ! -d "$a" ]; do rest=/${a##*/}$rest; a=$(dirname "$a"); done
  a=$(cd "$a" && pwd -P)
  if [ -n "$rest" ]; then
    [ "$a" = / ] || shadow "$a"
    a=${a%/}
    mkdir -p "$nr$a$rest"
  fi
  mount --bind "$host" "$nr${a%/}$rest"
done
shift
exec chroot "$nr" /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@"
'''


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
    """What to run, and the private-root mount point to remove when the task ends."""

    argv: tuple[str, ...]
    namespaced: bool = False
    root_dir: Path | None = None


class Mounter:
    """Owns the namespace probe; ``scratch`` (under PIPEYARD_HOME) holds private-root mount points."""

    def __init__(self, use_namespaces: bool = True, scratch: Path | None = None) -> None:
        self._use_namespaces = use_namespaces
        self._scratch = scratch
        self._prefix: list[str] | None = None
        self._probed = False

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
        pairs = [item for container, host in mounts.items() for item in (os.path.abspath(host), container)]
        if all(os.path.isdir(container) for container in mounts):
            return MountPlan((*prefix, "/bin/sh", "-c", _PROLOGUE, "sh", *pairs, "--", *argv), namespaced=True)
        root_dir = Path(tempfile.mkdtemp(prefix="root-", dir=self._scratch_dir()))
        wrapped = (*prefix, "/bin/sh", "-c", _PRIVATE_ROOT, "sh", str(root_dir), *pairs, "--", *argv)
        return MountPlan(wrapped, namespaced=True, root_dir=root_dir)

    def _scratch_dir(self) -> str | None:
        if self._scratch is None:
            return None
        self._scratch.mkdir(parents=True, exist_ok=True)
        return str(self._scratch)

    def release(self, plan: MountPlan) -> None:
        """Remove the private root's mount point: on the host it was only ever an empty directory."""
        if plan.root_dir is not None:
            with contextlib.suppress(OSError):
                plan.root_dir.rmdir()
