"""The help text of every command, made safe for typer's rich markup in one place:
a bracketed word such as [paths] prints as written. Imports nothing heavy."""

from __future__ import annotations

import re

from typer.core import TyperGroup

# a `[` rich would read as the start of a markup tag, unless already escaped
_BARE_BRACKET = re.compile(r"(?<!\\)\[")


def escaped(text: str | None) -> str | None:
    """The text with every bare `[` escaped (`\\[`); an escaped one is left as it is,
    so help written either way prints the same."""
    return _BARE_BRACKET.sub(r"\\[", text) if text else text


def escape_help(command) -> None:
    """Escape the help of a click command, its parameters and its subcommands."""
    command.help = escaped(command.help)
    command.short_help = escaped(command.short_help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = escaped(param.help)
    for sub in getattr(command, "commands", {}).values():
        escape_help(sub)


class HelpGroup(TyperGroup):
    """The `ccf` group: typer builds it last, after every subcommand, so its help
    and theirs are escaped here, whatever module declared them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        escape_help(self)
