"""`ccf report --check-asterisk`: the AMI events `ccf serve` kept against the
call store's records (runtime/operations/reports/reconcile.py).

The store is filled as `ccf serve` fills it: the call records (rows of
calls, queue_visits, agent_legs, node_visits) and, through
CallStore.record_centre_event, the AMI events with the headers Asterisk 22
sends (tests/asterisk/captures/ami-session.txt for the channel events,
app_queue's documented names for the queue events)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ccf_cli import ccf

from ccdsl.runtime.operations.centre_time import report_zone
from ccdsl.runtime.operations.reports.model import Filters
from ccdsl.runtime.operations.reports.query import open_store
from ccdsl.runtime.operations.reports.reconcile import check_asterisk
from ccdsl.runtime.operations.store import CallStore
from reports import backends

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


def _channel(uid: str, context: str, *, linked: str | None = None, exten: str = "8000",
             priority: str = "1", state: str = "6") -> dict[str, str]:
    """A channel event's headers, as in ami-session.txt."""
    return {"Channel": f"PJSIP/caller-{uid}", "ChannelState": state,
            "ChannelStateDesc": "Up" if state == "6" else "Ring",
            "CallerIDNum": "+8613800000001", "CallerIDName": "Alice",
            "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>",
            "Language": "en", "AccountCode": "", "Context": context, "Exten": exten,
            "Priority": priority, "Uniqueid": uid, "Linkedid": linked or uid}


class Centre:
    """A call store and the AMI events of the same calls."""

    def __init__(self, path) -> None:
        self.path = str(path)
        self.store = CallStore(self.path, timezone="Asia/Shanghai")
        self.rows: list[tuple[str, tuple]] = []
        self.at = START.astimezone(UTC)

    def ami(self, kind: str, data: dict[str, str], call_id: str | None = None) -> None:
        self.at += timedelta(seconds=1)
        call = call_id or data.get("Linkedid") or data.get("Uniqueid")
        self.store.record_centre_event("ami", kind, {"Event": kind, **data}, self.at,
                                       call_id=call)

    def call(self, call_id: str, minute: int, outcome: str | None, *, talked: int = 0,
             agent: str | None = None) -> None:
        started = START + timedelta(minutes=minute)
        ms = int(started.timestamp() * 1000)
        self.rows.append(("INSERT INTO calls (call_id, flow, started, started_ms, outcome, "
                          "talked_to_agent, agent, duration_ms) VALUES (?,?,?,?,?,?,?,?)",
                          (call_id, "hotline", started.isoformat(), ms, outcome, talked, agent,
                           60_000)))
        self.rows.append(("INSERT INTO node_visits (call_id, seq, node, node_kind, entered, "
                          "entered_ms, dropped) VALUES (?,?,?,?,?,?,?)",
                          (call_id, 1, "main_menu", "step", started.isoformat(), ms,
                           int(outcome == "hangup" and not talked))))
        self.started = (started, ms)

    def visit(self, call_id: str, queue: str, outcome: str, agent: str | None = None) -> None:
        started, ms = self.started
        self.rows.append(("INSERT INTO queue_visits (call_id, seq, queue, joined, joined_ms, "
                          "wait_ms, outcome, agent) VALUES (?,?,?,?,?,?,?,?)",
                          (call_id, 2, queue, started.isoformat(), ms, 5000, outcome, agent)))
        if agent is not None:
            self.rows.append(("INSERT INTO agent_legs (call_id, seq, agent, via, queue, "
                              "offered, offered_ms, outcome) VALUES (?,?,?,?,?,?,?,?)",
                              (call_id, 3, agent, "queue", queue, started.isoformat(), ms,
                               "answered")))

    def close(self) -> str:
        self.store.close()
        db = sqlite3.connect(self.path)
        with db:
            for sql, args in self.rows:
                db.execute(sql, args)
        db.close()
        return self.path


