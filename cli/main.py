"""The `ccf` command: lists the subcommands, one module each, imported only when run.
Imports no compiler or runtime at start: each command imports what it needs when it runs."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import typer

from ccdsl.cli import closed_pipe, exit_codes
from ccdsl.cli.lazy_group import LazyGroup


def _calls_app() -> typer.Typer:
    """`ccf calls`, with `ccf calls callbacks` (the in-queue call-backs) beside list and
    show: a module of its own, since no command module imports another."""
    from ccdsl.cli import calls, calls_callbacks

    if not any(c.name == "callbacks" for c in calls.app.registered_commands):
        calls.app.command("callbacks")(calls_callbacks.list_callbacks)
    return calls.app


# Every subcommand: its word, then "module:attribute" in ccdsl.cli (the command function
# or the command's own typer app). Only the one run is imported; help lists them all, in
# this order (commands, then groups, as typer listed them when it built them all).
COMMANDS = {
    "validate": "validate:validate",
    "compile": "compile:compile_flow",
    "fmt": "fmt:fmt",
    "explain": "explain:explain",
    "graph": "graph:graph",
    "lsp": "lsp:lsp",
    "simulate": "simulate:simulate",
    "test": "test:run_flow_tests",
    "deploy": "deploy:deploy",
    "flows": "flows:flows",
    "serve": "serve:serve",
    "report": "report:report",
    "callback": "callback:callback",
    "wrapup": "wrapup:wrapup",
    "monitor": "monitor:monitor",
    "status": "status:status",
    "crm": "crm:app",
    "config": "config:app",
    "cache": "cache:app",
    "calls": _calls_app,
    "voicemail": "voicemail:app",
    "prompts": "prompts:app",
    "agent": "agent:app",
    "console": "console:app",
    "store": "store:app",
}


class CcfGroup(LazyGroup):
    targets = COMMANDS

    def invoke(self, ctx):
        # click ends any EPIPE quietly as its closed standard output: one from a socket
        # inside the command goes on, as the command's error it is
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if not closed_pipe.broken_pipe(exc) or closed_pipe.own_output_gone():
                raise
            raise closed_pipe.NotOurOutput(exc) from exc
        except Exception as exc:
            # a store read no command caught (a server lost, a table dropped mid-command):
            # the store's words; sqlite3 unimported, the error cannot be one of its
            sqlite3 = sys.modules.get("sqlite3")
            if sqlite3 is None or not isinstance(exc, sqlite3.OperationalError):
                raise
            from ccdsl.cli.store_unreadable import unreadable

            said = unreadable(exc)
            if said is None:
                raise
            raise said from None


INTERNAL_ERROR = exit_codes.INTERNAL

app = typer.Typer(
    name="ccf",
    help="ccdsl's toolchain for .ccf call flows: check, format, compile, simulate and test "
         "them, deploy and serve them on Asterisk, and manage the embedded CRM.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion (cli/completion.py)
    cls=CcfGroup,  # commands imported when run; bracketed words in help as written
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from ccdsl import installed_version

        typer.echo(f"ccf {installed_version() or '(not installed as a package)'}")
        raise typer.Exit(exit_codes.OK)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """ccdsl's toolchain for .ccf call flows.

    Check, format, compile, simulate and test flows, deploy and serve them on
    Asterisk, and manage the embedded CRM.
    """


def main(argv: list[str] | None = None) -> None:
    """Run `ccf`. A bug in ccf itself ends with a short message and exit
    status 3, never a traceback, unless CCF_DEBUG=1 asks for one."""
    stdout = closed_pipe.watch()
    try:
        app(args=argv, prog_name="ccf")
    except SystemExit as stop:
        if closed_pipe.stdout_closed(stdout):
            _end_closed_pipe()
        if argv is None:  # the process's own entry point, never an in-process caller
            _end_validate_at_once(stop.code)
        raise
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(exit_codes.INTERRUPTED)
    except Exception as exc:  # the last line of defence: anything else is a ccf bug
        if isinstance(exc, closed_pipe.NotOurOutput):
            exc = exc.error
        # a write outside the command (click's own help, usage) to a reader that left; a
        # broken pipe of anything else (a socket) nobody caught is a bug like any other
        if isinstance(exc, BrokenPipeError) and closed_pipe.stdout_closed(stdout):
            _end_closed_pipe()
        if os.environ.get("CCF_DEBUG") == "1":
            raise
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in ccf, not in your flow. Please report it with the command you ran "
            "and the flow file; run again with CCF_DEBUG=1 to see the traceback.\n")
        sys.exit(INTERNAL_ERROR)


def _end_closed_pipe() -> NoReturn:
    """End as git and seq end when the reader of their output has gone: quietly, with
    128 + SIGPIPE (exit_codes.CLOSED_PIPE), whatever the command was about to return."""
    closed_pipe.silence_stdout()
    sys.exit(exit_codes.CLOSED_PIPE)


def _end_validate_at_once(code: object) -> None:
    """End the process now, once `ccf validate` has written everything: the
    interpreter's own exit would free every node of the checked flows, one by one,
    for no reader. Only validate, whose cache files are closed when it returns and
    which leaves no thread or atexit hook behind; any other command exits normally."""
    validate = sys.modules.get("ccdsl.cli.validate")
    if type(code) is not int or not getattr(validate, "finished", False):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the normal exit reports it as before
        return
    os._exit(code)


if __name__ == "__main__":
    main()
