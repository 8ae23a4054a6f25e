"""Run `ccf` in-process for the CLI tests (sqlite-utils' way: CliRunner on
the typer app, no subprocess)."""

from __future__ import annotations

from typer.testing import CliRunner

from ccdsl.cli.main import INTERNAL_ERROR, app

runner = CliRunner()

# a flow with nothing to warn of, written by the CLI tests as desk.ccf: they add their
# own lines or test blocks to it
WELCOME_FLOW = """flow desk:
  languages en-US

prompt welcome:
  en-US tts "Welcome."

on start:
  answer
  play welcome
  hangup
"""


def queue_flow(name: str) -> str:
    """A flow that plays welcome and queues the call for service (general skills), as the
    `ccf test` tests write it: their test blocks say who answers."""
    return f"""flow {name}:
  languages en-US

prompt welcome:
  en-US tts "Welcome."

queue service skills [general] max_wait 60s

on start:
  answer
  play welcome
  queue service
  hangup
"""


def ccf(*args: str, input: str | None = None, env: dict | None = None):
    """Invoke `ccf ARGS`. An exception escaping a command is a ccf bug:
    main() would turn it into the internal-error exit, so it fails here."""
    result = runner.invoke(app, list(args), prog_name="ccf", input=input, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code != INTERNAL_ERROR, result.output
    assert "Traceback" not in result.output
    return result


def every_command() -> dict[tuple[str, ...], object]:
    """`ccf` and every group and command under it, by the words after `ccf` (the
    root's are ()), each built as click runs it."""
    import typer.main

    found: dict[tuple[str, ...], object] = {}

    def walk(command, words: tuple[str, ...]) -> None:
        found[words] = command
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, (*words, name))

    walk(typer.main.get_command(app), ())
    return found
