"""The builtins that leave the switch: the CRM (`crm.*`) and HTTP
(`http.*`). Each call has a timeout, turns any failure into ExternalError
and emits an event (crm_query, http_request) with its timing and a summary
of its result. Registered in runtime/core/builtins/implementations.py.
Must not import the interpreter or the ops.
"""

from __future__ import annotations

import asyncio
import os
import time
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

import httpx

from ccdsl import json_text
from ccdsl.runtime.core.builtins.context import BuiltinContext
from ccdsl.runtime.core.errors import ExternalError, FlowError
from ccdsl.runtime.core.evaluate import kind_of
from ccdsl.runtime.core.json_answer import NOT_JSON, read_json
from ccdsl.runtime.core.values import (
    Duration,
    Record,
    to_json,
    to_text,
)


def text_arg(value: Any, what: str, loc: dict | None) -> str:
    """A builtin's argument that must be text (builtins_impl uses it too)."""
    if not isinstance(value, str):
        raise FlowError(f"{what} must be text, not {kind_of(value)}", loc)
    return value


SUMMARY_CHARS = 200  # a summary's JSON text is at most this long


def summary(value: Any) -> Any:
    """A short JSON form of a result for an event: a record by kind and id;
    a value whose JSON text is longer than SUMMARY_CHARS, that text cut
    short with "...".

    Most values summarised (a variable's value, a CRM argument) are short
    texts, numbers and nulls, whose JSON length is known without encoding
    them: only other values are encoded to measure them."""
    if value is None or value is True or value is False:
        return value
    kind = type(value)
    if kind is str:
        # a text's JSON is the text in quotes, longer only by escapes (of
        # quotes, backslashes and control characters, which isprintable rules out)
        if len(value) <= SUMMARY_CHARS - 2 and value.isprintable() \
                and '"' not in value and "\\" not in value:
            return value
    elif kind is int:
        if -10 ** 15 < value < 10 ** 15:
            return value
    elif isinstance(value, Record):
        return {"kind": value.kind, "id": to_json(value.id)}
    plain = to_json(value)
    text = json_text.dumps(plain, ensure_ascii=False)
    return plain if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 3] + "..."


# -- the deadline of an external call ----------------------------------------------------


async def within(operation: Awaitable[Any], deadline: float) -> Any:
    """Await `operation`, failing with TimeoutError if it is still waiting
    at `deadline` (the event loop's time): what `asyncio.timeout_at` does,
    with its timer armed only when the operation first waits.

    Why: a timer can only fire while the operation waits, and an operation
    that answers without waiting (the SQLite CRM, a look-up in a local file)
    never does, yet arming and cancelling the timer costs more than such a
    look-up (and wait_for, a Task per call, more still). So the operation's
    first step runs here; if it finishes, that is its answer; if it waits,
    the rest runs under a timeout with the same deadline, so an operation
    that waits is bounded exactly as before."""
    if not isinstance(operation, types.CoroutineType):
        async with asyncio.timeout_at(deadline):
            return await operation
    try:
        waiting_on = operation.send(None)
    except StopIteration as done:
        return done.value
    async with asyncio.timeout_at(deadline):
        return await _go_on(operation, waiting_on)


@types.coroutine
def _go_on(operation: Coroutine[Any, Any, Any], waiting_on: Any) -> Generator[Any, Any, Any]:
    """The rest of a coroutine whose first step has run and yielded
    `waiting_on` (a future, to the task): what `await` would do from there
    (PEP 380 delegation), passing the task's resumptions and exceptions,
    a cancellation included, into the operation."""
    while True:
        try:
            sent = yield waiting_on
        except GeneratorExit:
            operation.close()
            raise
        except BaseException as exc:  # noqa: BLE001 - delivered to the operation
            try:
                waiting_on = operation.throw(exc)
            except StopIteration as done:
                return done.value
        else:
            try:
                waiting_on = operation.send(sent)
            except StopIteration as done:
                return done.value


# -- the CRM ------------------------------------------------------------------------------


async def crm_call(ctx: BuiltinContext, operation: str, args: dict,
                   make: Callable[[], Awaitable[Any]], loc: dict | None) -> Any:
    """Run one CRM operation under the configured timeout and report it as
    a crm_query event, whether it answered, failed or timed out."""
    timeout_ms = ctx.services.config.crm_timeout_ms
    started = time.perf_counter()
    result: Any = None
    error: str | None = None
    try:
        result = await within(make(), asyncio.get_running_loop().time() + timeout_ms / 1000)
        if operation == "customer":
            ctx.crm_asked = True
        if (ctx.crm_customer is None and type(result) is Record
                and result.kind == "customer"):
            ctx.crm_customer = result  # the call store's rule for calls.customer_id too
        return result
    except TimeoutError as err:
        error = f"the CRM did not answer {operation} within {timeout_ms} ms"
        raise ExternalError(error, service="crm", timed_out=True) from err
    except ExternalError as err:
        error = str(err)
        raise
    except Exception as err:  # an adapter's own failure is a CRM failure, not a crash
        error = f"the CRM failed on {operation}: {err}"
        raise ExternalError(error, service="crm") from err
    finally:
        ctx.emit("crm_query", {
            "operation": operation, "args": {k: summary(v) for k, v in args.items()},
            "result": None if error else summary(result),
            "ms": round((time.perf_counter() - started) * 1000, 3), "error": error,
        }, loc)


