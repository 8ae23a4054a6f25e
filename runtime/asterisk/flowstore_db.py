"""The flow store kept in the call store's database, so N `ccf serve` workers on several hosts
serve the same versions. FlowStore's interface; must never change a version once written.

Chosen by flow_store_for(): a PostgreSQL store, or `[paths] flows` naming the store's own SQLite
file (docs/workers.md "Flows").
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccdsl import json_text
from ccdsl.runtime.asterisk.config_store import flows_in_store
from ccdsl.runtime.asterisk.flowstore import (
    _VERSION,
    Bundle,
    DeployedVersion,
    FlowEntry,
    FlowStore,
    FlowStoreError,
    check_names,
    ir_hash,
    manifest_of,
)
from ccdsl.runtime.operations.database import connect, is_postgres, shown, transaction
from ccdsl.runtime.operations.shared_db import SharedStoreError, shared
from ccdsl.runtime.operations.store_notify import FLOWS, say

log = logging.getLogger("ccdsl.serve")

# the advisory lock deploys and rollbacks of every host take in turn (PostgreSQL)
DEPLOY_LOCK = 4242016
POINTER_SQL = "SELECT version, serial FROM flow_pointer WHERE name = 'current'"
SET_POINTER_SQL = (
    "INSERT INTO flow_pointer (name, version, serial, changed) VALUES ('current', ?, 1, ?) "
    "ON CONFLICT (name) DO UPDATE SET version = excluded.version, "
    "serial = flow_pointer.serial + 1, changed = excluded.changed")


def in_database(config) -> bool:
    """Whether a centre keeps its flows in the call store's database: always with a PostgreSQL
    store; with SQLite when `[paths] flows` names the store's own file."""
    return flows_in_store(str(config.store_path), config.flows_dir)


def flow_store_for(config) -> FlowStore:
    """The flow store `ccf deploy`, `ccf flows` and `ccf serve` use for a centre's config."""
    if in_database(config):
        return DbFlowStore(config.store_path)
    return FlowStore(config.flows_dir)


