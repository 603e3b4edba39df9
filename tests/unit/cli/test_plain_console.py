"""Off a terminal, ``pipeyard run`` prints plain lines without rich; what only rich can
print still comes out as ``make_console``'s unwrapped console prints it."""

from __future__ import annotations

import pytest
from rich.text import Text

from pipeyard.cli.console import UNWRAPPED_WIDTH, PlainConsole, rich_console, run_console


def test_off_a_terminal_run_console_is_plain(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_console(stderr=True)  # pytest's captured stderr is no terminal
    assert isinstance(out, PlainConsole) and not out.is_terminal
    long = "x" * 300
    out.print(f"run [bold]{long}[/bold]", markup=False, highlight=False)
    assert capsys.readouterr().err == f"run [bold]{long}[/bold]\n"  # as given, on one line


def test_what_is_not_plain_text_goes_through_the_unwrapped_rich_console(capsys: pytest.CaptureFixture[str]) -> None:
    out = PlainConsole(stderr=False)
    out.print(Text("styled ") + Text("y" * 200, style="bold"))
    out.print("[bold]markup[/]")
    assert capsys.readouterr().out == "styled " + "y" * 200 + "\nmarkup\n"
    console = rich_console(out)
    assert console is out.rich() and console.width == UNWRAPPED_WIDTH
