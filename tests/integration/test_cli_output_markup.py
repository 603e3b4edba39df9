"""User values are printed as they are: brackets in an output or an error message are
not rich markup."""

# No `from __future__ import annotations`: kfp reads component annotations at decoration time.

import subprocess
import sys
from pathlib import Path

from kfp import compiler, dsl


@dsl.component
def bracketed() -> str:
    return "[red]not markup[/red]"


@dsl.pipeline(name="brackets")
def brackets_pipeline() -> str:
    return bracketed().output


def test_outputs_and_errors_keep_their_brackets(pipeyard_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "brackets.yaml"
    compiler.Compiler().compile(brackets_pipeline, str(path))
    done = subprocess.run([sys.executable, "-m", "pipeyard.cli.main", "run", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Output = '[red]not markup[/red]'" in done.stdout