def _record_type(value: Any, loc: dict | None) -> str:
    name = text_arg(value, "a record type", loc)
    return name.rsplit(".", 1)[-1]  # `orders.order` declares the CRM's `order`


async def crm_customer(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    phone = a["phone"]
    if phone is None:
        return None
    phone = text_arg(phone, "a phone number", loc)
    return await crm_call(ctx, "customer", {"phone": phone},
                          lambda: ctx.services.crm.find_customer(phone), loc)


async def _crm_typed(ctx: BuiltinContext, operation: str, a: dict, loc: dict | None) -> Any:
    """crm.find and crm.create: an operation on a record type and fields,
    the CRM adapter's method of the same name."""
    kind, fields = _record_type(a["type"], loc), a["fields"]
    return await crm_call(ctx, operation, {"type": kind, **fields},
                          lambda: getattr(ctx.services.crm, operation)(kind, fields), loc)


async def crm_find(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return await _crm_typed(ctx, "find", a, loc)


async def crm_owner(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    customer = a["customer"]
    if customer is None:
        return None  # an unknown caller has no owner; no need to ask
    if not isinstance(customer, Record):
        raise FlowError(f"crm.owner needs a customer record, not {kind_of(customer)}", loc)
    return await crm_call(ctx, "owner", {"customer": customer},
                          lambda: ctx.services.crm.owner(customer), loc)


async def crm_create(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return await _crm_typed(ctx, "create", a, loc)


async def crm_update(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    record, fields = a["record"], a["fields"]
    if not isinstance(record, Record):
        raise FlowError(f"crm.update needs a CRM record, not {kind_of(record)}", loc)
    return await crm_call(ctx, "update", {"record": record, **fields},
                          lambda: ctx.services.crm.update(record, fields), loc)


async def crm_log_call(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    customer = a.get("customer")
    if customer is not None and not isinstance(customer, Record):
        raise FlowError(f"crm.log_call needs a customer record, not {kind_of(customer)}", loc)
    entry = {**ctx.call_log(), "customer": customer.id if customer else None,
             "note": to_text(a.get("note") or ""), "outcome": to_text(a.get("outcome") or "")}
    shown = {"customer": customer, "outcome": entry["outcome"]}
    if entry.get("recording"):
        shown["recording"] = os.path.basename(entry["recording"])
    if "wrapup" in entry:
        shown["wrapup"] = entry["wrapup"]
    await crm_call(ctx, "log_call", shown, lambda: ctx.services.crm.log_call(entry), loc)
    ctx.crm_logged.add(entry.get("recording"))  # only once the CRM took it
    return None


# -- HTTP ---------------------------------------------------------------------------------


def _from_json(value: Any) -> Any:
    """JSON as language values: arrays become lists (tuples)."""
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _from_json(v) for k, v in value.items()}
    return value


def _parsed_json(reply: httpx.Response) -> tuple[Any, str | None]:
    """The body as JSON language values, and None; or None (the response's `json`) and,
    for a body that is JSON but no value a flow can hold, why: the words the HTTP CRM
    fails with (json_answer.read_json), which the request's event keeps."""
    value, problem = read_json(reply.content)
    if problem is not None:
        return None, None if problem == NOT_JSON else problem
    return _from_json(value), None


async def _http(ctx: BuiltinContext, method: str, a: dict, loc: dict | None) -> Any:
    url = text_arg(a["url"], "a URL", loc)
    timeout = a.get("timeout")
    if timeout is not None and not isinstance(timeout, Duration):
        raise FlowError(f"the timeout must be a duration, not {kind_of(timeout)}", loc)
    timeout_ms = timeout.ms if timeout is not None else ctx.services.config.http_timeout_ms
    headers = {str(k): to_text(v) for k, v in (a.get("headers") or {}).items()}
    request: dict[str, Any] = {"headers": headers}
    body = a.get("body")
    if method == "POST" and body is not None:
        if isinstance(body, str):
            request["content"] = body.encode("utf-8")
        else:
            request["json"] = to_json(body)
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    json_problem: str | None = None
    try:
        async with httpx.AsyncClient(timeout=timeout_ms / 1000,
                                     transport=ctx.services.http_transport) as client:
            reply = await asyncio.wait_for(client.request(method, url, **request),
                                           timeout_ms / 1000)
        status = reply.status_code
        parsed, json_problem = _parsed_json(reply)
        return Record("response", {"status": status, "body": reply.text, "json": parsed})
    except (TimeoutError, httpx.TimeoutException) as err:
        error = f"{method} {url} did not answer within {timeout_ms} ms"
        raise ExternalError(error, service="http", timed_out=True) from err
    except (httpx.HTTPError, OSError, ValueError) as err:
        error = f"{method} {url} failed: {err or type(err).__name__}"
        raise ExternalError(error, service="http") from err
    except FlowError as err:  # a test's transport with no answer for this request
        error = str(err)
        raise FlowError(error, err.loc or loc) from None
    finally:
        # headers stay out of the event: they may carry tokens
        data = {"method": method, "url": url, "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 3), "error": error}
        if json_problem is not None:  # why `json` is null though the body is JSON
            data["json_problem"] = json_problem
        ctx.emit("http_request", data, loc)


async def http_get(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return await _http(ctx, "GET", a, loc)


async def http_post(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return await _http(ctx, "POST", a, loc)
