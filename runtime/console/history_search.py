"""Finding calls for the console's Calls page: by caller number, agent, local dates, outcome.

The columns and the agent rule are those of `ccf calls list`
(runtime/operations/recordings.py list_calls): an agent's calls are those they talked
in. Queries only; must not write to the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from ccdsl.runtime.operations.centre_time import local_to_ms
from ccdsl.runtime.operations.reports.options import OptionError, local_time

PAGE = 50
# the outcomes a finished call's record can carry (docs/store.md), and "in progress"
OUTCOMES = ("hangup", "abandoned", "voicemail", "transfer", "handed_back", "interrupted",
            "error", "in_progress")
MAX_TEXT = 64

COLUMNS = ("call_id, started, flow, caller, customer_id, agent, outcome, duration_ms, "
           "talk_ms, queue, recording, voicemail_mailbox, voicemail_file")
# the same rule as list_calls: the agent on the record, or any offer they answered
AGENT_RULE = ("(agent = ? OR call_id IN (SELECT call_id FROM agent_legs "
              "WHERE agent = ? AND outcome = 'answered'))")


class SearchError(ValueError):
    """A search field that cannot be read; the message is for the page."""


@dataclass(frozen=True)
class Search:
    caller: str = ""
    agent: str = ""
    since: str = ""  # YYYY-MM-DD, the centre's day
    until: str = ""  # YYYY-MM-DD, included
    outcome: str = ""
    page: int = 1

    def as_query(self, **change: Any) -> dict[str, str]:
        values = {"caller": self.caller, "agent": self.agent, "since": self.since,
                  "until": self.until, "outcome": self.outcome, "page": str(self.page)}
        values.update({k: str(v) for k, v in change.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


def read_search(params: Any, *, agent_only: str | None) -> Search:
    """The search from the query string; an agent's is always their own."""
    def text(name: str) -> str:
        return str(params.get(name) or "").strip()[:MAX_TEXT]

    page = text("page")
    try:
        number = max(1, min(int(page), 10_000)) if page else 1
    except ValueError:
        number = 1
    outcome = text("outcome")
    if outcome and outcome not in OUTCOMES:
        raise SearchError(f"outcome {outcome!r}: one of {', '.join(OUTCOMES)}")
    return Search(caller=text("caller"), agent=agent_only or text("agent"),
                  since=text("since"), until=text("until"), outcome=outcome, page=number)


def find_calls(store: Any, search: Search, zone: tzinfo) -> tuple[list[dict[str, Any]], bool]:
    """A page of calls, newest first, and whether there are more."""
    where: list[str] = []
    args: list[Any] = []
    if search.caller:
        # a part of the number: +86138 finds every 138 number; LIKE's own signs are text
        escaped = search.caller.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("caller LIKE ? ESCAPE '\\'")
        args.append(f"%{escaped}%")
    if search.agent:
        where.append(AGENT_RULE)
        args += [search.agent, search.agent]
    try:
        if search.since:
            where.append("started_ms >= ?")
            args.append(local_to_ms(local_time(search.since, "from", end=False), zone))
        if search.until:
            where.append("started_ms < ?")
            args.append(local_to_ms(local_time(search.until, "until", end=True), zone))
    except OptionError as exc:
        raise SearchError(str(exc)) from None
    if search.outcome == "in_progress":
        where.append("outcome IS NULL")
    elif search.outcome:
        where.append("outcome = ?")
        args.append(search.outcome)
    sql = f"SELECT {COLUMNS} FROM calls"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY started_ms DESC, call_id DESC LIMIT ? OFFSET ?"
    rows = store.query(sql, (*args, PAGE + 1, (search.page - 1) * PAGE))
    return rows[:PAGE], len(rows) > PAGE


def handled_by(store: Any, call_id: str, agent: str) -> bool:
    """Whether the agent talked in the call (the rule the list uses)."""
    rows = store.query(f"SELECT 1 FROM calls WHERE call_id = ? AND {AGENT_RULE}",
                       (call_id, agent, agent))
    return bool(rows)
