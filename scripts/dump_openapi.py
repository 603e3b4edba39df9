"""Print the server's OpenAPI document (as /openapi.json serves it) without
starting a server: the input of ui/src/api/types.ts (scripts/gen-api-types.sh)."""

from __future__ import annotations

import json
import sys
import tempfile

from pipeyard.config import Settings
from pipeyard.server.app import create_app


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pipeyard-openapi-") as home:
        app = create_app(Settings.from_env({"PIPEYARD_HOME": home}), None,  # type: ignore[arg-type]
                         start_workers=False)
        json.dump(app.openapi(), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
