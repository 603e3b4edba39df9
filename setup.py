"""Package build hook: every wheel (and every `pip install .`) carries the built web UI.

The UI's sources live in ui/ (TypeScript, built by Vite into src/pipeyard/server/static,
which is git-ignored). A package built without running that build would serve "the web UI
is not built", so build_py runs scripts/build-ui.sh first and the build fails, naming what
is missing, when Node.js/npm are absent. Editable installs skip it: scripts/setup.sh builds
the UI itself, and a developer rebuilds it as they change it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent
STATIC = ROOT / "src" / "pipeyard" / "server" / "static"
BUILD_UI = ROOT / "scripts" / "build-ui.sh"


class UIBuildError(SetupError):
    """The web UI could not be built into the package."""


def build_ui() -> None:
    if not (ROOT / "ui" / "package.json").is_file():
        # A source tree without the UI sources can only ship a UI that was built before.
        if (STATIC / "index.html").is_file():
            return
        raise UIBuildError(
            f"pipeyard: neither the UI sources ({ROOT / 'ui'}) nor a built UI ({STATIC}) are here; "
            "build from a checkout of the repository or from its sdist"
        )
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise UIBuildError(
            f"pipeyard: building the package builds its web UI (ui/ -> {STATIC}), which needs "
            f"Node.js 20+ and npm; not found on PATH: {', '.join(missing)}. "
            "Install Node.js (e.g. `apt-get install nodejs npm`, or from https://nodejs.org/) and build again."
        )
    result = subprocess.run(["bash", str(BUILD_UI)], cwd=ROOT, check=False)
    if result.returncode != 0 or not (STATIC / "index.html").is_file():
        raise UIBuildError(
            f"pipeyard: building the web UI failed ({BUILD_UI} exited with {result.returncode}); "
            "its output is above"
        )


class BuildPyWithUI(build_py):
    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            build_ui()
        # The package-data glob for server/static is expanded lazily, after the UI exists.
        super().run()


setup(cmdclass={"build_py": BuildPyWithUI})
