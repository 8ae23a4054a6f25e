"""The AMI link: one logged-in Asterisk Manager connection that survives drops.

Every action is answered, failed or timed out, never left hanging. Our own
asyncio code, not panoramisk's Manager: docs/asterisk.md "panoramisk" says
behaviour by behaviour why. Must not import the AGI side or the server.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ccdsl.runtime.asterisk.ami_protocol import (
    BANNER_PREFIX,
    END,
    EOL,
    MAX_MESSAGE,
    AmiError,
    AmiMessage,
    encode_action,
    ends_list,
    header_text,
    parse_message,
    starts_list,
)

log = logging.getLogger("ccdsl.ami")

OnEvent = Callable[["AmiMessage"], Any]
OnConnect = Callable[["AmiLink"], Any]


@dataclass
class _Pending:
    action: str
    future: asyncio.Future
    is_list: bool
    reply: AmiMessage | None = None
    items: list[AmiMessage] = field(default_factory=list)


class AmiLink:
    """A logged-in AMI connection that reconnects by itself.

    `start()` connects and logs in once (AmiError if Asterisk cannot be
    reached or refuses the login), runs `on_connect(link)` and from then on
    keeps the link up: after a drop it reconnects with exponential backoff
    (`backoff` = (first delay, cap) in seconds), logs in again and runs
    `on_connect` again (the owner resynchronises its state there).

    Events go to `on_event(message)` in the order they arrive (an awaitable
    it returns is scheduled); list items answering a `list_action` go to
    the caller instead. Every action has a timeout; while the link is down
    actions raise AmiError at once; a drop fails the actions waiting.
    A Ping every `ping_interval` seconds finds a dead peer that TCP would
    not report.
    """

    def __init__(self, host: str, port: int, username: str, secret: str, *,
                 on_event: OnEvent | None = None, on_connect: OnConnect | None = None,
                 backoff: tuple[float, float] = (0.5, 30.0), timeout: float = 5.0,
                 events: str | None = None, ping_interval: float | None = 20.0) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self.on_event = on_event
        self.on_connect = on_connect
        self.backoff = backoff
        self.timeout = timeout
        # the Login's Events header: None sends none (Asterisk then sends
        # every class the user may read), "off", "on" or "call,agent,..."
        self.events = events
        self.ping_interval = ping_interval
        self.version: str | None = None  # from the banner, "11.0.0"
        self.connects = 0  # successful logins so far
        self._connected = False
        self._closing = False
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task | None = None
        self._supervisor: asyncio.Task | None = None
        self._lost: asyncio.Event | None = None
        self._pending: dict[str, _Pending] = {}
        self._abandoned: set[str] = set()  # list actions that timed out
        self._counter = 0
        self._tasks: set[asyncio.Task] = set()

    def __repr__(self) -> str:  # no secret in reprs or logs
        state = "connected" if self._connected else "down"
        return f"<AmiLink {self.username}@{self.host}:{self.port} {state}>"

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    # -- life cycle ------------------------------------------------------

    async def start(self) -> None:
        if self._supervisor is not None:
            return
        self._closing = False
        await self._connect_once()
        self._supervisor = asyncio.create_task(self._supervise(), name="ami-link")

    async def close(self) -> None:
        """Log off and stop reconnecting. Waiting actions fail."""
        self._closing = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        if self._connected:
            try:
                await self._request("Logoff", {}, is_list=False, timeout=min(self.timeout, 1.0))
            except AmiError:
                pass  # closing anyway
        await self._drop_connection("AMI link closed")
        for task in list(self._tasks):
            task.cancel()

    async def _connect_once(self) -> None:
        """Connect, read the banner, log in; AmiError when any step fails."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=MAX_MESSAGE), self.timeout)
        except (OSError, TimeoutError) as exc:
            raise AmiError(f"cannot reach AMI at {self.where}: {_reason(exc)}") from None
        try:
            banner = await asyncio.wait_for(reader.readuntil(EOL), self.timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError) as exc:
            await _close(writer)
            raise AmiError(f"AMI at {self.where} sent no banner: {_reason(exc)}") from None
        if not banner.startswith(BANNER_PREFIX):
            await _close(writer)
            raise AmiError(f"{self.where} is not an Asterisk manager port "
                           f"(it sent {banner[:40]!r})")
        self.version = banner[len(BANNER_PREFIX):].strip().decode("ascii", "replace")
        self._writer = writer
        self._pending = {}
        self._abandoned = set()
        self._counter = 0
        self._lost = asyncio.Event()
        self._reader_task = asyncio.create_task(self._read_loop(reader, self._lost),
                                                name="ami-reader")
        login: dict[str, object] = {"Username": self.username, "Secret": self._secret}
        if self.events is not None:
            login["Events"] = self.events
        try:
            reply, _ = await self._request("Login", login, is_list=False, timeout=self.timeout)
        except AmiError as exc:
            await self._drop_connection("login failed")
            raise AmiError(f"AMI login at {self.where} got no answer: {exc}") from None
        if not reply.ok:
            await self._drop_connection("login refused")
            raise AmiError(f"AMI login refused for user {self.username}")
        self.connects += 1
        self._connected = True
        log.info("AMI link up: %s@%s (AMI %s)", self.username, self.where, self.version)
        await self._run_on_connect()

    async def _run_on_connect(self) -> None:
        if self.on_connect is None:
            return
        try:
            result = self.on_connect(self)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("AMI on_connect failed; the link stays up")

    async def _supervise(self) -> None:
        """Wait for the link to drop, then reconnect with backoff, forever."""
        first, cap = self.backoff
        while not self._closing:
            lost = self._lost
            pinger = asyncio.create_task(self._keepalive()) if self.ping_interval else None
            try:
                if lost is not None:
                    await lost.wait()
            finally:
                if pinger is not None:
                    pinger.cancel()
            await self._drop_connection("AMI link lost")
            delay = first
            while not self._closing:
                log.warning("AMI link to %s lost; reconnecting in %.1f s", self.where, delay)
                await asyncio.sleep(delay)
                try:
                    await self._connect_once()
                    break
                except AmiError as exc:
                    log.warning("AMI reconnect failed: %s", exc)
                except Exception:
                    # a bug must not end the reconnecting for good
                    log.exception("AMI reconnect failed unexpectedly")
                delay = min(delay * 2, cap)

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval or 0)
            if not self._connected:
                continue
            try:
                await self._request("Ping", {}, is_list=False, timeout=self.timeout)
            except AmiError as exc:
                log.warning("AMI keepalive failed (%s); dropping the link", exc)
                if self._writer is not None:
                    self._writer.transport.abort()
                return

    async def _drop_connection(self, why: str) -> None:
        self._connected = False
        writer, self._writer = self._writer, None
        reader_task, self._reader_task = self._reader_task, None
        if writer is not None:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), self.timeout)
            except (OSError, TimeoutError):
                pass  # closed as far as we are concerned
        if reader_task is not None and reader_task is not asyncio.current_task():
            reader_task.cancel()
            await asyncio.gather(reader_task, return_exceptions=True)
        self._fail_pending(why)

    def _fail_pending(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(
                    AmiError(f"{why} while waiting for the reply to {item.action}"))

    # -- actions ---------------------------------------------------------

    async def action(self, action: str, *, reply_timeout: float | None = None,
                     **headers: object) -> AmiMessage:
        """Send one action and return its reply (an Error reply is
        returned, not raised: `reply.ok`, `reply.message`). ActionID may be
        given; otherwise the link numbers actions `ccf-N` per connection.
        AmiError: link down, no reply within the timeout, bad header."""
        reply, _ = await self._request(action, headers, is_list=False,
                                       timeout=self._timeout_for(action, headers, reply_timeout))
        return reply

    async def list_action(self, action: str, *, reply_timeout: float | None = None,
                          **headers: object) -> tuple[AmiMessage, list[AmiMessage]]:
        """Send a list action (QueueStatus, CoreShowChannels, Status, ...):
        the reply and the events carrying its ActionID, up to (without)
        the `...Complete` event. A reply that starts no list (an Error)
        comes with no items."""
        return await self._request(action, headers, is_list=True,
                                   timeout=self._timeout_for(action, headers, reply_timeout))

    async def command(self, cli: str, *, reply_timeout: float | None = None) -> list[str]:
        """Run a CLI command; its `Output` lines. AmiError when Asterisk
        answers Error (unknown command), with the output as the reason."""
        reply = await self.action("Command", Command=cli, reply_timeout=reply_timeout)
        lines = reply.getlist("Output")
        if not reply.ok:
            reason = " / ".join(lines) or reply.message or "no reason given"
            raise AmiError(f"Asterisk refused the CLI command {cli!r}: {reason}")
        return lines

    def _timeout_for(self, action: str, headers: Mapping[str, object],
                     given: float | None) -> float:
        if given is not None:
            return given
        # a synchronous Originate answers only when the call is answered or
        # its Timeout (ms, default 30 s) runs out
        if action.lower() == "originate" and not _truthy(_header(headers, "Async")):
            try:
                ring_ms = float(header_text(_header(headers, "Timeout") or 30000))
            except ValueError:
                ring_ms = 30000.0
            return ring_ms / 1000 + self.timeout
        return self.timeout

    async def _request(self, action: str, headers: Mapping[str, object], *, is_list: bool,
                       timeout: float) -> tuple[AmiMessage, list[AmiMessage]]:
        writer = self._writer
        internal = action in ("Login", "Logoff")
        if writer is None or not (self._connected or internal):
            raise AmiError(f"AMI link to {self.where} is down: {action} not sent")
        headers = dict(headers)
        given_id = headers.pop("ActionID", None)
        action_id = header_text(given_id) if given_id is not None else self._next_id()
        if action_id in self._pending:
            raise AmiError(f"ActionID {action_id} is already waiting for a reply")
        data = encode_action(action, action_id, headers)
        pending = _Pending(action, asyncio.get_running_loop().create_future(), is_list)
        self._pending[action_id] = pending
        try:
            writer.write(data)
            await asyncio.wait_for(writer.drain(), timeout)
            return await asyncio.wait_for(pending.future, timeout)
        except TimeoutError:
            if is_list:
                self._abandoned.add(action_id)  # its late items are dropped
            raise AmiError(f"AMI action {action} got no reply within {timeout:g} s") from None
        except (OSError, RuntimeError) as exc:
            raise AmiError(f"AMI link to {self.where} failed sending {action}: "
                           f"{_reason(exc)}") from None
        finally:
            if self._pending.get(action_id) is pending:
                del self._pending[action_id]

    def _next_id(self) -> str:
        while True:
            self._counter += 1
            action_id = f"ccf-{self._counter}"
            if action_id not in self._pending:
                return action_id

    # -- reading ---------------------------------------------------------

    async def _read_loop(self, reader: asyncio.StreamReader, lost: asyncio.Event) -> None:
        try:
            while True:
                block = await reader.readuntil(END)
                self._dispatch(parse_message(block[:-len(END)]))
                # readuntil() does not wait while the buffer holds messages:
                # under a flood of events the calls would get no turn at all
                await asyncio.sleep(0)
        except asyncio.IncompleteReadError:
            if not self._closing:  # after our Logoff, Asterisk closing it is expected
                log.info("AMI at %s closed the connection", self.where)
        except asyncio.LimitOverrunError:
            log.error("AMI at %s sent a message over %d bytes; dropping the link",
                      self.where, MAX_MESSAGE)
        except OSError as exc:
            log.info("AMI connection to %s failed: %s", self.where, _reason(exc))
        finally:
            self._connected = False
            lost.set()
            self._fail_pending("AMI link lost")

    def _dispatch(self, message: AmiMessage) -> None:
        action_id = message.action_id
        if message.event is None and message.response is not None:
            pending = self._pending.get(action_id) if action_id is not None else None
            if pending is None or pending.reply is not None or pending.future.done():
                log.debug("AMI reply for no waiting action (ActionID %s)", action_id)
                return
            pending.reply = message
            if not pending.is_list or not starts_list(message):
                pending.future.set_result((message, []))
            return
        if action_id is not None:
            pending = self._pending.get(action_id)
            if (pending is not None and pending.is_list and pending.reply is not None
                    and not pending.future.done()):
                if ends_list(message):
                    pending.future.set_result((pending.reply, pending.items))
                else:
                    pending.items.append(message)
                return
            if action_id in self._abandoned:
                if ends_list(message):
                    self._abandoned.discard(action_id)
                return
        if message.event is not None:
            self._deliver(message)

    def _deliver(self, event: AmiMessage) -> None:
        if self.on_event is None:
            return
        try:
            result = self.on_event(event)
        except Exception:
            log.exception("AMI on_event failed for %s", event.event)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(_logged(result, event.event or ""))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except (OSError, TimeoutError):
        pass  # closed as far as we are concerned


async def _logged(awaitable: Awaitable[Any], name: str) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("AMI on_event failed for %s", name)


def _header(headers: Mapping[str, object], name: str) -> object:
    folded = name.lower()
    for key, value in headers.items():
        if key.lower() == folded:
            return value
    return None


def _truthy(value: object) -> bool:
    """Asterisk's ast_true: yes, true, y, t, 1, on."""
    if isinstance(value, bool):
        return value
    return value is not None and str(value).strip().lower() in ("yes", "true", "y", "t", "1", "on")


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- Originate, answered by its OriginateResponse -------------------------------------------

# OriginateResponse's Reason: the AST_CONTROL_* the first leg's dial ended on
# (include/asterisk/frame.h); 4 is answered. Worded to follow "the device ...".
ORIGINATE_REASONS = {
    0: "could not be rung (no such device, it is unavailable, or the channel failed)",
    1: "hung up before answering",
    3: "rang and nobody answered",
    5: "is busy",
    8: "could not be reached (the network is congested)",
}


def originate_reason(event: AmiMessage) -> str:
    """Why an OriginateResponse says Failure, in words ("rang and nobody
    answered"), from its Reason code."""
    reason = event.get("Reason") or ""
    if not reason.isdigit():
        return "gave no reason"
    return ORIGINATE_REASONS.get(int(reason), f"ended with reason {reason}")


def originate_failure(reply: AmiMessage, event: AmiMessage | None, wait_s: float, *,
                      refused: str, silent: str, failed: str) -> str | None:
    """Why an async Originate (originate()'s reply and response) did not get
    its first leg answered, in the caller's words; None when it did.
    `refused` is followed by Asterisk's refusal, `silent` by the wait,
    `failed` by what the device did (originate_reason)."""
    if not reply.ok:
        return f"{refused}: {reply.message or 'no reason'}"
    if event is None:
        return f"{silent} within {wait_s:g} s"
    if (event.get("Response") or "").lower() != "success":
        return f"{failed}: the device {originate_reason(event)}"
    return None


class OriginateResponses:
    """The OriginateResponse events a link receives, by ActionID: give
    `on_event` to the AmiLink. An async Originate's outcome comes as such an
    event (ami-actions.txt, connection D); the waiter is registered before
    the action goes out, so an answer that comes at once is not missed."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future] = {}

    def expect(self, action_id: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._waiting[action_id] = future
        return future

    def on_event(self, message: AmiMessage) -> None:
        if message.event != "OriginateResponse":
            return
        future = self._waiting.pop(message.action_id or "", None)
        if future is not None and not future.done():
            future.set_result(message)


async def originate(link: AmiLink, responses: OriginateResponses, *, wait_s: float,
                    **headers: object) -> tuple[AmiMessage, AmiMessage | None]:
    """An async Originate (the headers carry its ActionID and Async, in the
    order they are to be sent) and its OriginateResponse: (reply, response).
    The response is None when Asterisk refused the action (see reply) or
    said nothing within wait_s (the ring time plus a margin: the response
    comes when the first leg answers or gives up)."""
    if not _truthy(headers.get("Async")):
        raise ValueError("originate() is for async Originates: pass Async=true")
    action_id = str(headers["ActionID"])
    answered = responses.expect(action_id)
    reply = await link.action("Originate", **headers)
    if not reply.ok:
        return reply, None
    try:
        return reply, await asyncio.wait_for(answered, wait_s)
    except TimeoutError:
        return reply, None
