"""Binds None to SQLite as NULL without Python's sqlite3 first looking for a way to adapt it.

Must not change what is stored: the adapter registered here gives back the None it is given.
"""

from __future__ import annotations

import sqlite3


def _as_is(value: None) -> None:
    return value


def bind_nulls_directly() -> None:
    """Register the adapter, once per process; the call store and the SQLite CRM do, as
    they open. Why: sqlite3 adapts every parameter that is not an int, float, str or
    bytearray, None included, and with no adapter registered for a type it asks the
    protocol for `__adapt__`, whose AttributeError is made, formatted and dropped on
    every NULL bound. A call's rows bind dozens of NULLs; calling a registered adapter
    costs less than that failed look-up."""
    if sqlite3.adapters.get((type(None), sqlite3.PrepareProtocol)) is not _as_is:
        sqlite3.register_adapter(type(None), _as_is)
