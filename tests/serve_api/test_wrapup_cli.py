"""`ccf wrapup` in-process, both ways: to a running API (ccf serve's web server with
the WrapupDesk `ccf serve` uses, on 127.0.0.1 in a thread of its own), and
with --store straight into a call store `ccf simulate --store` kept (and
its CRM with --crm). Bad options and an absent server give a clear message
and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
import threading
from pathlib import Path

import pytest
from asterisk.centre import WAIT_S
from ccf_cli import ccf
from ports import free_port

from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.wrapup import WrapupDesk

from .helpers import start_api
from .test_wrapup_values import DECL, a_call

ROOT = Path(__file__).resolve().parents[2]
IWS = ROOT / "examples" / "iws"
TOKEN = "cli-api-token"


class Served:
    """An API server with a WrapupDesk over a call store, in a thread."""

    def __init__(self, tmp_path: Path, token: str | None = None, running: bool = False) -> None:
        self.running = running
        self.store = CallStore(tmp_path / "calls.db")
        a_call(self.store, "1795.1")
        self.crm_path = tmp_path / "crm.db"
        self.crm: SqliteCRM | None = None  # made in the server's thread, as SQLite wants
        self.token = token
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = None

    def __enter__(self) -> Served:
        desk = None
        self.thread.start()

        async def wrapup(call_id, body):
            outcome = await desk.submit(call_id, body)
            return outcome.status, outcome.body

        async def start():
            nonlocal desk
            self.crm = SqliteCRM(self.crm_path)
            desk = WrapupDesk(self.store, self.crm, lambda flow, version: {"wrapup": DECL},
                              running=lambda call_id: self.running)
            self.server = await start_api(dict, self.store.call, wrapup, token=self.token)
            return self.server.port

        self.port = asyncio.run_coroutine_threadsafe(start(), self.loop).result(WAIT_S)
        return self

    def config(self, tmp_path: Path) -> Path:
        path = tmp_path / "ccf.toml"
        path.write_text(f"[api]\nport = {self.port}\n", encoding="utf-8")
        return path

    def __exit__(self, *exc) -> None:
        async def stop():
            await self.server.stop()
            self.crm.close_now()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(WAIT_S)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
        self.store.close()

    def call_log(self) -> list[dict]:
        crm = SqliteCRM(self.crm_path, create=False)
        try:
            return [dict(r.fields) for r in crm.records("call_log")]
        finally:
            crm.close_now()


def test_wrapup_goes_to_the_running_server(tmp_path: Path) -> None:
    with Served(tmp_path) as served:
        config = served.config(tmp_path)
        result = ccf("wrapup", "1795.1", "--field", "reason=order", "-f", "resolved=yes",
                     "--agent", "li", "--config", str(config))
        record = served.store.call("1795.1")
    logged = served.call_log()
    assert result.exit_code == 0, result.output
    assert result.output == ('wrap-up of call 1795.1 stored: reason="order", resolved=true\n'
                             "logged in the CRM\n")
    assert record["wrapup"]["values"] == {"reason": "order", "resolved": True}
    assert logged[0]["wrapup"] == {"reason": "order", "resolved": True}


def test_a_wrapup_for_a_running_call_says_it_is_stored_when_the_call_ends(tmp_path) -> None:
    with Served(tmp_path, running=True) as served:
        config = served.config(tmp_path)
        result = ccf("wrapup", "1795.1", "--field", "reason=order", "-f", "resolved=yes",
                     "--config", str(config))
    assert result.exit_code == 0, result.output
    assert result.output == ('wrap-up of call 1795.1 taken, stored when the call ends: '
                             'reason="order", resolved=true\n')


def test_the_server_refusal_is_listed_with_exit_1(tmp_path: Path) -> None:
    with Served(tmp_path) as served:
        config = served.config(tmp_path)
        refused = ccf("wrapup", "1795.1", "-f", "reason=order", "-f", "resolved=maybe",
                      "-f", "mood=ok", "--config", str(config))
        unknown = ccf("wrapup", "nope", "-f", "reason=x", "--config", str(config))
        assert served.store.call("1795.1")["wrapup"]["values"] is None
    assert refused.exit_code == 1
    assert "error: mood: not a wrap-up field of this call" in refused.output
    assert 'error: resolved: expected true or false, got "maybe"' in refused.output
    assert unknown.exit_code == 2 and "error: no call nope in the call store" in unknown.output


def test_the_token_is_sent_from_the_environment(tmp_path: Path) -> None:
    with Served(tmp_path, token=TOKEN) as served:
        config = served.config(tmp_path)
        without = ccf("wrapup", "1795.1", "-f", "reason=x", "-f", "resolved=no",
                      "--config", str(config), env={"CCF_API_TOKEN": ""})
        with_token = ccf("wrapup", "1795.1", "-f", "reason=x", "-f", "resolved=no",
                         "--config", str(config), env={"CCF_API_TOKEN": TOKEN})
    assert without.exit_code == 2
    assert "refused the request: set CCF_API_TOKEN to the API token ccf serve uses" in \
        without.output
    assert with_token.exit_code == 0 and TOKEN not in with_token.output


def test_no_running_server_is_said_plainly(tmp_path: Path, monkeypatch) -> None:

    import ccdsl.runtime.asterisk.api_client as client_module

    monkeypatch.chdir(tmp_path)  # no ccf.toml here: the default address
    # the default port may have a real ccf serve on this machine: the test
    # makes the default a port it knows is closed
    free = free_port()
    real = client_module.api_address
    monkeypatch.setattr(client_module, "api_address", lambda config: real(config) if config
                        else client_module.ApiAddress(port=free))
    result = ccf("wrapup", "1795.1", "-f", "reason=x", env={"CCF_API_TOKEN": ""})
    assert result.exit_code == 4  # UNREACHABLE
    assert f"error: ccf serve is not running at 127.0.0.1:{free}" in result.output
    config = tmp_path / "other.toml"
    config.write_text("[api]\nport = 9\n", encoding="utf-8")
    result = ccf("wrapup", "1795.1", "-f", "reason=x", "--config", str(config))
    assert "error: ccf serve is not running at 127.0.0.1:9" in result.output


def simulated_store(tmp_path: Path, monkeypatch=None) -> Path:
    """A call store with one simulated hotline call where zhang answered
    (with `monkeypatch`: simulated from the repository's root, so the
    events name examples/iws/hotline.ccf relative to it)."""
    store = tmp_path / "calls.db"
    flow = IWS / "hotline.ccf"
    if monkeypatch is not None:
        monkeypatch.chdir(ROOT)
        flow = flow.relative_to(ROOT)
    result = ccf("simulate", str(flow), "--at", "2026-11-30 10:00",
                 "--press", "0", "--caller", "+8613800000001", "--store", str(store))
    assert result.exit_code == 0, result.output
    return store


def test_wrapup_into_a_simulation_store_and_its_crm(tmp_path: Path) -> None:
    store = simulated_store(tmp_path)
    crm = tmp_path / "crm.db"
    SqliteCRM(crm).close_now()
    result = ccf("wrapup", "sim-1", "--store", str(store), "--crm", str(crm),
                 "-f", "reason=order", "-f", "resolved=1", "-f", "order_number=20261128")
    assert result.exit_code == 0, result.output
    assert result.output == ('wrap-up of call sim-1 stored: reason="order", resolved=true, '
                             'order_number="20261128"\nlogged in the CRM\n')
    with CallStore(store) as calls:
        record = calls.call("sim-1")
        rows = calls.query("SELECT source, kind FROM centre_events")
    assert record["wrapup"] == {"agent": "zhang",
                                "fields": ["reason", "resolved", "order_number"],
                                "values": {"reason": "order", "resolved": True,
                                           "order_number": "20261128"}}
    assert rows == [{"source": "ccf", "kind": "wrapup_stored"}]
    db = SqliteCRM(crm, create=False)
    try:
        (logged,) = [dict(r.fields) for r in db.records("call_log")]
    finally:
        db.close_now()
    assert logged["call_id"] == "sim-1" and logged["customer"] == "C1001"
    assert logged["wrapup"]["resolved"] is True


def test_the_fields_types_come_from_the_event_or_from_flow(tmp_path: Path,
                                                            monkeypatch) -> None:
    import json
    import sqlite3

    store = simulated_store(tmp_path, monkeypatch)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the events' relative .ccf paths no longer resolve
    # the wrapup_requested event carries the form's types: no source needed
    found = ccf("wrapup", "sim-1", "--store", str(store), "-f", "reason=x", "-f", "resolved=no")
    assert found.exit_code == 0, found.output
    # a call stored before events carried `form`: the types come from the flow
    db = sqlite3.connect(store)
    with db:
        for call_id, seq, text in db.execute("SELECT call_id, seq, events "
                                             "FROM event_batches").fetchall():
            events = json.loads(text)  # each [seq, at, at_ms, kind, step, file, line, col, data]
            for event in events:
                if event[3] == "wrapup_requested":
                    event[8] = {k: v for k, v in event[8].items() if k != "form"}
            db.execute("UPDATE event_batches SET events = ? WHERE call_id = ? AND seq = ?",
                       (json.dumps(events), call_id, seq))
        db.execute("UPDATE wrapups SET entered = NULL")  # not saved yet: an agent saves once
    db.close()
    lost = ccf("wrapup", "sim-1", "--store", str(store), "-f", "reason=x", "-f", "resolved=no")
    assert lost.exit_code == 1
    assert "are not known" in lost.output and "name it with --flow FILE" in lost.output
    copy = elsewhere / "hotline"
    shutil.copytree(IWS, copy)
    found = ccf("wrapup", "sim-1", "--store", str(store), "--flow", str(copy / "hotline.ccf"),
                "-f", "reason=x", "-f", "resolved=no")
    assert found.exit_code == 0, found.output


@pytest.mark.parametrize(("args", "code", "message"), [
    (["sim-1"], 2, "no --field given"),
    (["sim-1", "-f", "reason"], 2, "--field 'reason': write name=value"),
    (["sim-1", "-f", "a=1", "--crm", "x.db"], 2, "--crm and --flow go with --store"),
    (["sim-1", "-f", "a=1", "--store", "missing.db"], 2, "there is no call store at"),
    (["sim-9", "-f", "a=1", "--store", "{store}"], 2, "no call 'sim-9' in"),
    (["sim-1", "-f", "reason=x", "-f", "resolved=perhaps", "--store", "{store}"], 1,
     'resolved: expected true or false, got "perhaps"'),
    (["sim-1", "-f", "reason=x", "-f", "resolved=no", "--store", "{store}", "--crm",
      "missing.db"], 2, "there is no CRM database at"),
])
def test_bad_options_say_why(tmp_path: Path, args, code: int, message: str) -> None:
    store = simulated_store(tmp_path) if any("{store}" in a for a in args) else None
    args = [a.replace("{store}", str(store)) for a in args]
    result = ccf("wrapup", *args)
    assert result.exit_code == code, result.output
    assert message in result.output


def test_a_call_without_a_wrapup_form_is_refused(tmp_path: Path) -> None:
    flow = tmp_path / "plain.ccf"
    flow.write_text(textwrap.dedent("""\
        flow plain:
          languages en-US

        on start:
          answer
          hangup
        """), encoding="utf-8")
    store = tmp_path / "calls.db"
    assert ccf("simulate", str(flow), "--store", str(store)).exit_code == 0
    result = ccf("wrapup", "sim-1", "--store", str(store), "-f", "reason=x")
    assert result.exit_code == 1 and "has no wrap-up form" in result.output


def test_help_names_every_option() -> None:
    result = ccf("wrapup", "--help")
    assert result.exit_code == 0
    for option in ("--field", "--agent", "--config", "--store", "--crm", "--flow"):
        assert option in result.output
