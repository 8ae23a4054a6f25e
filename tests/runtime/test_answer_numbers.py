"""A number in a JSON answer is held or refused alike whether a flow's `http.get` or the HTTP
CRM read it (runtime/core/json_answer.py), against a real HTTP server on 127.0.0.1: what a
flow can hold is taken by both, and what it cannot is refused by both in the same words."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from http_stand_in import JsonHandler, serving
from scripted_channel import History, ScriptedChannel, compile_flow

from ccdsl.runtime.core.builtins import implementations as builtins_impl
from ccdsl.runtime.core.call import CallRuntime
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.http import HttpCRM
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.events import EventList
from ccdsl.runtime.core.interpreter import OPS
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.operations.trace import describe
from ccdsl.runtime.sim.centre import SimCentre

# the number as the answer writes it -> what a flow gets (None: refused)
HELD = {"2**70": (b"1180591620717411303424", 2**70),
        "10**15": (b"1000000000000000", 10**15),
        "-10**15": (b"-1000000000000000", -10**15),
        "1e308": (b"1e308", 1e308)}
REFUSED = {"1e400": (b"1e400", "a number too large (past about 1.8e308) is not a finite number"),
           "-Infinity": (b"-Infinity",
                         "a number too large (past about 1.8e308) is not a finite number"),
           "NaN": (b"NaN", "NaN is not a finite number"),
           "10**400": (b"1" + b"0" * 400, "a whole number of 401 digits is too large (numbers "
                                          "run up to about 1.8e308)"),
           # past Python's digit limit the decoder itself refuses it: still a number, not
           # "a body that is not JSON"
           "10**5000": (b"1" + b"0" * 5000, "a whole number of more than 4300 digits is too "
                                            "large (numbers run up to about 1.8e308)")}
ANSWERS = {name: text for name, (text, _) in {**HELD, **REFUSED}.items()}

FLOW = """\
flow n:
  languages en-US

on start:
  hangup
"""


class Answers(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's spelling
        name = self.path.rsplit("/", 1)[-1].replace("%2A", "*")
        self.send_json(200, b'{"id": "O1", "n": ' + ANSWERS[name] + b"}")


@pytest.fixture(scope="module")
def server():
    with serving(Answers) as port:
        yield f"http://127.0.0.1:{port}"


def http_get(tmp_path, url: str):
    """What a flow's http.get(url) gives, and the request's event."""
    clock = VirtualClock(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    services = Services(clock=clock, crm=SqliteCRM(":memory:"), centre=SimCentre([]),
                        history=History(), sink=EventList(), config=RuntimeConfig())
    rt = CallRuntime(compile_flow(tmp_path, FLOW), ScriptedChannel(clock), services, OPS)
    reply = asyncio.run(builtins_impl.call(rt, "http.get", [url], {}, {"line": 1}))
    [event] = services.sink.of_kind("http_request")
    return reply, event


def crm_find(server: str, name: str):
    crm = HttpCRM({"adapter": "http", "base_url": server, "timeout_ms": 30_000,
                   "operations": {"find.order": {"url": "/n/{number}"}}})

    async def go():
        try:
            return await crm.find("order", {"number": name})
        finally:
            await crm.close()

    return asyncio.run(go())


@pytest.mark.parametrize("name", sorted(HELD))
def test_a_number_a_flow_can_hold_is_taken_by_both(name, server, tmp_path):
    _, number = HELD[name]
    reply, event = http_get(tmp_path, f"{server}/n/{name}")
    assert reply.get("json")["n"] == number
    assert type(reply.get("json")["n"]) is type(number)
    assert "json_problem" not in event.data
    assert crm_find(server, name).get("n") == number


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_number_a_flow_cannot_hold_is_refused_by_both_in_the_same_words(name, server,
                                                                         tmp_path):
    _, problem = REFUSED[name]
    words = f"a number a flow cannot hold: {problem}"
    reply, event = http_get(tmp_path, f"{server}/n/{name}")
    # http.get: any answer is a response; its json is null, and the trace says why
    assert reply.get("status") == 200 and reply.get("json") is None
    assert ANSWERS[name].decode() in reply.get("body")
    assert event.data["json_problem"] == words
    assert describe("http_request", event.data).endswith(f"-> 200 (json null: {words})")
    # the CRM: an answer it cannot use is an error the flow's `on error` takes
    with pytest.raises(ExternalError) as caught:
        crm_find(server, name)
    assert str(caught.value) == f"CRM find (order): the CRM answered 200 with {words}"
    assert caught.value.service == "crm"
