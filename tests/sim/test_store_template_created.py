"""A test's call store copied from the template (runtime/sim/store_template.py) says it was
created when it was copied, as a store created afresh says when it was made: never the
template's time, which `ccf store` commands and a copy to PostgreSQL carry on."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from ccdsl.runtime.operations import store_migrate
from ccdsl.runtime.sim.store_template import StoreTemplates

LONG_AGO = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


class _LongAgo(datetime):
    """store_migrate's clock while the template is made: a time no copy is made at."""

    @classmethod
    def now(cls, tz=None):
        return LONG_AGO


def _created(path: Path) -> datetime:
    db = sqlite3.connect(path)
    try:
        (value,) = db.execute("SELECT value FROM meta WHERE key = 'created'").fetchone()
    finally:
        db.close()
    return datetime.fromisoformat(value)


def test_a_copy_is_created_when_it_is_copied_not_when_the_template_was(
        tmp_path: Path, monkeypatch) -> None:
    with StoreTemplates() as stores:
        with monkeypatch.context() as patched:
            patched.setattr(store_migrate, "datetime", _LongAgo)
            stores.open(str(tmp_path / "first.db"), timezone="Asia/Shanghai").close()
        assert _created(tmp_path / "first.db") != LONG_AGO
        before = datetime.now(UTC).replace(microsecond=0)
        stores.open(str(tmp_path / "second.db"), timezone="Asia/Shanghai").close()
        after = datetime.now(UTC)
    assert before <= _created(tmp_path / "second.db") <= after
    assert _created(tmp_path / "first.db") <= _created(tmp_path / "second.db")


def test_copies_made_in_later_seconds_each_say_their_own(tmp_path: Path, monkeypatch) -> None:
    from ccdsl.runtime.sim import store_template

    moments = iter([datetime(2026, 12, 7, 9, 0, s, 250_000, tzinfo=UTC) for s in (1, 1, 2, 5)])

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return next(moments)

    monkeypatch.setattr(store_template, "datetime", Clock)
    with StoreTemplates() as stores:
        for n in range(4):
            stores.open(str(tmp_path / f"c{n}.db"), timezone="UTC").close()
    assert [_created(tmp_path / f"c{n}.db").second for n in range(4)] == [1, 1, 2, 5]
