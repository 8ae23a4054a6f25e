"""`ccf config check`: a ccf.toml's problems, or the settings in effect.
Reads options and prints; runtime.asterisk.config does the checking."""

from __future__ import annotations

import typer

from ccdsl.cli.common import DEFAULT_CONFIG, ConfigOption, TextFormat, TextFormatOption, write
from ccdsl.cli.exit_codes import PROBLEMS, USAGE

app = typer.Typer(
    name="config",
    help="The centre's ccf.toml: check it and show the settings in effect.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command("check")
def check(
    config: ConfigOption = None,
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """Check a ccf.toml and show the settings in effect.

    Every problem is listed with where it is and how to fix it. Secrets are
    shown as "set" or "missing", never their values; a missing one is a
    warning, since the service may run with another environment. `--format
    json` gives the settings and warnings, or the problems. Exit status: 0
    when the file can be used, 1 when it has problems, 2 when there is no
    such file.
    """
    from ccdsl import json_text
    from ccdsl.runtime.asterisk.config import ConfigError, load_config, summary, warnings

    config = config or DEFAULT_CONFIG

    try:
        centre = load_config(config)
    except ConfigError as exc:
        if fmt is TextFormat.json:
            write(json_text.dumps({"ok": False, "problems": exc.problems}, indent=2) + "\n")
        else:
            for problem in exc.problems:
                write(f"error: {problem}\n", err=True)
            noun = "problem" if len(exc.problems) == 1 else "problems"
            write(f"{config}: {len(exc.problems)} {noun}\n", err=True)
        raise typer.Exit(USAGE if _missing(config) else PROBLEMS) from None
    rows = summary(centre)
    notes = warnings(centre)
    if fmt is TextFormat.json:
        write(json_text.dumps({"ok": True, "settings": dict(rows), "warnings": notes},
                              ensure_ascii=False, indent=2) + "\n")
        return
    width = max(len(name) for name, _ in rows)
    write(f"{config}: OK\n")
    for name, value in rows:
        write(f"  {name:<{width}}  {value}\n")
    for note in notes:
        write(f"warning: {note}\n", err=True)


def _missing(config: str) -> bool:
    import os

    return not os.path.isfile(config)
