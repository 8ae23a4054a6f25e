"""`ccf console user add|list|remove|password`: who may log in to the web console.

Reads options and prints; runtime.operations.console_users keeps the file (hashed passwords).
A password is read from $CCF_CONSOLE_PASSWORD or typed at a prompt, never taken as an option:
the command line is in the shell's history and in every process listing.
"""

from __future__ import annotations

import os
from enum import StrEnum

import typer

from ccdsl.cli.common import (
    ConfigOption,
    TableFormat,
    TableFormatOption,
    fail,
    load_centre,
    not_found,
    write,
)
from ccdsl.cli.exit_codes import USAGE
from ccdsl.terminal_text import visible

PASSWORD_ENV = "CCF_CONSOLE_PASSWORD"

app = typer.Typer(
    name="console",
    help="The web console (agents' desktop, supervisors' wallboard): its users.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
user_app = typer.Typer(
    name="user",
    help="Who may log in to the console, with which role: agents (their own desk), "
         "supervisors (the wallboard and every agent) and admins. The users file is the "
         "\\[console] users of ccf.toml; passwords are kept hashed (scrypt), readable by "
         "its owner only. A password comes from $CCF_CONSOLE_PASSWORD when set, else it "
         "is asked for twice, without echo; never give it on the command line. `ccf serve` "
         "reads the file again when it changes.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(user_app, name="user")


class Role(StrEnum):  # console_users.ROLES, without importing it at start
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


UserArgument = typer.Argument(..., metavar="ID", show_default=False,
                              help="The user's id: for an agent, its id in the agents file.")


@user_app.command("add")
def add(
    user_id: str = UserArgument,
    role: Role = typer.Option(..., "--role", "-r", show_default=False,
                              help="agent (logs in to their own desk: the id must be an "
                                   "agent of the agents file), supervisor or admin."),
    name: str = typer.Option("", "--name", metavar="TEXT", show_default=False,
                             help="The name the console shows."),
    config: ConfigOption = None,
) -> None:
    """Add a console user with a password (from $CCF_CONSOLE_PASSWORD, else asked for).

    Exit status: 0 when added; 1 when the user exists; 2 for a bad id, role
    or password, an agent the agents file does not have, a ccf.toml that
    cannot be used or a users file that cannot be read or written.
    """
    from ccdsl.runtime.operations.console_users import UsersError, check_id, new_user

    try:
        check_id(user_id)  # before the password is asked for
    except UsersError as exc:
        raise fail(str(exc), USAGE) from None
    path, users = _users(config, role=role, user_id=user_id)
    if user_id in users:
        raise fail(f"there is already a console user {user_id!r} in {path}; "
                   f"`ccf console user password {user_id}` sets a new password")
    try:
        user = new_user(user_id, role.value, _password(), name)
    except UsersError as exc:
        raise fail(str(exc), USAGE) from None
    _save(path, {**users, user_id: user})
    write(f"console user {visible(user_id)} ({role.value}) added to {visible(path)}\n")


@user_app.command("list")
def list_users(
    config: ConfigOption = None,
    fmt: TableFormatOption = TableFormat.table,
) -> None:
    """List the console users: id, role and name (never the password's hash).

    Exit status: 0; 2 for a ccf.toml that cannot be used or a users file
    that cannot be read.
    """
    from ccdsl import json_text

    path, users = _users(config)
    rows = [{"id": u.id, "role": u.role, "name": u.name} for u in users.values()]
    rows.sort(key=lambda r: r["id"])
    if fmt is TableFormat.json:
        write(json_text.dumps({"users_file": path, "users": rows}, ensure_ascii=False, indent=2)
              + "\n")
        return
    if not rows:
        write(f"no console users in {visible(path)} (`ccf console user add ID --role admin` adds "
              "one)\n")
        return
    from rich.table import Table
    from rich.text import Text

    from ccdsl.cli.common import table_console

    write(f"console users in {visible(path)}:\n")
    table = Table()
    for title in ("id", "role", "name"):
        table.add_column(title)
    for row in rows:
        # Text, never markup: a name may hold `[`
        table.add_row(*(Text(visible(row[k])) for k in ("id", "role", "name")))
    table_console().print(table)


@user_app.command("remove")
def remove(user_id: str = UserArgument, config: ConfigOption = None) -> None:
    """Remove a console user: they can no longer log in.

    Exit status: 0 when removed; 2 when there is no such user, for a
    ccf.toml that cannot be used or a users file that cannot be read or
    written.
    """
    path, users = _users(config)
    if user_id not in users:
        raise not_found("console user", user_id, path, "`ccf console user list`")
    _save(path, {k: u for k, u in users.items() if k != user_id})
    write(f"console user {visible(user_id)} removed from {visible(path)}\n")


@user_app.command("password")
def password(user_id: str = UserArgument, config: ConfigOption = None) -> None:
    """Set a console user's password (from $CCF_CONSOLE_PASSWORD, else asked for).

    Exit status: 0 when set; 2 when there is no such user, for a password
    that is too short, a ccf.toml that cannot be used or a users file that
    cannot be read or written.
    """
    from dataclasses import replace

    from ccdsl.runtime.operations.console_users import UsersError, hash_password

    path, users = _users(config)
    if user_id not in users:
        raise not_found("console user", user_id, path, "`ccf console user list`",
                        f"`ccf console user add {user_id} --role ROLE` adds one")
    try:
        hashed = hash_password(_password())
    except UsersError as exc:
        raise fail(str(exc), USAGE) from None
    _save(path, {**users, user_id: replace(users[user_id], password=hashed)})
    write(f"password of console user {visible(user_id)} set in {visible(path)}\n")


# ---- shared ----------------------------------------------------------------------------


def _users(config: str | None, *, role: Role | None = None, user_id: str = ""):
    """The users file's path (ccf.toml [console] users) and its users; for an agent
    user, its id checked against the agents file."""
    from ccdsl.runtime.operations.console_users import UsersError, load_users

    centre = load_centre(config)
    if role is Role.agent:
        agents = [a.id for a in centre.agents.agents]
        if user_id not in agents:
            where = (f"the agents file {centre.agents.file}" if centre.agents.file
                     else "no agents file ([agents] file in ccf.toml)")
            known = f" (agents: {', '.join(agents)})" if 0 < len(agents) <= 20 else ""
            raise fail(f"{user_id!r} is not an agent: an agent user's id must be an agent "
                       f"of {where}{known}", USAGE)
    path = centre.console.users
    try:
        return path, load_users(path)
    except UsersError as exc:  # an input the command cannot use, as a bad ccf.toml is
        raise fail(str(exc), USAGE) from None


def _save(path: str, users: dict) -> None:
    from ccdsl.runtime.operations.console_users import save_users

    try:
        save_users(path, users)
    except OSError as exc:
        raise fail(f"cannot write the console users file {path}: "
                   f"{exc.strerror or exc}", USAGE) from None


def _password() -> str:
    given = os.environ.get(PASSWORD_ENV)
    if given is not None:
        return given
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
