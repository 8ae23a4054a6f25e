"""The rows a call store has queued for its writer, when they are due, what a full backlog drops.

Plain data guarded by the store's lock: must not touch SQLite or fold events.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import Counter
from datetime import UTC, datetime
from itertools import islice

from ccdsl.runtime.operations.centre_time import utc_text
from ccdsl.runtime.operations.store_record import (
    VISITS,
    CallRecord,
    dumps,
    row_values,
    unwritten_wrapups,
)
from ccdsl.runtime.operations.store_schema import (
    CALL_COLUMNS,
    UPDATE_COLUMNS,
    VISIT_SQL,
    WRAPUP_COLUMNS,
)
from ccdsl.runtime.operations.store_writer import Batch, Job

log = logging.getLogger("ccdsl.store")

FLUSH_SECONDS = 1.0  # a bulk simulation's batch waits at most this long for its calls
# A live store's rows wait at most this long for company before the writer
# takes them: a call has a row in the file well within a second of its first
# event. A finished call is taken at once.
WRITE_DELAY_S = 0.25
# The backlog (rows queued or being written) past which rows are dropped:
# centre events past half of it, call events of kinds no record or report
# needs past all of it. Call records and the events they fold are never
# dropped (docs/store.md "When the store cannot be written").
BACKLOG_ROWS = 200_000


class Pending:
    """What waits for the writer: new and changed calls' rows, finished
    calls with their visits, event and centre event rows, wrap-ups, jobs."""

    def __init__(self, path: str, calls_per_commit: int, flush_events: int) -> None:
        self.path = path
        self.calls_per_commit = calls_per_commit
        self.flush_events = flush_events
        self.dirty: dict[str, CallRecord] = {}  # open calls whose row changed since taken
        # call id -> [the first event's seq, each event's JSON array...]: the event_batches
        # row it becomes, built as the events come (no tuple per event, no grouping at take)
        self.events: dict[str, list] = {}
        self.event_rows = 0  # the events in them
        self.choices: list[tuple] = []  # CHOICE_SQL's values
        self.finished: list[CallRecord] = []
        self.centre: list[tuple] = []
        self.wrapups: list[tuple] = []
        self.jobs: list[Job] = []
        # when the rows queued are due at the latest (a delay after the first came; inf: none
        # queued), for the check after every event of a bulk simulation
        self.due_at = math.inf
        self.inflight_rows = 0  # rows taken by the writer, not yet written
        self.dropped: Counter[str] = Counter()
        self.dropping = False

    @property
    def waiting(self) -> bool:
        """Rows wait for the writer: arrived() has started their clock, take() not yet taken
        them."""
        return self.due_at != math.inf

    def backlog(self) -> int:
        return self.event_rows + len(self.centre) + self.inflight_rows

    def full(self, limit: int, what: str) -> bool:
        """Whether a row of `what` must be dropped: the backlog is at `limit`.
        Counted, and logged when dropping starts."""
        if self.backlog() < limit:
            return False
        self.dropped[what] += 1
        if not self.dropping:
            self.dropping = True
            log.error("call store %s cannot keep up (%d rows waiting to be written): dropping "
                      "centre events, then call events no record needs, until it writes again",
                      self.path, self.backlog())
        return True

    def arrived(self) -> bool:
        """A row was queued: True when the writer should hear of it (the
        first row, which starts its clock, or a batch now full)."""
        if not self.waiting:
            self.due_at = time.monotonic() + (WRITE_DELAY_S if self.calls_per_commit == 1
                                              else FLUSH_SECONDS)
            return True
        return (len(self.finished) >= self.calls_per_commit
                or self.event_rows + len(self.centre) >= self.flush_events)

    def due_in(self) -> float | None:
        """Seconds until the rows queued should be written (0: now; None:
        nothing queued)."""
        if not self.waiting:
            return None
        if (len(self.finished) >= self.calls_per_commit or self.wrapups or self.jobs
                or self.event_rows + len(self.centre) >= self.flush_events):
            return 0
        return max(0.0, self.due_at - time.monotonic())

    def take(self) -> Batch | None:
        """Everything queued, as one write's rows. Rows are made here so a
        call's row is the one its events had folded up to now."""
        if not self.waiting:
            return None
        batch = Batch(events=_batched(self.events), event_count=self.event_rows,
                      choices=self.choices, centre=self.centre, wrapups=self.wrapups,
                      jobs=self.jobs, records=self.finished)
        for call in itertools.chain(self.dirty.values(), self.finished):
            if call.stored:
                batch.updates.append((*row_values(call.row, UPDATE_COLUMNS), call.row["call_id"]))
            else:
                batch.inserts.append(row_values(call.row, CALL_COLUMNS))
                call.stored = True
            if len(call.wrapups) > call.wrapups_written:  # a form asked for since
                batch.visits.setdefault("wrapups", []).extend(
                    row_values(w, WRAPUP_COLUMNS) for w in unwritten_wrapups(call))
        for table, columns, _ in VISIT_SQL:
            rows = [row_values(r, columns) for call in self.finished
                    for r in getattr(call, VISITS[table])]
            if rows:
                batch.visits[table] = rows
        self.dirty, self.events, self.finished, self.centre = {}, {}, [], []
        self.event_rows = 0
        self.choices = []
        self.wrapups, self.jobs = [], []
        self.due_at = math.inf
        self.inflight_rows += batch.rows
        return batch

    def written(self) -> bool:
        """The writer wrote what it had taken. True when it had been dropping
        rows and has caught up: a centre event says how many went."""
        self.inflight_rows = 0
        if not self.dropping or self.backlog() >= BACKLOG_ROWS // 2:
            return False
        self.dropping = False
        counts = dict(self.dropped)
        log.error("call store %s writes again; dropped while it could not: %s", self.path,
                  ", ".join(f"{n} {what}" for what, n in sorted(counts.items())))
        now = datetime.now(UTC)
        self.centre.append((utc_text(now), int(now.timestamp() * 1000), "serve",
                            "store_rows_dropped", None, dumps(counts)))
        return True


def _batched(events: dict[str, list]) -> list[tuple]:
    """The event_batches rows of queued events: one per call, its events in
    the order they came, keyed by the first one's seq."""
    return [(call_id, queued[0], f"[{','.join(islice(queued, 1, None))}]")
            for call_id, queued in events.items()]


def queued_events(events: dict[str, list], call_id: str) -> list[str]:
    """The JSON arrays of a call's queued events, in order."""
    queued = events.get(call_id)
    return queued[1:] if queued is not None else []