class DbFlowStore(FlowStore):
    """Versions as rows of flow_versions, the current one named by flow_pointer's one row."""

    def __init__(self, target: str | os.PathLike) -> None:
        super().__init__(Path("."))
        self.target = str(target)
        self._seen: int | None = None  # the pointer's serial when current() last read it
        self._lock_conn = None
        self._unreadable = False  # changed() could not read the pointer last time

    @property
    def where(self) -> str:
        return f"the call store {shown(self.target)}"

    @contextlib.contextmanager
    def _db(self) -> Iterator:
        try:
            with shared(self.target) as db:
                yield db
        except SharedStoreError as exc:
            raise FlowStoreError(f"{exc}; the flows cannot be read or written") from None

    # -- reading ---------------------------------------------------------------------------

    def _pointer(self) -> tuple[str | None, int | None]:
        with self._db() as db:
            row = db.execute(POINTER_SQL).fetchone()
        return (None, None) if row is None else (row[0], int(row[1]))

    def current_version(self) -> str | None:
        return self._pointer()[0]

    def current(self) -> Bundle | None:
        version, self._seen = self._pointer()
        return None if version is None else self.get(version)

    def changed(self) -> bool:
        """Whether a deploy or rollback moved the pointer since current() read it: one read
        of one row (StoreFlows asks at most every POLL_S seconds). A store that cannot be
        read now has not changed: the version in service goes on (logged once until it can)."""
        try:
            serial = self._pointer()[1]
        except FlowStoreError as exc:
            if not self._unreadable:
                log.error("%s; new calls stay on the version in service", exc)
            self._unreadable = True
            return False
        if self._unreadable:
            log.info("the flow store in %s can be read again", self.where)
        self._unreadable = False
        return serial != self._seen

    def get(self, version: str) -> Bundle:
        bundle = self._bundles.get(version)
        if bundle is not None:
            return bundle
        row = self._row(version, "manifest, bundle")
        manifest = manifest_of(json.loads(row[0]), version)
        flows = json.loads(row[1])
        bundle = Bundle(version=version, flows=flows, numbers=dict(manifest.numbers),
                        manifest=manifest)
        self._bundles[version] = bundle
        return bundle

    def attached(self, version: str, name: str) -> str | None:
        try:
            files = json.loads(self._row(version, "attached")[0])
        except FlowStoreError:
            return None
        found = files.get(name)
        return found if isinstance(found, str) else None

    def versions(self) -> list[DeployedVersion]:
        with self._db() as db:
            rows = db.execute("SELECT version, manifest FROM flow_versions "
                              "ORDER BY CAST(version AS INTEGER)").fetchall()
            pointer = db.execute(POINTER_SQL).fetchone()
        current = pointer[0] if pointer else None
        return [_marked(manifest_of(json.loads(text), version), version == current)
                for version, text in rows]

    # -- changing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Deploys and rollbacks of every host one at a time: PostgreSQL's advisory lock held
        by one connection; a lock file beside a SQLite store (its hosts share its disk)."""
        if self._lock_depth == 0:
            self._lock_conn = self._take_lock()
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                held, self._lock_conn = self._lock_conn, None
                _release(held)

    def _take_lock(self):
        if not is_postgres(self.target):
            fd = os.open(f"{self.target}.flows-lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            return fd
        import sqlite3

        try:
            db = connect(self.target)
            db.execute(f"SELECT pg_advisory_lock({DEPLOY_LOCK})")
        except sqlite3.Error as exc:
            raise FlowStoreError(f"{self.where}: cannot take the deploy lock (another deploy or "
                                 f"rollback may be under way; try again): {exc}") from None
        return db

    def prepare(self, flows: Mapping[str, dict], *, numbers: Mapping[str, str],
                note: str = "", sources: Mapping[str, str] | None = None,
                attached: Mapping[str, str] | None = None) -> DeployedVersion:
        check_names(flows, attached)
        with self.locked(), self._db() as db:
            with transaction(db):
                row = db.execute("SELECT max(CAST(version AS INTEGER)) FROM flow_versions"
                                 ).fetchone()
                version = f"{int(row[0] or 0) + 1:04d}"
                pointer = db.execute(POINTER_SQL).fetchone()
                entries = tuple(FlowEntry(name=name, source=(sources or {}).get(name, ""),
                                          ir_hash=ir_hash(ir))
                                for name, ir in sorted(flows.items()))
                manifest = DeployedVersion(
                    version=version, created=datetime.now(UTC).isoformat(timespec="seconds"),
                    flows=entries, numbers=dict(sorted(numbers.items())), note=note,
                    previous=pointer[0] if pointer else None)
                body = manifest.to_json()
                del body["current"]
                db.execute("INSERT INTO flow_versions (version, created, manifest, bundle, "
                           "attached) VALUES (?, ?, ?, ?, ?)",
                           (version, manifest.created, _json(body), _json(dict(flows)),
                            _json(dict(attached or {}))))
        return manifest

    def activate(self, version: str) -> DeployedVersion:
        """Point `current` at a version that exists: one row, one transaction; every worker
        sees it at its next look."""
        self._check(version)
        with self.locked(), self._db() as db:
            with transaction(db):
                row = db.execute("SELECT manifest FROM flow_versions WHERE version = ?",
                                 (version,)).fetchone()
                if row is None:
                    raise FlowStoreError(f"there is no version {version} in {self.where}")
                db.execute(SET_POINTER_SQL, (version, _now()))
                self._announce(db)
        return _marked(manifest_of(json.loads(row[0]), version), True)

    def restore(self, version: str | None) -> None:
        with self.locked():
            if version is not None:
                self.activate(version)
                return
            with self._db() as db:
                with transaction(db):
                    db.execute(SET_POINTER_SQL, (None, _now()))
                    self._announce(db)

    def discard(self, version: str) -> None:
        self._check(version)
        with self.locked():
            if version == self.current_version():
                raise FlowStoreError(f"version {version} is current; it cannot be removed")
            with self._db() as db:
                db.execute("DELETE FROM flow_versions WHERE version = ?", (version,))
            self._bundles.pop(version, None)

    # -- internals -------------------------------------------------------------------------

    def _announce(self, db) -> None:
        """Inside the transaction that moved the pointer: on PostgreSQL every worker listening
        hears the new serial once it commits (docs/workers.md "Flows"); SQLite's poll."""
        if not is_postgres(self.target):
            return
        row = db.execute(POINTER_SQL).fetchone()
        say(db, self.target, FLOWS, str(row[1]))

    def _check(self, version: str) -> None:
        if not _VERSION.match(version):
            raise FlowStoreError(f"{version!r} is not a version (such as 0003)")

    def _has(self, version: str) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM flow_versions WHERE version = ?",
                              (version,)).fetchone() is not None

    def _manifest(self, version: str) -> DeployedVersion:
        return manifest_of(json.loads(self._row(version, "manifest")[0]), version)

    def _row(self, version: str, columns: str) -> tuple[Any, ...]:
        self._check(version)
        with self._db() as db:
            row = db.execute(f"SELECT {columns} FROM flow_versions WHERE version = ?",
                             (version,)).fetchone()
        if row is None:
            raise FlowStoreError(f"there is no version {version} in {self.where}")
        return tuple(row)


def _release(held) -> None:
    if held is None:
        return
    if isinstance(held, int):
        fcntl.flock(held, fcntl.LOCK_UN)
        os.close(held)
        return
    # a session lock outlives the connection's return to the pool: unlocked by name, or the
    # connection closed (which ends the lock) when that fails
    try:
        held.execute(f"SELECT pg_advisory_unlock({DEPLOY_LOCK})")
    except Exception:  # noqa: BLE001 - a lost connection has no lock left to hold
        with contextlib.suppress(Exception):
            held.raw.close()
    held.close()


def _marked(manifest: DeployedVersion, current: bool) -> DeployedVersion:
    return replace(manifest, current=current)


def _json(data: Any) -> str:
    # key order kept as written: the IR's tables are ordered (declaration order)
    return json_text.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
