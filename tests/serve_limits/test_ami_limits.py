"""AMI limits (issue 11, item 7), against the AMI peer over 127.0.0.1: a flood
of Newchannel without Hangup keeps the channel map under its cap and the
AMI rows stored under the rate cap, what was not stored is counted in a
centre event; the link's reader gives the loop back after each message,
so calls are not starved. The map's and the keeper's policies on their own."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

from asterisk.centre import write_config
from doubles.ami_server import AmiPeer

from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_channels import ChannelMap
from ccdsl.runtime.asterisk.ami_keep import BURST_S, REPORT_INTERVAL_S, AmiEventKeeper
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.service import LiveCentre

from .helpers import until

SECRET = "limits-secret"
QUEUES = ("ccf-service", "ccf-support")


def newchannel(n: int) -> dict[str, str]:
    """A caller's channel that never hangs up (as the issue's peer sent)."""
    return {"Event": "Newchannel", "Channel": f"PJSIP/trunk-{n:08x}", "ChannelState": "4",
            "ChannelStateDesc": "Ring", "CallerIDNum": "+8613800000001",
            "Context": "from-trunk", "Exten": "4008001234", "Priority": "1",
            "Uniqueid": f"1795900000.{n}", "Linkedid": f"1795900000.{n}"}


async def flood(peer: AmiPeer, count: int) -> None:
    for n in range(count):
        peer.emit(newchannel(n))
        if n % 500 == 499:
            await asyncio.sleep(0)  # let the peer's socket write


def test_a_newchannel_flood_stays_under_the_caps(tmp_path: Path) -> None:
    count, cap, rate = 20_000, 500, 50

    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, queues=QUEUES)
        await peer.start()
        config = load_config(write_config(tmp_path, peer.port),
                             environ={"CCF_AMI_SECRET": SECRET})
        config = replace(config, ami=replace(config.ami, max_channels=cap, store_rate=rate))
        live = LiveCentre(config, port=0, api_port=0)
        try:
            await live.start()
            await until(lambda: live.ami.connected, "the AMI link")
            started = time.monotonic()
            await flood(peer, count)
            channels = live.centre.channels
            await until(lambda: channels.evicted + len(channels) >= count, "the flood",
                        timeout=60.0)
            elapsed = time.monotonic() - started
            stored = live.store.query("SELECT count(*) AS n FROM centre_events WHERE "
                                      "source = 'ami' AND kind = 'Newchannel'")[0]["n"]
            limits = live.status()["limits"]
            not_stored = live.ami_events.not_stored
        finally:
            await live.stop(1.0)
            await peer.stop()
        return stored, elapsed, limits, not_stored

    stored, elapsed, limits, not_stored = asyncio.run(main())
    assert limits["ami_channels"] <= cap
    assert limits["ami_channels_evicted"] >= count - cap
    assert stored <= rate * (BURST_S + elapsed) + 1
    assert not_stored >= count - stored - 10 and limits["ami_events_not_stored"] == not_stored
    db = sqlite3.connect(tmp_path / "calls.db")
    rows = [json.loads(d) for (d,) in db.execute(
        "SELECT data FROM centre_events WHERE source = 'serve' AND kind = "
        "'ami_events_not_stored'")]
    db.close()
    assert sum(r["count"] for r in rows) == not_stored and rows[-1]["store_rate"] == rate
    assert rows[-1]["kinds"]["Newchannel"] > 0


def test_the_ami_reader_gives_the_loop_back_under_a_flood() -> None:
    # while a flood is read, other tasks (the calls) run between its events,
    # not only when the socket's buffer runs dry; counted, not timed
    count = 5000

    async def main():
        peer = AmiPeer(users={"ccf": SECRET})
        await peer.start()
        seen = 0

        def on_event(event) -> None:
            nonlocal seen
            seen += 1

        link = AmiLink("127.0.0.1", peer.port, "ccf", SECRET, on_event=on_event,
                       ping_interval=None)
        await link.start()
        turns = 0
        flooding = asyncio.Event()

        async def call() -> None:  # a call's task wanting the loop
            nonlocal turns
            await flooding.wait()
            while seen < count:
                if seen > 0:
                    turns += 1
                await asyncio.sleep(0)

        other = asyncio.create_task(call())
        for n in range(count):
            peer.emit(newchannel(n))
        flooding.set()
        await asyncio.wait_for(other, 30.0)
        await link.close()
        await peer.stop()
        return turns

    turns = asyncio.run(main())
    assert turns >= count // 2, turns  # about one turn per event read


def test_the_channel_map_expires_quiet_channels_and_evicts_past_its_cap(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="ccdsl")
    now = [0.0]
    channels = ChannelMap(cap=3, idle_s=60.0, clock=lambda: now[0])
    channels.track("a", {"Uniqueid": "1"})
    now[0] = 30.0
    channels.track("b", {"Uniqueid": "2"})
    now[0] = 40.0
    channels.track("a", {"ChannelStateDesc": "Up"})  # an event keeps it fresh
    now[0] = 70.0
    channels.track("c", {"Uniqueid": "3"})
    assert list(channels) == ["b", "a", "c"] and channels["a"] == {"Uniqueid": "1",
                                                                   "ChannelStateDesc": "Up"}
    now[0] = 95.0
    channels.track("d", {})  # b: no event for 65 s; a's was 55 s ago
    assert list(channels) == ["a", "c", "d"] and channels.expired == 1
    for n in range(1000):
        channels.track(f"x{n}", {})
    assert len(channels) == 3 and channels.evicted == 1000
    channels.forget("x999")
    assert "x999" not in channels and len(channels) == 2
    lines = [r for r in caplog.records if "max_channels" in r.getMessage()]
    assert len(lines) == 1  # the rest wait for the interval (or the next line)


def test_the_keeper_stores_the_kinds_reports_read_at_its_rate() -> None:
    now = [0.0]
    rows: list = []
    keeper = AmiEventKeeper(lambda *row: rows.append(row), rate=10,
                            is_agent_device=lambda device: device == "PJSIP/8001",
                            clock=lambda: now[0])

    def event(name: str, **headers: str) -> AmiMessage:
        return AmiMessage({"Event": name, **headers})

    assert keeper.keep(event("QueueCallerJoin", Queue="ccf-service"))
    assert keeper.keep(event("QueueMemberPause", Paused="1"))
    assert keeper.keep(event("DeviceStateChange", Device="PJSIP/8001"))
    assert not keeper.keep(event("DeviceStateChange", Device="PJSIP/9999"))
    assert not keeper.keep(event("VarSet", Variable="X"))
    assert not keeper.keep(event("Newexten", Context="ccf-inbound"))
    assert keeper.skipped == 3
    for _ in range(1000):
        keeper.keep(event("Newchannel"))
    assert keeper.stored == 10 * BURST_S and keeper.not_stored == 1003 - 10 * BURST_S
    now[0] = 1.0  # a second later: the rate's worth again
    assert sum(keeper.keep(event("Hangup")) for _ in range(20)) == 10
    assert not [r for r in rows if r[1] == "ami_events_not_stored"]
    now[0] = REPORT_INTERVAL_S + 1
    keeper.report_due()
    reports = [r for r in rows if r[1] == "ami_events_not_stored"]
    assert len(reports) == 1 and reports[0][0] == "serve"
    assert reports[0][2]["count"] == keeper.not_stored
    assert reports[0][2]["kinds"] == {"Newchannel": 953, "Hangup": 10}
