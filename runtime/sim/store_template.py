"""Empty call stores for simulated calls, each a byte copy of one store made and migrated once.

Must not let two calls share a store: every call gets a file of its own, as if freshly created.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from datetime import UTC, datetime

from ccdsl.runtime.operations.store import CallStore, StoreError


class StoreTemplates:
    """Migrated empty call stores, one per centre timezone, in a folder of their own
    that `close` (or leaving the `with` block, on an error or Ctrl-C too) removes.
    Creating and migrating a store costs far more than copying a file: a run of many
    test blocks makes each store once and copies it for every test. `copies=False`: no
    template, `open` creates and migrates every store (bench/test_run.py's anchor)."""

    def __init__(self, *, copies: bool = True) -> None:
        self._lock = threading.Lock()  # a template is copied only once it is whole
        self._copies = copies
        self._folder: str | None = None
        # timezone ('' none) -> its template file; None: none to be had, a store is made
        self._made: dict[str, str | None] = {}
        self._stamped: dict[str, str] = {}  # template file -> the `created` it has
        self._closed = False
        self._gone: weakref.finalize | None = None

    def __enter__(self) -> StoreTemplates:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def open(self, path: str, *, timezone: str | None = None) -> CallStore:
        """A new call store at `path` (which must not exist), as CallStore(path,
        timezone=timezone) would create it, from a copy of the template."""
        self._copy(timezone or "", path)
        return CallStore(path, timezone=timezone)

    def _copy(self, timezone: str, path: str) -> None:
        """Copy the zone's template to `path`, its `meta.created` now (to the second, as
        store_migrate writes it): the template is stamped again when the second has
        changed, not each copy (a write of its own costs more than the copy). Nothing is
        copied without a template: CallStore then creates the store."""
        with self._lock:  # a template is copied whole, and never while it is stamped
            if self._closed or not self._copies:
                return
            if timezone not in self._made:
                self._made[timezone] = self._make(timezone)
            template = self._made[timezone]
            if template is None:
                return
            now = datetime.now(UTC).isoformat(timespec="seconds")
            if self._stamped.get(template) != now:
                if not _stamp_created(template, now):
                    self._made[timezone] = None  # stores of this zone are made afresh
                    return
                self._stamped[template] = now
            shutil.copyfile(template, path)

    def _make(self, timezone: str) -> str | None:
        try:
            if self._folder is None:
                self._folder = tempfile.mkdtemp(prefix="ccf-store-template-")
                # templates never closed go when they are collected or Python exits
                self._gone = weakref.finalize(self, shutil.rmtree, self._folder, True)
            path = os.path.join(self._folder, f"calls-{len(self._made)}.db")
            CallStore(path, timezone=timezone or None).close()
        except (OSError, sqlite3.Error, StoreError):
            return None  # each call makes its own store, and says why it cannot
        # closing the last connection folds the write-ahead log into the file; a
        # copy of the file alone is the store only when nothing is left beside it
        if any(os.path.exists(path + end) for end in ("-wal", "-journal")):
            return None
        return path

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._folder = None
            self._made.clear()
            self._stamped.clear()
            gone, self._gone = self._gone, None
        if gone is not None:
            gone()  # removes the folder, once


def open_store(store_path: str | None, workdir: str, *, timezone: str | None,
               stores: StoreTemplates | None = None) -> CallStore:
    """The call store a simulated call is kept in: the user's `store_path` as it is (created
    there if missing), else a temporary `calls.db` in `workdir`, copied from `stores`'
    template when given (a run of many tests), else created afresh."""
    if store_path:
        return CallStore(store_path, timezone=timezone)
    path = os.path.join(workdir, "calls.db")
    if stores is not None:
        return stores.open(path, timezone=timezone)
    return CallStore(path, timezone=timezone)


def _stamp_created(template: str, created: str) -> bool:
    """Set a template's `meta.created`; False when it cannot be, or leaves more than the
    file (a copy of the file alone would miss the change)."""
    try:
        db = sqlite3.connect(template, isolation_level=None)
        try:
            # a template of temporary test stores: a crash of the machine loses nothing kept
            db.execute("PRAGMA synchronous=OFF")
            db.execute("UPDATE meta SET value = ? WHERE key = 'created'", (created,))
        finally:
            db.close()
    except sqlite3.Error:
        return False
    return not any(os.path.exists(template + end) for end in ("-wal", "-journal"))
