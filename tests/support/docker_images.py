"""Container images for the docker launcher's tests, built locally (no registry is reachable).

- ``TOOLS_IMAGE``: a static busybox plus ``/opt/tools/produce``, a program that exists
  only in the image (it writes an output parameter and an artifact file).
- ``PYTHON_IMAGE``: the host's pyenv CPython copied into a root file system (stdlib
  and pip only, no site packages, so no ``kfp``) plus busybox for ``sh``. KFP's
  bootstrap has to install ``kfp`` inside it.

Both are imported with ``docker import`` once and reused while their tag exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TOOLS_IMAGE = "pipeyard-test/tools:1"
PYTHON_IMAGE = "pipeyard-test/python:4"
LABEL = "pipeyard.test-image=1"
# The CLI that builds them: "docker" (following DOCKER_HOST), or "podman" for Podman's store.
IMAGE_CLI_ENV = "PIPEYARD_TEST_IMAGE_CLI"

_BUSYBOX = "/bin/busybox"
_APPLETS = ("sh", "cat", "echo", "printf", "mkdir", "mktemp", "sleep", "id", "ls", "true", "env", "rm",
            "stat", "touch", "wc", "tr", "sed", "test", "[", "uname", "head", "seq")

PRODUCE = """#!/bin/sh
# produce WORD PARAM_FILE ARTIFACT_PATH: an output parameter and an artifact, from inside the image.
set -e
mkdir -p "$(dirname "$2")" "$(dirname "$3")"
printf '%s-from-image' "$1" > "$2"
printf 'artifact of %s (uid %s)\\n' "$1" "$(id -u)" > "$3"
echo "produced $1 in $(pwd) with GREETING=$GREETING"
"""


def _exists(docker: str, tag: str) -> bool:
    return subprocess.run([docker, "image", "inspect", tag], capture_output=True).returncode == 0


def _busybox_root(root: Path) -> None:
    (root / "bin").mkdir(parents=True)
    shutil.copy2(_BUSYBOX, root / "bin" / "busybox")
    for applet in _APPLETS:
        (root / "bin" / applet).symlink_to("busybox")
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "env").symlink_to("/bin/busybox")
    (root / "tmp").mkdir(mode=0o1777)
    (root / "tmp").chmod(0o1777)
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")


def _import(docker: str, root: Path, tag: str, changes: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="pipeyard-image-") as tmp:
        archive = Path(tmp) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            for entry in sorted(root.iterdir()):
                tar.add(entry, arcname=entry.name)
        args = [docker, "import"]
        for change in [*changes, f"LABEL {LABEL}"]:
            args += ["--change", change]
        subprocess.run([*args, str(archive), tag], check=True, capture_output=True)


def build_tools_image(docker: str | None = None) -> str:
    docker = docker or os.environ.get(IMAGE_CLI_ENV, "docker")
    if _exists(docker, TOOLS_IMAGE):
        return TOOLS_IMAGE
    with tempfile.TemporaryDirectory(prefix="pipeyard-rootfs-") as tmp:
        root = Path(tmp)
        _busybox_root(root)
        tools = root / "opt" / "tools"
        tools.mkdir(parents=True)
        (tools / "produce").write_text(PRODUCE)
        (tools / "produce").chmod(0o755)
        _import(docker, root, TOOLS_IMAGE, ["ENV PATH=/opt/tools:/bin:/usr/bin", "ENV GREETING=image-default"])
    return TOOLS_IMAGE


def _host_python() -> Path:
    """The prefix of a CPython with a shared libpython, stdlib and pip (the pyenv one here)."""
    return Path(sys.base_prefix)


_SKIP_STDLIB = {"test", "idlelib", "tkinter", "turtledemo", "lib2to3", "__pycache__", "site-packages",
                "config-3.11-x86_64-linux-gnu"}


def _libraries(files: list[Path]) -> set[str]:
    libs: set[str] = set()
    for f in files:
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
                libs.add(parts[2])
            elif parts and parts[0].startswith("/"):
                libs.add(parts[0])
    return libs


def build_python_image(docker: str | None = None) -> str:
    docker = docker or os.environ.get(IMAGE_CLI_ENV, "docker")
    if _exists(docker, PYTHON_IMAGE):
        return PYTHON_IMAGE
    prefix = _host_python()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    with tempfile.TemporaryDirectory(prefix="pipeyard-rootfs-") as tmp:
        root = Path(tmp)
        _busybox_root(root)
        # libpython is found through an absolute RUNPATH: keep the prefix's path.
        target = root / prefix.relative_to("/")
        (target / "bin").mkdir(parents=True)
        shutil.copy2(prefix / "bin" / version, target / "bin" / version)
        for name in ("python3", "python"):
            (target / "bin" / name).symlink_to(version)
        # A `pip` command, as Dockerfiles made by `kfp component build` call it.
        (target / "bin" / "pip").write_text('#!/bin/sh\nexec python3 -m pip "$@"\n')
        (target / "bin" / "pip").chmod(0o755)
        (target / "lib").mkdir()
        for lib in (prefix / "lib").glob("libpython*"):
            shutil.copy2(lib, target / "lib" / lib.name, follow_symlinks=False)
        stdlib = prefix / "lib" / version
        shutil.copytree(stdlib, target / "lib" / version, symlinks=True,
                        ignore=lambda d, names: [n for n in names if n in _SKIP_STDLIB or n.startswith("_tkinter")])
        site = target / "lib" / version / "site-packages"
        site.mkdir()
        for entry in (stdlib / "site-packages").iterdir():
            if entry.name == "pip" or (entry.name.startswith("pip-") and entry.name.endswith(".dist-info")):
                shutil.copytree(entry, site / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        binaries = [target / "bin" / version, *(target / "lib" / version / "lib-dynload").glob("*.so")]
        # Compiled wheels pip installs later (cryptography, grpc) link these.
        extra = {str(p) for name in ("libgcc_s.so.1", "libstdc++.so.6", "libpthread.so.0", "libdl.so.2",
                                                 "librt.so.1", "libutil.so.1", "libresolv.so.2")
                 for p in Path("/lib/x86_64-linux-gnu").glob(name)}
        for library in _libraries(binaries) | extra:
            if library.startswith(str(prefix)):
                continue
            dest = root / library.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.realpath(library), dest)
        certs = Path("/etc/ssl/certs/ca-certificates.crt")
        if certs.exists():
            (root / "etc" / "ssl" / "certs").mkdir(parents=True)
            shutil.copy2(certs, root / "etc" / "ssl" / "certs" / certs.name)
        # Every parent of the prefix must be enterable by a non-root user.
        for parent in [target, *target.parents]:
            if parent == root or root not in parent.parents:
                break
            parent.chmod(0o755)
        _import(docker, root, PYTHON_IMAGE, [f"ENV PATH={prefix}/bin:/bin:/usr/bin"])
    return PYTHON_IMAGE


if __name__ == "__main__":
    print(build_tools_image(), build_python_image())
