"""Wrap-up values checked against the flow's declaration (runtime/operations/wrapup.py):
each type from JSON and from text, the problems reported together, the
form of a call from its events and IR, and the WrapupDesk storing into a
real call store and CRM (at once, or when a running call ends)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.core.values import Duration, TimeOfDay
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.wrapup import (
    WrapupDesk,
    WrapupError,
    WrapupField,
    WrapupForm,
    call_form,
    check,
    form_from_ir,
    parse_field_args,
    typed,
)

DECL = {"fields": [{"name": "reason", "type": "text", "optional": False},
                   {"name": "resolved", "type": "bool", "optional": False},
                   {"name": "order_number", "type": "text", "optional": True}],
        "loc": {"file": "hotline.ccf", "line": 30, "column": 1}}
FORM = form_from_ir(DECL, "li")


@pytest.mark.parametrize(("kind", "given", "expected"), [
    ("text", "order", "order"),
    ("text", "  spaced  ", "  spaced  "),
    ("bool", True, True),
    ("bool", "true", True),
    ("bool", "Yes", True),
    ("bool", "1", True),
    ("bool", "no", False),
    ("bool", "FALSE", False),
    ("bool", "0", False),
    ("number", 3, 3),
    ("number", "42", 42),
    ("number", "2.5", 2.5),
    ("number", " -7 ", -7),
    ("date", "2026-11-30", dt.date(2026, 11, 30)),
    ("datetime", "2026-11-30T14:30+08:00",
     dt.datetime(2026, 11, 30, 14, 30, tzinfo=dt.timezone(timedelta(hours=8)))),
    ("time", "14:30", TimeOfDay(14 * 60 + 30)),
    ("time", "9:05", TimeOfDay(9 * 60 + 5)),
    ("duration", "90s", Duration(90_000)),
    ("duration", "5m", Duration(300_000)),
    ("duration", 1500, Duration(1500)),
    ("list", '["a", "b"]', ("a", "b")),
    ("list", ["a"], ("a",)),
    ("map", '{"a": 1}', {"a": 1}),
    ("any", {"x": [1]}, {"x": [1]}),
    ("order", "O-1001", "O-1001"),
])
def test_values_are_typed_by_the_declared_type(kind: str, given, expected) -> None:
    assert typed(WrapupField("f", kind), given) == expected


@pytest.mark.parametrize(("kind", "given", "message"), [
    ("text", 12345, "expected text, got 12345"),
    ("text", True, "expected text, got true"),
    ("text", "x" * 4001, "at most 4000 characters, got 4001"),
    ("bool", "maybe", 'expected true or false, got "maybe"'),
    ("bool", 2, "expected true or false, got 2"),
    ("number", "twelve", 'expected a number, got "twelve"'),
    ("number", True, "expected a number, got true"),
    ("number", "nan", 'expected a number, got "nan"'),
    ("number", "inf", 'expected a number, got "inf"'),
    ("date", "30/11/2026", 'expected a date such as 2026-11-30, got "30/11/2026"'),
    ("date", 20261130, "expected a date such as 2026-11-30, got 20261130"),
    ("datetime", "tomorrow", "expected a date and time such as 2026-11-30T14:30+08:00"),
    ("time", "25:00", 'expected a time of day such as 14:30, got "25:00"'),
    ("duration", "soon", 'expected a duration such as 90s or 5m, got "soon"'),
    ("duration", -5, "expected a duration such as 90s or 5m, got -5"),
    ("list", "a, b", "expected a list"),
    ("map", "[1]", "expected a map"),
    ("order", True, "expected the id of a order record, got true"),
])
def test_wrong_values_say_what_was_expected(kind: str, given, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        typed(WrapupField("f", kind), given)
    assert message in str(caught.value)


def test_a_datetime_without_a_zone_is_read_in_the_local_zone() -> None:
    value = typed(WrapupField("f", "datetime"), "2026-11-30T14:30")
    assert value.tzinfo is not None and (value.hour, value.minute) == (14, 30)


def test_every_problem_of_a_form_is_reported_at_once() -> None:
    result = check(FORM, {"reason": 5, "resolved": "maybe", "colour": "red"})
    assert not result.ok and result.values == {}
    assert result.problems == [
        "colour: not a wrap-up field of this call (the fields: reason, resolved, order_number)",
        "reason: expected text, got 5",
        'resolved: expected true or false, got "maybe"',
    ]
    missing = check(FORM, {"order_number": "O-1"})
    assert missing.problems == ["reason: required (text), missing",
                                "resolved: required (bool), missing"]


def test_optional_fields_may_be_left_out_or_empty() -> None:
    assert check(FORM, {"reason": "order", "resolved": "yes"}).values == {
        "reason": "order", "resolved": True}
    assert check(FORM, {"reason": "order", "resolved": False, "order_number": ""}).values == {
        "reason": "order", "resolved": False, "order_number": None}
    assert check(FORM, {"reason": "order", "resolved": False, "order_number": None}).ok
    assert check(FORM, {"reason": "  ", "resolved": False}).problems == [
        "reason: required (text), missing"]


def test_field_arguments_parse_as_name_value() -> None:
    assert parse_field_args(["reason=order", "note=a=b", "empty="]) == (
        {"reason": "order", "note": "a=b", "empty": ""}, [])
    values, problems = parse_field_args(["reason", "9x=1", "a=1", "a=2"])
    assert values == {"a": "2"}
    assert problems == ["--field 'reason': write name=value, such as reason=order",
                        "--field '9x=1': write name=value, such as reason=order",
                        "--field a: given twice"]


def test_the_form_comes_from_the_event_names_and_the_ir_types() -> None:
    names_only = [{"kind": "wrapup_requested",
                   "data": {"agent": "li", "fields": ["reason", "resolved"]}}]
    lookups = []

    def ir_of(flow, version):
        lookups.append((flow, version))
        return {"wrapup": DECL}

    form = call_form(names_only, "hotline", "0003", ir_of)
    assert lookups == [("hotline", "0003")]
    assert form == WrapupForm((WrapupField("reason", "text"), WrapupField("resolved", "bool")),
                              "li")
    typed_event = [{"kind": "wrapup_requested",
                    "data": {"agent": "wang", "fields": DECL["fields"]}}]
    assert call_form(typed_event, "hotline", None, None) == form_from_ir(DECL, "wang")
    with pytest.raises(WrapupError, match="no wrap-up form"):
        call_form([{"kind": "call_started", "data": {}}], "hotline", None, ir_of)
    with pytest.raises(WrapupError, match="types of the wrap-up fields of flow hotline"):
        call_form(names_only, "hotline", None, lambda f, v: None)


# ---- the desk, on a real call store and CRM ----------------------------------------------

START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def a_call(store: CallStore, call_id: str, *, end: bool = True) -> None:
    """A call with an agent conversation and a wrap-up form, as the
    interpreter's events give it."""
    kinds = [("call_started", {"caller": "+8613800000001", "dialled": "4008001234",
                               "flow": "hotline", "flow_version": "0001"}),
             ("crm_query", {"operation": "customer", "result": {"kind": "customer",
                                                                "id": "C1001"}}),
             ("agent_offered", {"agent": "li", "via": "dial"}),
             ("agent_answered", {"agent": "li", "ring_ms": 3000}),
             ("conversation_ended", {"agent": "li", "talk_ms": 60000, "ended_by": "agent"}),
             ("wrapup_requested", {"agent": "li", "fields": ["reason", "resolved",
                                                              "order_number"]})]
    if end:
        kinds += [("hangup", {"by": "flow"}), ("call_ended", {"outcome": "hangup"})]
    for seq, (kind, data) in enumerate(kinds, 1):
        store.emit(Event(call_id, seq, START + timedelta(seconds=seq), kind, data))


