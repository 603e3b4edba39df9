"""Cached virtual environments for components with ``packages_to_install``.

A component's packages never go into the interpreter that runs pipeyard. Each
distinct (requirements, index URLs, interpreter) gets its own venv under
``envs_dir``, created once and reused by every later task and run.

The venv sees the host interpreter's site-packages (``--system-site-packages``
plus a ``.pth`` file naming the host's own site directories, because when the
host is itself a venv, ``--system-site-packages`` would only expose the *base*
interpreter's packages). So ``kfp`` and everything the user already has stay
importable and are never reinstalled, while packages installed into the venv
shadow host versions. pip refuses to uninstall anything outside the venv it
installs into, so a conflicting requirement cannot touch the host either.

When the host already satisfies every requirement (``scikit-learn`` installed, at a
version inside the specifier), no venv is made at all: the task runs on the host
interpreter, which costs nothing, needs no network, and keeps the fork server's
fast path. That is what lets an example list ``packages_to_install`` for a KFP
cluster and still run offline on a machine that has them (``host_satisfies``).

Creation is safe across tasks and processes: an exclusive ``flock`` per env
key serialises builders, the env is built in a temporary directory and renamed
into place only when complete, so a crash never leaves a half-built env that
looks finished.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeyard.launchers.host_env import task_base_env

OUTPUT_TAIL_CHARS = 4000


class VenvError(Exception):
    """Creating an environment or installing its packages failed; ``output`` has the tool's tail."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