@pytest.fixture(autouse=True, params=backends.BACKENDS)
def backend(request, monkeypatch) -> str:
    """Each test once per back end: on PostgreSQL, the store a Centre closes is checked from
    its copy there."""
    if request.param == "postgresql":
        close = Centre.close
        monkeypatch.setattr(Centre, "close", lambda self: backends.copied(request, close(self)))
    return request.param


def _arrive(c: Centre, uid: str, minute: int = 0) -> None:
    c.at = (START + timedelta(minutes=minute)).astimezone(UTC)
    c.ami("Newchannel", _channel(uid, "from-sip", state="4"))
    c.ami("Newstate", _channel(uid, "ccf-inbound", priority="2"))


def _queue(c: Centre, uid: str, queue: str = "ccf-service") -> None:
    c.ami("QueueCallerJoin", {**_channel(uid, "ccf-inbound", priority="2"), "Queue": queue,
                              "Position": "1", "Count": "1"})


def _answered(c: Centre, uid: str, agent: str, queue: str = "ccf-service") -> None:
    c.ami("AgentCalled", {**_channel(uid, "ccf-inbound"), "Queue": queue,
                          "MemberName": agent, "Interface": f"PJSIP/{agent}"})
    c.ami("AgentConnect", {**_channel(uid, "ccf-inbound"), "Queue": queue,
                           "MemberName": agent, "Interface": f"PJSIP/{agent}",
                           "HoldTime": "5", "RingTime": "2"})
    c.ami("QueueCallerLeave", {**_channel(uid, "ccf-inbound"), "Queue": queue,
                               "Position": "1", "Count": "0"})
    c.ami("AgentComplete", {**_channel(uid, "ccf-inbound"), "Queue": queue,
                            "MemberName": agent, "Interface": f"PJSIP/{agent}",
                            "HoldTime": "5", "TalkTime": "40", "Reason": "caller"})


def _hangup(c: Centre, uid: str, context: str = "ccf-inbound") -> None:
    c.ami("Hangup", {**_channel(uid, context, priority="3"), "Cause": "16",
                     "Cause-txt": "Normal Clearing"})


def fill(path, *, store_abandons_answered: bool = False, missing: bool = False) -> str:
    """Six calls: answered in queue, abandoned in queue, voicemail, dropped in
    the menu, handed back at shutdown (to the fallback context), transferred.
    `store_abandons_answered`: the store says the answered call was
    abandoned; `missing`: the store lacks the dropped call."""
    c = Centre(path)
    # 1795.10: answered in ccf-service by li
    if store_abandons_answered:
        c.call("1795.10", 0, "abandoned")
        c.visit("1795.10", "service", "hangup")
    else:
        c.call("1795.10", 0, "hangup", talked=1, agent="li")
        c.visit("1795.10", "service", "answered", "li")
    _arrive(c, "1795.10")
    _queue(c, "1795.10")
    _answered(c, "1795.10", "li")
    _hangup(c, "1795.10")
    # 1795.12: abandoned in ccf-service
    c.call("1795.12", 1, "abandoned")
    c.visit("1795.12", "service", "hangup")
    _arrive(c, "1795.12", 1)
    _queue(c, "1795.12")
    c.ami("QueueCallerAbandon", {**_channel("1795.12", "ccf-inbound"), "Queue": "ccf-service",
                                 "Position": "1", "OriginalPosition": "1", "HoldTime": "9"})
    _hangup(c, "1795.12")
    # 1795.14: voicemail (RECORD FILE over FastAGI: no AMI event ccf serve keeps)
    c.call("1795.14", 2, "voicemail")
    _arrive(c, "1795.14", 2)
    _hangup(c, "1795.14")
    # 1795.16: hung up in main_menu
    if not missing:
        c.call("1795.16", 3, "hangup")
    _arrive(c, "1795.16", 3)
    _hangup(c, "1795.16")
    # 1795.18: handed back at shutdown, the dialplan's fallback goes on
    c.call("1795.18", 4, "handed_back")
    _arrive(c, "1795.18", 4)
    c.ami("Newstate", _channel("1795.18", "main-ivr"))
    _hangup(c, "1795.18", "main-ivr")
    # 1795.20: transferred to an extension
    c.call("1795.20", 5, "transfer")
    _arrive(c, "1795.20", 5)
    _hangup(c, "1795.20", "ccf-transfer")
    # not a call of the flow: an agent's own channel, no ccf-inbound
    c.ami("Newchannel", _channel("1795.90", "agents"))
    _hangup(c, "1795.90", "agents")
    return c.close()