def desk_run(tmp_path: Path, body, *, running: bool = False):
    async def main():
        store = CallStore(tmp_path / "calls.db")
        crm = SqliteCRM(tmp_path / "crm.db")
        try:
            a_call(store, "1795.1", end=not running)
            now = START + timedelta(seconds=66)
            desk = WrapupDesk(store, crm, lambda flow, version: {"wrapup": DECL},
                              running=lambda call_id: running, now=lambda: now)
            outcome = await desk.submit("1795.1", body)
            before = store.call("1795.1")["wrapup"]
            if running:
                for seq, (kind, data) in enumerate(
                        [("hangup", {"by": "caller"}), ("call_ended", {"outcome": "hangup"})],
                        7):
                    store.emit(Event("1795.1", seq, START + timedelta(seconds=70), kind, data))
                await desk.call_ended("1795.1")
            record = store.call("1795.1")
            legs = store.query("SELECT agent, wrapup_ms FROM agent_legs WHERE call_id='1795.1'")
            events = store.query("SELECT source, kind, data FROM centre_events")
            log = [dict(r.fields) for r in crm.records("call_log")]
            return outcome, before, record, legs, events, log
        finally:
            store.close()
            crm.close_now()
    return asyncio.run(main())


def test_the_desk_stores_a_checked_wrapup_and_logs_it_to_the_crm(tmp_path: Path) -> None:
    outcome, _, record, legs, events, log = desk_run(
        tmp_path, {"agent": "li", "fields": {"reason": "order", "resolved": "yes"}})
    assert outcome.status == 200
    assert outcome.body == {"ok": True, "call_id": "1795.1", "agent": "li",
                            "fields": {"reason": "order", "resolved": True},
                            "stored": "now", "crm": "logged"}
    assert record["wrapup"] == {"agent": "li", "fields": ["reason", "resolved", "order_number"],
                                "values": {"reason": "order", "resolved": True}}
    # from the end of the conversation (second 5) to the wrap-up (second 66)
    assert legs == [{"agent": "li", "wrapup_ms": 61_000}]
    assert [(e["source"], e["kind"]) for e in events] == [("serve", "wrapup_stored")]
    assert json.loads(events[0]["data"])["values"] == {"reason": "order", "resolved": True}
    assert len(log) == 1
    assert log[0]["call_id"] == "1795.1" and log[0]["customer"] == "C1001"
    assert log[0]["agent"] == "li" and log[0]["wrapup"] == {"reason": "order",
                                                            "resolved": True}


