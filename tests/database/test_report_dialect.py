"""The dialect rules the reports and listings add (runtime/operations/database/dialect.py, after
the store's): SQLite's unary + planner hint dropped, json_group_array on PostgreSQL; each said
to a real cluster gives what SQLite gives."""

from __future__ import annotations

import pytest

from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.database.dialect import COMPAT_SQL, translate


def test_the_unary_plus_hint_is_dropped_and_arithmetic_kept():
    said = translate("SELECT 1 FROM a x WHERE x.id = t.id AND +x.agent = :agent "
                     "AND (+t.started_ms >= :lo) AND t.a + t.b > 2 AND t.c +1 < 3").sql
    assert said == ("SELECT 1 FROM a x WHERE x.id = t.id AND x.agent = %(agent)s "
                    "AND (t.started_ms >= %(lo)s) AND t.a + t.b > 2 AND t.c +1 < 3")
    assert translate("SELECT 'AND +x' WHERE +a = 1").sql == "SELECT 'AND +x' WHERE a = 1"


_SAME = (
    ("SELECT t.x FROM v t WHERE +t.x >= ? AND +t.y = ? ORDER BY t.x", (1, "b")),
    ("SELECT json_group_array(json(t.doc)) FROM (SELECT doc FROM v ORDER BY x) t", ()),
    ("SELECT json_group_array(json(t.doc)) FROM (SELECT doc FROM v WHERE x > 99) t", ()),
    ("SELECT CAST(json_extract(doc, '$.ok') AS TEXT) IN ('1', 'true'), "
     "CAST(json_extract(doc, '$.ms') AS INTEGER) FROM v ORDER BY x", ()),
)


@pytest.mark.parametrize(("sql", "args"), _SAME)
def test_postgresql_answers_as_sqlite(sql, args, pg_url, tmp_path):
    import json

    rows = {}
    for target in (str(tmp_path / "s.db"), pg_url):
        db = connect(target)
        if target == pg_url:
            for statement in COMPAT_SQL:
                db.execute(statement)
        db.execute("CREATE TABLE v (x INTEGER, y TEXT, doc TEXT)")
        db.executemany("INSERT INTO v (x, y, doc) VALUES (?, ?, ?)", [
            (1, "a", '{"ok": true, "ms": 5}'), (2, "b", '{"ok": false, "ms": 7}'),
            (3, "b", '{"ms": 9, "n": [1, 2]}')])
        found = [tuple(r) for r in db.execute(sql, args).fetchall()]
        # JSON text is compared as JSON: SQLite's json() writes it without spaces
        rows[target] = [tuple(json.loads(v) if isinstance(v, str) and v[:1] == "[" else v
                              for v in r) for r in found]
        db.close()
    assert rows[pg_url] == rows[str(tmp_path / "s.db")]
