"""The `ccf` command: registers the subcommands, one module each. Imports no
compiler or runtime at start: each command imports what it needs when it runs."""

from __future__ import annotations

import os
import sys

import typer

from ccdsl.cli import agent as agent_cmd
from ccdsl.cli import callback as callback_cmd
from ccdsl.cli import calls as calls_cmd
from ccdsl.cli import calls_callbacks as calls_callbacks_cmd
from ccdsl.cli import compile as compile_cmd
from ccdsl.cli import config as config_cmd
from ccdsl.cli import console as console_cmd
from ccdsl.cli import crm as crm_cmd
from ccdsl.cli import deploy as deploy_cmd
from ccdsl.cli import exit_codes
from ccdsl.cli import explain as explain_cmd
from ccdsl.cli import flows as flows_cmd
from ccdsl.cli import fmt as fmt_cmd
from ccdsl.cli import graph as graph_cmd
from ccdsl.cli import lsp as lsp_cmd
from ccdsl.cli import monitor as monitor_cmd
from ccdsl.cli import prompts as prompts_cmd
from ccdsl.cli import report as report_cmd
from ccdsl.cli import serve as serve_cmd
from ccdsl.cli import simulate as simulate_cmd
from ccdsl.cli import status as status_cmd
from ccdsl.cli import test as test_cmd
from ccdsl.cli import validate as validate_cmd
from ccdsl.cli import voicemail as voicemail_cmd
from ccdsl.cli import wrapup as wrapup_cmd
from ccdsl.cli.help_text import HelpGroup

INTERNAL_ERROR = exit_codes.INTERNAL

app = typer.Typer(
    name="ccf",
    help="ccdsl's toolchain for .ccf call flows: check, format, compile, simulate and test "
         "them, deploy and serve them on Asterisk, and manage the embedded CRM.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion (cli/completion.py)
    cls=HelpGroup,  # bracketed words in help print as written
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"ccf {version('ccdsl')}")
        except PackageNotFoundError:
            typer.echo("ccf (not installed as a package)")
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


app.command("validate")(validate_cmd.validate)
app.command("compile")(compile_cmd.compile_flow)
app.command("fmt")(fmt_cmd.fmt)
app.command("explain")(explain_cmd.explain)
app.command("graph")(graph_cmd.graph)
app.command("lsp")(lsp_cmd.lsp)
app.add_typer(crm_cmd.app, name="crm")
app.command("simulate")(simulate_cmd.simulate)
app.command("test")(test_cmd.run_flow_tests)
app.command("deploy")(deploy_cmd.deploy)
app.command("flows")(flows_cmd.flows)
app.add_typer(config_cmd.app, name="config")
app.command("serve")(serve_cmd.serve)
app.command("report")(report_cmd.report)
# `ccf calls callbacks`: the in-queue call-backs, beside list and show
calls_cmd.app.command("callbacks")(calls_callbacks_cmd.list_callbacks)
app.add_typer(calls_cmd.app, name="calls")
app.add_typer(voicemail_cmd.app, name="voicemail")
app.command("callback")(callback_cmd.callback)
app.command("wrapup")(wrapup_cmd.wrapup)
app.command("monitor")(monitor_cmd.monitor)
app.command("status")(status_cmd.status)
app.add_typer(prompts_cmd.app, name="prompts")
app.add_typer(agent_cmd.app, name="agent")
app.add_typer(console_cmd.app, name="console")


def main(argv: list[str] | None = None) -> None:
    """Run `ccf`. A bug in ccf itself ends with a short message and exit
    status 3, never a traceback, unless CCF_DEBUG=1 asks for one."""
    try:
        app(args=argv, prog_name="ccf")
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(exit_codes.INTERRUPTED)
    except Exception as exc:  # the last line of defence: anything else is a ccf bug
        if os.environ.get("CCF_DEBUG") == "1":
            raise
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in ccf, not in your flow. Please report it with the command you ran "
            "and the flow file; run again with CCF_DEBUG=1 to see the traceback.\n")
        sys.exit(INTERNAL_ERROR)


if __name__ == "__main__":
    main()
