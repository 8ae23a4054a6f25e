"""The HTTP CRM adapter against a real HTTP server on 127.0.0.1, started
by these tests: a tiny CRM API that can be told to be slow, fail with
5xx or 429, answer 404, or drop the connection. A slow answer is held until
the test lets it go, never merely late by the clock, so a loaded machine
cannot make it look prompt (or a prompt one look slow)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from ports import free_port

from ccdsl.runtime.core.crm.config import CrmConfigError, HttpConfig, load_config
from ccdsl.runtime.core.crm.connect import open_crm
from ccdsl.runtime.core.crm.http import HttpCRM
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.values import Record

TOKEN = "s3cr3t-crm-token-4242"

CUSTOMERS = {
    "C1001": {"id": "C1001", "name": "Chen Jing", "phone": "+8613800000001",
              "account": {"owner_id": "zhang"}, "tier": "regular"},
    "C2002": {"id": "C2002", "name": "Wang Lei", "phone": "+8613800000002",
              "account": {"owner_id": "li"}, "tier": "vip"},
}
ORDERS = {"20261128": {"id": "O1", "number": "20261128", "status": "shipped",
                       "customer": "C1001"}}

PATIENCE_MS = 30_000  # a healthy CRM's timeout here: a bound on a hang, never a speed test
HELD_S = 60.0  # the longest a held answer waits for its release (then it is sent)
TIMEOUT_MS = 2_000  # the timeout of the timeout tests: ample to send a request under load


class FakeCRM(ThreadingHTTPServer):
    """The CRM's API. `faults` holds what to do to the next requests, one
    per request: "slow", "trickle", "drop", or a status code to answer with.
    A slow or trickled answer is held until `release` is set (or HELD_S);
    `answered` is set once one has been sent whole."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.faults: deque = deque()
        self.seen: list[dict] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.answered = threading.Event()

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up on a slow answer is expected here

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeCRM

    def log_message(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.handle_any()

    def do_PATCH(self) -> None:
        self.handle_any()

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        with self.server.lock:
            self.server.seen.append({
                "method": self.command, "path": url.path, "query": parse_qs(url.query),
                "auth": self.headers.get("Authorization"),
                "json": json.loads(body) if body else None})
            fault = self.server.faults.popleft() if self.server.faults else None
        if fault == "slow":  # the answer only once the test lets it go
            self.server.release.wait(HELD_S)
        elif fault == "trickle":  # a byte every 0.1 s for HELD_S, cut off once let go
            size = int(HELD_S / 0.1)
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            for _ in range(size):
                self.wfile.write(b" ")
                self.wfile.flush()
                if self.server.release.wait(0.1):
                    return
            self.server.answered.set()
            return
        elif fault == "drop":
            self.close_connection = True
            return
        elif fault == "echo-auth":
            # a careless CRM that repeats the credentials in its error page
            return self.answer(401, {"error": f"bad credentials: {self.headers['Authorization']}"})
        elif fault is not None:
            return self.answer(fault, {"error": "injected"},
                               headers={"Retry-After": "0"} if fault == 429 else None)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"error": "unauthorised"})
        self.route(url.path, parse_qs(url.query), json.loads(body) if body else None)
        if fault == "slow":
            self.server.answered.set()

    def route(self, path: str, query: dict, body) -> None:
        parts = path.strip("/").split("/")
        if parts == ["customers"] and self.command == "GET":
            phone = query.get("phone", [""])[0]
            return self.answer(200, {"data": [c for c in CUSTOMERS.values()
                                              if c["phone"] == phone]})
        if parts[0] == "orders" and len(parts) == 2:
            order = ORDERS.get(parts[1])
            return self.answer(200, {"order": order}) if order else self.answer(404, {})
        if parts[0] == "search" and len(parts) == 2:
            wanted = {k: v[0] for k, v in query.items()}
            table = CUSTOMERS if parts[1] == "customer" else {}
            hits = [r for r in table.values() if all(str(r.get(k)) == v
                                                     for k, v in wanted.items())]
            return self.answer(200, hits)
        if parts == ["tickets"] and self.command == "POST":
            return self.answer(201, {"data": {"id": "T-77", **body}})
        if parts[0] == "customers" and len(parts) == 2 and self.command == "PATCH":
            return self.answer(200, {"data": {**CUSTOMERS[parts[1]], **body}})
        if parts[0] == "customers" and parts[-1] == "owner":
            return self.answer(200, {"owner": {"id": "zhang"}})
        if parts == ["calls"]:
            return self.answer(204, None)
        if parts == ["html"]:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>not json</html>")
            return None
        return self.answer(404, {"error": "no such endpoint"})

    def answer(self, status: int, data, headers: dict | None = None) -> None:
        payload = b"" if data is None else json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server():
    srv = FakeCRM()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("IWS_CRM_TOKEN", TOKEN)


