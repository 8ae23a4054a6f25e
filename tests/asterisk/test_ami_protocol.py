"""AmiLink against Asterisk's own bytes: each capture is replayed, chunk by
chunk as recorded, by a server on 127.0.0.1, and the link must send what
the recording client sent and correlate every reply and event right. The
panoramisk 1.4 failures recorded in the captures README each get a test."""

from __future__ import annotations

import asyncio

import pytest
from doubles.transcript import Chunk, read_transcript

from asterisk.centre import WAIT_S, until
from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_protocol import AmiError, AmiMessage, encode_action, parse_message

END = b"\r\n\r\n"
LIST_ACTIONS = {"QueueStatus", "QueueSummary", "CoreShowChannels", "Status"}


def connections(name: str) -> list[list[Chunk]]:
    """The capture's TCP connections (split at its `connection` notes),
    each the list of its byte chunks."""
    out: list[list[Chunk]] = [[]]
    for chunk in read_transcript(name):
        if chunk.direction == "":
            if "=== connection" in chunk.note or ("connection" in chunk.note
                                                  and "opened" in chunk.note):
                out.append([])
            continue
        out[-1].append(chunk)
    return [c for c in out if c]


def messages(data: bytes) -> list[AmiMessage]:
    return [parse_message(block) for block in data.split(END) if block.strip()]


def without(chunks: list[Chunk], actions: set[str | None]) -> list[Chunk]:
    """Drop the client messages whose Action is in `actions` (None: no
    Action header) and Asterisk's chunks that answered them."""
    out: list[Chunk] = []
    skipping = False
    for chunk in chunks:
        if chunk.direction == ">>":
            skipping = parse_message(chunk.data[:-4]).get("Action") in actions
        if not skipping:
            out.append(chunk)
    return out


def banner_first(chunks: list[Chunk]) -> list[Chunk]:
    """panoramisk sent Login before Asterisk's banner arrived; AmiLink waits
    for the banner (test_bug_login_before_banner), so the replay sends it
    first."""
    banner = next(c for c in chunks if c.data.startswith(b"Asterisk Call Manager/"))
    return [banner] + [c for c in chunks if c is not banner]


