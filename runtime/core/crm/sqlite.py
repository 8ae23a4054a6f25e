"""The embedded CRM: records in a SQLite file, through sqlite-utils (docs/crm.md, "SQLite").

Calls SQLite on the event loop's thread, no worker: a local look-up is far cheaper than
the hand-over, and simulated calls stay deterministic (docs/crm.md "Why no thread").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import quote_identifier

from ccdsl.runtime.core.crm.codec import decode, encode, is_name, normalise_phone
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.sqlite_nulls import bind_nulls_directly
from ccdsl.runtime.core.values import Record

META = "_ccdsl_columns"
CALL_LOG = "call_log"
# the columns every call_log row has; a call may bring more (see log_call)
CALL_LOG_COLUMNS: dict[str, type] = {
    "id": int, "customer": str, "call_id": str, "caller": str, "dialled": str,
    "agent": str, "started": str, "ended": str, "talk_ms": int, "outcome": str,
    "note": str, "recording": str, "wrapup": str,
}
CALL_LOG_KINDS = {"started": "datetime", "ended": "datetime", "wrapup": "json"}


# a stored phone number without the noise callers' numbers never have
_CLEANED_PHONE = "phone"
for _noise in (" ", "-", "(", ")", "."):
    _CLEANED_PHONE = f"replace({_CLEANED_PHONE}, '{_noise}', '')"


def is_internal(name: str) -> bool:
    return name.startswith(("_", "sqlite_"))


def check_type_name(record_type: str, *, writing: bool = False) -> str:
    """A record type name that may become a table name, or ExternalError."""
    if not is_name(record_type):
        raise ExternalError(
            f"{record_type!r} is not a valid record type name: use letters, digits and _, "
            "not starting with a digit", service="crm")
    if is_internal(record_type) or (writing and record_type == CALL_LOG):
        raise ExternalError(f"`{record_type}` is reserved for the CRM's own use; "
                            "choose another record type name", service="crm")
    return record_type


def check_field_names(record_type: str, fields: Iterable[str]) -> None:
    bad = [name for name in fields if not is_name(name)]
    if bad:
        raise ExternalError(
            f"{', '.join(repr(b) for b in bad)} "
            f"{'is not a valid field name' if len(bad) == 1 else 'are not valid field names'} "
            f"for {record_type}: use letters, digits and _, not starting with a digit",
            service="crm")


class SqliteCRM:
    """runtime.core.crm.base.CRM on a SQLite file. `path` may be ":memory:" (a
    CRM that lives as long as the object, for tests). With `create=False`
    a missing file is an ExternalError instead of a new empty CRM."""

    def __init__(self, path: str | Path, *, create: bool = True, timeout_ms: int = 3000) -> None:
        self.path = str(path)
        if self.path != ":memory:" and not create and not Path(self.path).is_file():
            raise ExternalError(f"no CRM database at {self.path}", service="crm")
        bind_nulls_directly()  # a call_log row's NULLs bound without a failed look-up each
        try:
            if self.path == ":memory:":
                self.db = Database(memory=True)
            else:
                conn = sqlite3.connect(self.path, timeout=timeout_ms / 1000)
                self.db = Database(conn)
            # a file that is not SQLite fails here, not at the first call
            names = [row[0] for row in self.db.execute(
                "select name from sqlite_master where type = 'table'").fetchall()]
        except sqlite3.Error as exc:
            raise ExternalError(
                f"cannot open the CRM database {self.path}: {exc} (is it a SQLite file?)",
                service="crm") from exc
        self._tables = set(names)
        self._columns: dict[str, set[str]] = {}
        self._kinds: dict[str, dict[str, str]] = {}
        self._sql: dict[tuple, str] = {}  # statements made once: look-ups, fast-path writes
        self._phone_indexed = False
        # _noisy_phones: its answer, and the data_version it was found at
        self._phones_noisy = True
        self._phones_checked: int | None = None
        # _new_id: each table's row count, and the data_version it was read at
        self._counts: dict[str, tuple[int, int]] = {}
        # a file switches to WAL at its first write (see _ready_to_write); a
        # CRM only read (`ccf crm show`) leaves its file as it was
        self._journal_set = self.path == ":memory:"
        if META in self._tables:
            with self._guard("open"):
                for table, column, kind in self.db.execute(
                        f"select tbl, col, kind from {META}").fetchall():
                    self._kinds.setdefault(table, {})[column] = kind

    # -- the CRM interface -------------------------------------------------

    async def find_customer(self, phone: str) -> Record | None:
        return self.find_customer_now(phone)

    async def find(self, record_type: str, fields: dict[str, Any]) -> Record | None:
        return self.find_now(record_type, fields)

    async def owner(self, record: Record) -> str | None:
        return self.owner_now(record)

    async def create(self, record_type: str, fields: dict[str, Any]) -> Record:
        return self.create_now(record_type, fields)

    async def update(self, record: Record, fields: dict[str, Any]) -> Record:
        return self.update_now(record, fields)

    async def log_call(self, call: dict[str, Any]) -> None:
        self.log_call_now(call)

    async def close(self) -> None:
        self.close_now()

    # -- the same, synchronous (for the CLI and for tests' fixtures) ---------

    def find_customer_now(self, phone: str) -> Record | None:
        if not phone or not self._has_column("customer", "phone"):
            return None
        number = normalise_phone(phone)
        with self._guard("find_customer"):
            row = self._first("customer", "phone = ?", [number])
            if row is None and self._noisy_phones():
                # numbers written by another tool may keep their spaces and dashes
                row = self._first("customer", f"{_CLEANED_PHONE} = ?", [number])
        return None if row is None else self._record("customer", row)

    def _noisy_phones(self) -> bool:
        """Whether some customer's phone is stored with noise (spaces,
        dashes...), so an unknown number needs the fallback that cleans
        every stored number: a scan of the whole table, on every call from
        an unknown number. Numbers this class writes are normalised, so
        only another tool's writes bring noise: the answer is kept until
        another connection commits (SQLite's data_version) or this one
        writes customers."""
        version = self.db.conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._phones_checked:
            self._phones_noisy = self.db.conn.execute(
                f"select 1 from customer where {_CLEANED_PHONE} <> phone limit 1"
            ).fetchone() is not None
            self._phones_checked = version
        return self._phones_noisy

    def find_now(self, record_type: str, fields: Mapping[str, Any]) -> Record | None:
        check_type_name(record_type)
        check_field_names(record_type, fields)
        if not self._has_table(record_type):
            return None
        clauses, params = [], []
        for name, value in fields.items():
            if not self._has_column(record_type, name):
                if value is None:
                    continue  # a field no record has reads as null
                return None
            clauses.append(f"{quote_identifier(name)} is ?")
            params.append(encode(value)[0])
        with self._guard("find"):
            row = self._first(record_type, " and ".join(clauses) or "1", params)
        return None if row is None else self._record(record_type, row)

    def owner_now(self, record: Record) -> str | None:
        """The record's `owner`; else the owner its stored copy names; else,
        for a record pointing at a customer (`customer` field), that
        customer's owner."""
        owner = record.get("owner")
        if owner is None and record.id is not None and is_name(record.kind) \
                and not is_internal(record.kind):
            stored = self.find_now(record.kind, {"id": record.id})
            owner = stored.get("owner") if stored else None
        if owner is None and record.kind != "customer":
            ref = record.get("customer")
            ref_id = ref.id if isinstance(ref, Record) else ref
            if ref_id is not None:
                customer = self.find_now("customer", {"id": ref_id})
                owner = customer.get("owner") if customer else None
        return None if owner is None else str(owner)

    def create_now(self, record_type: str, fields: Mapping[str, Any]) -> Record:
        check_type_name(record_type, writing=True)
        check_field_names(record_type, fields)
        row = dict(fields)
        with self._guard("create"):
            if row.get("id") is None:
                row["id"] = self._new_id(record_type)
            elif self.find_now(record_type, {"id": row["id"]}) is not None:
                raise ExternalError(f"a {record_type} with id {row['id']!r} already exists",
                                    service="crm")
            counted = self._counts.get(record_type)
            self._write(record_type, [row], fresh=True)
            if counted is not None:  # the one row written: still as count(*) would say
                self._counts[record_type] = (counted[0], counted[1] + 1)
        return self.find_now(record_type, {"id": row["id"]}) or Record(record_type, row)

    def update_now(self, record: Record, fields: Mapping[str, Any]) -> Record:
        record_type = check_type_name(record.kind, writing=True)
        check_field_names(record_type, fields)
        if record.id is None:
            raise ExternalError(f"cannot update a {record_type} that has no id", service="crm")
        if self.find_now(record_type, {"id": record.id}) is None:
            raise ExternalError(f"no {record_type} with id {record.id!r} in the CRM",
                                service="crm")
        changes = {name: value for name, value in fields.items() if name != "id"}
        with self._guard("update"):
            self._write(record_type, [{"id": record.id, **changes}], existing=True)
        return (self.find_now(record_type, {"id": record.id})
                or Record(record_type, {**record.fields, **changes}))

    def log_call_now(self, call: Mapping[str, Any]) -> None:
        """One row in `call_log`. Known keys: customer (a record or its id),
        call_id, caller, dialled, agent, started, ended (datetimes), talk_ms,
        outcome, note, recording (file), wrapup (a map of the wrap-up
        fields). Other keys become columns of their own."""
        check_field_names(CALL_LOG, call)
        row = {name: value for name, value in call.items() if name != "id"}
        with self._guard("log_call"):
            self._ready_to_write()
            if CALL_LOG not in self._tables:
                table = self.db[CALL_LOG]
                table.create(CALL_LOG_COLUMNS, pk="id", if_not_exists=True)
                table.create_index(["customer"], if_not_exists=True)
                self._tables.add(CALL_LOG)
                self._columns.pop(CALL_LOG, None)
                self._note_kinds(CALL_LOG, CALL_LOG_KINDS)
            self._write(CALL_LOG, [row], pk=None)

    def close_now(self) -> None:
        self.db.close()

    # -- for `ccf crm` ---------------------------------------------------------

    def record_types(self) -> list[str]:
        """The record types stored, call_log included, sorted by name."""
        return sorted(name for name in self._refresh_tables() if not is_internal(name))

    def records(self, record_type: str, limit: int | None = None) -> list[Record]:
        check_type_name(record_type)
        if not self._has_table(record_type):
            return []
        sql = f"select * from {quote_identifier(record_type)} order by rowid"
        params: list[Any] = []
        if limit is not None:
            sql += " limit ?"
            params.append(limit)
        with self._guard("show"):
            cursor = self.db.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [self._record(record_type, dict(zip(names, r, strict=True)))
                    for r in cursor.fetchall()]

    def upsert(self, record_type: str, rows: list[dict[str, Any]]) -> tuple[int, int]:
        """Insert or update records by id (records without one get a new id).
        Every name is checked before anything is written. Fields present in
        a row are set; absent ones are left as they were. Returns
        (inserted, updated)."""
        check_type_name(record_type, writing=True)
        for row in rows:
            check_field_names(record_type, row)
        with self._guard("import"):
            given = [row["id"] for row in rows if row.get("id") is not None]
            existing = self._existing_ids(record_type, given)
            # ids repeated inside the file update the row the file inserted
            seen: set[Any] = set()
            updated = 0
            for key in given:
                if encode(key)[0] in existing or key in seen:
                    updated += 1
                seen.add(key)
            prepared = []
            for row in rows:
                row = dict(row)
                if row.get("id") is None:
                    row["id"] = self._new_id(record_type, taken={r.get("id") for r in prepared})
                prepared.append(row)
            self._write(record_type, prepared)
        return len(rows) - updated, updated

    # -- inside ----------------------------------------------------------------

    def _guard(self, operation: str):
        return _Guard(operation, self.path)

    def _refresh_tables(self) -> set[str]:
        with self._guard("read"):
            self._tables = {row[0] for row in self.db.execute(
                "select name from sqlite_master where type = 'table'").fetchall()}
        return self._tables

    def _has_table(self, table: str) -> bool:
        # another process (`ccf crm import`) may have added it since we looked
        return table in self._tables or table in self._refresh_tables()

    def _has_column(self, table: str, column: str) -> bool:
        if not self._has_table(table):
            return False
        columns = self._columns.get(table)
        if columns is None or column not in columns:
            with self._guard("read"):
                columns = {row[1] for row in self.db.execute(
                    f"pragma table_info({quote_identifier(table)})").fetchall()}
            self._columns[table] = columns
        return column in columns

    def _first(self, table: str, where: str, params: list[Any]) -> dict[str, Any] | None:
        sql = self._sql.get((table, where))
        if sql is None:
            sql = self._sql[(table, where)] = (
                f"select * from {quote_identifier(table)} where {where} order by rowid limit 1")
        cursor = self.db.conn.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        return {d[0]: cell for d, cell in zip(cursor.description, row, strict=True)}

    def _record(self, table: str, row: dict[str, Any]) -> Record:
        kinds = self._kinds.get(table, {})
        return Record(table, {name: decode(cell, kinds.get(name))
                              for name, cell in row.items() if cell is not None})

    def _existing_ids(self, table: str, ids: list[Any]) -> set[Any]:
        if not ids or not self._has_table(table):
            return set()
        found: set[Any] = set()
        quoted = quote_identifier(table)
        for start in range(0, len(ids), 500):  # SQLite's limit on parameters
            chunk = [encode(i)[0] for i in ids[start:start + 500]]
            marks = ", ".join("?" * len(chunk))
            found.update(row[0] for row in self.db.execute(
                f"select id from {quoted} where id in ({marks})", chunk).fetchall())
        return found

    def _new_id(self, table: str, taken: set[Any] | None = None) -> str:
        """A fresh id such as `ticket-4`: readable in traces, and the same
        on every run of a simulated call."""
        number = 1
        if self._has_table(table):
            number = self._row_count(table) + 1
        while True:
            candidate = f"{table}-{number}"
            if candidate not in (taken or set()) and not self._existing_ids(table, [candidate]):
                return candidate
            number += 1

    def _row_count(self, table: str) -> int:
        """The table's rows, as count(*) gives them: counted once, then kept
        (create_now adds its row) until another connection commits
        (SQLite's data_version) or this one writes the table otherwise.
        Counting walks the whole table, on every create."""
        version = self.db.conn.execute("PRAGMA data_version").fetchone()[0]
        known = self._counts.get(table)
        if known is not None and known[0] == version:
            return known[1]
        count = self.db.execute(
            f"select count(*) from {quote_identifier(table)}").fetchone()[0] or 0
        self._counts[table] = (version, count)
        return count

    def _ready_to_write(self) -> None:
        """Before the first write: the file goes to WAL mode with
        synchronous=NORMAL (docs/crm.md, "Durability and speed"). A commit then
        appends to the log without waiting for the disk, instead of a
        journal written, synced and deleted per commit; readers (`ccf crm
        show`, reports) no longer wait for writers. A file that cannot use
        WAL (a network file system) keeps its mode and the default
        synchronous=FULL."""
        if self._journal_set:
            return
        mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode and str(mode[0]).lower() == "wal":
            self.db.execute("PRAGMA synchronous=NORMAL")
        self._journal_set = True

    def _write(self, table: str, rows: list[dict[str, Any]], pk: str | None = "id", *,
               fresh: bool = False, existing: bool = False) -> None:
        """Upsert rows (insert, for a table without a key), noting the kind
        of each encoded column. `fresh`: rows whose ids are known to be new;
        `existing`: rows whose ids are known to be stored. Rows are written
        in runs of the same fields, because sqlite-utils sets every column
        of a batch on each row."""
        self._ready_to_write()
        self._counts.pop(table, None)  # _row_count counts again (create_now: see there)
        if table == "customer":
            self._phones_checked = None  # _noisy_phones looks again
        kinds: dict[str, str] = {}
        encoded = []
        for row in rows:
            if "id" in row:  # the key is the first column of a new table
                row = {"id": row["id"], **row}
            cells = {}
            for name, value in row.items():
                if table == "customer" and name == "phone" and isinstance(value, str):
                    value = normalise_phone(value)
                cells[name], kind = encode(value)
                if kind:
                    kinds.setdefault(name, kind)
            encoded.append(cells)
        mode = "insert" if pk is None or fresh else "update" if existing else None
        if not (mode and self._fast_write(table, encoded, mode)):
            target = self.db[table]
            for _, run in groupby(encoded, key=lambda cells: tuple(cells)):
                batch = list(run)
                if pk is None:
                    target.insert_all(batch, alter=True)
                else:
                    target.upsert_all(batch, pk=pk, alter=True)
            self._tables.add(table)
            self._columns.pop(table, None)  # sqlite-utils may have added columns
        if kinds:
            self._note_kinds(table, kinds)
        if table == "customer" and not self._phone_indexed \
                and any("phone" in cells for cells in encoded):
            self.db[table].create_index(["phone"], if_not_exists=True)
            self._phone_indexed = True

    def _fast_write(self, table: str, encoded: list[dict[str, Any]], mode: str) -> bool:
        """Write the rows with one prepared INSERT (or UPDATE by id) when the
        table has every column they bring: the path of each call's
        `crm.log_call` and `crm.create`. False (nothing written) when a
        table or a column is missing: sqlite-utils then creates or alters
        it. The columns known are cached (refreshed on a miss, since another
        process may add one), so this costs no schema look-up per call."""
        # a statement made for these columns means they were all there (this
        # class never removes a column): the per-call writes skip the check
        if not all((table, tuple(cells), mode) in self._sql for cells in encoded):
            names = {name for cells in encoded for name in cells}
            if not all(self._has_column(table, name) for name in names):
                return False
        with self.db.conn:
            for columns, run in groupby(encoded, key=lambda cells: tuple(cells)):
                if mode == "update" and columns == ("id",):
                    continue  # nothing to set
                sql = self._sql.get((table, columns, mode))
                if sql is None:
                    sql = self._sql[(table, columns, mode)] = _statement(table, columns, mode)
                if mode == "insert":
                    params = [tuple(cells.values()) for cells in run]
                else:
                    params = [tuple(v for k, v in cells.items() if k != "id") + (cells["id"],)
                              for cells in run]
                self.db.conn.executemany(sql, params)
        return True

    def _note_kinds(self, table: str, kinds: Mapping[str, str]) -> None:
        # the first kind a column was written with is the one it keeps
        known = self._kinds.setdefault(table, {})
        new = {name: kind for name, kind in kinds.items() if name not in known}
        if not new:
            return
        self.db.execute(f"create table if not exists {META} "
                        "(tbl text, col text, kind text, primary key (tbl, col))")
        self._tables.add(META)
        with self.db.conn:
            self.db.conn.executemany(
                f"insert or ignore into {META} (tbl, col, kind) values (?, ?, ?)",
                [(table, name, kind) for name, kind in new.items()])
        known.update(new)


def _statement(table: str, columns: tuple[str, ...], mode: str) -> str:
    """INSERT of these columns, or UPDATE of them (all but `id`) by id."""
    quoted = quote_identifier(table)
    if mode == "insert":
        return (f"insert into {quoted} ({', '.join(quote_identifier(c) for c in columns)}) "
                f"values ({', '.join('?' * len(columns))})")
    sets = ", ".join(f"{quote_identifier(c)} = ?" for c in columns if c != "id")
    return f"update {quoted} set {sets} where id = ?"


@dataclass(slots=True)
class _Guard:
    """Turns any SQLite failure inside it into ExternalError naming the
    operation and the file."""

    operation: str
    path: str

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None or not isinstance(exc, sqlite3.Error):
            return False
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise ExternalError(
                f"CRM {self.operation} timed out: the database {self.path} is locked by "
                "another writer", service="crm", timed_out=True) from exc
        raise ExternalError(f"CRM {self.operation} failed on {self.path}: {exc}",
                            service="crm") from exc
