"""What `pipeyard` imports to start: `--help` needs neither kfp, nor the server, nor the store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("kfp", "fastapi", "sqlalchemy", "kubernetes", "celpy", "rich.live")

PROBE = """
import json, sys
sys.argv = ["pipeyard", *json.loads(sys.argv[1])]
from pipeyard.cli.main import main
try:
    main()
except SystemExit:
    pass
sys.__stdout__.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def _imported(*args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True,
                          text=True, timeout=120, cwd=REPO, check=False)
    line = [x for x in proc.stdout.splitlines() if x.startswith("MODULES ")]
    assert line, proc.stderr
    return set(json.loads(line[-1][len("MODULES "):]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_imports_none_of_the_heavy_libraries() -> None:
    modules = _imported("--help")
    assert "click" in modules  # the probe did run the CLI
    assert _heavy(modules) == []


def test_a_commands_help_imports_only_its_own_module() -> None:
    modules = _imported("secrets", "--help")
    assert "pipeyard.cli.service_cmds" in modules
    assert "pipeyard.cli.inspect_cmds" not in modules
    assert _heavy(modules) == []


def test_reading_specs_skips_kfps_client_yet_kfp_client_still_resolves() -> None:
    probe = (
        "import sys, pipeyard.ir.loader, kfp\n"
        "skipped = 'kfp.client' not in sys.modules and 'kubernetes' not in sys.modules\n"
        "print(skipped, kfp.Client.__name__, kfp.dsl.component.__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "Client", "component"]
