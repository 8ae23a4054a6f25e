"""The AMI peer answers as Asterisk did: the client side of every recorded
connection in ami-actions.txt is sent to the peer, and its replies (and
list items, and OriginateResponse / UserEvent events) are compared with
Asterisk's, values that change from run to run left aside. Then what the
captures do not cover: UpdateConfig, dialplan reload, queue events."""

from __future__ import annotations

import asyncio
import re

from doubles.ami_server import AmiPeer
from doubles.transcript import Chunk, read_transcript

from asterisk.centre import WAIT_S, until
from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage, parse_message

END = b"\r\n\r\n"
# values that differ on every run (times, counters, ids, random challenges)
VOLATILE = {"Timestamp", "Uniqueid", "Linkedid", "CoreStartupDate", "CoreStartupTime",
            "CoreReloadDate", "CoreReloadTime", "CoreProcessedCalls", "CoreCurrentCalls",
            "Challenge", "Duration", "Seconds", "LoginTime", "LastPause"}
# items whose values come from Asterisk's dialplan, which the peer does
# not run: their header names are compared, not their values
SHAPE_ONLY = {"CoreShowChannel", "Status"}
LIST_ACTIONS = {"QueueStatus", "QueueSummary", "CoreShowChannels", "Status"}


def connections() -> list[list[Chunk]]:
    out: list[list[Chunk]] = []
    for chunk in read_transcript("ami-actions.txt"):
        if chunk.direction == "" and "=== connection" in chunk.note:
            out.append([])
        elif chunk.direction and out:
            out[-1].append(chunk)
    return out


def normal(msg: AmiMessage) -> dict:
    out = {}
    for key, value in msg.headers.items():
        if key in VOLATILE:
            value = "*"
        elif key == "Output" and isinstance(value, list):
            value = [re.sub(r"^\d+ calls processed$", "N calls processed", v) for v in value]
        out[key] = value
    return out


def compare(mine: AmiMessage, recorded: AmiMessage) -> None:
    if (recorded.event or "") in SHAPE_ONLY:
        assert list(mine.headers) == list(recorded.headers)
    else:
        assert normal(mine) == normal(recorded)


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def next(self) -> AmiMessage | None:
        try:
            block = await asyncio.wait_for(self.reader.readuntil(END), WAIT_S)
        except asyncio.IncompleteReadError:
            return None
        return parse_message(block[:-4])


def recorded_answers(chunks: list[Chunk]) -> list[AmiMessage]:
    data = b"".join(c.data for c in chunks if c.direction == "<<")
    return [parse_message(b) for b in data[30:].split(END) if b.strip()]


