"""Where KFP's conformance manifest is, and what to say when it is not there."""

from __future__ import annotations

import os

from tests.conftest import SHARED

CONFORMANCE = SHARED / "conformance"
MANIFEST = CONFORMANCE / "manifest.yaml"
MISSING = (
    f"KFP conformance manifest not found: {MANIFEST}. The conformance suite did not run; "
    "put the shared checkout at ../shared beside the repository or set PIPEYARD_SHARED_DIR."
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