OPERATIONS = {
    "find_customer": {"url": "/customers?phone={phone}", "result": "data",
                      "fields": {"owner": "account.owner_id"}},
    "find.order": {"url": "/orders/{number}", "result": "order"},
    "find": {"url": "/search/{type}?{query}"},
    "create": {"method": "POST", "url": "/tickets", "result": "data",
               "body": {"ticket": "{fields}", "source": "ccdsl {type}"}},
    "update": {"method": "PATCH", "url": "/customers/{id}", "result": "data"},
    "log_call": {"method": "POST", "url": "/calls"},
}


def config(server: FakeCRM, **overrides) -> dict:
    return {"adapter": "http", "base_url": server.url, "token_env": "IWS_CRM_TOKEN",
            "timeout_ms": PATIENCE_MS, "retries": 2, "backoff_ms": 10,
            "operations": overrides.pop("operations", OPERATIONS), **overrides}


def call(crm: HttpCRM, method: str, *args):
    async def go():
        try:
            return await getattr(crm, method)(*args)
        finally:
            await crm.close()

    return asyncio.run(go())


def seen_once_arrived(server: FakeCRM, count: int) -> list[dict]:
    """The requests the server has read, once `count` have arrived: a request the client
    sent may reach a loaded server's thread after the client has given up on it."""
    deadline = time.monotonic() + PATIENCE_MS / 1000
    while len(server.seen) < count:
        assert time.monotonic() < deadline, f"the server saw {server.seen}, not {count}"
        time.sleep(0.01)
    return server.seen


def failure(crm: HttpCRM, method: str, *args) -> ExternalError:
    with pytest.raises(ExternalError) as caught:
        call(crm, method, *args)
    assert TOKEN not in str(caught.value)
    assert caught.value.service == "crm"
    return caught.value


def test_find_customer_sends_the_token_and_reads_the_record(server):
    crm = HttpCRM(config(server))
    customer = call(crm, "find_customer", "+86 138-0000-0001")
    assert customer.kind == "customer"
    assert customer.id == "C1001"
    assert customer.get("owner") == "zhang"  # mapped from account.owner_id
    [seen] = server.seen
    assert seen["auth"] == f"Bearer {TOKEN}"
    assert seen["query"] == {"phone": ["+8613800000001"]}  # normalised, + sent as %2B


def test_not_found_is_none(server):
    crm = HttpCRM(config(server))
    assert call(crm, "find_customer", "+8613900000000") is None  # an empty list
    crm = HttpCRM(config(server))
    assert call(crm, "find", "order", {"number": "404404"}) is None  # a 404


def test_placeholders_are_url_encoded_so_values_cannot_change_the_path(server):
    crm = HttpCRM(config(server))
    assert call(crm, "find", "order", {"number": "../customers?phone=x"}) is None
    assert server.seen[0]["path"] == "/orders/..%2Fcustomers%3Fphone%3Dx"


def test_a_type_specific_operation_wins_over_the_general_one(server):
    crm = HttpCRM(config(server))
    order = call(crm, "find", "order", {"number": "20261128"})
    assert (order.kind, order.get("status")) == ("order", "shipped")
    crm = HttpCRM(config(server))
    customer = call(crm, "find", "customer", {"tier": "vip"})
    assert customer.id == "C2002"
    assert server.seen[-1]["path"] == "/search/customer"
    assert server.seen[-1]["query"] == {"tier": ["vip"]}


