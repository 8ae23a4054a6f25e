"""What a bench reads back of the calls it made (each Asterisk call's stored outcomes), and
every call a kill cut or let finish accounted for against them (chaos.py, scale.py).

Reads only (a SQLite file or a PostgreSQL URL, through the store's own connect).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store_ids import base_of

# docs/store.md "What a crash can lose": the writer's last 250 ms of rows; a call begun this
# close to the SIGKILL may leave no trace (a margin added for its first events)
CRASH_WINDOW_S = 0.25 + 0.1
# ... and a call whose end the server had sent while the writer was committing it (a
# commit's time, milliseconds; with a margin) may be found in progress, or not at all
END_WINDOW_S = 0.1


def stored(store: str) -> dict[str, list]:
    """Outcomes by Uniqueid: a Uniqueid met again is stored as UNIQUEID~2 (docs/store.md),
    one Asterisk call."""
    db = connect(store)
    try:
        rows = db.execute("SELECT call_id, outcome FROM calls").fetchall()
    finally:
        db.close()
    by_id: dict[str, list] = {}
    for call_id, outcome in rows:
        by_id.setdefault(base_of(call_id), []).append(outcome)
    return by_id


def open_calls(store: str) -> int:
    """The calls still in progress there (outcome NULL)."""
    db = connect(store)
    try:
        return db.execute("SELECT count(*) FROM calls WHERE outcome IS NULL").fetchone()[0]
    finally:
        db.close()


@dataclass(frozen=True)
class Outcome:
    served_stored: set[str]  # served to the end, stored once, finished
    twice: set[str]
    reconciled: set[str]  # cut by the kill, closed as interrupted
    cut_finished: set[str]  # cut, yet stored finished (it ended before the kill)
    lost: set[str]
    end_unwritten: set[str]  # served as the kill came: the documented loss
    unreconciled: set[str]
    too_late: set[str]  # begun in the writer's last moments: the documented loss

    @property
    def ok(self) -> bool:
        return not self.lost and not self.twice and not self.unreconciled


def account(*, served: set[str], cut: set[str], ended: Mapping[str, float],
            began: Mapping[str, float], kill_s: float, rows: dict[str, list]) -> Outcome:
    """Every call the peer saw served or cut, against the store's rows; `began`: when each
    call began (seconds into the run), `kill_s` when the server was killed."""
    finished = {uid for uid, outcomes in rows.items()
                if any(o not in (None, "interrupted") for o in outcomes)}
    served_stored = {uid for uid in served if len(rows.get(uid, [])) == 1
                     and rows[uid][0] not in (None, "interrupted")}
    twice = {uid for uid, outcomes in rows.items() if len(outcomes) > 1}
    reconciled = {uid for uid in cut if rows.get(uid) == ["interrupted"]}
    cut_finished = {uid for uid in cut if uid in finished}
    lost = served - served_stored
    end_unwritten = {uid for uid in lost if ended[uid] >= kill_s - END_WINDOW_S
                     and rows.get(uid) in (None, ["interrupted"])}
    lost -= end_unwritten
    unreconciled = cut - reconciled - cut_finished
    too_late = {uid for uid in unreconciled if uid not in rows
                and began[uid] >= kill_s - CRASH_WINDOW_S}
    return Outcome(served_stored, twice, reconciled, cut_finished, lost,
                   end_unwritten, unreconciled - too_late, too_late)
