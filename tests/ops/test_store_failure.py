"""cli/common.store_failure's messages, chosen by the error's type (never by its text): a
PostgreSQL server that cannot be reached says so alone, naming its URL, and exits UNREACHABLE (a
service that did not answer); one refusing the login or lacking the database says so and exits
USAGE (configuration to mend); anything else is a store that cannot be read, named without its
password, USAGE. Each on one line."""

from __future__ import annotations

import sqlite3

import pytest
import typer
from ports import free_port

from ccdsl.cli.common import store_failure
from ccdsl.cli.exit_codes import UNREACHABLE, USAGE
from ccdsl.runtime.operations.database import Misconfigured, Unreachable, connect

URL = "postgresql://ccf@127.0.0.1:1/ccf"


def _said(capsys, text: str, exc: Exception, code: int = USAGE) -> str:
    with pytest.raises(typer.Exit) as raised:
        raise store_failure(text, exc)
    assert raised.value.exit_code == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    return err.removeprefix("error: ").rstrip("\n")


def test_a_server_that_cannot_be_reached_is_said_as_it_is(capsys) -> None:
    exc = Unreachable(f"cannot connect to the PostgreSQL store {URL}: connection refused\n"
                      "\tIs the server running on that host?")
    assert _said(capsys, URL, exc, UNREACHABLE) == (
        f"cannot connect to the PostgreSQL store {URL}: connection refused; Is the server "
        "running on that host?")


def test_a_server_refusing_the_login_is_a_usage_error_said_as_it_is(capsys) -> None:
    exc = Misconfigured("the PostgreSQL server refuses the store's login: a wrong password\n"
                        "FATAL:  password authentication failed")
    assert _said(capsys, URL, exc) == ("the PostgreSQL server refuses the store's login: a "
                                       "wrong password; FATAL:  password authentication failed")


def test_any_other_error_is_a_store_that_cannot_be_read(capsys, tmp_path) -> None:
    other = tmp_path / "notes.db"
    other.write_text("not a database, but long enough to be read as one's header " * 4)
    with pytest.raises(sqlite3.Error) as raised:
        connect(str(other)).execute("SELECT 1 FROM sqlite_master")
    assert _said(capsys, str(other), raised.value) == (
        f"{other} cannot be read as a call store: file is not a database")


def test_the_message_is_chosen_by_type_not_by_text(capsys) -> None:
    """An error of another kind whose text happens to read like the server's is still one
    of a store that cannot be read, and a URL's password is never shown."""
    exc = sqlite3.OperationalError("cannot connect to the moon")
    said = _said(capsys, "postgresql://ccf:hunter2@db.example/ccf", exc)
    assert said == ("postgresql://ccf:***@db.example/ccf cannot be read as a call store: "
                    "cannot connect to the moon")


def test_a_store_server_that_is_down_raises_unreachable(capsys) -> None:
    url = f"postgresql://ccf@127.0.0.1:{free_port()}/ccf"
    with pytest.raises(Unreachable) as raised:
        connect(url)
    said = _said(capsys, url, raised.value, UNREACHABLE)
    assert said.startswith(f"cannot connect to the PostgreSQL store {url}: ")
