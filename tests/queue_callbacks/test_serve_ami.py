"""ccf serve dials in-queue call-backs through Asterisk's AMI (the AMI peer, over a
socket): once a member of the queue is free it Originates the agent's phone with a Dial
of the customer's number, as `ccf callback` does; a busy customer is dialled again after
`[callbacks] retry_after`, and failed after `attempts`. A bad `[callbacks]` is a clear
configuration error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asterisk.centre import deployed_hotline, write_config
from doubles.ami_server import AmiPeer

from ccdsl.runtime.asterisk.config import ConfigError, load_config
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.operations.store import CallStore
from queue_callbacks.world import booked, rows

SECRET = "queue-callbacks-secret"
WAIT_S = 15.0
CUSTOMER = "PJSIP/+8613800000001@trunk"


def serve(tmp_path: Path, until, *, extra: str = "", dial_status: str | None = None):
    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, auth_failure_delay=0.01)
        if dial_status:
            peer.dial_status[CUSTOMER] = dial_status
        await peer.start()
        config = await deployed_hotline(tmp_path, peer.port, SECRET, extra=extra)
        with CallStore(config.store_path) as store:
            booked(store, "c1", queue="service", start=datetime.now(UTC) - timedelta(minutes=2))
        live = LiveCentre(config, port=0, api_port=0)
        try:
            await live.start()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_S
            while not until(live.store):
                assert loop.time() < deadline, rows(live.store)
                await asyncio.sleep(0.05)
            found = rows(live.store)
        finally:
            await live.stop(1.0)
            await peer.stop()
        return peer, found

    return asyncio.run(main())


def status_is(status: str):
    return lambda store: (found := rows(store)) and found[0]["status"] == status


def test_serve_rings_a_free_member_then_dials_the_customer(tmp_path: Path):
    peer, (row,) = serve(tmp_path, status_is("done"))
    (sent,) = [a for a in peer.actions if a.get("Action") == "Originate"]
    # li: a member of `service`, free (none has taken a call yet: first by id)
    assert sent["Channel"] == "PJSIP/8002"
    assert (sent["Application"], sent["Data"]) == ("Dial", f"{CUSTOMER},60")
    assert sent["Variable"] == "CCF_CALLBACK=c1"
    assert (row["agent"], row["outcome"], row["attempts"]) == ("li", "answered", 1)
    # the call-back's own call: the agent's channel Asterisk made
    assert row["callback_id"] in {c.uniqueid for c in peer.channels.values()}


def test_a_busy_customer_is_retried_then_failed(tmp_path: Path):
    extra = '[callbacks]\nattempts = 2\nretry_after = "1s"\n'
    peer, (row,) = serve(tmp_path, status_is("failed"), extra=extra, dial_status="BUSY")
    originates = [a for a in peer.actions if a.get("Action") == "Originate"]
    assert len(originates) == 2
    assert (row["outcome"], row["attempts"]) == ("busy", 2)
    assert "was busy" in row["reason_text"]


def test_a_bad_callbacks_table_is_a_clear_error(tmp_path: Path):
    path = write_config(tmp_path, 5038, extra='[callbacks]\nattempts = "three"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.problems == [
        f"{path}: callbacks.attempts: 'three' is not valid; expected a whole number from 1 "
        "to 100, such as 3"]
