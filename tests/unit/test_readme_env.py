"""Every PIPEYARD_* environment variable the code reads is in the README's configuration
table, and the table lists none that the code no longer reads."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "pipeyard"
# The built UI is generated output, not code that reads the environment.
GENERATED = (SRC / "server" / "static",)
NAME = re.compile(r"PIPEYARD_[A-Z0-9_]*[A-Z0-9]")
TABLE_ROW = re.compile(r"^\| `(PIPEYARD_[A-Z0-9_]+)` \|", re.MULTILINE)


def variables_in_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*")):
        if not path.is_file() or path.suffix not in (".py", ".sh", ".ini", ".toml"):
            continue
        if any(path.is_relative_to(g) for g in GENERATED):
            continue
        for name in NAME.findall(path.read_text(errors="replace")):
            found.setdefault(name, []).append(str(path.relative_to(REPO)))
    return found


def variables_in_readme_table() -> set[str]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("\n## Configuration"):]
    section = section[: section.index("\n## ", 1)]
    return set(TABLE_ROW.findall(section))


def test_every_variable_the_code_reads_is_documented() -> None:
    code = variables_in_code()
    assert "PIPEYARD_HOME" in code  # the scan itself works
    missing = {name: sorted(set(files)) for name, files in code.items() if name not in variables_in_readme_table()}
    assert not missing, f"add these to the README's Configuration table: {missing}"


def test_the_table_lists_only_variables_the_code_reads() -> None:
    stale = variables_in_readme_table() - set(variables_in_code())
    assert not stale, f"the README's Configuration table lists variables no code reads: {sorted(stale)}"
