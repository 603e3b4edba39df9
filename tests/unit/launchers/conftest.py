from __future__ import annotations

import sys
from pathlib import Path

# The package is not necessarily installed into the venv; test the source tree.
_SRC = Path(__file__).resolve().parents[3] / "src"
if str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

# Test modules here import their shared helpers (launcher_components) by plain name;
# with --import-mode=importlib the test directory is not on sys.path by itself.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
