"""The faults a test block sets (`crm fails`, `crm slow 3s`, `http get URL status 503`):
a CRM that fails, times out or is slow, and an HTTP transport that answers from a table.

A test never makes a real HTTP request: a request the table has no answer for fails the
call with a message saying so. Nothing here judges a call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ccdsl import json_text
from ccdsl.runtime.core.errors import ExternalError, FlowError
from ccdsl.runtime.core.values import Record, to_json

CRM_FAULTS = ("fails", "times_out", "slow")


@dataclass(frozen=True)
class CrmFault:
    fault: str  # fails | times_out | slow
    record_type: str | None = None  # None: every CRM operation
    after_ms: int = 0  # slow: how long the CRM takes to answer


@dataclass(frozen=True)
class HttpAnswer:
    method: str  # GET | POST
    url: str
    status: int = 200
    body: Any = None  # text, or a value sent as JSON
    delay_ms: int = 0


@dataclass(frozen=True)
class Faults:
    """What a test changes in the world of its call (runtime.testing.blocks)."""

    crm: tuple[CrmFault, ...] = ()
    http: tuple[HttpAnswer, ...] = ()


def _fault_for(faults: tuple[CrmFault, ...], record_type: str | None) -> CrmFault | None:
    """The fault of a record type's operations: a line `for` that type
    before a line for every type."""
    for fault in faults:
        if fault.record_type is not None and fault.record_type == record_type:
            return fault
    return next((f for f in faults if f.record_type is None), None)


class FaultyCRM:
    """A CRM whose operations fail, time out or answer late as the test's
    `crm` fault lines say; the others are passed to the inner CRM. Time
    goes by on the call's clock, so a slow CRM costs no real time; an
    answer that would come at or after the CRM timeout is a timeout."""

    def __init__(self, inner, faults: tuple[CrmFault, ...], clock, timeout_ms: int) -> None:
        self.inner = inner
        self.faults = faults
        self.clock = clock
        self.timeout_ms = timeout_ms

    async def _gate(self, record_type: str | None) -> None:
        fault = _fault_for(self.faults, record_type)
        if fault is None:
            return
        about = f" for {record_type}" if fault.record_type else ""
        if fault.fault == "fails":
            raise ExternalError(f"the CRM is down (the test says `crm fails{about}`)",
                                service="crm")
        if fault.fault == "times_out" or fault.after_ms >= self.timeout_ms:
            await self.clock.sleep(self.timeout_ms)
            raise TimeoutError  # crm_call words it: did not answer within the timeout
        await self.clock.sleep(fault.after_ms)

    async def find_customer(self, phone: str):
        await self._gate("customer")
        return await self.inner.find_customer(phone)

    async def find(self, record_type: str, fields: dict[str, Any]):
        await self._gate(record_type)
        return await self.inner.find(record_type, fields)

    async def owner(self, record: Record):
        await self._gate(record.kind)
        return await self.inner.owner(record)

    async def create(self, record_type: str, fields: dict[str, Any]) -> Record:
        await self._gate(record_type)
        return await self.inner.create(record_type, fields)

    async def update(self, record: Record, fields: dict[str, Any]) -> Record:
        await self._gate(record.kind)
        return await self.inner.update(record, fields)

    async def log_call(self, call: dict[str, Any]) -> None:
        await self._gate(None)
        await self.inner.log_call(call)

    async def close(self) -> None:
        await self.inner.close()


def faulty_crm(crm, faults: Faults | None, clock, timeout_ms: int):
    """The CRM a call of the test sees: `crm` itself when no line faults it."""
    if faults is None or not faults.crm:
        return crm
    return FaultyCRM(crm, faults.crm, clock, timeout_ms)


class NoAnswerDeclared(FlowError):
    """An http.* request of a test that the test gives no answer for."""


def http_transport(faults: Faults | None, clock) -> httpx.AsyncBaseTransport | None:
    """The HTTP transport of a test's call: answers from its `http` lines,
    never the network. None (the real network) when not in a test."""
    if faults is None:
        return None
    return _Answers(faults.http, clock)


def unanswered(transport) -> list[str]:
    """The requests (`GET URL`) a test's transport had no answer for: each
    fails the test, even when the flow's `on error ->` took the failure."""
    return list(getattr(transport, "unanswered", ()))


class _Answers(httpx.AsyncBaseTransport):
    def __init__(self, answers: tuple[HttpAnswer, ...], clock) -> None:
        self.answers = answers
        self.clock = clock
        self.unanswered: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        method, url = request.method, str(request.url)
        answer = next((a for a in self.answers
                       if a.method == method and _same_url(a.url, url)), None)
        if answer is None:
            self.unanswered.append(f"{method} {url}")
            raise NoAnswerDeclared(
                f"{method} {url}: the test declares no answer for this request (a test makes "
                f"no real request); add `http {method.lower()} \"{url}\" status 200 body ...` "
                "before the `call` line")
        timeout_s = (request.extensions.get("timeout") or {}).get("read")
        if timeout_s is not None and answer.delay_ms >= timeout_s * 1000:
            await self.clock.sleep(int(timeout_s * 1000))
            raise httpx.ReadTimeout(f"{method} {url} (the test's answer comes after "
                                    f"{answer.delay_ms} ms)", request=request)
        await self.clock.sleep(answer.delay_ms)
        if answer.body is None or isinstance(answer.body, str):
            content = (answer.body or "").encode("utf-8")
            headers = {"content-type": "text/plain; charset=utf-8"}
        else:
            content = json_text.dumps(to_json(answer.body), ensure_ascii=False).encode("utf-8")
            headers = {"content-type": "application/json"}
        return httpx.Response(answer.status, content=content, headers=headers,
                              request=request)


def _same_url(declared: str, asked: str) -> bool:
    """The declared URL, as httpx normalises it (a bare host gains its `/`)."""
    try:
        return str(httpx.URL(declared)) == asked
    except (httpx.InvalidURL, TypeError):
        return declared == asked
