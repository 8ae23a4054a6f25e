"""Run `ccf` in-process for the CLI tests (sqlite-utils' way: CliRunner on
the typer app, no subprocess)."""

from __future__ import annotations

from typer.testing import CliRunner

from ccdsl.cli.main import INTERNAL_ERROR, app

runner = CliRunner()


def ccf(*args: str, input: str | None = None, env: dict | None = None):
    """Invoke `ccf ARGS`. An exception escaping a command is a ccf bug:
    main() would turn it into the internal-error exit, so it fails here."""
    result = runner.invoke(app, list(args), prog_name="ccf", input=input, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code != INTERNAL_ERROR, result.output
    assert "Traceback" not in result.output
    return result
