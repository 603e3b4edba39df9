"""The CLI's table of lazily imported commands says what their modules really register."""

from __future__ import annotations

import importlib

import click
from click.testing import CliRunner

from pipeyard.cli.main import LAZY_COMMANDS, cli


def test_lazy_table_matches_what_each_module_registers() -> None:
    modules = {entry.module for entry in LAZY_COMMANDS.values()}
    for module in sorted(modules):
        group = click.Group()
        importlib.import_module(module).register(group)
        listed = {name for name, entry in LAZY_COMMANDS.items() if entry.module == module}
        assert set(group.commands) == listed, module
        for name, command in group.commands.items():
            # The whole first paragraph, so the table's text is the docstring's, not a shortened copy.
            assert LAZY_COMMANDS[name].short_help == command.get_short_help_str(limit=1000), name


def test_help_lists_every_command_and_a_lazy_command_still_runs() -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["--help"])
    assert listed.exit_code == 0, listed.output
    for name in [*LAZY_COMMANDS, "run"]:
        assert f"\n  {name} " in listed.output
    runs_help = runner.invoke(cli, ["runs", "--help"])
    assert runs_help.exit_code == 0, runs_help.output
    assert "The newest runs." in runs_help.output
    unknown = runner.invoke(cli, ["no-such-command"])
    assert unknown.exit_code == 2
    assert "No such command" in unknown.output
