"""What a failed task's log says that its exit code does not.

"exit code 1" tells a user nothing about the most common first failure: a component that
imports a package which is not installed where the task runs. KFP users are used to the
image providing it; here the task runs in pipeyard's own environment (or a cached venv
for ``packages_to_install``), so the error names the missing module, the package that
usually provides it, and the two ways to provide it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Read only the end of a log: the traceback that ended the task is there.
TAIL_BYTES = 64 * 1024

_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")

# Import names whose distribution on PyPI is named differently.
_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "cv2": "opencv-python",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jwt": "pyjwt",
    "attr": "attrs",
    "Crypto": "pycryptodome",
    "serial": "pyserial",
    "magic": "python-magic",
    "docx": "python-docx",
    "pptx": "python-pptx",
}


def missing_module(log_text: str) -> str | None:
    """The module named by the last ModuleNotFoundError in a log, if any."""
    found = _MISSING_MODULE.findall(log_text)
    return found[-1] if found else None


def distribution_for(module: str) -> str:
    top = module.split(".")[0]
    return _DISTRIBUTIONS.get(top) or top.replace("_", "-")


def missing_module_hint(module: str, python: str | None = None) -> str:
    package = distribution_for(module)
    interpreter = python or sys.executable
    return (
        f"ModuleNotFoundError: No module named '{module}'. The package that provides it "
        f"(usually '{package}') is not installed where this task runs. Provide it with the "
        f"component's packages_to_install (@dsl.component(packages_to_install=['{package}'])), "
        f"or install it into the environment pipeyard runs in ({interpreter} -m pip install {package})"
    )


def _tail(path: str) -> str:
    try:
        with Path(path).open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def explain_exit(log_path: str) -> str:
    """Text to append to "exit code N" for a task whose log ends in a known failure."""
    module = missing_module(_tail(log_path))
    return f": {missing_module_hint(module)}" if module else ""
