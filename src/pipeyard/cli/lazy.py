"""A click group that imports a command's module only when that command runs.

``pipeyard --help`` used to import every command module, and through them the store
(SQLAlchemy), the engine and the server (FastAPI): over a second before printing a
screen of text. Here each command is named with the module that registers it and its
one-line help, so listing commands imports nothing, and running one imports only its
own module. ``tests/unit/cli/test_lazy.py`` checks that this table says what the
modules really register.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class LazyCommand:
    module: str  # a module with ``register(cli)`` that adds this command (and maybe others)
    short_help: str


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy: Mapping[str, LazyCommand] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, LazyCommand] = dict(lazy or {})
        self._loaded: set[str] = set()

    def load(self, module: str) -> None:
        if module not in self._loaded:
            self._loaded.add(module)
            importlib.import_module(module).register(self)

    def load_all(self) -> None:
        for entry in self.lazy.values():
            self.load(entry.module)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy:
            self.load(self.lazy[cmd_name].module)
            command = super().get_command(ctx, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows: list[tuple[str, str]] = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if loaded.hidden:
                    continue
                rows.append((name, loaded.get_short_help_str(limit)))
            else:
                # A stand-in command shortens the text exactly as the real one would.
                stand_in = click.Command(name, help=self.lazy[name].short_help)
                rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def lazy_table(entries: Sequence[tuple[str, str, str]]) -> dict[str, LazyCommand]:
    """``(name, module, short help)`` rows as the mapping ``LazyGroup`` takes."""
    return {name: LazyCommand(module, help_text) for name, module, help_text in entries}
