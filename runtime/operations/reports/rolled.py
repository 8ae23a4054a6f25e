"""A section's figures from the rollups where whole buckets cover its range, and from the rows
where they do not (the edges of a range, the calls not in the rollups): one SQL statement
adding up both (docs/reports.md "Rollups"). Reads only; never writes to the store.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from ccdsl.runtime.operations.centre_time import offsets
from ccdsl.runtime.operations.reports.sql import Window, fetch_rows
from ccdsl.runtime.operations.rollup import GRAINS, QUARTER_MS, Rollup, decode

# the rows of the calls the rollups do not have: those without an outcome
OPEN_CALLS = "(SELECT o.call_id FROM calls o WHERE o.outcome IS NULL)"


@dataclass(frozen=True)
class Plan:
    """Where a range's figures come from: whole buckets of the rollups (grain, lo, hi), the
    rows of the rest (`raw`), and the calls not in the rollups over the buckets' time
    (`opened`: one window, the buckets are contiguous; None without buckets)."""

    rolled: tuple[tuple[str, int | None, int | None], ...]
    raw: tuple[Window, ...]
    opened: Window | None


def plan(window: Window, grains: tuple[str, ...]) -> Plan:
    """Cover `window` with the biggest whole buckets of `grains` (coarsest first), the rest
    read from the rows. No grains: all of it from the rows."""
    rolled: list[tuple[str, int | None, int | None]] = []
    pieces = [(window.lo, window.hi)]
    for grain in grains:
        unit = GRAINS[grain]
        left = []
        for lo, hi in pieces:
            first = None if lo is None else lo + (-lo) % unit
            last = None if hi is None else hi - hi % unit
            if first is not None and last is not None and first >= last:
                left.append((lo, hi))
                continue
            rolled.append((grain, first, last))
            if lo is not None and first is not None and lo < first:
                left.append((lo, first))
            if hi is not None and last is not None and last < hi:
                left.append((last, hi))
        pieces = left
    if not rolled:
        return Plan((), (window,), None)
    lows = [lo for _, lo, _ in rolled]
    highs = [hi for _, _, hi in rolled]
    opened = Window(None if None in lows else min(lows), None if None in highs else max(highs))
    return Plan(tuple(rolled), tuple(Window(lo, hi) for lo, hi in pieces), opened)


def plan_periods(window: Window, bounds: list[int]) -> Plan:
    """plan() of each part of `window` between the UTC ms `bounds` (the starts of a report's
    months or years inside it), days and quarter hours: no day bucket then straddles two
    periods. Bounds not on a quarter hour: quarter hours alone."""
    cuts = [window.lo, *bounds, window.hi]
    plans = [plan(Window(lo, hi), ("d", "q")) for lo, hi in zip(cuts, cuts[1:], strict=False)]
    rolled = tuple(r for p in plans for r in p.rolled)
    raw = tuple(w for p in plans for w in p.raw)
    if not rolled:
        return Plan((), (window,), None)
    lows = [lo for _, lo, _ in rolled]
    highs = [hi for _, _, hi in rolled]
    opened = Window(None if None in lows else min(lows), None if None in highs else max(highs))
    inside = any((opened.lo is None or (w.hi or 0) > opened.lo) and
                 (opened.hi is None or (w.lo if w.lo is not None else opened.hi) < opened.hi)
                 for w in raw if w.lo is not None and w.hi is not None)
    return plan(window, ("q",)) if inside else Plan(rolled, raw, opened)


def aligned(zone: tzinfo, window: Window) -> bool:
    """Whether every local hour and day of `zone` over the window begins on a UTC quarter
    hour (every zone today; not the local mean times of the 19th century)."""
    if window.lo is None or window.hi is None:
        return False
    return all(offset % QUARTER_MS == 0 for _, offset in offsets(zone, window.lo, window.hi))


@dataclass(frozen=True)
class Part:
    """A column both halves give: `rolled` over a rollup row, `raw` an aggregate over rows t."""

    name: str
    rolled: str
    raw: str


def key(name: str, column: str, raw: str) -> Part:
    """A key column: the rollup's stored text decoded."""
    return Part(name, decode(column), raw)