async def run_connection(peer: AmiPeer, chunks: list[Chunk]) -> list[str]:
    """Send each recorded client message; compare what comes back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", peer.port)
    client = RawClient(reader, writer)
    banner = await reader.readuntil(b"\r\n")
    assert banner == b"Asterisk Call Manager/11.0.0\r\n"
    answers = recorded_answers(chunks)
    checked = []
    for chunk in (c for c in chunks if c.direction == ">>"):
        request = parse_message(chunk.data[:-4])
        aid = request.action_id
        want = next(m for m in answers if m.response and m.event is None and m.action_id == aid)
        writer.write(chunk.data)
        is_list = request.get("Action") in LIST_ACTIONS and want.get("EventList") == "start"
        want_items = [m for m in answers if m.event and m.action_id == aid] if is_list else []
        reply, items, events = None, [], []
        while True:
            msg = await client.next()
            assert msg is not None, f"connection closed before the reply to {aid}"
            if msg.response and msg.event is None and msg.action_id == aid:
                reply = msg
                if not is_list:
                    break
            elif is_list and msg.action_id == aid:
                items.append(msg)
                if msg.get("EventList") == "Complete":
                    break
            else:
                events.append(msg)
        compare(reply, want)
        assert len(items) == len(want_items), aid
        for mine, theirs in zip(items, want_items, strict=True):
            compare(mine, theirs)
        checked.append(f"{request.get('Action')}:{aid}")
        if request.get("Action") == "Logoff" or want.message == "Authentication failed":
            assert await client.next() is None  # Asterisk closes the connection
            break
    # the events that answer an action: OriginateResponse, UserEvent
    await asyncio.sleep(0.05)
    writer.close()
    return checked


def test_peer_answers_the_catalogue_as_asterisk():
    async def run():
        peer = AmiPeer(users={"ccf": "ccfsecret"}, auth_failure_delay=0.05, queues=("sales",),
                       dialplan={"parked": {"s"}, "agents": {"100"}})
        await peer.start()
        try:
            return [await run_connection(peer, conn) for conn in connections()]
        finally:
            await peer.stop()

    checked = asyncio.run(run())
    assert [len(c) for c in checked] == [1, 3, 24, 17]  # every recorded action


def test_peer_events_that_answer_actions_match_the_recording():
    conn = connections()[3]
    recorded = [m for m in recorded_answers(conn) if m.event in ("OriginateResponse", "UserEvent")]

    async def run():
        peer = AmiPeer(users={"ccf": "ccfsecret"}, dialplan={"parked": {"s"}, "agents": {"100"}})
        port = await peer.start()
        seen: list[AmiMessage] = []
        link = AmiLink("127.0.0.1", port, "ccf", "ccfsecret", events="call,user,agent",
                       on_event=seen.append, ping_interval=None)
        try:
            await link.start()
            for chunk in (c for c in conn if c.direction == ">>"):
                headers = dict(parse_message(chunk.data[:-4]).headers)
                action = headers.pop("Action")
                if action in ("Login", "Logoff"):
                    continue
                if action in LIST_ACTIONS:
                    await link.list_action(action, **headers)
                else:
                    await link.action(action, **headers)

            def answering() -> list[AmiMessage]:
                return [m for m in seen if m.event in ("OriginateResponse", "UserEvent")]

            await until(lambda: len(answering()) >= len(recorded), "the answering events")
            return answering()
        finally:
            await link.close()
            await peer.stop()

    mine = asyncio.run(run())
    assert len(mine) == len(recorded) == 3
    for a, b in zip(mine, recorded, strict=True):
        assert normal(a) == normal(b)


def test_events_follow_each_sessions_mask():
    async def run():
        peer = AmiPeer(users={"ccf": "s"})
        port = await peer.start()
        got: dict[str, list[str]] = {"off": [], "agent": [], "on": []}
        links = [AmiLink("127.0.0.1", port, "ccf", "s", events=mask, ping_interval=None,
                         on_event=lambda m, k=key: got[k].append(m.event))
                 for key, mask in (("off", "off"), ("agent", "agent"), ("on", None))]
        try:
            for link in links:
                await link.start()
            peer.emit({"Event": "QueueMemberStatus", "Queue": "q"})
            peer.emit({"Event": "Newchannel", "Channel": "PJSIP/1-1"})
            await until(lambda: "Newchannel" in got["on"] and got["agent"], "the events")
            return got
        finally:
            for link in links:
                await link.close()
            await peer.stop()

    got = asyncio.run(run())
    assert got["off"] == []
    assert got["agent"] == ["QueueMemberStatus"]
    assert got["on"] == ["FullyBooted", "SuccessfulAuth", "QueueMemberStatus", "Newchannel"]


def test_update_config_applies_in_order_and_reload():
    async def run():
        peer = AmiPeer(users={"ccf": "s"},
                       configs={"extensions_ccf.conf": "[old]\nexten => 1,1,NoOp()\n"})
        port = await peer.start()
        link = AmiLink("127.0.0.1", port, "ccf", "s", ping_interval=None)
        try:
            await link.start()
            ok = await link.action("UpdateConfig", SrcFilename="extensions_ccf.conf",
                                   DstFilename="extensions_ccf.conf", Reload="no", **{
                                       "Action-000000": "DelCat", "Cat-000000": "old",
                                       "Action-000001": "NewCat", "Cat-000001": "ccf-inbound",
                                       "Action-000002": "Append", "Cat-000002": "ccf-inbound",
                                       "Var-000002": "exten",
                                       "Value-000002": ">_X.,1,AGI(agi://127.0.0.1:4573/f)",
                                       "Action-000003": "Append", "Cat-000003": "ccf-inbound",
                                       "Var-000003": "exten", "Value-000003": "_X.,n,Hangup()"})
            text = peer.config_text("extensions_ccf.conf")
            bad = await link.action("UpdateConfig", SrcFilename="extensions_ccf.conf",
                                    DstFilename="extensions_ccf.conf", **{
                                        "Action-000000": "Append", "Cat-000000": "ccf-inbound",
                                        "Var-000000": "exten", "Value-000000": "x",
                                        "Action-000001": "EmptyCat", "Cat-000001": "nope"})
            missing = await link.action("UpdateConfig", SrcFilename="nope.conf",
                                        DstFilename="nope.conf")
            created = await link.action("CreateConfig", Filename="queues_ccf.conf")
            again = await link.action("CreateConfig", Filename="queues_ccf.conf")
            reload = await link.command("dialplan reload")
            return (ok, text, bad, peer.config_text("extensions_ccf.conf"), missing, created,
                    again, reload, peer.reloads)
        finally:
            await link.close()
            await peer.stop()

    ok, text, bad, after_bad, missing, created, again, reload, reloads = asyncio.run(run())
    # main/manager.c: astman_send_ack(s, m, NULL): Success with no Message
    assert ok.ok and "Message" not in ok.headers
    assert text == ("[ccf-inbound]\nexten = _X.,1,AGI(agi://127.0.0.1:4573/f)\n"
                    "exten = _X.,n,Hangup()\n")
    assert not bad.ok and bad.message == "Given category does not exist"
    assert after_bad == text  # a failed update saves nothing
    assert missing.message == "Config file not found"
    assert created.message == "New configuration file created successfully"
    assert again.message == "File exists"
    assert reload == ["Dialplan reloaded."] and reloads == ["dialplan"]


def test_queue_model_controls_emit_what_app_queue_emits():
    async def run():
        peer = AmiPeer(users={"ccf": "s"}, queues=("ccf-sales",))
        port = await peer.start()
        seen: list[AmiMessage] = []
        link = AmiLink("127.0.0.1", port, "ccf", "s", events="agent,call", on_event=seen.append,
                       ping_interval=None)
        try:
            await link.start()
            await link.action("QueueAdd", Queue="ccf-sales", Interface="PJSIP/100",
                              MemberName="a1")
            peer.set_device_state("PJSIP/100", "INUSE")
            channel = peer.add_caller("ccf-sales")
            summary = await link.list_action("QueueSummary", Queue="ccf-sales")
            peer.remove_caller("ccf-sales", channel)
            await until(lambda: len(seen) >= 5, "the five events")
            return seen, summary
        finally:
            await link.close()
            await peer.stop()

    seen, (_, items) = asyncio.run(run())
    names = [e.event for e in seen]
    assert names == ["QueueMemberAdded", "DeviceStateChange", "QueueMemberStatus",
                     "QueueCallerJoin", "QueueCallerLeave"]
    status = seen[2]
    assert status.get("Status") == "2" and status.get("MemberName") == "a1"
    assert seen[3].get("Count") == "1" and seen[4].get("Count") == "0"
    assert items[0].get("LoggedIn") == "1" and items[0].get("Available") == "0"
    assert items[0].get("Callers") == "1"


def test_only_dynamic_members_leave_and_a_reload_keeps_them():
    # app_queue: QueueRemove of a `member =>` member is RES_NOT_DYNAMIC; a
    # reload of app_queue keeps QueueAdd's members (seen on Asterisk 22 too)
    async def run():
        peer = AmiPeer(users={"ccf": "s"})
        conf = "[ccf-sales]\nstrategy = leastrecent\nmember => PJSIP/100,0,a1\n"
        peer.app_queue.load_conf(conf)
        port = await peer.start()
        link = AmiLink("127.0.0.1", port, "ccf", "s", ping_interval=None)
        try:
            await link.start()
            static = await link.action("QueueRemove", Queue="ccf-sales", Interface="PJSIP/100")
            added = await link.action("QueueAdd", Queue="ccf-sales", Interface="PJSIP/200",
                                      MemberName="a2")
            peer.app_queue.load_conf("[ccf-sales]\nstrategy = leastrecent\n")
            kept = {m.name: m.dynamic for m in peer.app_queue.queues["ccf-sales"].members.values()}
            dynamic = await link.action("QueueRemove", Queue="ccf-sales", Interface="PJSIP/200")
            return static, added, kept, dynamic
        finally:
            await link.close()
            await peer.stop()

    static, added, kept, dynamic = asyncio.run(run())
    assert not static.ok and static.message == "Member not dynamic"
    assert added.ok
    assert kept == {"a2": True}  # the static a1 went with its line; a2 stays
    assert dynamic.ok and dynamic.message == "Removed interface from queue"
