"""After-hours messages: stored for the account owner (or the fallback
mailbox), each with a `callback_task` in the CRM booked by
stdlib.voicemail, in the simulator and over the FastAGI peer; and how
runtime.operations.voicemail lists them."""

from __future__ import annotations

from calls import world
from calls.world import OWNER_MESSAGE, run_test_call
from ccdsl.runtime.core.channel import WAV_HEADER_BYTES
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.voicemail import list_messages, message

OWNER = "the owner gets the message and a follow-up task"
FALLBACK = "an unknown caller's message goes to the fallback mailbox, with its task"
HUNG_UP = "a caller who hangs up during the greeting leaves no message and no task"
SILENT = "a caller who says nothing leaves no message, is told so, and books no task"


def tasks(crm_file) -> list[dict]:
    crm = SqliteCRM(crm_file)
    try:
        rows = crm.db.conn.execute("SELECT phone, customer, assignee, note, call "
                                   "FROM callback_task").fetchall()
    finally:
        crm.close_now()
    return [dict(zip(("phone", "customer", "assignee", "note", "call"), r, strict=True))
            for r in rows]


def test_the_owners_message_books_a_task_for_the_owner(tmp_path):
    run = run_test_call(OWNER_MESSAGE, OWNER, tmp_path / "w", tmp_path / "calls.db")
    assert run.result.outcome == "voicemail" and run.result.voicemail == "zhang"
    assert tasks(tmp_path / "w" / "crm.db") == [
        {"phone": "+8613800000001", "customer": "C1", "assignee": "zhang",
         "note": "voicemail", "call": run.result.call_id}]
    # the task is booked before the caller hears "saved": a hang-up then keeps it
    kinds = [(e.kind, e.data.get("operation") or e.data.get("prompt")) for e in run.events
             if e.kind in ("crm_query", "prompt_played", "voicemail")]
    assert kinds.index(("crm_query", "create")) < kinds.index(
        ("prompt_played", "stdlib.voicemail.saved"))


def test_an_unknown_callers_message_goes_to_the_fallback_with_its_task(tmp_path):
    run = run_test_call(OWNER_MESSAGE, FALLBACK, tmp_path / "w", tmp_path / "calls.db")
    assert run.result.voicemail == "night-desk"
    assert tasks(tmp_path / "w" / "crm.db") == [
        {"phone": "+8613900000000", "customer": None, "assignee": "night-desk",
         "note": "voicemail", "call": run.result.call_id}]


def test_a_caller_gone_before_the_tone_books_nothing(tmp_path):
    run = run_test_call(OWNER_MESSAGE, HUNG_UP, tmp_path / "w", tmp_path / "calls.db")
    assert run.result.voicemail is None
    assert "callback_task" not in run.created


def test_a_silent_caller_leaves_no_message_hears_so_and_books_nothing(tmp_path):
    store_file = tmp_path / "calls.db"
    run = run_test_call(OWNER_MESSAGE, SILENT, tmp_path / "w", store_file)
    assert run.result.outcome == "hangup" and run.result.voicemail is None
    assert "callback_task" not in run.created
    played = [e.data.get("prompt") for e in run.events if e.kind == "prompt_played"]
    assert "stdlib.voicemail.saved" not in played
    assert "stdlib.voicemail.nothing_recorded" in played
    (left,) = [e for e in run.events if e.kind == "voicemail"]
    assert (left.data["stored"], left.data["file"], left.data["duration_ms"]) == (False, None, 0)
    with CallStore(tmp_path / "calls.db") as store:
        assert list_messages(store) == []
        assert message(store, run.result.call_id) is None


def test_the_messages_are_listed_with_their_mailbox_length_and_no_call_back(tmp_path):
    store_file = tmp_path / "calls.db"
    owner = run_test_call(OWNER_MESSAGE, OWNER, tmp_path / "a", store_file)
    fallback = run_test_call(OWNER_MESSAGE, FALLBACK, tmp_path / "b", store_file)
    run_test_call(OWNER_MESSAGE, HUNG_UP, tmp_path / "c", store_file)
    with CallStore(tmp_path / "calls.db") as store:
        every = list_messages(store)
        zhang = list_messages(store, for_agent="zhang")
        one = message(store, fallback.result.call_id)
    assert {m["call_id"] for m in every} == {owner.result.call_id, fallback.result.call_id}
    assert [m["call_id"] for m in zhang] == [owner.result.call_id]
    (stored,) = [e for e in owner.events if e.kind == "voicemail"]
    assert zhang[0]["duration_ms"] == stored.data["duration_ms"] > 0
    assert (zhang[0]["caller"], zhang[0]["customer_id"], zhang[0]["file"]) == \
        ("+8613800000001", "C1", stored.data["file"])
    assert zhang[0]["called_back"] is None and zhang[0]["callbacks"] == []
    assert one["mailbox"] == "night-desk"


def over_fastagi(tmp_path, *names: str) -> list:
    """OWNER_MESSAGE's test blocks `names` over FastAGI, kept in tmp_path/calls.db."""
    return world.over_fastagi(OWNER_MESSAGE, names, tmp_path, tmp_path / "calls.db")


def test_over_fastagi_the_message_is_stored_and_its_task_booked(tmp_path):
    owner, fallback = over_fastagi(tmp_path, OWNER, FALLBACK)
    assert [t["assignee"] for t in tasks(tmp_path / "call-1" / "crm.db")] == ["zhang"]
    assert [t["assignee"] for t in tasks(tmp_path / "call-2" / "crm.db")] == ["night-desk"]
    with CallStore(tmp_path / "calls.db") as store:
        listed = {m["call_id"]: m for m in list_messages(store)}
    assert listed[owner.result.call_id]["mailbox"] == "zhang"
    assert listed[fallback.result.call_id]["mailbox"] == "night-desk"
    # RECORD FILE wrote the message under the recordings folder, by mailbox
    assert listed[owner.result.call_id]["file"].startswith(
        str(tmp_path / "recordings" / "voicemail" / "zhang"))


def test_over_fastagi_a_silent_caller_leaves_a_header_only_file_and_no_message(tmp_path):
    """As Asterisk 22 does: RECORD FILE, silence, then # writes a 44-byte
    WAV (a header, no audio); stdlib.voicemail books nothing and says so."""
    (silent,) = over_fastagi(tmp_path, SILENT)
    assert silent.result.outcome == "hangup" and silent.result.voicemail is None
    assert "callback_task" not in silent.created
    played = [e.data.get("prompt") for e in silent.events if e.kind == "prompt_played"]
    assert "stdlib.voicemail.saved" not in played
    assert "stdlib.voicemail.nothing_recorded" in played
    (file,) = (tmp_path / "recordings" / "voicemail" / "zhang").iterdir()
    assert file.suffix == ".wav" and file.stat().st_size == WAV_HEADER_BYTES
    with CallStore(tmp_path / "calls.db") as store:
        assert list_messages(store) == []
