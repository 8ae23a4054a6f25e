"""A real CRM over HTTP: each CRM operation is one request, mapped by HttpConfig (docs/crm.md).

Never lets the token into a message (every error text is redacted first), and never
retries a request that timed out waiting for its answer.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from ccdsl import json_text
from ccdsl.runtime.core.crm.codec import normalise_phone
from ccdsl.runtime.core.crm.config import (
    PLACEHOLDER,
    CrmConfigError,
    Endpoint,
    HttpConfig,
    load_config,
    removed_args,
)
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.json_answer import read_json
from ccdsl.runtime.core.values import Record, to_json

LOOKUPS = ("find_customer", "find", "owner")
DEFAULT_BODY = {"create": "{fields}", "update": "{fields}", "log_call": "{call}",
                "recording_removed": {"call_id": "{call_id}", "file": "{file}", "kind": "{kind}",
                                      "removed": "{removed}"}}


class CrmAnswered(ExternalError):
    """The CRM answered, but with an error (a refusing status, an answer that cannot be read):
    unlike a timeout or a failed connection, it is up and said no."""


class HttpCRM:
    """runtime.core.crm.base.CRM over a real CRM's HTTP API."""

    def __init__(self, config: HttpConfig | Mapping[str, Any]) -> None:
        if not isinstance(config, HttpConfig):
            loaded = load_config({**config, "adapter": "http"})
            if not isinstance(loaded, HttpConfig):
                raise CrmConfigError("HttpCRM needs an HTTP CRM configuration")
            config = loaded
        self.config = config
        self._client: httpx.AsyncClient | None = None

    # -- the CRM interface -----------------------------------------------------

    async def find_customer(self, phone: str) -> Record | None:
        args = {"phone": normalise_phone(phone)}
        data = await self._call("find_customer", "customer", args)
        return self._record("find_customer", "customer", data)

    async def find(self, record_type: str, fields: dict[str, Any]) -> Record | None:
        plain = {name: to_json(value) for name, value in fields.items()}
        args = {**plain, "type": record_type, "fields": plain,
                "query": urlencode({k: _text(v) for k, v in plain.items()})}
        data = await self._call("find", record_type, args)
        return self._record("find", record_type, data)

    async def owner(self, record: Record) -> str | None:
        if self._endpoint("owner", record.kind) is not None:
            args = {**to_json(record.fields), "type": record.kind, "id": to_json(record.id)}
            found = _one(await self._call("owner", record.kind, args))
            if isinstance(found, Mapping):
                found = found.get("id")
            return None if found is None else str(found)
        # no owner endpoint: the record's own `owner`, or its customer's
        if record.get("owner") is not None:
            return str(record.get("owner"))
        ref = record.get("customer")
        ref_id = ref.id if isinstance(ref, Record) else ref
        if record.kind == "customer" or ref_id is None:
            return None
        customer = await self.find("customer", {"id": ref_id})
        owner = customer.get("owner") if customer else None
        return None if owner is None else str(owner)

    async def create(self, record_type: str, fields: dict[str, Any]) -> Record:
        plain = {name: to_json(value) for name, value in fields.items()}
        data = await self._call("create", record_type, {**plain, "type": record_type,
                                                        "fields": plain})
        return self._record("create", record_type, data) or Record(record_type, dict(fields))

    async def update(self, record: Record, fields: dict[str, Any]) -> Record:
        plain = {name: to_json(value) for name, value in fields.items()}
        args = {**plain, "type": record.kind, "id": to_json(record.id), "fields": plain}
        data = await self._call("update", record.kind, args)
        return (self._record("update", record.kind, data)
                or Record(record.kind, {**record.fields, **fields}))

    async def log_call(self, call: dict[str, Any]) -> None:
        plain = to_json(call)
        customer = call.get("customer")
        plain["customer"] = to_json(customer.id if isinstance(customer, Record) else customer)
        await self._call("log_call", "call", {**plain, "call": plain})

    def tells_removed(self, kind: str) -> bool:
        """Whether a `recording_removed` operation is configured for this kind of file."""
        return self._endpoint("recording_removed", kind) is not None

    async def recording_removed(self, call_id: str, file: str, kind: str,
                                removed_at: str) -> None:
        """Tell the CRM that retention removed the `kind` (recording|voicemail) file of the
        call at `removed_at` (ISO 8601): a link it keeps to the file now leads to a 410.
        Only the file's base name goes out, never where the server keeps it."""
        await self._call("recording_removed", kind,
                         removed_args(call_id, file, kind, removed_at))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- one request -------------------------------------------------------------

    def _endpoint(self, operation: str, record_type: str) -> Endpoint | None:
        ops = self.config.operations
        return ops.get(f"{operation}.{record_type}") or ops.get(operation)

    async def _call(self, operation: str, record_type: str, args: Mapping[str, Any]) -> Any:
        """The JSON at the endpoint's result path (None for a 404 on a
        look-up), retrying as the module docstring says."""
        endpoint = self._endpoint(operation, record_type)
        typed = operation in ("find", "create", "update", "recording_removed")
        name = f"CRM {operation}" + (f" ({record_type})" if typed else "")
        if endpoint is None:
            raise ExternalError(f"{name}: the HTTP CRM has no `{operation}` operation "
                                "configured (crm.operations)", service="crm")
        url = _fill_url(name, endpoint.url, args)
        body = endpoint.body if endpoint.body is not None else DEFAULT_BODY.get(operation)
        payload = None if body is None else _fill_body(name, body, args)
        headers = self._auth(name)
        attempts = 1 + self.config.retries
        attempt = 0
        while True:
            attempt += 1
            last = attempt == attempts
            response = None
            try:
                # httpx's timeout bounds each phase (connect, each read); this
                # bounds the whole request, for a CRM that trickles its answer
                async with asyncio.timeout(self.config.timeout_ms / 1000):
                    response = await self._http().request(
                        endpoint.method, url, json=payload, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # the request never reached the CRM: always safe to try again
                if last:
                    raise self._error(f"{name}: cannot connect to the CRM "
                                      f"after {attempts} attempts: {exc}") from None
            except (httpx.TimeoutException, TimeoutError) as exc:
                raise self._error(
                    f"{name}: the CRM did not answer within {self.config.timeout_ms} ms "
                    f"({type(exc).__name__})", timed_out=True) from None
            except httpx.TransportError as exc:
                if last or not endpoint.retry_safe:
                    raise self._error(f"{name}: the connection to the CRM failed: "
                                      f"{type(exc).__name__}: {exc}") from None
            except httpx.HTTPError as exc:
                raise self._error(f"{name}: {type(exc).__name__}: {exc}") from None
            if response is not None:
                status = response.status_code
                if status == 404 and operation in LOOKUPS:
                    return None
                if 200 <= status < 300:
                    return _path(_json(name, response), endpoint.result)
                retry = status == 429 or (status >= 500 and endpoint.retry_safe)
                if last or not retry:
                    tries = f" after {attempts} attempts" if retry else ""
                    raise CrmAnswered(self._redact(
                        f"{name}: the CRM answered {status} "
                        f"{response.reason_phrase}{tries}{_excerpt(response)}"), service="crm")
            await asyncio.sleep(self._backoff(attempt, response))

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.config.base_url,
                timeout=httpx.Timeout(self.config.timeout_ms / 1000),
                headers={"Accept": "application/json", "User-Agent": "ccdsl",
                         **self.config.headers},
                follow_redirects=False,  # a redirect could carry the token elsewhere
            )
        return self._client

    def token_missing(self) -> str | None:
        """Why no request can carry the token (token_env names a variable that is not set);
        None: there is one, or none is configured. Lets work that cannot be undone ask first."""
        env = self.config.token_env
        if env and not os.environ.get(env):
            return (f"the environment variable {env} (crm.token_env) is not set, so there is "
                    "no token for the CRM")
        return None

    def _auth(self, name: str) -> dict[str, str]:
        missing = self.token_missing()
        if missing is not None:
            raise ExternalError(f"{name}: {missing}", service="crm")
        env = self.config.token_env
        return {"Authorization": f"Bearer {os.environ[env]}"} if env else {}

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        delay = self.config.backoff_ms / 1000 * 2 ** (attempt - 1)
        after = response.headers.get("Retry-After", "") if response is not None else ""
        if after.isdigit():
            # the CRM says when; never longer than one request's timeout
            delay = max(delay, min(float(after), self.config.timeout_ms / 1000))
        return delay

    def _error(self, message: str, *, timed_out: bool = False) -> ExternalError:
        return ExternalError(self._redact(message), service="crm", timed_out=timed_out)

    def _redact(self, text: str) -> str:
        token = os.environ.get(self.config.token_env or "") if self.config.token_env else None
        return text.replace(token, "[token]") if token else text

    def _record(self, operation: str, record_type: str, data: Any) -> Record | None:
        data = _one(data)
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise CrmAnswered(self._redact(
                f"CRM {operation}: expected a record (a JSON object) in the answer, found "
                f"{type(data).__name__}"), service="crm")
        endpoint = self._endpoint(operation, record_type)
        fields = dict(data)
        for ccf_name, path in (endpoint.fields if endpoint else {}).items():
            fields[ccf_name] = _path(data, path)
        return Record(record_type, {k: tuple(v) if isinstance(v, list) else v
                                    for k, v in fields.items() if v is not None})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json_text.dumps(value, ensure_ascii=False)
    return str(value)


