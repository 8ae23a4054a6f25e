"""`ccf report --check-asterisk` on a call whose agent a routing line dialled, as Asterisk sent it.

captures/ami-sip-order-lookup-agent.txt is such a call on Asterisk 22.10.1 with SIP phones:
`Dial(PJSIP/8003,20,gtU(ccf-answered^<call>^wang))`, wang's phone answered, the conversation,
the hang-ups (captures README "The example centre with SIP phones"). Its events go through the
keeper ccf serve stores AMI events with (knowing examples/iws's agents' PJSIP phones), into a
real call store that says what ccf serve said: answered by wang through a dial. The check must
find both sides agree, as they did; and a queued call (ami-sip-zh-queue.txt), whose member
app_queue also dials, must count wang's answer once.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

from doubles.transcript import read_transcript, sent_by_asterisk

from ccdsl.runtime.asterisk.ami_keep import AmiEventKeeper
from ccdsl.runtime.asterisk.names import interface_of_channel
from ccdsl.runtime.operations.centre_time import report_zone
from ccdsl.runtime.operations.reports.model import Filters
from ccdsl.runtime.operations.reports.query import open_store
from ccdsl.runtime.operations.reports.reconcile import check_asterisk
from ccdsl.runtime.operations.store import CallStore
from tests.asterisk.test_phone_hold_capture import messages

CALL = "1796655849.6"
QUEUED = "1796656126.14"
STARTED = datetime(2026, 12, 7, 15, 4, 10, tzinfo=UTC)
PHONES = {"PJSIP/8001": "zhang", "PJSIP/8002": "li", "PJSIP/8003": "wang"}


def store_of_the_capture(path: str, agent_leg: tuple[str, str | None, str],
                         capture: str = "ami-sip-order-lookup-agent.txt",
                         call: str = CALL) -> str:
    """The capture's AMI events as ccf serve keeps them, and the call as its store has it
    (agent_leg: agent, queue, via; a queue's answer is a visit too)."""
    store = CallStore(path, timezone="Asia/Shanghai")
    at = [STARTED]

    def record(source, kind, data, call_id) -> None:
        at[0] += timedelta(milliseconds=10)
        store.record_centre_event(source, kind, data, at[0], call_id=call_id)

    keeper = AmiEventKeeper(record, rate=10_000,
                            agent_of_channel=lambda c: PHONES.get(interface_of_channel(c)))
    for event in messages(sent_by_asterisk(read_transcript(capture))):
        if event.event:
            keeper.keep(event)
    store.close()
    ms = int(STARTED.timestamp() * 1000)
    agent, queue, via = agent_leg
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO calls (call_id, flow, started, started_ms, outcome, "
                   "talked_to_agent, agent, duration_ms) VALUES (?,?,?,?,?,?,?,?)",
                   (call, "hotline", STARTED.isoformat(), ms, "hangup", 1, agent, 79_763))
        db.execute("INSERT INTO agent_legs (call_id, seq, agent, via, queue, offered, "
                   "offered_ms, outcome) VALUES (?,?,?,?,?,?,?,?)",
                   (call, 3, agent, via, queue, STARTED.isoformat(), ms + 30_918, "answered"))
        if queue is not None:
            db.execute("INSERT INTO queue_visits (call_id, seq, queue, joined, joined_ms, "
                       "wait_ms, outcome, agent) VALUES (?,?,?,?,?,?,?,?)",
                       (call, 2, queue, STARTED.isoformat(), ms, 2013, "answered", agent))
    db.close()
    return path


def check(path: str):
    db = open_store(path)
    try:
        return check_asterisk(db, path, Filters(), report_zone(db, None))
    finally:
        db.close()


def test_an_agent_a_routing_line_dialled_is_seen_on_both_sides(tmp_path) -> None:
    result = check(store_of_the_capture(str(tmp_path / "calls.db"), ("wang", None, "dial")))
    assert result.differences == ()
    figures = {f.name: (f.asterisk, f.store) for f in result.figures}
    assert figures["agent wang answered"] == (1, 1)
    assert figures["answered"] == (1, 1)


def test_another_agent_in_the_store_differs(tmp_path) -> None:
    result = check(store_of_the_capture(str(tmp_path / "calls.db"), ("li", None, "dial")))
    [difference] = result.differences
    assert difference.call_id == CALL and "agents" in difference.differs
    assert "by wang" in difference.asterisk and "by li" in difference.store


def test_a_queued_answer_counts_once(tmp_path) -> None:
    result = check(store_of_the_capture(str(tmp_path / "calls.db"), ("wang", "support", "queue"),
                                        "ami-sip-zh-queue.txt", QUEUED))
    assert result.differences == ()
    figures = {f.name: (f.asterisk, f.store) for f in result.figures}
    assert figures["agent wang answered"] == (1, 1)
    assert figures["queue ccf-support answered"] == (1, 1)


def test_the_dial_end_is_kept_with_the_agent_who_answered(tmp_path) -> None:
    path = store_of_the_capture(str(tmp_path / "calls.db"), ("wang", None, "dial"))
    db = sqlite3.connect(path)
    rows = db.execute("SELECT data FROM centre_events WHERE kind = 'DialEnd'").fetchall()
    db.close()
    [data] = [json.loads(row[0]) for row in rows]
    assert (data["DestChannel"], data["DialStatus"], data["ccf_agent"]) == (
        "PJSIP/8003-00000007", "ANSWER", "wang")