def figures(rollup: Rollup, *names: str, within: dict[str, str] | None = None) -> list[Part]:
    """The rollup's figures `names`; `within` renames: part name -> rollup figure."""
    out = [Part(n, n, rollup.figure(n).raw) for n in names]
    for name, column in (within or {}).items():
        out.append(Part(name, column, "sum(t.outcome = 'answered' AND t.wait_ms <= :within)"))
    return out


# (select, window, extra condition on t, tail) -> sql and args of the rows' half
RawQuery = Callable[[str, Window, str, str], tuple[str, dict]]


def union(db: sqlite3.Connection, rollup: Rollup, the_plan: Plan, keys: list[Part],
          parts: list[Part], where: tuple[str, dict], raw: RawQuery, outer: str,
          tail: str) -> tuple[tuple, ...]:
    """SELECT `outer` (over u, the parts' sums) FROM the rollup's whole buckets UNION ALL the
    rows' figures, grouped as `tail` says. `where`: conditions on a rollup row (filters) and
    their arguments."""
    members: list[str] = []
    args: dict = {}
    conditions, filter_args = where
    for n, (grain, lo, hi) in enumerate(the_plan.rolled):
        cond = [f"grain = '{grain}'"]
        if lo is not None:
            cond.append(f"bucket >= :r{n}lo")
            args[f"r{n}lo"] = lo
        if hi is not None:
            cond.append(f"bucket < :r{n}hi")
            args[f"r{n}hi"] = hi
        select = ", ".join(f"{p.rolled} AS {p.name}" for p in (*keys, *parts))
        members.append(f"SELECT {select} FROM {rollup.table} WHERE "
                       f"{' AND '.join((*cond, *conditions))}")
    args.update(filter_args)
    raw_select = ", ".join(f"{p.raw} AS {p.name}" for p in (*keys, *parts))
    group = f"GROUP BY {', '.join(p.name for p in keys)}" if keys else ""
    pieces = [(w, "") for w in the_plan.raw]
    if the_plan.opened is not None:
        of_open = ("t.outcome IS NULL" if rollup.rows == "calls"
                   else f"t.call_id IN {OPEN_CALLS}")
        pieces.append((the_plan.opened, of_open))
    for n, (window, extra) in enumerate(pieces):
        sql, more = raw(raw_select, window, extra, group)
        sql, more = _renamed(sql, more, f"p{n}")
        members.append(f"SELECT * FROM ({sql}) AS raw{n}")  # PostgreSQL names each subquery
        args.update(more)
    body = " UNION ALL ".join(members)
    return fetch_rows(db, f"SELECT {outer} FROM ({body}) u {tail}", args)


def _renamed(sql: str, args: dict, suffix: str) -> tuple[str, dict]:
    """The query with its named parameters made its own (`:lo` -> `:lo_p0`)."""
    names = set(args)
    text = re.sub(r":(\w+)", lambda m: f":{m[1]}_{suffix}" if m[1] in names else m[0], sql)
    return text, {f"{k}_{suffix}": v for k, v in args.items()}


def has_rollups(db: sqlite3.Connection) -> bool:
    """Whether the store keeps rollups (schema 8 on; a report never migrates an older one)."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                      "AND name = 'rollup_calls'").fetchone() is not None


def sum_of(name: str) -> str:
    return f"sum(u.{name})"


def mean(total: str, count: str) -> str:
    """A mean in whole ms from the parts' sums, as avg() over the rows gives it: the exact
    sum divided as doubles, rounded half away from zero."""
    return f"CAST(round(1.0 * sum(u.{total}) / nullif(sum(u.{count}), 0)) AS INTEGER)"