def _host_site_dirs(python: str) -> list[str]:
    """The site directories of ``python``, in its own import order."""
    code = (
        "import json, site, sys\n"
        "dirs = [p for p in sys.path if p.endswith(('site-packages', 'dist-packages'))]\n"
        "print(json.dumps(dirs))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
    return list(json.loads(out))


def _interpreter_identity(python: str) -> str:
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return f"{sys.executable}|{sys.version}"
    out = subprocess.run(
        [python, "-c", "import sys; print(sys.executable + '|' + sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip()


def env_key(packages: Sequence[str], index_urls: Sequence[str], interpreter_identity: str) -> str:
    payload = json.dumps(
        {
            "requirements": sorted(p.strip() for p in packages),
            "index_urls": list(index_urls),
            "interpreter": interpreter_identity,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _satisfied(requirement: str) -> bool:
    """Whether this interpreter has ``requirement`` installed at an allowed version.
    Anything that cannot be judged exactly (URLs, extras, unparsable) says no, so
    the venv is made as before."""
    # Imported here: with importlib.metadata they cost every `pipeyard run` a tenth of a
    # second, and only components with packages_to_install need them.
    import importlib.metadata

    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return False
    if req.url or req.extras:
        return False
    if req.marker is not None and not req.marker.evaluate():
        return True  # not meant for this interpreter
    try:
        version = importlib.metadata.version(req.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return req.specifier.contains(version, prereleases=True)


def host_satisfies(packages: Sequence[str], python: str = sys.executable) -> bool:
    """Whether ``python`` (only the interpreter running pipeyard can be asked
    cheaply) already has every requirement of ``packages``."""
    if os.path.realpath(python) != os.path.realpath(sys.executable):
        return False
    return all(_satisfied(p.strip()) for p in packages if p.strip())


class VirtualEnvs:
    """``ensure()`` returns the interpreter of a ready venv for a requirement set,
    or the host's own when the host satisfies it already."""

    def __init__(self, envs_dir: Path, python: str = sys.executable) -> None:
        self.envs_dir = Path(envs_dir)
        self.python = python
        self._identity: str | None = None
        # Requirement sets the host satisfies: asked once per launcher, not per task.
        self._on_host: dict[tuple[str, ...], bool] = {}

    def on_host(self, packages: Sequence[str]) -> bool:
        key = tuple(sorted(p.strip() for p in packages))
        if key not in self._on_host:
            self._on_host[key] = host_satisfies(packages, self.python)
        return self._on_host[key]

    def path_for(self, packages: Sequence[str], index_urls: Sequence[str] = ()) -> Path:
        if self._identity is None:
            self._identity = _interpreter_identity(self.python)
        return self.envs_dir / f"venv-{env_key(packages, index_urls, self._identity)}"

    def ready(self, packages: Sequence[str], index_urls: Sequence[str] = ()) -> Path | None:
        """The interpreter ``ensure`` would return, if that needs no building (the host's,
        or a venv made earlier); None otherwise. Cheap: nothing is created or installed."""
        if self.on_host(packages):
            return Path(self.python)
        python = self.path_for(packages, index_urls) / "bin" / "python"
        return python if python.exists() else None

    def ensure(self, packages: Sequence[str], index_urls: Sequence[str] = ()) -> Path:
        """Create the venv if needed (blocking) and return its ``bin/python``; the
        host's interpreter when the host satisfies ``packages`` already."""
        if self.on_host(packages):
            return Path(self.python)
        env_dir = self.path_for(packages, index_urls)
        python = env_dir / "bin" / "python"
        if python.exists():
            return python
        self.envs_dir.mkdir(parents=True, exist_ok=True)
        with open(f"{env_dir}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # Another task or process may have finished it while we waited.
            if python.exists():
                return python
            building = Path(f"{env_dir}.building-{os.getpid()}")
            shutil.rmtree(building, ignore_errors=True)
            try:
                self._build(building, list(packages), list(index_urls))
                _retarget_scripts(building, env_dir)
                building.rename(env_dir)
            finally:
                shutil.rmtree(building, ignore_errors=True)
        return python

    def _build(self, env_dir: Path, packages: list[str], index_urls: list[str]) -> None:
        _run(
            [self.python, "-m", "venv", "--without-pip", "--system-site-packages", str(env_dir)],
            "creating the virtual environment",
        )
        python = env_dir / "bin" / "python"
        site_dir = _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            "inspecting the virtual environment",
        ).strip()
        Path(site_dir, "_pipeyard_host_site.pth").write_text(
            "".join(f"{d}\n" for d in _host_site_dirs(self.python))
        )
        index_args: list[str] = []
        if index_urls:
            index_args = ["--index-url", index_urls[0]]
            for url in index_urls[1:]:
                index_args += ["--extra-index-url", url]
        uv = _find_uv()
        if uv:
            command = [uv, "pip", "install", "--python", str(python), *index_args, *packages]
        else:
            if subprocess.run([str(python), "-c", "import pip"], capture_output=True).returncode != 0:
                _run([str(python), "-m", "ensurepip", "--default-pip"], "bootstrapping pip")
            # pip comes from the host's site-packages through the .pth file; it
            # installs into the venv because that is sys.prefix.
            command = [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                *index_args,
                *packages,
            ]
        _run(command, f"installing {' '.join(packages)}")


def _run(command: list[str], what: str) -> str:
    env = {**task_base_env(), "PIP_REQUIRE_VIRTUALENV": "1"}
    env.pop("PYTHONPATH", None)
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env)
    except OSError as exc:
        raise VenvError(f"{what} failed: cannot run {command[0]}: {exc}") from exc
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-OUTPUT_TAIL_CHARS:]
        raise VenvError(f"{what} failed (exit code {result.returncode})", tail)
    return result.stdout


def _retarget_scripts(built: Path, final: Path) -> None:
    """Point the shebangs of installed console scripts at the env's final location."""
    old, new = f"#!{built}/bin/".encode(), f"#!{final}/bin/".encode()
    for script in (built / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        with open(script, "rb") as f:
            head = f.read(len(old))
        if head == old:
            data = script.read_bytes()
            script.write_bytes(new + data[len(old) :])


def _find_uv() -> str | None:
    """uv installed beside pipeyard (it is a dependency) or anywhere on PATH."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")