def test_create_update_and_log_call_send_json_bodies(server):
    crm = HttpCRM(config(server))
    ticket = call(crm, "create", "ticket", {"subject": "Call-back", "priority": 2})
    assert ticket == Record("ticket", {"id": "T-77", "ticket": {"subject": "Call-back",
                                                                "priority": 2},
                                       "source": "ccdsl ticket"})
    assert server.seen[-1]["json"] == {"ticket": {"subject": "Call-back", "priority": 2},
                                       "source": "ccdsl ticket"}
    crm = HttpCRM(config(server))
    updated = call(crm, "update", Record("customer", {"id": "C2002"}), {"language": "en-US"})
    assert (updated.id, updated.get("language")) == ("C2002", "en-US")
    assert server.seen[-1]["path"] == "/customers/C2002"
    assert server.seen[-1]["json"] == {"language": "en-US"}
    crm = HttpCRM(config(server))
    customer = Record("customer", {"id": "C1001"})
    assert call(crm, "log_call", {"customer": customer, "outcome": "agent",
                                  "wrapup": {"resolved": True}}) is None
    assert server.seen[-1]["json"] == {"customer": "C1001", "outcome": "agent",
                                       "wrapup": {"resolved": True}}


def test_owner_from_an_endpoint_or_from_the_customer(server):
    ops = {**OPERATIONS, "owner": {"url": "/customers/{id}/owner", "result": "owner"}}
    crm = HttpCRM(config(server, operations=ops))
    assert call(crm, "owner", Record("customer", {"id": "C1001"})) == "zhang"
    assert server.seen[-1]["path"] == "/customers/C1001/owner"
    # without an owner endpoint: the owner of the record's customer, found with `find`
    ops = {**OPERATIONS, "find.customer": {"url": "/search/customer?{query}",
                                           "fields": {"owner": "account.owner_id"}}}
    crm = HttpCRM(config(server, operations=ops))
    assert call(crm, "owner", Record("order", {"customer": "C2002"})) == "li"
    assert server.seen[-1]["query"] == {"id": ["C2002"]}
    crm = HttpCRM(config(server))
    assert call(crm, "owner", Record("customer", {"owner": "wang"})) == "wang"


def test_a_5xx_is_retried_and_then_succeeds(server):
    server.faults.extend([500, 503])
    crm = HttpCRM(config(server))
    assert call(crm, "find_customer", "+8613800000002").id == "C2002"
    assert len(server.seen) == 3


def test_a_5xx_that_persists_names_the_operation_and_status(server):
    server.faults.extend([500, 500, 500])
    crm = HttpCRM(config(server))
    error = failure(crm, "find_customer", "+8613800000002")
    assert "CRM find_customer" in str(error)
    assert "500" in str(error) and "after 3 attempts" in str(error)
    assert not error.timed_out


def test_a_post_is_not_repeated_after_a_5xx_or_a_dropped_connection(server):
    server.faults.append(500)
    failure(HttpCRM(config(server)), "create", "ticket", {"subject": "x"})
    assert len(server.seen) == 1
    server.faults.append("drop")
    error = failure(HttpCRM(config(server)), "create", "ticket", {"subject": "x"})
    assert "connection to the CRM failed" in str(error)
    assert len(server.seen) == 2


def test_429_is_retried_even_for_a_post(server):
    server.faults.append(429)
    crm = HttpCRM(config(server))
    assert call(crm, "create", "ticket", {"subject": "x"}).id == "T-77"
    assert len(server.seen) == 2


def test_a_dropped_connection_is_retried_for_a_lookup(server):
    server.faults.append("drop")
    crm = HttpCRM(config(server))
    assert call(crm, "find_customer", "+8613800000001").id == "C1001"
    assert len(server.seen) == 2


def test_4xx_is_not_retried(server):
    server.faults.append(403)
    error = failure(HttpCRM(config(server)), "find_customer", "+8613800000001")
    assert "403" in str(error) and "CRM find_customer" in str(error)
    assert len(server.seen) == 1


def test_a_slow_crm_times_out_once_without_retrying(server):
    server.faults.append("slow")  # only the first request: a retry would be answered
    crm = HttpCRM(config(server, timeout_ms=TIMEOUT_MS))
    started = time.monotonic()
    error = failure(crm, "find_customer", "+8613800000001")
    elapsed = time.monotonic() - started
    assert error.timed_out
    assert f"did not answer within {TIMEOUT_MS} ms" in str(error)
    assert elapsed >= TIMEOUT_MS / 1000
    assert not server.answered.is_set()  # it gave up while the answer was held
    assert len(seen_once_arrived(server, 1)) == 1


