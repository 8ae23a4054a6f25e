"""AmiLink against the AMI peer over real sockets: login, refusal, drops
and reconnects with backoff, fail-fast while down, timeouts, Command."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from doubles.ami_server import AmiPeer

from asterisk.centre import WAIT_S, until
from ccdsl.runtime.asterisk import ami as ami_module
from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_protocol import AmiError


class Delays:
    """The ami module's asyncio, keeping the delay of each sleep longer than a yield (the
    reconnect backoff's): what the link chose to wait, read without a clock, which a loaded
    machine stretches."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __getattr__(self, name: str):
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result=None):
        if delay > 0:
            self.asked.append(delay)
        return await asyncio.sleep(delay, result)


@pytest.fixture
def delays(monkeypatch) -> Delays:
    kept = Delays()
    monkeypatch.setattr(ami_module, "asyncio", kept)
    return kept


async def with_peer(body, *, link_kwargs=None, **peer_kwargs):
    peer = AmiPeer(users={"ccf": "s3cret-value"}, auth_failure_delay=0.05, **peer_kwargs)
    port = await peer.start()
    kwargs = {"ping_interval": None, "timeout": WAIT_S, **(link_kwargs or {})}
    secret = kwargs.pop("secret", "s3cret-value")
    link = AmiLink("127.0.0.1", port, "ccf", secret, **kwargs)
    try:
        return await body(peer, link)
    finally:
        await link.close()
        await peer.stop()


def test_login_ok_then_actions_and_command_output():
    async def body(peer, link):
        await link.start()
        pong = await link.action("Ping")
        version = await link.command("core show version")
        channels = await link.command("core show channels")
        with pytest.raises(AmiError) as info:
            await link.command("no such cli command")
        return link.connected, link.version, pong, version, channels, str(info.value)

    connected, version, pong, lines, channels, error = asyncio.run(with_peer(body))
    assert connected and version == "11.0.0"
    assert pong.ok and pong.get("Ping") == "Pong" and pong.action_id == "ccf-2"
    assert lines == ["Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on "
                     "2026-11-26 00:19:46 UTC"]
    assert channels[1:] == ["0 active channels", "0 active calls", "0 calls processed"]
    assert "No such command 'no such cli command'" in error


def test_login_refused_is_an_error_without_the_secret(caplog):
    async def body(peer, link):
        with pytest.raises(AmiError) as info:
            await link.start()
        return str(info.value), link.connected

    with caplog.at_level(logging.DEBUG):
        text, connected = asyncio.run(with_peer(body, link_kwargs={"secret": "wrong-pass"}))
    assert text == "AMI login refused for user ccf" and not connected
    assert "wrong-pass" not in caplog.text and "wrong-pass" not in text


def test_unreachable_is_a_clear_error():
    async def run():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        link = AmiLink("127.0.0.1", port, "ccf", "x", timeout=WAIT_S)
        with pytest.raises(AmiError) as info:
            await link.start()
        return str(info.value)

    assert asyncio.run(run()).startswith("cannot reach AMI at 127.0.0.1:")


def test_not_an_ami_server_is_refused():
    async def run():
        async def serve(reader, writer):
            writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
            await writer.drain()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        link = AmiLink("127.0.0.1", port, "ccf", "x", timeout=WAIT_S)
        try:
            with pytest.raises(AmiError) as info:
                await link.start()
            return str(info.value)
        finally:
            server.close()

    assert "is not an Asterisk manager port" in asyncio.run(run())


def test_reconnect_with_backoff_after_drop_and_on_connect_again(delays):
    connects: list[str] = []

    async def body(peer, link):
        link.on_connect = lambda lk: connects.append("connected")
        await link.start()
        assert len(connects) == 1
        peer.drop()
        await until(lambda: not link.connected, "the link to notice the drop")
        # down: an action fails at once (is down) rather than waiting for a reply
        with pytest.raises(AmiError, match="is down"):
            await link.action("Ping")
        await until(lambda: link.connected and len(connects) == 2, "the link back")
        waited = list(delays.asked)
        pong = await link.action("Ping")
        return waited, pong.ok, link.connects

    waited, ok, count = asyncio.run(with_peer(
        body, link_kwargs={"backoff": (0.2, 1.0)}))
    assert ok and count == 2
    assert waited == [0.2]  # waited the first backoff step, not at once


