"""Every agent who talked on a call keeps their own wrap-up: a call transferred from zhang to li
asks both for a form, and both saves are stored and shown (the call's page, `ccf calls show`,
the API's record, the pop's last calls, the CRM's log). The same agent saving twice still gets
the 409; the unsaved forms the store gives back after a restart are each agent's own.

Before, the call kept one wrap-up: the first save won and the other agent's was refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccf_cli import ccf

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.screenpop import recent_calls
from ccdsl.runtime.operations.store_wrapups import waiting, waiting_all
from tests.console.desk_calls import FORM, wrapping_up
from tests.desk_fixes.test_wrapup_once import Crm, wire

CALLER = "+8613800000007"


def store_transferred(console, call_id: str, first: str = "zhang", second: str = "li", *,
                      start: datetime | None = None) -> None:
    """A call `first` answered and transferred to `second`, who talked and hung up: the flow
    asked each of them for the wrap-up form as their talk ended."""
    start = start or datetime.now(UTC) - timedelta(minutes=5)
    names = [f["name"] for f in FORM]
    kinds = [("call_started", {"caller": CALLER, "dialled": "4008001234", "flow": "hotline",
                               "flow_version": "0001"}),
             ("agent_offered", {"agent": first, "via": "queue", "queue": "service"}),
             ("agent_answered", {"agent": first, "ring_ms": 3000}),
             ("conversation_ended", {"agent": first, "talk_ms": 40_000,
                                     "ended_by": "transfer", "wrapup": True}),
             ("wrapup_requested", {"agent": first, "fields": names, "form": FORM}),
             ("agent_offered", {"agent": second, "via": "transfer"}),
             ("agent_answered", {"agent": second, "ring_ms": 2000}),
             ("conversation_ended", {"agent": second, "talk_ms": 70_000, "ended_by": "agent",
                                     "wrapup": True}),
             ("wrapup_requested", {"agent": second, "fields": names, "form": FORM}),
             ("hangup", {"by": "agent"}), ("call_ended", {"outcome": "hangup"})]
    for seq, (kind, data) in enumerate(kinds, 1):
        console.store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))
    console.store.flush()


def save(console, agent: str, call_id: str, reason: str, resolved: str = "yes"):
    web = console.client(agent)
    wrapping_up(console, call_id, agent)
    return console.post(web, f"/desk/wrapup/{call_id}",
                        **{"f.reason": reason, "f.resolved": resolved})


def test_both_agents_of_a_transferred_call_save_their_own_and_both_are_shown(console) -> None:
    crm = Crm()
    wire(console, crm)
    store_transferred(console, "t1")
    first = save(console, "zhang", "t1", "order status")
    second = save(console, "li", "t1", "refund", "no")
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text  # was 409: "already saved"
    record = console.store.call("t1")
    assert record["wrapups"] == [
        {"agent": "zhang", "fields": ["reason", "resolved", "order"],
         "values": {"reason": "order status", "resolved": True}},
        {"agent": "li", "fields": ["reason", "resolved", "order"],
         "values": {"reason": "refund", "resolved": False}}]
    assert record["wrapup"] == record["wrapups"][-1]  # the last agent's, for one-form readers
    # the CRM logs each agent's wrap-up once, naming the agent
    assert [(e["agent"], e["wrapup"]["reason"]) for e in crm.logged] == \
        [("zhang", "order status"), ("li", "refund")]
    # each agent's wrap-up time goes to that agent's own offer (handling time per agent)
    legs = console.store.query("SELECT agent, wrapup_ms FROM agent_legs WHERE call_id = 't1' "
                               "ORDER BY seq")
    assert [r["agent"] for r in legs] == ["zhang", "li"]
    assert all(r["wrapup_ms"] is not None and r["wrapup_ms"] > 0 for r in legs), legs
    # the call's page shows both
    page = console.client("sup").get("/history/t1")
    assert page.status_code == 200
    part = page.text[page.text.index('id="call-wrapup"'):page.text.index("<h2>Recording")]
    assert "saved by <strong>zhang</strong>" in part and "saved by <strong>li</strong>" in part
    assert "order status" in part and "refund" in part
    # each agent may open the form of a call they were asked about, though another came after
    assert console.client("zhang").get("/desk/wrapup/t1").status_code == 200


def test_ccf_calls_show_lists_every_agents_wrap_up(console) -> None:
    wire(console, Crm())
    store_transferred(console, "t1")
    assert save(console, "zhang", "t1", "order status").status_code == 200
    console.store.flush()
    shown = ccf("calls", "show", "t1", "--store", str(console.store.path))
    assert shown.exit_code == 0, shown.output
    wrapup = shown.output[shown.output.index("Wrap-up:"):]
    assert "agent zhang" in wrapup and 'reason = "order status"' in wrapup
    assert "agent li" in wrapup and "(not entered yet)" in wrapup
    as_json = ccf("calls", "show", "t1", "--store", str(console.store.path),
                  "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert '"wrapups"' in as_json.output


def test_the_same_agent_saving_twice_is_refused_and_the_other_is_not(console) -> None:
    crm = Crm()
    wire(console, crm)
    store_transferred(console, "t1")
    assert save(console, "li", "t1", "refund").status_code == 200
    again = save(console, "li", "t1", "changed")
    assert again.status_code == 409, again.text
    assert "by li is already saved" in again.json()["error"]
    assert save(console, "zhang", "t1", "order status").status_code == 200
    zhang_again = save(console, "zhang", "t1", "changed")
    assert zhang_again.status_code == 409
    by_agent = {w["agent"]: w["values"]["reason"] for w in console.store.call("t1")["wrapups"]}
    assert by_agent == {"zhang": "order status", "li": "refund"}
    assert len(crm.logged) == 2


def test_each_agents_unsaved_form_comes_back_from_the_store(console) -> None:
    wire(console, Crm())
    store_transferred(console, "t1")
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    assert waiting(console.store, "zhang", now_ms, limit=50).unsaved == ("t1",)
    assert waiting(console.store, "li", now_ms, limit=50).unsaved == ("t1",)
    assert waiting_all(console.store, now_ms, limit=50) == {"zhang": ("t1",), "li": ("t1",)}
    assert save(console, "zhang", "t1", "order status").status_code == 200
    gone = waiting(console.store, "zhang", now_ms, ("t1",), limit=50)
    assert gone.unsaved == () and gone.done == {"t1"}
    still = waiting(console.store, "li", now_ms, ("t1",), limit=50)
    assert still.unsaved == ("t1",) and still.done == frozenset()
    assert waiting_all(console.store, now_ms, limit=50) == {"li": ("t1",)}


def test_the_pop_lists_every_agents_wrap_up_of_a_last_call(console) -> None:
    wire(console, Crm())
    store_transferred(console, "t1", start=datetime.now(UTC) - timedelta(hours=1))
    assert save(console, "zhang", "t1", "order status").status_code == 200
    assert save(console, "li", "t1", "refund", "no").status_code == 200
    (last,) = recent_calls(console.store.recent_calls, CALLER, "now-1")
    assert last["wrapups"] == [
        {"agent": "zhang", "values": {"reason": "order status", "resolved": True}},
        {"agent": "li", "values": {"reason": "refund", "resolved": False}}]
    assert last["wrapup"] == {"reason": "refund", "resolved": False}
    from ccdsl.runtime.console.desk_pages import pop_view

    view = pop_view({"call": {"id": "now-1"}, "recent_calls": [last]}, UTC, "li")
    assert view["recent"][0]["wrapup"] == ("zhang: reason: order status, resolved: yes; "
                                           "li: reason: refund, resolved: no")


def test_a_save_that_comes_before_its_form_keeps_its_values_and_gets_the_form(console) -> None:
    """Another worker saved li's wrap-up while this one still ran the call (li's form not
    written yet): the form written later fills in what was asked and leaves the values."""
    from ccdsl.runtime.operations.store_wrapups import claim

    start = datetime.now(UTC) - timedelta(minutes=5)
    first = [("call_started", {"caller": CALLER, "flow": "hotline"}),
             ("agent_offered", {"agent": "li", "via": "dial"}),
             ("agent_answered", {"agent": "li", "ring_ms": 1000})]
    for seq, (kind, data) in enumerate(first, 1):
        console.store.emit(Event("r1", seq, start + timedelta(seconds=seq), kind, data))
    console.store.flush()
    assert claim(console.store, "r1", {"reason": "order"}, None, "li")
    later = [("conversation_ended", {"agent": "li", "talk_ms": 9000, "wrapup": True}),
             ("wrapup_requested", {"agent": "li", "fields": ["reason"], "form": FORM[:1]}),
             ("hangup", {"by": "agent"}), ("call_ended", {"outcome": "hangup"})]
    for seq, (kind, data) in enumerate(later, 4):
        console.store.emit(Event("r1", seq, start + timedelta(seconds=seq), kind, data))
    console.store.flush()
    assert console.store.call("r1")["wrapups"] == [
        {"agent": "li", "fields": ["reason"], "values": {"reason": "order"}}]
    assert console.store.query("SELECT seq FROM wrapups WHERE call_id = 'r1'") == [{"seq": 5}]


def test_after_a_restart_both_agents_of_a_transferred_call_get_their_form_back(tmp_path):
    from tests.console.rig import Console
    from tests.desk_fixes.test_wrapup_restart import until

    first = Console(tmp_path)
    try:
        store_transferred(first, "t1")
    finally:
        first.close()  # the server stops before either agent saved
    again = Console(tmp_path)
    try:
        assert until(lambda: again.desk.status("zhang").wrapups == ("t1",)
                     and again.desk.status("li").wrapups == ("t1",))
        crm = Crm()
        wire(again, crm)
        for agent, reason in (("li", "refund"), ("zhang", "order status")):
            web = again.client(agent)
            saved = again.post(web, "/desk/wrapup/t1", **{"f.reason": reason,
                                                          "f.resolved": "yes"})
            assert saved.status_code == 200, saved.text
            assert saved.json()["me"]["wrapups"] == []
        assert [e["agent"] for e in crm.logged] == ["li", "zhang"]
        assert [w["agent"] for w in again.store.call("t1")["wrapups"]] == ["zhang", "li"]
    finally:
        again.close()
