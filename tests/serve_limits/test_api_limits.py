"""The HTTP API's limits (issue 11, item 6) over real sockets on 127.0.0.1:
slow clients without a token cannot take the request slots (`ccf status`
still gets its 200), the token is checked before any body is read, and a
deeply nested JSON body is a 400, never a traceback."""

from __future__ import annotations

import asyncio
import json
import logging

from serve_api.helpers import raw_request, start_api

from ccdsl.runtime.console import web_server
from ccdsl.runtime.console.api_routes import MAX_JSON_DEPTH, too_deep

TOKEN = "limits-token"
AUTH = f"Authorization: Bearer {TOKEN}\r\n".encode()


def serve(check, **options):
    seen: list = []

    async def wrapup(call_id, body):
        seen.append(body)
        return 200, {"ok": True}

    async def main():
        server = await start_api(lambda: {"server": {"ami": "off"}}, lambda c: None, wrapup,
                                 token=TOKEN, **options)
        try:
            return await check(server.port, server), seen
        finally:
            await server.stop()
    return asyncio.run(main())


def test_slow_clients_without_a_token_do_not_lock_out_status(caplog) -> None:
    caplog.set_level(logging.INFO, logger="ccdsl")

    async def check(port, server):
        # more than the 64 request slots and the 16 for clients without headers:
        # each sends half a request and stalls (before this fix: 503 for status)
        slow = []
        for _ in range(100):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /status HTTP/1.1\r\nHost: x\r\n")
            await writer.drain()
            slow.append((reader, writer))
        # past the age a burst of new connections is left alone for
        await asyncio.sleep(web_server.YOUNG_S + 0.1)
        status = await raw_request(port, b"GET /status HTTP/1.1\r\n" + AUTH + b"\r\n")
        waiting = server.gate.unauthenticated_now
        # the oldest of the slow ones were closed to make room, without a word
        closed = await asyncio.gather(*(asyncio.wait_for(r.read(), 5.0) for r, _ in slow[:50]))
        for _, writer in slow:
            writer.close()
        return status, waiting, closed, server.gate.evicted

    (status, waiting, closed, evicted), _ = serve(check)
    assert status[0] == 200 and status[2] == {"server": {"ami": "off"}}
    assert waiting <= 16 and evicted >= 84
    assert closed == [b""] * 50
    lines = [r.getMessage() for r in caplog.records if "max_unauthenticated" in r.getMessage()]
    assert 1 <= len(lines) <= 2, lines  # counted, not one line per connection


def test_the_token_is_checked_before_the_body_is_read() -> None:
    deep = b"[" * 20000

    async def check(port, server):
        head = (b"POST /calls/1795.1/wrapup HTTP/1.1\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(deep)}\r\n".encode())
        return await raw_request(port, head + b"Authorization: Bearer wrong\r\n\r\n" + deep)

    refused, seen = serve(check)
    assert refused[0] == 401 and seen == []


def test_a_deeply_nested_body_gets_400_and_no_traceback(caplog) -> None:
    caplog.set_level(logging.DEBUG)

    def post(body: bytes) -> bytes:
        return (b"POST /calls/1795.1/wrapup HTTP/1.1\r\nContent-Type: application/json\r\n"
                + AUTH + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    deepest = b"[" * 65536  # the most a 64 KB body holds: past the decoder's recursion
    closed = b"[" * 2000 + b"]" * 2000
    over: list = [0]
    for _ in range(MAX_JSON_DEPTH + 5):
        over = [over]
    shallow_but_over = json.dumps({"fields": {"a": over}}).encode()  # the decoder takes it
    fine = json.dumps({"agent": "li", "fields": {"reason": "order"}}).encode()

    async def check(port, server):
        replies = [await raw_request(port, post(body))
                   for body in (deepest, closed, shallow_but_over, fine)]
        larger = b"[" * 100_000  # larger than a body may be at all
        replies.append(await raw_request(port, post(larger)))
        return replies

    replies, seen = serve(check)
    for code, _, body in replies[:3]:
        assert code == 400 and f"deeper than {MAX_JSON_DEPTH} levels" in body["error"], body
    assert replies[3][0] == 200 and seen[-1] == {"agent": "li", "fields": {"reason": "order"}}
    assert replies[4][0] == 413  # refused on its Content-Length, never read
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "RecursionError" not in caplog.text


def test_json_depth_is_measured_without_recursion() -> None:
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert too_deep(value) and not too_deep([[1, {"a": [2]}]]) and not too_deep("x")
    nested: list = [0]
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    assert not too_deep(nested) and too_deep({"a": nested})  # 32 levels pass, 33 do not


def test_a_burst_of_pages_reconnecting_at_once_is_not_closed() -> None:
    async def check(port, server):
        # 200 pages reconnecting after a restart, each sending its request in one write
        async def one():
            return await raw_request(port, b"GET /status HTTP/1.1\r\n" + AUTH + b"\r\n")
        replies = await asyncio.gather(*(one() for _ in range(200)))
        return [code for code, _, _ in replies], server.gate.evicted

    (codes, evicted), _ = serve(check)
    assert codes == [200] * 200 and evicted == 0
