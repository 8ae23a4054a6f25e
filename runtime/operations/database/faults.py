"""What a PostgreSQL error says is wrong, by its SQLSTATE: a server gone for now, a login or
database to mend, a schema missing a table or column. Must not import the driver (postgres.py does).
"""

from __future__ import annotations

import re
import sqlite3


class Misconfigured(sqlite3.OperationalError):
    """PostgreSQL refuses the store's login (a wrong password, an unknown role: 28P01, 28000)
    or has no such database (3D000): configuration to mend, which no wait mends. An
    OperationalError still, so the writer keeps its rows and tries again (mended meanwhile)."""


class SchemaFault(sqlite3.OperationalError):
    """A table or column the store reads is missing (42P01, 42703): the store is not the
    schema this ccf writes (dropped by hand, or not migrated), never a wait."""


# the connection's states that pass: it was lost or cannot be made now (class 08), the server
# stopping or starting (57P01-57P03), too many clients now (53300); with another writer's lock
# (55P03), a serialization failure or deadlock (40001, 40P01) and a statement timeout (57014)
_PASSING = frozenset({"57P01", "57P02", "57P03", "53300", "55P03", "40001", "40P01", "57014"})
_LOGIN = {
    "28P01": "the PostgreSQL server refuses the store's login: a wrong password (set in "
             "CCF_STORE_PASSWORD) or no such role",
    "28000": "the PostgreSQL server refuses the store's login: the role may not connect "
             "(pg_hba.conf, or a role without LOGIN)",
    "3D000": "the PostgreSQL server has no such database",
}
_SCHEMA = frozenset({"42P01", "42703"})
_SCHEMA_SAID = "the call store lacks a table or column this ccf reads (`ccf store migrate`, " \
               "or one dropped by hand)"

# libpq gives no SQLSTATE for a connection the server refused (only its words), so these are
# read from the server's message, as PostgreSQL words them (its own, not the locale's, before
# a login); a refusal not here is taken as a connection not made (class 08)
_REFUSALS = (
    (re.compile(r"FATAL:\s+password authentication failed"), "28P01"),
    (re.compile(r"FATAL:\s+role \".*\" does not exist"), "28000"),
    (re.compile(r"FATAL:\s+no pg_hba\.conf entry"), "28000"),
    (re.compile(r"FATAL:\s+(Ident|peer) authentication failed"), "28000"),
    (re.compile(r"FATAL:\s+role \".*\" is not permitted to log in"), "28000"),
    (re.compile(r"FATAL:\s+database \".*\" does not exist"), "3D000"),
    (re.compile(r"FATAL:\s+the database system is (starting up|shutting down|in recovery)"),
     "57P03"),
    (re.compile(r"FATAL:\s+(sorry, too many clients|remaining connection slots)"), "53300"),
)


def refusal_state(message: str) -> str:
    """The SQLSTATE of a connection that could not be made, from libpq's words: a login or
    database refused, the server starting or full; else 08001 (not made: down, unreachable)."""
    for pattern, state in _REFUSALS:
        if pattern.search(message):
            return state
    return "08001"


def passing_state(state: str) -> bool:
    """Whether an error of this SQLSTATE passes: the same statement made again later may go
    through (a lost or refused connection, a server stopping, another writer's lock)."""
    return state.startswith("08") or state in _PASSING


def fault_of(state: str | None, message: str) -> sqlite3.OperationalError | None:
    """The fault no wait mends that this SQLSTATE is, its words saying what is wrong before
    the server's (`message`, on one line, which never holds the password); None for others."""
    if state in _LOGIN:
        return stated(Misconfigured(f"{_LOGIN[state]}: {message}"), state)
    if state in _SCHEMA:
        return stated(SchemaFault(f"{_SCHEMA_SAID}: {message}"), state)
    return None


def stated(exc: sqlite3.Error, state: str | None) -> sqlite3.Error:
    """`exc` carrying PostgreSQL's SQLSTATE (`sqlstate`; None for none) for store_errors."""
    exc.sqlstate = state  # type: ignore[attr-defined]
    return exc
