"""A call store read that fails in the middle of a command (no command catches it): the
store's words and an exit status by what is wrong, never "internal error" (exit 3) for an
outage or a store to mend; a bug in ccf's own SQL stays a bug."""

from __future__ import annotations

import sqlite3

import pytest

from ccdsl.cli.exit_codes import PROBLEMS, UNREACHABLE, USAGE
from ccdsl.cli.store_unreadable import unreadable
from ccdsl.runtime.operations.database import Unreachable
from ccdsl.runtime.operations.database.faults import SchemaFault


@pytest.mark.parametrize("error, code, words", [
    (Unreachable("cannot connect to the PostgreSQL store postgresql://ccf@127.0.0.1:1/c: "
                 "connection refused"), UNREACHABLE, "try again shortly"),
    (sqlite3.OperationalError("database is locked"), PROBLEMS, "try again shortly"),
    (sqlite3.OperationalError("no such table: calls"), USAGE, "must be mended first"),
])
def test_a_store_error_mid_command_is_said_with_its_exit(capsys, error, code, words) -> None:
    exit_ = unreadable(error)
    assert exit_ is not None and exit_.exit_code == code
    said = capsys.readouterr().err
    assert said.startswith("error: the call store cannot be read") and words in said, said


def test_a_schema_fault_from_postgresql_is_to_mend(capsys) -> None:
    fault = SchemaFault('the call store lacks a table or column this ccf reads: '
                        'column "entered" does not exist')
    assert unreadable(fault).exit_code == USAGE
    assert "must be mended first" in capsys.readouterr().err


def test_ccfs_own_bad_sql_is_still_a_bug() -> None:
    assert unreadable(sqlite3.OperationalError('near "SELEC": syntax error')) is None