def test_a_wrapup_for_a_running_call_is_stored_when_it_ends(tmp_path: Path) -> None:
    outcome, before, record, _, _, log = desk_run(
        tmp_path, {"fields": {"reason": "refund", "resolved": False}}, running=True)
    assert outcome.status == 200 and outcome.body["stored"] == "when the call ends"
    assert before["values"] is None  # not written into a record that is not final yet
    assert record["outcome"] == "hangup"
    assert record["wrapup"]["values"] == {"reason": "refund", "resolved": False}
    assert log[0]["wrapup"] == {"reason": "refund", "resolved": False}


def test_a_wrapup_during_the_conversation_waits_for_the_end_of_the_call(tmp_path: Path) -> None:
    # Found on Asterisk 22: `ccf wrapup` while the agent still talked was refused
    # ("no agent talked to the caller"); the form is the running flow's.
    async def main():
        store = CallStore(tmp_path / "calls.db")
        try:
            talking = [("call_started", {"caller": "+8613800000001", "dialled": "4008001234",
                                         "flow": "hotline", "flow_version": "0001"}),
                       ("agent_offered", {"agent": "li", "via": "queue"}),
                       ("agent_answered", {"agent": "li", "ring_ms": 3000})]
            for seq, (kind, data) in enumerate(talking, 1):
                store.emit(Event("1795.2", seq, START + timedelta(seconds=seq), kind, data))
            desk = WrapupDesk(store, None, lambda flow, version: {"wrapup": DECL},
                              running=lambda call_id: True,
                              now=lambda: START + timedelta(seconds=20))
            outcome = await desk.submit("1795.2", {"fields": {"reason": "order",
                                                               "resolved": True}})
            bad = await desk.submit("1795.2", {"fields": {"reason": "order"}})
            ending = [("conversation_ended", {"agent": "li", "talk_ms": 30000,
                                              "ended_by": "agent"}),
                      ("wrapup_requested", {"agent": "li", "fields": ["reason", "resolved",
                                                                      "order_number"]}),
                      ("hangup", {"by": "flow"}), ("call_ended", {"outcome": "hangup"})]
            for seq, (kind, data) in enumerate(ending, 4):
                store.emit(Event("1795.2", seq, START + timedelta(seconds=30 + seq), kind,
                                 data))
            await desk.call_ended("1795.2")
            return outcome, bad, store.call("1795.2")
        finally:
            store.close()

    outcome, bad, record = asyncio.run(main())
    assert outcome.status == 200 and outcome.body["stored"] == "when the call ends"
    assert bad.status == 400 and bad.body["problems"] == ["resolved: required (bool), missing"]
    assert record["wrapup"]["agent"] == "li"
    assert record["wrapup"]["values"] == {"reason": "order", "resolved": True}


@pytest.mark.parametrize(("body", "status", "problems"), [
    ({"fields": {"reason": "order", "resolved": "maybe"}}, 400,
     ['resolved: expected true or false, got "maybe"']),
    ({"fields": {"resolved": True, "mood": "good"}}, 400,
     ["mood: not a wrap-up field of this call (the fields: reason, resolved, order_number)",
      "reason: required (text), missing"]),
    ([1, 2], 400, ['the body must be a JSON object: {"agent": ..., "fields": {...}}']),
    ({"agent": 7, "fields": "x", "extra": 1}, 400,
     ["extra: not a wrap-up key (the keys: agent, fields)",
      "agent: expected an agent id, got 7",
      'fields: expected an object of the wrap-up values, such as {"reason": "order"}']),
])
def test_the_desk_refuses_bad_wrapups_and_stores_nothing(tmp_path: Path, body, status,
                                                         problems) -> None:
    outcome, _, record, _, events, log = desk_run(tmp_path, body)
    assert outcome.status == status
    assert outcome.body == {"ok": False, "problems": problems}
    assert record["wrapup"]["values"] is None and events == [] and log == []


def test_the_desk_says_404_for_an_unknown_call(tmp_path: Path) -> None:
    async def main():
        with CallStore(tmp_path / "calls.db") as store:
            return await WrapupDesk(store, None, None).submit("nope", {"fields": {}})

    outcome = asyncio.run(main())
    assert outcome.status == 404 and outcome.body == {
        "ok": False, "error": "no call nope in the call store"}
