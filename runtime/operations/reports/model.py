"""What a report is made of, whatever it is printed as: the filters it was
made with, and its sections, each a table of plain values (counts,
milliseconds, percentages, text). The renderers (text, CSV, JSON, HTML)
only format these; every figure is computed in runtime/operations/reports/query.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# How a column's values are shown: `ms` values are milliseconds (printed as
# seconds or h:mm:ss in tables and HTML, kept as numbers in CSV and JSON),
# `pct` values are percentages (0-100, one decimal), `count` whole numbers.
Kind = Literal["text", "count", "ms", "pct"]

INTERVALS = ("auto", "realtime", "hour", "day", "month", "year")
SECTIONS = ("summary", "calls", "service", "queues", "agents", "agent_time", "agent_pauses",
            "nodes", "choices", "queue_choices", "callbacks")
# made from the console's agents' states (reports/agent_time.py): in a report of every
# section only when the store has such states, always when asked for by name
STATE_SECTIONS = ("agent_time", "agent_pauses")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: Kind = "count"


@dataclass(frozen=True)
class Section:
    """One table of the report."""

    name: str  # one of SECTIONS
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column key (for JSON)."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]

    def column(self, key: str) -> list[Any]:
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class Filters:
    """What a report covers. `start`/`end` are local times as text
    (`YYYY-MM-DDTHH:MM:SS`) in the report's zone: start included, end
    excluded; None: unbounded."""

    start: str | None = None
    end: str | None = None
    queue: str | None = None
    agent: str | None = None
    flow: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"from": self.start, "to": self.end, "queue": self.queue,
                "agent": self.agent, "flow": self.flow}


@dataclass(frozen=True)
class Options:
    """How the figures are made: the interval of the calls section (`auto`: the one the
    range calls for, periods.auto_interval), the service-level threshold, and for
    `realtime` the window's length."""

    interval: str = "day"
    within_ms: int = 20_000
    minutes: int = 60
    zone: str | None = None  # IANA name; None: the store's zone, else the machine's


@dataclass(frozen=True)
class Report:
    store: str
    generated: str  # ISO 8601, in the report's zone
    filters: Filters
    options: Options
    sections: tuple[Section, ...]
    zone: str = "UTC"  # the zone its periods and ranges are in
    # the time it covers, local `YYYY-MM-DD HH:MM` in `zone`, the end excluded: the range,
    # its open ends closed by the first and last call; None: no range and no call
    covers: tuple[str, str] | None = None
    agent_states: bool = False  # whether the store has the console's agent states
    pruned_before_ms: int | None = None  # `ccf store prune`'s latest --before (reports/pruned.py)

    def section(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)
