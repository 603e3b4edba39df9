"""Says at the end of the session when the conformance suite could not run at all."""

from __future__ import annotations

from typing import Any

from tests.conformance.manifest import MANIFEST, MISSING


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not MANIFEST.is_file():
        terminalreporter.write_sep("!", "conformance suite NOT RUN", red=True, bold=True)
        terminalreporter.write_line(MISSING)
