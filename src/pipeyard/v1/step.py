"""Run one kfp 1.x container command on the host, doing what Argo does around it.

The v1 front end (``pipeyard.ir.argo.containers``) prefixes a translated command with
``python3 -m pipeyard.v1.step SPEC -- COMMAND...`` when rewriting the command line is not
enough. SPEC is JSON with (all optional):

- ``raw``: ``[[path, text]]`` files to write first (Argo's raw input artifacts);
- ``before``: ``[[source, path]]`` copies made before the command (inputs at paths the
  program reads without naming them on its command line);
- ``after``: ``[[path, target]]`` copies made after a successful command (outputs the
  program writes to a path of its own choosing);
- ``copy``: ``[[source, target]]`` copies after success (an output that is both a parameter
  and an artifact);
- ``packages``: kfp 1.x ``packages_to_install``, installed into a cached environment
  (never the interpreter running pipeyard) whose ``python`` comes first on the PATH;
- ``visual``: ``[[kind, path, uri, name]]`` ``mlpipeline-metrics`` / ``mlpipeline-ui-metadata``
  outputs, reported with ``output_file`` as artifact metadata (``pipeyard.v1.visuals``).

The exit code is the command's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def _copy(source: str, target: str) -> None:
    src, dst = Path(source), Path(target)
    if not src.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copyfile(src, dst)


def _env_with_packages(packages: list[str]) -> dict[str, str]:
    from pipeyard.config import Settings
    from pipeyard.launchers.shims import shim_dir, with_path_prepended
    from pipeyard.launchers.venvs import VirtualEnvs

    settings = Settings.from_env()
    python = VirtualEnvs(settings.envs_dir, sys.executable).ensure(packages)
    return with_path_prepended(dict(os.environ), shim_dir(settings.envs_dir, str(python)))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m pipeyard.v1.step SPEC -- COMMAND...", file=sys.stderr)
        return 2
    spec: dict[str, Any] = json.loads(args[0])
    command = args[2:]
    for path, text in spec.get("raw") or []:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    for source, path in spec.get("before") or []:
        _copy(source, path)
    env = _env_with_packages(list(spec["packages"])) if spec.get("packages") else None
    sys.stdout.flush()
    code = subprocess.call(command, env=env)
    if code != 0:
        return code
    for path, target in spec.get("after") or []:
        _copy(path, target)
    for source, target in spec.get("copy") or []:
        _copy(source, target)
    if spec.get("visual"):
        from pipeyard.v1.visuals import report

        report(spec["visual"], spec.get("output_file", ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