def _check(path, filters: Filters = Filters()):
    db = open_store(path)
    try:
        return check_asterisk(db, path, filters, report_zone(db, None))
    finally:
        db.close()


def _figures(check) -> dict[str, tuple]:
    return {f.name: (f.asterisk, f.store) for f in check.figures}


def test_both_sides_agree(tmp_path):
    check = _check(fill(tmp_path / "calls.db"))
    figures = _figures(check)
    assert figures["calls"] == (6, 6)
    assert figures["answered"] == (1, 1)
    assert figures["abandoned"] == (1, 1)
    assert figures["voicemail"] == (None, 1)  # the AMI events kept do not show it
    assert figures["transferred"] == (2, 2)
    assert figures["ended_in_flow_or_voicemail"] == (2, 2)
    assert figures["in_progress"] == (0, 0)
    assert figures["queue ccf-service offered"] == (2, 2)
    assert figures["queue ccf-service answered"] == (1, 1)
    assert figures["queue ccf-service abandoned"] == (1, 1)
    assert figures["agent li answered"] == (1, 1)
    assert check.differences == ()
    assert check.agrees


def test_the_store_says_abandoned_where_asterisk_saw_an_answer(tmp_path):
    check = _check(fill(tmp_path / "calls.db", store_abandons_answered=True))
    figures = _figures(check)
    assert figures["answered"] == (1, 0)
    assert figures["abandoned"] == (1, 2)
    assert figures["queue ccf-service answered"] == (1, 0)
    assert not check.agrees
    assert [d.call_id for d in check.differences] == ["1795.10"]
    diff = check.differences[0]
    assert diff.differs == ("answered", "abandoned")
    assert diff.text() == (
        "call 1795.10: Asterisk: answered in queue ccf-service by li, the caller left after "
        "AgentComplete (reason caller); call store: abandoned queue ccf-service, "
        "outcome abandoned")


def test_a_call_the_store_has_no_record_of(tmp_path):
    check = _check(fill(tmp_path / "calls.db", missing=True))
    assert _figures(check)["calls"] == (6, 5)
    assert [(d.call_id, d.differs, d.store) for d in check.differences] == [
        ("1795.16", ("present",), "no record")]


def test_the_range_and_the_queue_filter(tmp_path):
    path = fill(tmp_path / "calls.db")
    # the first two calls: 10:00 and 10:01, Shanghai time
    check = _check(path, Filters("2026-11-30T10:00:00", "2026-11-30T10:02:00"))
    assert _figures(check)["calls"] == (2, 2)
    assert check.agrees
    check = _check(path, Filters(queue="service"))
    assert _figures(check)["calls"] == (2, 2)
    assert check.agrees
    assert _figures(_check(path, Filters("2026-12-01T00:00:00", None)))["calls"] == (0, 0)


def test_the_fastagi_channel_is_not_the_first_of_its_call(tmp_path):
    """With Local channels the AGI runs on ;2: the store's call_id (its
    Uniqueid) is not the Linkedid the events are grouped by."""
    c = Centre(tmp_path / "calls.db")
    c.call("1795.31", 0, "hangup")
    c.ami("Newchannel", _channel("1795.30", "ivr", state="4"))
    c.ami("Newchannel", _channel("1795.31", "ccf-inbound", linked="1795.30", state="4"))
    _hangup(c, "1795.30", "ivr")
    c.ami("Hangup", {**_channel("1795.31", "ccf-inbound", linked="1795.30"), "Cause": "16"})
    check = _check(c.close())
    assert _figures(check)["calls"] == (1, 1)
    assert check.agrees


