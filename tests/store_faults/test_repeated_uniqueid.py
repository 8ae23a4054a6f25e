"""Asterisk repeats a channel's Uniqueid whenever it runs AGI() again (two
flows in a row, a fallback that runs AGI again after a restart): each run
is a call of its own, `UNIQUEID`, then `UNIQUEID~2`..., the later one
naming the earlier (`previous_call`); no call's record, events or voicemail
is ever replaced, and `ccf report --check-asterisk` still finds the second
call under its Uniqueid."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore
from store_faults.rig import centre, held_flow, live_config, on_disk, place

UID = "1796100000.7"
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_a_channel_running_two_flows_in_a_row_keeps_both_calls(tmp_path: Path,
                                                               store_target: str) -> None:
    config = live_config(centre(tmp_path, {"first": held_flow("first", None),
                                           "second": held_flow("second", None)}, store_target))
    store = config.store_path

    async def serve(scripts):
        live = LiveCentre(config, port=0, api_port=0, use_ami=False)
        _, port = await live.start()
        try:
            for script in scripts:
                await place(port, script, UID)
        finally:
            await live.stop(1.0)

    asyncio.run(serve(["first", "second"]))
    events_of_first = on_disk(store, "SELECT count(*) FROM events WHERE call_id = ?", (UID,))
    # ccf serve restarted, and the same channel's fallback runs AGI again
    asyncio.run(serve(["first"]))

    rows = on_disk(store, "SELECT call_id, flow, previous_call, outcome FROM calls "
                          "ORDER BY started_ms, call_id")
    assert rows == [(UID, "first", None, "hangup"),
                    (f"{UID}~2", "second", UID, "hangup"),
                    (f"{UID}~3", "first", f"{UID}~2", "hangup")]
    assert on_disk(store, "SELECT count(*) FROM events WHERE call_id = ?", (UID,)) == \
        events_of_first
    started = on_disk(store, "SELECT call_id, json_extract(data, '$.flow') FROM events "
                             "WHERE kind = 'call_started' ORDER BY call_id")
    assert started == [(UID, "first"), (f"{UID}~2", "second"), (f"{UID}~3", "first")]


def _voicemail_call(store: CallStore, call_id: str, file: str, at: datetime) -> None:
    seq = iter(range(1, 100))
    for kind, data in (("call_started", {"flow": "line", "caller": "+8613800000001"}),
                       ("voicemail", {"mailbox": "zhang", "file": file, "stored": True}),
                       ("call_ended", {"outcome": "voicemail", "duration_ms": 1000})):
        store.emit(Event(call_id, next(seq), at, kind, data))


def test_two_writers_of_one_call_id_keep_both_calls(store_target: str) -> None:
    # two servers sharing a store (issue 16), or a store that already has the
    # id: the second call is written beside the first, never over it
    path = store_target
    with CallStore(path) as one:
        _voicemail_call(one, UID, "voicemail/first.wav", T0)
    with CallStore(path) as two:
        _voicemail_call(two, UID, "voicemail/second.wav", T0 + timedelta(minutes=5))
    rows = on_disk(path, "SELECT call_id, previous_call, voicemail_file FROM calls "
                         "ORDER BY started_ms")
    assert rows == [(UID, None, "voicemail/first.wav"),
                    (f"{UID}~2", UID, "voicemail/second.wav")]
    assert on_disk(path, "SELECT call_id, count(*) FROM events GROUP BY call_id "
                         "ORDER BY call_id") == [(UID, 3), (f"{UID}~2", 3)]


def test_one_store_given_an_id_again_keeps_both_calls(store_target: str) -> None:
    # a caller of the store that claims no id (a test rig, a simulator) and
    # runs a second call under the first one's id, in the same batch
    path = store_target
    with CallStore(path) as store:
        _voicemail_call(store, UID, "voicemail/first.wav", T0)
        store.emit(Event(UID, 4, T0, "log", {"message": "after the end"}))
        _voicemail_call(store, UID, "voicemail/second.wav", T0 + timedelta(minutes=5))
    assert on_disk(path, "SELECT call_id, previous_call, voicemail_file FROM calls "
                         "ORDER BY started_ms") == [
        (UID, None, "voicemail/first.wav"), (f"{UID}~2", UID, "voicemail/second.wav")]
    assert on_disk(path, "SELECT call_id, count(*) FROM events GROUP BY call_id "
                         "ORDER BY call_id") == [(UID, 4), (f"{UID}~2", 3)]


def test_no_store_module_replaces_a_row() -> None:
    root = Path(__file__).resolve().parents[2] / "runtime" / "operations"
    for module in sorted(root.glob("store*.py")):
        text = module.read_text(encoding="utf-8").upper()
        assert "OR REPLACE" not in text and "REPLACE INTO" not in text, module.name


def test_check_asterisk_finds_a_second_call_under_its_uniqueid(tmp_path: Path) -> None:
    from ccdsl.runtime.operations.reports.model import Filters
    from ccdsl.runtime.operations.reports.query import open_store
    from ccdsl.runtime.operations.reports.reconcile import check_asterisk

    path = tmp_path / "calls.db"
    with CallStore(path, timezone="UTC") as store:
        for call_id, flow, minute in ((UID, "first", 0), (f"{UID}~2", "second", 1)):
            at = T0 + timedelta(minutes=minute)
            store.emit(Event(call_id, 1, at, "call_started", {"flow": flow}))
            store.emit(Event(call_id, 2, at + timedelta(seconds=20), "call_ended",
                             {"outcome": "hangup", "duration_ms": 20000}))
        channel = {"Channel": "PJSIP/caller-1", "Uniqueid": UID, "Linkedid": UID,
                   "CallerIDNum": "+8613800000001"}
        at = T0 - timedelta(seconds=1)
        for kind, context in (("Newchannel", "from-sip"), ("Newstate", "ccf-inbound"),
                              ("Hangup", "ccf-inbound")):
            store.record_centre_event("ami", kind, {"Event": kind, **channel,
                                                    "Context": context}, at, call_id=UID)
            at += timedelta(minutes=1)
    db = open_store(str(path))
    try:
        check = check_asterisk(db, str(path), Filters(), UTC)
    finally:
        db.close()
    assert [d.text() for d in check.differences] == []
    assert check.agrees
    figures = {f.name: (f.asterisk, f.store) for f in check.figures}
    assert figures["calls"] == (1, 1)


def test_sqlite_the_schema_names_the_earlier_call(tmp_path: Path) -> None:
    CallStore(tmp_path / "calls.db").close()
    db = sqlite3.connect(tmp_path / "calls.db")
    columns = {r[1] for r in db.execute("PRAGMA table_info(calls)")}
    db.close()
    assert {"previous_call", "run_id"} <= columns
