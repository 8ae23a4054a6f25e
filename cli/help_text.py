"""The help text of every command, made safe for typer's rich markup in one place:
a bracketed word such as [paths] prints as written, and usage lines name arguments as
click and man pages do (PATH..., [CODE]). Imports nothing heavy."""

from __future__ import annotations

import re

from typer.core import TyperArgument, TyperGroup

# a `[` rich would read as the start of a markup tag, unless already escaped
_BARE_BRACKET = re.compile(r"(?<!\\)\[")


def escaped(text: str | None) -> str | None:
    """The text with every bare `[` escaped (`\\[`); an escaped one is left as it is,
    so help written either way prints the same."""
    return _BARE_BRACKET.sub(r"\\[", text) if text else text


class UsageArgument(TyperArgument):
    """An argument named in the usage line as click names it: typer wraps a required
    one in braces (`{PATH}`), which reads as a choice, and drops the `...` of one
    taking several."""

    def make_metavar(self, ctx, *, usage: bool = False) -> str:
        var = self.metavar if self.metavar is not None else (self.name or "").upper()
        if not usage:
            return var  # the arguments panel names it plainly, as declared
        if not self.required:
            var = f"[{var}]"
        return f"{var}..." if self.nargs != 1 else var


def escape_help(command) -> None:
    """Escape the help of a click command, its parameters and its subcommands, and
    give its arguments click's usage names."""
    command.help = escaped(command.help)
    command.short_help = escaped(command.short_help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = escaped(param.help)
        if type(param) is TyperArgument:  # the one place every command passes through
            param.__class__ = UsageArgument
    for sub in getattr(command, "commands", {}).values():
        escape_help(sub)


class HelpGroup(TyperGroup):
    """The `ccf` group: typer builds it last, after every subcommand, so its help
    and theirs are escaped here, whatever module declared them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        escape_help(self)
