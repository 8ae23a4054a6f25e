"""The `ccf` group whose subcommands are imported when first named: `ccf validate` loads
cli/validate.py and no other command. Knows no command; cli/main.py lists them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping

import typer
import typer.main

from ccdsl.cli.help_text import HelpGroup, escape_help

# Where a subcommand lives: "module:attribute" under ccdsl.cli (a command function or a
# typer app of its own), or a function returning one of those.
Target = str | Callable[[], object]


class LazyCommands(MutableMapping):
    """A group's subcommands by name: the names are known at once, each command is
    imported and built by typer the first time it is looked up, then kept."""

    def __init__(self, targets: dict[str, Target], build: Callable[[str, Target], object]):
        self._targets = targets
        self._build = build
        self._loaded: dict = {}

    def __getitem__(self, name: str):
        if name not in self._loaded:
            if name not in self._targets:
                raise KeyError(name)
            self._loaded[name] = self._build(name, self._targets[name])
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:  # without importing it
        return name in self._targets or name in self._loaded

    def __iter__(self) -> Iterator[str]:
        yield from self._targets
        yield from (name for name in self._loaded if name not in self._targets)

    def __len__(self) -> int:
        return len(self._targets) + sum(1 for n in self._loaded if n not in self._targets)

    def __setitem__(self, name: str, command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._targets = {n: t for n, t in self._targets.items() if n != name}
        self._loaded.pop(name, None)


def resolve(target: Target) -> object:
    """The command function or typer app a target names."""
    if not isinstance(target, str):
        return target()
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(f"ccdsl.cli.{module}"), attribute)


class LazyGroup(HelpGroup):
    """A HelpGroup whose subcommands are `targets` (name -> Target, in the order help
    lists them), each built the way `app.command(name)` or `app.add_typer(app, name=)`
    would have built it, its help escaped, only when first looked up."""

    targets: dict[str, Target] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        eager = self.commands
        self.commands = LazyCommands(self.targets, self._build)
        self.commands.update(eager)

    def _build(self, name: str, target: Target):
        found = resolve(target)
        # typer builds the command in a group of its own, as it would have in ours
        scratch = typer.Typer(rich_markup_mode=self.rich_markup_mode)
        if isinstance(found, typer.Typer):
            scratch.add_typer(found, name=name)
        else:
            scratch.command(name)(found)
        command = typer.main.get_group(scratch).commands[name]
        escape_help(command)
        return command

    def list_commands(self, ctx) -> list[str]:
        # the names only: TyperGroup's own would build every command to list them
        return list(self.commands)