# ---- the command -------------------------------------------------------------------------


def test_cli_agree_exits_0(tmp_path):
    path = fill(tmp_path / "calls.db")
    result = ccf("report", "--store", path, "--check-asterisk")
    assert result.exit_code == 0, result.output
    assert "Asterisk" in result.output and "call store" in result.output
    assert "agree" in result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("transferred"))
    assert line.split()[1:3] == ["2", "2"]


def test_cli_differ_exits_1_naming_the_call(tmp_path):
    path = fill(tmp_path / "calls.db", store_abandons_answered=True)
    result = ccf("report", "--store", path, "--check-asterisk")
    assert result.exit_code == 1, result.output
    assert ("call 1795.10: Asterisk: answered in queue ccf-service by li" in result.output)
    result = ccf("report", "--store", path, "--check-asterisk", "-f", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["agree"] is False
    assert [d["call_id"] for d in data["differences"]] == ["1795.10"]
    answered = next(f for f in data["figures"] if f["figure"] == "answered")
    assert answered == {"figure": "answered", "asterisk": 1, "store": 0, "agree": False}


def test_cli_without_ami_events(tmp_path):
    c = Centre(tmp_path / "calls.db")
    c.call("sim-1", 0, "hangup")
    path = c.close()
    result = ccf("report", "--store", path, "--check-asterisk")
    assert result.exit_code == 2
    assert "no AMI events" in result.output


@pytest.mark.parametrize("extra", [["--interval", "realtime"], ["-f", "html"]])
def test_cli_refuses_what_it_cannot_check(tmp_path, extra):
    path = fill(tmp_path / "calls.db")
    result = ccf("report", "--store", path, "--check-asterisk", *extra)
    assert result.exit_code == 2
    assert "--check-asterisk" in result.output


def test_a_hand_back_the_store_calls_a_drop(tmp_path):
    """The case seen on Asterisk 22: a call handed back at shutdown went on
    in the dialplan; a store that records it as a hang-up in the flow differs."""
    c = Centre(tmp_path / "calls.db")
    c.call("1795.40", 0, "hangup")
    _arrive(c, "1795.40")
    c.ami("Newstate", _channel("1795.40", "main-ivr"))
    _hangup(c, "1795.40", "main-ivr")
    check = _check(c.close())
    assert _figures(check)["transferred"] == (1, 0)
    assert [(d.call_id, d.differs) for d in check.differences] == [
        ("1795.40", ("transferred",))]
    assert check.differences[0].text() == (
        "call 1795.40: Asterisk: transferred; call store: ended in the flow, no queue, "
        "no agent, outcome hangup")


def test_cli_csv(tmp_path):
    path = fill(tmp_path / "calls.db", store_abandons_answered=True)
    result = ccf("report", "--store", path, "--check-asterisk", "-f", "csv")
    assert result.exit_code == 1
    figures, differences = result.output.strip().split("\n\n")
    assert figures.splitlines()[:3] == ["# figures", "figure,asterisk,store,agree",
                                        "calls,6,6,1"]
    assert differences.splitlines()[2].startswith("1795.10,answered abandoned,")


def test_a_call_still_running_is_compared_once_it_ends(tmp_path):
    # Found on Asterisk 22: while the caller talked to the agent, Asterisk had the
    # queue answer but the store writes queue visits at the end of the call
    c = Centre(tmp_path / "calls.db")
    _arrive(c, "1796.20")
    _queue(c, "1796.20")
    _answered(c, "1796.20", "wang")
    c.call("1796.20", 0, None)  # no outcome yet: in progress
    check = _check(c.close())
    figures = _figures(check)
    assert figures["calls"] == (1, 1) and figures["in_progress"] == (1, 1)
    assert "queue ccf-service answered" not in figures
    assert check.differences == () and check.agrees