def _fill_url(name: str, template: str, args: Mapping[str, Any]) -> str:
    def one(match: re.Match) -> str:
        key = match.group(1)
        if key not in args:
            raise ExternalError(f"{name}: the URL template {template!r} needs {{{key}}}, "
                                "which this call does not have", service="crm")
        if key == "query":
            return str(args[key])  # already a query string
        return quote(_text(args[key]), safe="")

    return PLACEHOLDER.sub(one, template)


def _fill_body(name: str, template: Any, args: Mapping[str, Any]) -> Any:
    if isinstance(template, Mapping):
        return {key: _fill_body(name, value, args) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill_body(name, value, args) for value in template]
    if not isinstance(template, str):
        return template
    whole = PLACEHOLDER.fullmatch(template)
    if whole:
        return args.get(whole.group(1))

    def one(match: re.Match) -> str:
        return _text(args.get(match.group(1)))

    return PLACEHOLDER.sub(one, template)


def _json(name: str, response: httpx.Response) -> Any:
    if not response.content.strip():
        return None  # 204, or a 200 with nothing to say
    # one reading with http.get's: not JSON, too deep, or a number a flow cannot hold
    data, problem = read_json(response.content)
    if problem is not None:
        raise CrmAnswered(f"{name}: the CRM answered {response.status_code} with {problem}",
                          service="crm")
    return data


def _path(data: Any, path: str) -> Any:
    """`data.customer`, `items.0.owner`; "" is the whole value. A step that
    is not there gives None."""
    for step in filter(None, path.split(".")):
        if isinstance(data, Mapping):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit():
            data = data[int(step)] if int(step) < len(data) else None
        else:
            return None
    return data


def _one(data: Any) -> Any:
    """A search endpoint answers with a list: its first item is the record."""
    if isinstance(data, list):
        return data[0] if data else None
    return data


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return f": {text[:200]}" if text else ""