def test_backoff_grows_to_its_cap_while_asterisk_is_away(delays):
    async def run():
        peer = AmiPeer(users={"ccf": "s"})
        port = await peer.start()
        link = AmiLink("127.0.0.1", port, "ccf", "s", backoff=(0.05, 0.2), ping_interval=None,
                       timeout=WAIT_S)
        attempts: list[int] = []
        try:
            await link.start()
            await peer.stop()
            peer.drop()
            real = link._connect_once

            async def counting():
                attempts.append(len(delays.asked))
                await real()

            link._connect_once = counting
            await until(lambda: len(attempts) >= 5, "five attempts while Asterisk is away")
            away = list(delays.asked)
            await peer_again(peer, port)
            await until(lambda: link.connected, "the link back")
            return away, attempts, link.connects
        finally:
            await link.close()
            await peer.stop()

    async def peer_again(peer, port):
        peer.port = port
        await peer.start()

    away, attempts, connects = asyncio.run(run())
    assert connects == 2
    assert attempts[:5] == [1, 2, 3, 4, 5]  # each attempt after its own wait
    assert away[:5] == [0.05, 0.1, 0.2, 0.2, 0.2]  # doubled, capped


def test_waiting_action_fails_when_the_link_drops():
    async def body(peer, link):
        await link.start()

        async def no_answer(session, request):
            peer.drop()

        peer._action_ping = no_answer
        with pytest.raises(AmiError, match="while waiting for the reply to Ping"):
            await link.action("Ping")
        return True

    assert asyncio.run(with_peer(body, link_kwargs={"backoff": (5.0, 5.0)}))


def test_every_action_has_a_timeout():
    async def body(peer, link):
        await link.start()

        async def silent(session, request):
            return None

        peer._action_ping = silent
        started = time.monotonic()
        with pytest.raises(AmiError, match="no reply within 0.2 s"):
            await link.action("Ping", reply_timeout=0.2)
        took = time.monotonic() - started
        pong_after = await link.action("CoreStatus")
        return took, pong_after.ok

    took, ok = asyncio.run(with_peer(body))
    assert took > 0.15 and ok  # it waited the reply's timeout (its message says which)


def test_keepalive_ping_drops_a_silent_link():
    async def body(peer, link):
        await link.start()

        async def silent(session, request):
            return None

        peer._action_ping = silent
        await until(lambda: not link.connected, "the silent link dropped")
        return link.connected

    assert asyncio.run(with_peer(body, link_kwargs={
        "ping_interval": 0.1, "timeout": 0.2, "backoff": (5.0, 5.0)})) is False


def test_events_and_list_actions_are_kept_apart():
    events = []

    async def body(peer, link):
        link.on_event = events.append
        await link.start()
        peer.add_queue("ccf-sales")
        added = await link.action("QueueAdd", Queue="ccf-sales", Interface="PJSIP/100",
                                  MemberName="a1")
        reply, items = await link.list_action("QueueStatus", Queue="ccf-sales")
        peer.emit({"Event": "UserEvent", "UserEvent": "Hello"})
        await until(lambda: any(e.event == "UserEvent" for e in events), "the UserEvent")
        return added, reply, items

    added, reply, items = asyncio.run(with_peer(body))
    assert added.message == "Added interface to queue"
    assert reply.get("EventList") == "start"
    assert [i.event for i in items] == ["QueueParams", "QueueMember"]
    names = [e.event for e in events]
    assert names[:2] == ["FullyBooted", "SuccessfulAuth"]
    assert "QueueMemberAdded" in names and "QueueMember" not in names
    assert "QueueParams" not in names


def test_close_logs_off():
    async def body(peer, link):
        await link.start()
        await link.close()
        with pytest.raises(AmiError, match="is down"):
            await link.action("Ping")
        return [a.get("Action") for a in peer.actions]

    assert asyncio.run(with_peer(body))[-1] == "Logoff"


def test_the_log_says_link_up_once_and_our_own_close_is_not_asterisks(caplog):
    async def body(peer, link):
        await link.start()
        await link.action("Ping")

    with caplog.at_level(logging.INFO, logger="ccdsl.ami"):
        asyncio.run(with_peer(body))
    lines = [r.getMessage() for r in caplog.records]
    assert sum(line.startswith("AMI link up") for line in lines) == 1, lines
    assert not [line for line in lines if "closed the connection" in line], lines


def test_asterisk_closing_the_link_is_still_logged(caplog):
    async def body(peer, link):
        await link.start()
        await peer.stop()
        await until(lambda: not link.connected, "the link to notice")

    with caplog.at_level(logging.INFO, logger="ccdsl.ami"):
        asyncio.run(with_peer(body))
    assert any("closed the connection" in r.getMessage() or "lost" in r.getMessage()
               for r in caplog.records)
