"""`ccf wrapup --store` saves an agent's wrap-up once, as ccf serve does: a second save by the
same agent exits 1 saying so, leaves the values as they were and logs the CRM no second time
(it overwrote them and logged again before). Another agent's save of the call is its own."""

from __future__ import annotations

from pathlib import Path

from ccf_cli import ccf

from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.operations.store import CallStore

from .test_wrapup_cli import Served, simulated_store


def call_log(crm: Path) -> list[dict]:
    db = SqliteCRM(crm, create=False)
    try:
        return [dict(r.fields) for r in db.records("call_log")]
    finally:
        db.close_now()


def test_a_second_save_by_the_same_agent_is_refused(tmp_path: Path) -> None:
    store = simulated_store(tmp_path)
    crm = tmp_path / "crm.db"
    SqliteCRM(crm).close_now()
    first = ccf("wrapup", "sim-1", "--store", str(store), "--crm", str(crm),
                "-f", "reason=order", "-f", "resolved=yes")
    assert first.exit_code == 0, first.output
    again = ccf("wrapup", "sim-1", "--store", str(store), "--crm", str(crm),
                "-f", "reason=changed", "-f", "resolved=no")
    assert again.exit_code == 1, again.output
    assert "error: the wrap-up of call sim-1 by zhang is already saved; a saved wrap-up is " \
           "not changed" in again.output
    assert "Traceback" not in again.output
    assert [e["wrapup"]["reason"] for e in call_log(crm)] == ["order"]
    with CallStore(store) as calls:
        assert calls.call("sim-1")["wrapup"]["values"] == {"reason": "order", "resolved": True}
        assert calls.query("SELECT count(*) AS n FROM centre_events "
                           "WHERE kind = 'wrapup_stored'") == [{"n": 1}]


def test_another_agents_save_of_the_call_is_its_own(tmp_path: Path) -> None:
    store = simulated_store(tmp_path)
    crm = tmp_path / "crm.db"
    SqliteCRM(crm).close_now()
    for agent, reason in (("zhang", "order"), ("li", "refund")):
        result = ccf("wrapup", "sim-1", "--store", str(store), "--crm", str(crm),
                     "--agent", agent, "-f", f"reason={reason}", "-f", "resolved=yes")
        assert result.exit_code == 0, result.output
    assert [(e["agent"], e["wrapup"]["reason"]) for e in call_log(crm)] == \
        [("zhang", "order"), ("li", "refund")]
    with CallStore(store) as calls:
        saved = {w["agent"]: w["values"]["reason"] for w in calls.call("sim-1")["wrapups"]}
    assert saved == {"zhang": "order", "li": "refund"}


def test_to_ccf_serve_each_agent_saves_once_and_the_api_shows_each(tmp_path: Path) -> None:
    """The call li talked on, then wang (not asked for a form, as by a desktop that saves
    anyway): li's second save is refused with exit 1, wang's is taken, GET /calls/ID has
    both."""
    import httpx

    with Served(tmp_path) as served:
        config = served.config(tmp_path)
        runs = [ccf("wrapup", "1795.1", "-f", f"reason={reason}", "-f", "resolved=yes",
                    "--agent", agent, "--config", str(config))
                for agent, reason in (("li", "order"), ("li", "changed"), ("wang", "refund"))]
        shown = httpx.get(f"http://127.0.0.1:{served.port}/calls/1795.1", timeout=10).json()
    logged = served.call_log()
    assert [r.exit_code for r in runs] == [0, 1, 0], [r.output for r in runs]
    assert "error: the wrap-up of call 1795.1 by li is already saved" in runs[1].output
    assert [(e["agent"], e["wrapup"]["reason"]) for e in logged] == \
        [("li", "order"), ("wang", "refund")]
    record = shown.get("call", shown)
    assert [(w["agent"], w["values"]["reason"]) for w in record["wrapups"]] == \
        [("li", "order"), ("wang", "refund")]
    assert record["wrapup"]["agent"] == "wang"