def test_a_crm_that_trickles_its_answer_times_out_as_a_whole(server):
    server.faults.append("trickle")  # each byte well within httpx's per-read timeout
    crm = HttpCRM(config(server, timeout_ms=TIMEOUT_MS))
    error = failure(crm, "find_customer", "+8613800000001")
    assert error.timed_out
    assert not server.answered.is_set()  # it gave up while the answer was trickling


def test_no_server_at_all_is_an_external_error_after_the_retries():
    port = free_port()
    crm = HttpCRM({"base_url": f"http://127.0.0.1:{port}", "token_env": "IWS_CRM_TOKEN",
                   "timeout_ms": PATIENCE_MS, "retries": 2, "backoff_ms": 5,
                   "operations": OPERATIONS})
    error = failure(crm, "find_customer", "+8613800000001")
    assert "cannot connect to the CRM after 3 attempts" in str(error)


def test_the_token_never_appears_in_an_error_even_if_the_crm_echoes_it(server):
    server.faults.append("echo-auth")
    error = failure(HttpCRM(config(server)), "find_customer", "+8613800000001")
    assert "401" in str(error)
    assert "[token]" in str(error)  # the echo is there, redacted


def test_a_missing_token_variable_is_named(server, monkeypatch):
    monkeypatch.delenv("IWS_CRM_TOKEN")
    error = failure(HttpCRM(config(server)), "find_customer", "+8613800000001")
    assert "IWS_CRM_TOKEN" in str(error) and "not set" in str(error)
    assert server.seen == []


def test_an_operation_not_configured_and_an_answer_not_json(server):
    ops = {"find_customer": {"url": "/html"}}
    crm = HttpCRM(config(server, operations=ops))
    error = failure(crm, "create", "ticket", {})
    assert "no `create` operation configured" in str(error)
    crm = HttpCRM(config(server, operations=ops))
    error = failure(crm, "find_customer", "+1")
    assert "not JSON" in str(error)


def test_config_from_toml_and_its_mistakes(tmp_path, server):
    path = tmp_path / "centre.toml"
    path.write_text(f"""
[crm]
adapter = "http"
base_url = "{server.url}/"
token_env = "IWS_CRM_TOKEN"
timeout_ms = {PATIENCE_MS}

[crm.operations.find_customer]
url = "/customers?phone={{phone}}"
result = "data"

[crm.operations."find.order"]
url = "/orders/{{number}}"
result = "order"
""", encoding="utf-8")
    loaded = load_config(path)
    assert isinstance(loaded, HttpConfig)
    assert (loaded.base_url, loaded.timeout_ms, loaded.retries) == (server.url, PATIENCE_MS, 2)
    crm = open_crm(path)
    assert call(crm, "find", "order", {"number": "20261128"}).id == "O1"

    def problem(**section) -> str:
        with pytest.raises(CrmConfigError) as caught:
            load_config({"adapter": "http", "base_url": "https://crm.example.com",
                         "operations": OPERATIONS, **section})
        return str(caught.value)

    assert "crm.operations: 'lookup' is not an operation" in problem(
        operations={"lookup": {"url": "/x"}})
    assert "must start with /" in problem(
        operations={"find_customer": {"url": "https://elsewhere.example.com/x"}})
    assert "not an Authorization header" in problem(headers={"Authorization": "Bearer x"})
    message = problem(token_env=TOKEN + "!")
    assert "NAME of an environment variable" in message and TOKEN not in message
    assert "crm.retries" in problem(retries=-1)
    assert "missing setting: 'base_url'" in str(pytest.raises(
        CrmConfigError, load_config, {"adapter": "http", "operations": OPERATIONS}).value)


def test_the_configurations_in_docs_crm_md_load():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "crm.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", doc, re.S)
    assert len(blocks) == 2
    import tomllib

    http, sqlite = (load_config(tomllib.loads(block)) for block in blocks)
    assert isinstance(http, HttpConfig)
    assert set(http.operations) == {"find_customer", "find.order", "find", "owner", "create",
                                    "update", "log_call", "recording_removed"}
    assert http.token_env == "IWS_CRM_TOKEN"
    assert sqlite.path == "ccdsl-crm.db"
