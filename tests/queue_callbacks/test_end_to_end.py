"""An in-queue call-back from the key to the dial, through the real pieces of `ccf serve`
(issue 13): the FastAGI peer's caller waits in the queue of the peer's app_queue, presses
2 after the offer and hangs up; the call store gets one pending `queue_callbacks` row
with the caller's place; once a member of the queue is free ccf serve's dialler rings
the agent, then the customer (AMI Originate at the AMI peer); the outcome is stored,
linked to the call; `ccf report` and `ccf calls callbacks` show it."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

from asterisk.centre import compiled
from asterisk.test_serve import serving_a_queue_line, until
from ccf_cli import ccf
from queue_line import call_the_line

from ccdsl.runtime.asterisk.dialplan import EXTENSIONS_FILE, render_dialplan
from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.sim.caller import HangUp, Press
from ccdsl.runtime.sim.scenario import simulation
from ccdsl.runtime.testing.peer.app_queue import Phone
from queue_callbacks.world import rows

CALLER = "+8613800000001"
CALL_ID = "1796549926.41"
FLOW = """\
flow line:
  languages en-US

prompt offer:
  en-US tts "Press 2 to be called back, keeping your place."

prompt booked:
  en-US tts "We will call you back."

queue service:
  skills [general]
  max_wait 10m
  messages [offer] every 60s
  press 2:
    callback reason "asked in the queue"
    play booked
    hangup

on start:
  answer
  queue service
  hangup
"""
# the IWS agents (agents.toml) as the peer's phones: each answers after 2 s
AGENTS = (AgentSpec("zhang", {"general": 1}, extension="8001"),
          AgentSpec("li", {"general": 1}, extension="8002"),
          AgentSpec("wang", {"general": 1}, extension="8003"))
DEVICES = {"zhang": "PJSIP/8001", "li": "PJSIP/8002", "wang": "PJSIP/8003"}
WAIT_S = 10.0  # the dialler looks once a second


def key_contexts(config, ir: dict) -> dict[str, frozenset[str]]:
    """The contexts of extensions_ccf.conf as `ccf deploy` writes it, with
    their extensions: app_queue's `context` lets a key out when it is one."""
    text = render_dialplan(config, SimpleNamespace(flows={"line": ir},
                                                   numbers=config.numbers))[EXTENSIONS_FILE]
    contexts: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("[") and "]" in line:
            current = contexts.setdefault(line[1:line.index("]")], set())
        elif current is not None and line.startswith("exten"):
            current.add(line.split("=>", 1)[1].strip().split(",", 1)[0])
    return {name: frozenset(extens) for name, extens in contexts.items()}


def test_a_key_pressed_in_the_queue_is_called_back_by_ccf_serve(tmp_path: Path) -> None:
    (tmp_path / "line.ccf").write_text(FLOW, encoding="utf-8")
    ir = compiled(tmp_path / "line.ccf")

    async def main():
        phones = {spec.id: Phone(answer_after_ms=2_000) for spec in AGENTS}
        async with serving_a_queue_line(tmp_path, ir, phones) as (live, peer, port):
            peer.app_queue.contexts.update(key_contexts(live.config, ir))
            for device in DEVICES.values():  # every member on a call: the caller waits
                peer.set_device_state(device, "INUSE")
            await until(lambda: all(live.centre.agent(a).state.value == "busy"
                                    for a in DEVICES), "the members busy")
            scenario = simulation(ir, caller=CALLER, at="2026-12-07 10:00 UTC", agents=AGENTS,
                                  actions=(Press("2", after_ms=65_000), HangUp(after_ms=1_000)))
            report, _ = await call_the_line(port, ir, scenario, peer.app_queue,
                                            call_id=CALL_ID, channel="PJSIP/caller-00000001")
            await until(lambda: live.store.call(CALL_ID) is not None
                        and live.store.call(CALL_ID)["outcome"] is not None, "the call's record")
            pending = rows(live.store)
            listed = ccf("calls", "callbacks", "--store", str(live.config.store_path),
                         "--format", "json")
            events = live.store.query("SELECT kind, at, data FROM events WHERE call_id = ? "
                                      "ORDER BY seq", (CALL_ID,))
            assert not [a for a in peer.actions if a.get("Action") == "Originate"]
            peer.set_device_state(DEVICES["li"], "NOT_INUSE")  # li is free: the call-back
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_S
            while not ((found := rows(live.store)) and found[0]["status"] == "done"):
                assert loop.time() < deadline, found
                await asyncio.sleep(0.05)
            live.store.flush()
            return report, pending, listed, events, found, list(peer.actions), live.config

    report, pending, listed, events, (row,), actions, config = asyncio.run(main())
    assert report.closed_by == "server"
    kinds = [e["kind"] for e in events]
    assert "queue_key" in kinds and "callback_requested" in kinds, kinds
    requested = json.loads(next(e["data"] for e in events if e["kind"] == "callback_requested"))
    joined = next(e for e in events if e["kind"] == "queue_joined")
    # (1) one pending row, the caller's place in line: when they joined, their priority
    (first,) = pending
    assert (first["call_id"], first["queue"], first["number"], first["status"]) == \
        (CALL_ID, "service", CALLER, "pending")
    # the moment the queue_joined event says (what the dialler's line compares)
    assert first["priority"] == 0 and first["joined"] == requested["joined_at"] == joined["at"]
    assert first["joined_ms"] == int(datetime.fromisoformat(joined["at"]).timestamp() * 1000)
    # `ccf calls callbacks` lists it while it is pending
    assert listed.exit_code == 0, listed.output
    (shown,) = json.loads(listed.stdout)
    assert (shown["call_id"], shown["status"]) == (CALL_ID, "pending")
    # (2) li rung first, then the customer, by one Originate; stored, linked to the call
    (sent,) = [a for a in actions if a.get("Action") == "Originate"]
    assert sent["Channel"] == DEVICES["li"]
    assert sent["Data"].startswith(f"PJSIP/{CALLER}@")
    assert sent["Variable"] == f"CCF_CALLBACK={CALL_ID}"
    assert (row["call_id"], row["agent"], row["outcome"], row["attempts"]) == \
        (CALL_ID, "li", "answered", 1)
    assert row["callback_id"]
    # (3) the reports: the key among the in-queue choices, the call-back done
    store = str(config.store_path)
    choices = ccf("report", "--store", store, "--section", "queue_choices", "--format", "json")
    assert choices.exit_code == 0, choices.output
    callbacks = ccf("report", "--store", store, "--section", "callbacks", "--format", "json")
    assert callbacks.exit_code == 0, callbacks.output
    (choice,) = json.loads(choices.stdout)["sections"]["queue_choices"]
    assert (choice["queue"], choice["key"], choice["times"]) == ("service", "2", 1)
    # the wait as ccf serve's clock measured it (the peer's queue ran on virtual time):
    # the queue node's length, from the join's and the leaving's times, is that one
    # figure however late the line's replies came (it was 2 ms off on a loaded machine)
    assert choice["avg_waited_ms"] == requested["waited_ms"]
    (done,) = json.loads(callbacks.stdout)["sections"]["callbacks"]
    assert (done["queue"], done["requested"], done["completed"]) == ("service", 1, 1)