async def answer_logoff(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """After the recording: answer the link's closing Logoff as Asterisk
    does (Goodbye, then close)."""
    block = await asyncio.wait_for(reader.readuntil(END), WAIT_S)
    aid = parse_message(block[:-4]).action_id
    writer.write(f"Response: Goodbye\r\nActionID: {aid}\r\n"
                 "Message: Thanks for all the fish.\r\n\r\n".encode())
    await writer.drain()


class Replay:
    """Plays Asterisk's side of one recorded connection: writes each `<<`
    chunk as recorded; for each `>>` chunk reads one message from the
    client and checks it is byte for byte the recorded one (the Login of a
    foreign client is checked header by header and its ActionID mapped)."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self.mismatches: list[str] = []
        self.sent_first_byte_at: float | None = None
        self.client_bytes_before_banner = b""
        self.done = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ids: dict[bytes, bytes] = {}
        try:
            for chunk in self.chunks:
                if chunk.direction == "<<":
                    data = chunk.data
                    for theirs, ours in ids.items():
                        data = data.replace(b"ActionID: " + theirs + b"\r\n",
                                            b"ActionID: " + ours + b"\r\n")
                    writer.write(data)
                    await writer.drain()
                    await asyncio.sleep(0.002)  # keep the recorded chunking
                    continue
                got = await asyncio.wait_for(reader.readuntil(END), WAIT_S)
                self._check(chunk.data, got, ids)
            self.done.set()
            await answer_logoff(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError) as exc:
            self.mismatches.append(f"replay stopped early: {exc!r}")
            self.done.set()
        finally:
            writer.close()

    def _check(self, recorded: bytes, got: bytes, ids: dict[bytes, bytes]) -> None:
        if got == recorded:
            return
        want, have = parse_message(recorded[:-4]), parse_message(got[:-4])
        if want.get("Action") == "Login":
            theirs, ours = want.action_id or "", have.action_id or ""
            ids[theirs.encode()] = ours.encode()
            rest = {k.lower(): v for k, v in want.headers.items() if k != "ActionID"}
            mine = {k.lower(): v for k, v in have.headers.items() if k != "ActionID"}
            if rest == mine:
                return
        self.mismatches.append(f"client sent {got!r}, recording has {recorded!r}")


async def replay(chunks: list[Chunk], *, secret: str = "ccfsecret", events: str | None = None,
                 skip: set[str | None] = frozenset()) -> dict:
    """Replay one connection: the link logs in, then sends every recorded
    action (with its recorded headers and ActionID) and collects replies,
    list items and events."""
    chunks = without(chunks, set(skip) | {"Logoff"})
    server = Replay(chunks)
    port = await server.start()
    delivered: list[AmiMessage] = []
    link = AmiLink("127.0.0.1", port, "ccf", secret, on_event=delivered.append,
                   events=events, ping_interval=None, timeout=WAIT_S)
    replies: dict[str, tuple[AmiMessage, list[AmiMessage]]] = {}
    try:
        await link.start()
        for chunk in chunks:
            if chunk.direction != ">>":
                continue
            headers = dict(parse_message(chunk.data[:-4]).headers)
            action = headers.pop("Action")
            if action == "Login":
                continue
            if action in LIST_ACTIONS:
                replies[headers["ActionID"]] = await link.list_action(action, **headers)
            else:
                replies[headers["ActionID"]] = (await link.action(action, **headers), [])
        await asyncio.wait_for(server.done.wait(), WAIT_S)
        # the last chunks reach the reader: as many events as the recording has
        _, events_sent = recorded(chunks)
        await until(lambda: len(delivered) >= len(events_sent), "the recorded events")
        return {"replies": replies, "events": delivered, "link": link, "server": server,
                "connected": link.connected, "connects": link.connects}
    finally:
        await link.close()
        await server.stop()


def expected(chunks: list[Chunk], list_ids: set[str]) -> tuple[dict, list[AmiMessage]]:
    """From Asterisk's bytes: the reply and list items per ActionID, and
    the events that are not list items."""
    replies: dict[str, tuple[AmiMessage, list[AmiMessage]]] = {}
    events: list[AmiMessage] = []
    for msg in messages(b"".join(c.data for c in chunks if c.direction == "<<")[30:]):
        aid = msg.action_id
        if msg.event is None and msg.response is not None:
            replies.setdefault(aid, (msg, []))
        elif aid in list_ids and aid in replies:
            if (msg.get("EventList") or "").lower() != "complete":
                replies[aid][1].append(msg)
        else:
            events.append(msg)
    return replies, events


def recorded(chunks: list[Chunk]) -> tuple[dict, list[AmiMessage]]:
    """expected() of a replayed connection's chunks, the lists it sent known."""
    sent_lists = {parse_message(c.data[:-4]).action_id for c in chunks if c.direction == ">>"
                  and parse_message(c.data[:-4]).get("Action") in LIST_ACTIONS}
    return expected(chunks, sent_lists)


def check_replay(result: dict, chunks: list[Chunk], skip: set = frozenset()) -> None:
    chunks = without(chunks, set(skip) | {"Logoff"})
    assert result["server"].mismatches == []
    replies, events = recorded(chunks)
    assert result["replies"]
    for aid, (reply, items) in result["replies"].items():
        want_reply, want_items = replies[aid]
        assert reply.headers == want_reply.headers, aid
        assert [i.headers for i in items] == [i.headers for i in want_items], aid
    # every event reached on_event, in order; no list item leaked there
    assert [e.headers for e in result["events"]] == [e.headers for e in events]
    assert result["connected"] and result["connects"] == 1


# -- parsing and encoding -------------------------------------------------------


def test_parse_keeps_order_padding_and_repeated_output():
    msg = parse_message(b"Response: Success\r\nActionID: ccf-19\r\nMessage: Command output "
                        b"follows\r\nOutput: Channel     \r\nOutput: 0 active channels\r\n"
                        b"Value: \r\nNo categories found")
    assert list(msg.headers) == ["Response", "ActionID", "Message", "Output", "Value"]
    assert msg.getlist("output") == ["Channel     ", "0 active channels"]
    assert msg.get("VALUE") == "" and msg.ok and msg.action_id == "ccf-19"


def test_encode_keeps_given_order_and_repeats_lists():
    data = encode_action("Originate", "ccf-2", {"Channel": "Local/s@ivr", "Async": True,
                                                "Variable": ["A=1", "B=2"], "Data": None})
    assert data == (b"Action: Originate\r\nActionID: ccf-2\r\nChannel: Local/s@ivr\r\n"
                    b"Async: true\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n")


@pytest.mark.parametrize("headers", [{"Value": "x\r\nAction: Hangup"}, {"Bad Name": "x"},
                                     {"Value": "a\nb"}])
def test_encode_refuses_header_injection(headers):
    with pytest.raises(AmiError):
        encode_action("Setvar", "ccf-1", headers)


# -- whole recorded connections ------------------------------------------------


def test_replay_ami_actions_plain_actions():
    conn = connections("ami-actions.txt")[2]  # C: Events off, the catalogue
    result = asyncio.run(replay(conn, events="off", skip={None}))
    check_replay(result, conn, skip={None})
    replies = result["replies"]
    assert replies["ccf-6"][0].message == "Added interface to queue"
    assert replies["ccf-9"][1][1].get("PausedReason") == "lunch"
    assert replies["ccf-19"][0].getlist("Output")[1:] == [
        "0 active channels", "0 active calls", "10 calls processed"]


def test_replay_ami_actions_calls_and_events():
    conn = connections("ami-actions.txt")[3]  # D: Originate, lists, UserEvent...
    result = asyncio.run(replay(conn, events="call,user,agent"))
    check_replay(result, conn)
    names = [e.event for e in result["events"]]
    assert names.count("OriginateResponse") == 2 and "UserEvent" in names
    assert result["replies"]["orig-sync"][0].message == "Originate successfully queued"
    assert result["replies"]["orig-sync-fail"][0].message == "Originate failed"


def test_replay_ami_session_events_on():
    conn = connections("ami-session.txt")[0]
    result = asyncio.run(replay(conn))
    check_replay(result, conn)
    names = [e.event for e in result["events"]]
    assert names[:2] == ["FullyBooted", "SuccessfulAuth"]
    assert "AGIExecStart" in names and "Cdr" in names


def test_replay_login_refused_names_the_user_not_the_secret():
    conn = connections("ami-actions.txt")[0]  # A: wrong secret

    async def run():
        server = Replay(conn)
        port = await server.start()
        link = AmiLink("127.0.0.1", port, "ccf", "wrong", ping_interval=None)
        try:
            with pytest.raises(AmiError) as info:
                await link.start()
            return str(info.value), server.mismatches, link.connected
        finally:
            await link.close()
            await server.stop()

    text, mismatches, connected = asyncio.run(run())
    assert text == "AMI login refused for user ccf" and "wrong" not in text
    assert mismatches == [] and not connected


# -- the panoramisk 1.4 failures (captures README), one test each ---------------


def test_bug_queueadd_resolves():
    """panoramisk: "Added interface to queue" taken for a list start, so
    QueueAdd never resolved (TIMEOUT after 5 s)."""
    conn = banner_first(connections("ami-panoramisk-run1.txt")[0])
    # an action that never resolved would fail the replay at the link's timeout
    result = asyncio.run(replay(conn, events="on"))
    reply, items = result["replies"]["action/2f80cb76-09f3-4312-bed5-c410a5bd1650/1/5"]
    assert reply.ok and reply.message == "Added interface to queue" and items == []
    assert "QueueMemberAdded" in [e.event for e in result["events"]]


def test_bug_sync_originate_successfully_queued_keeps_link():
    """panoramisk: a sync Originate's "successfully queued" raised
    KeyError: 'async' in data_received and dropped the connection."""
    conn = banner_first(connections("ami-panoramisk-run1.txt")[0])
    result = asyncio.run(replay(conn, events="on"))
    check_replay(result, conn)
    reply, _ = result["replies"]["action/2f80cb76-09f3-4312-bed5-c410a5bd1650/1/14"]
    assert reply.message == "Originate successfully queued"
    # the events after that reply (lost in panoramisk's reconnect gap) arrived
    assert result["events"][-1].event in ("Newstate", "DialEnd", "Newexten", "VarSet",
                                          "DeviceStateChange", "Hangup", "AGIExecStart",
                                          "Newchannel", "LocalBridge", "DialBegin")
    assert result["connected"] and result["connects"] == 1


def test_bug_playdtmf_successfully_queued_keeps_link():
    """panoramisk: PlayDTMF's "DTMF successfully queued" raised the same
    KeyError, and the DTMF events in the 2 s gap were lost."""
    conn = banner_first(connections("ami-panoramisk-run1.txt")[1])
    result = asyncio.run(replay(conn, events="on"))
    check_replay(result, conn)
    reply, _ = result["replies"]["action/2f80cb76-09f3-4312-bed5-c410a5bd1650/1/18"]
    assert reply.ok and reply.message == "DTMF successfully queued"
    assert [e.event for e in result["events"]][-2:] == ["DTMFBegin", "DTMFEnd"]
    assert result["connected"]


def test_bug_login_before_banner():
    """panoramisk sent Login before Asterisk's banner; the link waits."""

    async def run():
        early = bytearray()

        async def serve(reader, writer):
            try:
                early.extend(await asyncio.wait_for(reader.read(100), 0.3))
            except TimeoutError:
                pass
            writer.write(b"Asterisk Call Manager/11.0.0\r\n")
            block = await reader.readuntil(END)
            aid = parse_message(block[:-4]).action_id
            writer.write(f"Response: Success\r\nActionID: {aid}\r\n"
                         "Message: Authentication accepted\r\n\r\n".encode())
            await answer_logoff(reader, writer)

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        link = AmiLink("127.0.0.1", port, "ccf", "s", ping_interval=None)
        try:
            await link.start()
            return bytes(early), link.connected
        finally:
            await link.close()
            server.close()

    early, connected = asyncio.run(run())
    assert early == b"" and connected


def test_bug_headers_sorted():
    """panoramisk sorted headers; the link sends them as given, so the
    recorded Originate goes out byte for byte."""
    recorded = next(c.data for c in connections("ami-session.txt")[0]
                    if c.direction == ">>" and c.data.startswith(b"Action: Originate"))
    headers = dict(parse_message(recorded[:-4]).headers)
    headers.pop("Action")
    aid = headers.pop("ActionID")
    assert encode_action("Originate", aid, headers) == recorded
    assert list(headers) != sorted(headers)
