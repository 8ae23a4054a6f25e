"""The HTTP API of ccf serve (runtime/console/api_routes.py on uvicorn) on 127.0.0.1:
well-formed requests over httpx and raw sockets; every malformed, oversized,
slow or unauthorised request gets its JSON refusal, and the server keeps
serving afterwards."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import pytest
from asterisk.centre import WAIT_S

from ccdsl.runtime.console import api_routes

from .helpers import raw_request, start_api

TOKEN = "api-token-never-logged"


CALLS = {"1795.1": {"call_id": "1795.1", "flow": "hotline"}}


async def wrapup(call_id, body):
    if call_id not in CALLS:
        return 404, {"ok": False, "error": f"no call {call_id}"}
    return 200, {"ok": True, "call_id": call_id, "fields": body.get("fields")}


def serve(check, *, token: str | None = None, wrapup=wrapup, **limits):
    """Run `check(port)` (a coroutine function) against a fresh server."""
    async def main():
        server = await start_api(lambda: {"server": {"ami": "off"}, "calls": []}, CALLS.get,
                                 wrapup, token=token, **limits)
        try:
            return await check(server.port)
        finally:
            await server.stop()
    return asyncio.run(main())


def test_the_three_endpoints_answer_json_over_httpx() -> None:
    async def check(port):
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=WAIT_S) as client:
            status = await client.get("/status")
            call = await client.get("/calls/1795.1")
            missing = await client.get("/calls/nope")
            posted = await client.post("/calls/1795.1/wrapup",
                                       json={"agent": "li", "fields": {"reason": "order"}})
            unknown = await client.post("/calls/nope/wrapup", json={"fields": {}})
        return status, call, missing, posted, unknown

    status, call, missing, posted, unknown = serve(check)
    assert status.status_code == 200 and status.json() == {"server": {"ami": "off"},
                                                           "calls": []}
    assert status.headers["content-type"].startswith("application/json")
    assert status.headers["cache-control"] == "no-store"
    assert call.json() == {"call_id": "1795.1", "flow": "hotline"}
    assert missing.status_code == 404 and missing.json()["ok"] is False
    assert "no call nope" in missing.json()["error"]
    assert posted.status_code == 200 and posted.json()["fields"] == {"reason": "order"}
    assert unknown.status_code == 404


# what uvicorn's HTTP/1.1 parser (h11) refuses itself: a plain 400, and the
# server goes on serving
@pytest.mark.parametrize("request_bytes", [
    b"GET /status\r\n\r\n",
    b"GET /status HTTP/1.1\r\nno colon here\r\n\r\n",
    b"GET /st\xc3\xa4tus HTTP/1.1\r\n\r\n",
    b"POST /calls/1795.1/wrapup HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"POST /calls/1795.1/wrapup HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
    b"Content-Type: application/json\r\n\r\n{}",
])
def test_requests_that_are_not_http_get_a_400(request_bytes: bytes) -> None:
    async def check(port):
        got = await raw_request(port, request_bytes, close_write=True)
        after = await raw_request(port, b"GET /status HTTP/1.1\r\n\r\n")
        return got, after

    (code, _, body), after = serve(check)
    assert code == 400 and "Invalid HTTP request" in body["error"]
    assert after[0] == 200


@pytest.mark.parametrize(("request_bytes", "status", "words"), [
    (b"GET /nowhere HTTP/1.1\r\n\r\n", 404, "no such endpoint"),
    (b"get /status HTTP/1.1\r\n\r\n", 405, "use GET"),
    (b"GET /status HTTP/1.1\r\nX-Filler: " + b"a" * 20_000 + b"\r\n\r\n", 431, "8192 bytes"),
    (b"GET /calls/%ff HTTP/1.1\r\n\r\n", 404, "no call"),
    (b"POST /status HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "use GET"),
    (b"DELETE /calls/1795.1 HTTP/1.1\r\n\r\n", 405, "use GET"),
    (b"GET /calls/1795.1/wrapup HTTP/1.1\r\n\r\n", 405, "use POST"),
    (b"POST /calls/1795.1/wrapup HTTP/1.1\r\n\r\n", 400, "JSON body is expected"),
    (b"POST /calls/1795.1/wrapup HTTP/1.1\r\nContent-Length: 5\r\n"
     b"Content-Type: text/plain\r\n\r\nhello", 415, "must be JSON"),
    (b"POST /calls/1795.1/wrapup HTTP/1.1\r\nContent-Length: 5\r\n"
     b"Content-Type: application/json\r\n\r\n{nope", 400, "not valid JSON"),
    (b"POST /calls/1795.1/wrapup HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
     b"Content-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 411, "Content-Length"),
])
def test_malformed_requests_get_a_json_refusal(request_bytes: bytes, status: int,
                                               words: str) -> None:
    async def check(port):
        got = await raw_request(port, request_bytes, close_write=True)
        after = await raw_request(port, b"GET /status HTTP/1.1\r\n\r\n")
        return got, after

    (code, headers, body), after = serve(check)
    assert code == status, body
    assert body["ok"] is False and words in body["error"]
    if status == 405:
        assert headers["allow"] in ("GET, HEAD", "POST")
    assert after[0] == 200  # the server goes on serving


def test_oversized_bodies_are_refused_unread_and_short_ones_time_out(monkeypatch) -> None:
    monkeypatch.setattr(api_routes, "BODY_TIMEOUT_S", 0.3)
    big_body = (b"POST /calls/1795.1/wrapup HTTP/1.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 10000000\r\n\r\n{")
    short_body = (b"POST /calls/1795.1/wrapup HTTP/1.1\r\nContent-Length: 10\r\n"
                  b"Content-Type: application/json\r\n\r\n{}")

    async def check(port):
        return (await raw_request(port, big_body), await raw_request(port, short_body),
                await raw_request(port, b"GET /status HTTP/1.1\r\n\r\n"))

    body, short, after = serve(check)
    assert body[0] == 413 and "at most 65536" in body[2]["error"]
    assert short[0] == 408 and "did not arrive within 0.3 s" in short[2]["error"]
    assert after[0] == 200


def test_a_slow_client_is_cut_off_and_others_are_served_meanwhile() -> None:
    async def check(port):
        # a client that sends half a request line and stalls, another that
        # drips its headers a byte at a time
        slow_r, slow_w = await asyncio.open_connection("127.0.0.1", port)
        slow_w.write(b"GET /sta")
        await slow_w.drain()
        drip_r, drip_w = await asyncio.open_connection("127.0.0.1", port)

        async def drip():
            for byte in b"GET /status HTTP/1.1\r\nX-A: b":
                drip_w.write(bytes([byte]))
                await drip_w.drain()
                await asyncio.sleep(0.05)

        dripping = asyncio.create_task(drip())
        started = time.monotonic()
        quick = await raw_request(port, b"GET /status HTTP/1.1\r\n\r\n")
        quick_s = time.monotonic() - started
        slow = await asyncio.wait_for(slow_r.read(), 3.0)
        dripped = await asyncio.wait_for(drip_r.read(), 3.0)
        dripping.cancel()
        slow_w.close()
        drip_w.close()
        return quick, quick_s, slow, dripped, time.monotonic() - started

    quick, quick_s, slow, dripped, total_s = serve(check, header_timeout_s=0.3)
    assert quick[0] == 200 and quick_s < 0.25
    for raw in (slow, dripped):
        assert raw.startswith(b"HTTP/1.1 408 Request Timeout")
        assert b"did not arrive within 0.3 s" in raw
    assert total_s < 2.0


def test_a_client_that_closes_at_once_leaves_the_server_serving() -> None:
    async def check(port):
        for _ in range(3):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
        return await raw_request(port, b"GET /status HTTP/1.1\r\n\r\n")

    assert serve(check)[0] == 200


def test_a_token_is_required_when_set_and_never_logged(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("ccdsl").addHandler(caplog.handler)

    async def check(port):
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=WAIT_S) as client:
            none = await client.get("/status")
            wrong = await client.get("/status", headers={"Authorization": "Bearer nope"})
            basic = await client.get("/status", headers={"Authorization": f"Basic {TOKEN}"})
            right = await client.get("/status", headers={"Authorization": f"Bearer {TOKEN}"})
            post = await client.post("/calls/1795.1/wrapup", json={"fields": {}},
                                     headers={"Authorization": f"Bearer {TOKEN}"})
        return none, wrong, basic, right, post

    try:
        none, wrong, basic, right, post = serve(check, token=TOKEN)
    finally:
        logging.getLogger("ccdsl").removeHandler(caplog.handler)
    for refused in (none, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in refused.text
    assert right.status_code == 200 and post.status_code == 200
    assert TOKEN not in caplog.text


def test_requests_past_their_headers_beyond_the_slots_get_503(monkeypatch) -> None:
    # the slots are held by requests whose headers are in (here: bodies that
    # do not come); connections that send nothing do not take one (issue 11
    # item 6: they used to lock `ccf status` out), tests/serve_limits has more
    monkeypatch.setattr(api_routes, "BODY_TIMEOUT_S", 1.0)

    async def check(port):
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        held = []
        for _ in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /calls/1795.1/wrapup HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 10\r\n\r\n")
            await writer.drain()
            held.append((reader, writer))
        await asyncio.sleep(0.05)
        third = await raw_request(port, b"GET /status HTTP/1.1\r\n\r\n")
        for _, writer in held + idle:
            writer.close()
        await asyncio.sleep(0.05)
        return third, await raw_request(port, b"GET /status HTTP/1.1\r\n\r\n")

    third, later = serve(check, slots=2)
    assert third[0] == 503 and "too many connections" in third[2]["error"]
    assert later[0] == 200


def test_a_handler_that_takes_too_long_gets_504(monkeypatch) -> None:
    monkeypatch.setattr(api_routes, "HANDLER_TIMEOUT_S", 0.2)

    async def slow_wrapup(call_id, body):
        await asyncio.sleep(5)
        return 200, {}

    async def check(port):
        body = json.dumps({"fields": {}}).encode()
        return await raw_request(port, b"POST /calls/x/wrapup HTTP/1.1\r\n"
                                 b"Content-Type: application/json\r\n"
                                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    code, _, body = serve(check, wrapup=slow_wrapup)
    assert code == 504 and "0.2 s" in body["error"]
