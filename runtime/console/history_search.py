"""Finding calls for the console's Calls page: by caller number, agent, local dates, outcome.

The query is `ccf calls list`'s (runtime/operations/recordings.py list_calls): an
agent's calls are those they talked in. Queries only; must not write to the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from ccdsl.runtime.operations.centre_time import local_moment
from ccdsl.runtime.operations.recordings import IN_PROGRESS, list_calls
from ccdsl.runtime.operations.reports.options import OptionError, local_time

PAGE = 50
# the outcomes a finished call's record can carry (docs/store.md), and "in progress"
OUTCOMES = ("hangup", "abandoned", "voicemail", "transfer", "handed_back", "interrupted",
            "error", IN_PROGRESS)
MAX_TEXT = 64


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
    """A page of calls, newest first, and whether there are more (`ccf calls
    list`'s query, a day's bounds in the centre's zone)."""
    try:
        since = _moment(search.since, "from", zone, end=False)
        until = _moment(search.until, "until", zone, end=True)
    except OptionError as exc:
        raise SearchError(str(exc)) from None
    rows = list_calls(store, caller=search.caller or None, agent=search.agent or None,
                      since=since, until=until, outcome=search.outcome or None,
                      limit=PAGE + 1, offset=(search.page - 1) * PAGE)
    return rows[:PAGE], len(rows) > PAGE


def _moment(day: str, what: str, zone: tzinfo, *, end: bool) -> datetime | None:
    """A day's start (or the next day's, for the end) in the centre's zone."""
    return local_moment(local_time(day, what, end=end), zone) if day else None


def handled_by(store: Any, call_id: str, agent: str) -> bool:
    """Whether the agent talked in the call (the rule the list uses)."""
    return bool(list_calls(store, call_id=call_id, agent=agent, limit=1))
