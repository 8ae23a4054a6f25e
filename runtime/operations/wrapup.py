"""Wrap-up: what an agent enters after a call, typed by the flow's fields, stored, sent to the CRM.

Every problem is reported at once, each naming its field (docs/asterisk.md "Wrap-up").
Must not import the simulator or Asterisk.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ccdsl import json_text
from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.values import Duration, TimeOfDay, to_json
from ccdsl.runtime.operations.store_errors import CallNotStored, StoreBusy, read_or_busy
from ccdsl.runtime.operations.store_wrapups import claim
from ccdsl.runtime.operations.wrapup_crm import UNTOLD, not_told, tell, tell_later
from ccdsl.runtime.operations.wrapup_outcome import Outcome, bad, not_saved, refused

log = logging.getLogger("ccdsl.wrapup")

# how text reads as a bool (case ignored)
TRUE_WORDS = frozenset({"true", "yes", "1", "y", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "n", "off"})
MAX_TEXT = 4000  # characters in one text value: a form field, not a document
# a wrap-up held for its call's end is tried this often while the store is busy (the waits
# between tries doubling from 0.5 s to 30 s), then handed back to the agent's desk
HELD_TRIES = 9
RETRY_S = (0.5, 30.0)  # the first wait between tries of a held wrap-up, and the longest
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_FIELD_ARG = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)


@dataclass(frozen=True)
class WrapupField:
    name: str
    type: str = "text"  # text, number, bool, date, datetime, time, duration, list, map, any
    optional: bool = False


@dataclass(frozen=True)
class WrapupForm:
    """The fields of a call's wrap-up, and the agent the form went to."""

    fields: tuple[WrapupField, ...]
    agent: str | None = None

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


@dataclass(frozen=True)
class Checked:
    """Values checked against a form: `values` typed (run-time values),
    `problems` one line each; ok when there are none."""

    values: dict[str, Any]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


class WrapupError(Exception):
    """A wrap-up that cannot be taken (no such call, no form)."""


class AlreadySaved(WrapupError):
    """The agent's wrap-up of the call was stored before (by another worker, or another
    save); another agent's of the same call is not."""


# ---- the form --------------------------------------------------------------------------


def form_from_ir(decl: Mapping[str, Any] | None, agent: str | None = None,
                 names: Sequence[str] | None = None) -> WrapupForm | None:
    """The form of an IR `wrapup` declaration; with `names` (the event's),
    only those fields, in the declaration's order."""
    if not decl:
        return None
    fields = tuple(WrapupField(str(f["name"]), str(f.get("type") or "any"),
                               bool(f.get("optional")))
                   for f in decl.get("fields") or ())
    if names is not None:
        wanted = set(names)
        fields = tuple(f for f in fields if f.name in wanted)
    return WrapupForm(fields, agent)


def form_from_event(data: Mapping[str, Any]) -> tuple[WrapupForm | None, list[str]]:
    """What a `wrapup_requested` event says: a complete form when its
    fields carry their types, else (None, the field names)."""
    # `form` (each field with its type) since the event carries it; `fields`
    # alone (names) in calls stored before
    fields = data.get("form") or data.get("fields") or []
    agent = data.get("agent")
    if fields and all(isinstance(f, Mapping) and f.get("type") for f in fields):
        return form_from_ir({"fields": fields}, agent), [str(f["name"]) for f in fields]
    names = [str(f.get("name")) if isinstance(f, Mapping) else str(f) for f in fields]
    return None, names


IrLookup = Callable[[str, str | None], Mapping[str, Any] | None]  # (flow, version) -> IR


def asked_of(events: Sequence[Mapping[str, Any]], agent: str | None) -> Mapping[str, Any] | None:
    """The data of the call's last `wrapup_requested` event asking `agent` (each agent whose
    talk ended is asked), else of the last asking anyone (an agent not asked, or None);
    None when no form was asked for."""
    requested = [e for e in events if e.get("kind") == "wrapup_requested"]
    theirs = [e for e in requested if (e.get("data") or {}).get("agent") == agent]
    return ((theirs or requested)[-1].get("data") or {}) if requested else None


def call_form(events: Sequence[Mapping[str, Any]], flow: str | None, version: str | None,
              ir_of: IrLookup | None, agent: str | None = None) -> WrapupForm:
    """The form of a call from its stored events (call store rows) and
    the IR of its flow: the one asked of `agent` (each agent whose talk
    ended has one), or of the agent asked last (an agent not asked, or
    None). WrapupError when the flow asked for no wrap-up or the fields'
    types cannot be known."""
    data = asked_of(events, agent)
    if data is None:
        raise WrapupError("the call has no wrap-up form: its flow declares no `wrapup` "
                          "fields, or no agent talked to the caller")
    form, names = form_from_event(data)
    if form is not None:
        return form
    ir = ir_of(flow or "", version) if ir_of is not None and flow else None
    form = form_from_ir((ir or {}).get("wrapup"), data.get("agent"), names)
    if form is None:
        raise WrapupError(f"the types of the wrap-up fields of flow {flow or '?'} are not "
                          "known: the flow it ran cannot be found")
    return form


# ---- values ----------------------------------------------------------------------------


def _shown(value: Any) -> str:
    return json_text.dumps(to_json(value), ensure_ascii=False)


def typed(field: WrapupField, value: Any) -> Any:
    """A value (JSON, or text as typed) as the field's type; ValueError
    with the message shown after the field's name."""
    kind = field.type
    if kind in ("text", "any") and isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"at most {MAX_TEXT} characters, got {len(value)}")
        return value
    if kind == "text":
        raise ValueError(f"expected text, got {_shown(value)}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        word = value.strip().lower() if isinstance(value, str) else None
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"expected true or false, got {_shown(value)}")
    if kind == "number":
        return _number(value)
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return _datetime(value)
    if kind == "time":
        match = _TIME.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"expected a time of day such as 14:30, got {_shown(value)}")
        return TimeOfDay(int(match.group(1)) * 60 + int(match.group(2)))
    if kind == "duration":
        return _duration(value)
    if kind == "list":
        parsed = _json_text(value, list)
        if not isinstance(parsed, list):
            raise ValueError(f"expected a list such as [\"a\", \"b\"], got {_shown(value)}")
        return tuple(parsed)
    if kind == "map":
        parsed = _json_text(value, dict)
        if not isinstance(parsed, dict):
            raise ValueError(f"expected a map such as {{\"a\": 1}}, got {_shown(value)}")
        return parsed
    if kind == "any":
        return value
    # a record type: the record's id, as a CRM reference
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    raise ValueError(f"expected the id of a {kind} record, got {_shown(value)}")


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number, got {_shown(value)}")
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {_shown(value)}") from None
    else:
        number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"expected a number, got {_shown(value)}")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()) if isinstance(value, str) else _no()
    except ValueError:
        raise ValueError(f"expected a date such as 2026-11-30, got {_shown(value)}") from None


def _datetime(value: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.strip()) if isinstance(value, str) else _no()
    except ValueError:
        raise ValueError("expected a date and time such as 2026-11-30T14:30+08:00, "
                         f"got {_shown(value)}") from None
    # a moment without a zone is read in this machine's zone, as the agent meant it
    return moment if moment.tzinfo is not None else moment.astimezone()


def _duration(value: Any) -> Duration:
    """`90s`, `5m`, `1.5h`, `500ms` (runtime.core.durations.parse_duration_ms, as
    tests and `ccf simulate` read durations), or milliseconds."""
    if isinstance(value, str):
        try:
            return Duration(parse_duration_ms(value))
        except InputError:
            pass
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return Duration(int(value))
    raise ValueError(f"expected a duration such as 90s or 5m, got {_shown(value)}")


def _json_text(value: Any, want: type) -> Any:
    if isinstance(value, want):
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _no() -> Any:
    raise ValueError


def check(form: WrapupForm, values: Mapping[str, Any]) -> Checked:
    """Every value typed by its field: unknown fields, missing required
    fields and values of the wrong type are problems. A null (JSON null,
    or empty text) leaves an optional field empty."""
    problems: list[str] = []
    out: dict[str, Any] = {}
    by_name = {f.name: f for f in form.fields}
    for name in values:
        if name not in by_name:
            known = ", ".join(form.names) or "none"
            problems.append(f"{name}: not a wrap-up field of this call (the fields: {known})")
    for field in form.fields:
        value = values.get(field.name)
        if isinstance(value, str) and not value.strip():
            value = None  # an empty box on the form
        if value is None:
            if not field.optional:
                problems.append(f"{field.name}: required ({field.type}), missing")
            elif field.name in values:
                out[field.name] = None
            continue
        try:
            out[field.name] = typed(field, value)
        except ValueError as exc:
            problems.append(f"{field.name}: {exc}")
    return Checked(out if not problems else {}, problems)


def parse_field_args(items: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """`--field name=value` arguments as a map; problems for malformed or
    repeated ones."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for item in items:
        match = _FIELD_ARG.match(item)
        if match is None:
            problems.append(f"--field {item!r}: write name=value, such as reason=order")
            continue
        name, value = match.groups()
        if name in values:
            problems.append(f"--field {name}: given twice")
        values[name] = value
    return values, problems


# ---- storing ---------------------------------------------------------------------------


async def store_wrapup(store, crm, call_id: str, agent: str | None, values: Mapping[str, Any],
                       *, wrapup_ms: int | None = None, source: str = "serve",
                       at: dt.datetime | None = None, once: bool = False,
                       later: Callable[..., None] | None = None) -> str:
    """Store checked values (CallStore.set_wrapup), note them in the
    store's `centre_events` (kind `wrapup_stored`) and log them to the CRM
    when there is one. Returns what became of the CRM log: "logged",
    "none" (no CRM) or "failed: REASON"; a CRM that fails never loses the
    stored wrap-up. A call keeps one wrap-up per agent: these are `agent`'s
    (None: the agent asked last). `once`: only if that agent has no values
    stored yet, as the database decides (store_wrapups.claim: another worker
    may save the same wrap-up at the same instant); AlreadySaved, and
    nothing logged, if not; CallNotStored when the store has no such call
    (pruned) and StoreBusy when it is locked too long (nothing stored).
    Once stored, the values are said as stored whatever comes next: a call
    record that cannot be read for the CRM's entry (the server gone in that
    instant) is handed to `later` (the desk's: told once it can be read)
    and said "not told yet: ..."; without `later`, "failed: not told: ..."."""
    if once:
        if not await asyncio.to_thread(claim, store, call_id, values, wrapup_ms, agent):
            raise AlreadySaved(call_id)
    else:
        store.set_wrapup(call_id, values, wrapup_ms, agent)
    said = {"wrapup_ms": wrapup_ms, "source": source, "at": at}
    if crm is None:  # the call's record is read only for the CRM's entry
        return await tell(store, crm, call_id, agent, values, None, **said)
    try:
        record = await asyncio.to_thread(read_or_busy, store.call, call_id)
    except StoreBusy as exc:  # the values are stored: only the CRM's entry waits
        if later is None:
            return await not_told(store, crm, call_id, agent, values, str(exc), **said)
        later(call_id, agent, values, said)
        return UNTOLD.format(exc)
    return await tell(store, crm, call_id, agent, values, record or {"call_id": call_id},
                      **said)


class WrapupDesk:
    """Takes wrap-ups for `ccf serve` (POST /calls/{id}/wrapup).

    A call still running (the agent's conversation is over, the caller is
    in the survey) keeps its record in the call store's memory until it
    ends, and its final record would overwrite a wrap-up written now: the
    checked values wait and are stored when the call ends (`call_ended`).

    Each agent asked for a form (every agent whose talk on the call ended: a
    transferred call asks both) saves their own wrap-up once: a second one by
    the same agent (a double click, another tab, a later re-post) is refused
    with 409, so the CRM logs each agent's wrap-up once and the saved values
    are not overwritten; another agent's save of the call is not refused.
    `saving` holds the (call, agent) wrap-ups being stored now (claimed before
    the first await, so two requests at once cannot both pass); `pending` is
    keyed the same way.
    """

    def __init__(self, store, crm, ir_of: IrLookup | None, *,
                 running: Callable[[str], bool] = lambda call_id: False,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone(),
                 on_unsaved: Callable[[str | None, str], None] | None = None,
                 held_tries: int = HELD_TRIES, retry_s: tuple[float, float] = RETRY_S) -> None:
        self.store = store
        self.crm = crm
        self.ir_of = ir_of
        self.running = running
        self.now = now
        # (agent, call) of a held wrap-up given up: its form waits on the agent's desk again
        self.on_unsaved = on_unsaved
        self.held_tries = max(1, held_tries)
        self.retry_s = retry_s
        self.pending: dict[tuple[str, str | None], tuple[dict[str, Any], int | None]] = {}
        self.saving: set[tuple[str, str | None]] = set()
        # CRM entries of stored values whose call could not be read just after (tell_later)
        self.telling: set[asyncio.Task] = set()
        self.stopping = False
        self._stopped: asyncio.Event | None = None  # made on the loop that first waits

    async def submit(self, call_id: str, body: Any) -> Outcome:
        if not isinstance(body, Mapping):
            return bad(["the body must be a JSON object: {\"agent\": ..., \"fields\": {...}}"])
        extra = sorted(set(body) - {"agent", "fields"})
        agent, fields = body.get("agent"), body.get("fields")
        problems = [f"{k}: not a wrap-up key (the keys: agent, fields)" for k in extra]
        if agent is not None and (not isinstance(agent, str) or not agent.strip()):
            problems.append(f"agent: expected an agent id, got {_shown(agent)}")
        if not isinstance(fields, Mapping):
            problems.append("fields: expected an object of the wrap-up values, such as "
                            "{\"reason\": \"order\"}")
        if problems:
            return bad(problems)
        key = (call_id, agent)
        if key in self.saving:
            return refused(call_id, "saving", "is being saved now (a second press?)", agent)
        # claimed before the first await: a second request meanwhile is refused (409)
        self.saving.add(key)
        try:
            return await self._store(call_id, agent, fields)
        finally:
            self.saving.discard(key)

    async def _store(self, call_id: str, agent: str | None,
                     fields: Mapping[str, Any]) -> Outcome:
        """submit's checks and store, the call claimed in `saving`."""
        try:  # the store's reads (a PostgreSQL round trip) off the event loop that runs calls
            record = await asyncio.to_thread(read_or_busy, self.store.call, call_id)
            if record is None:
                return Outcome(404, {"ok": False, "error": f"no call {call_id} in the call store"})
            events = await asyncio.to_thread(read_or_busy, self.store.events, call_id)
        except StoreBusy as exc:  # a lost PostgreSQL server: nothing read, nothing stored
            return not_saved(call_id, exc)
        try:
            form = call_form(events, record.get("flow"), record.get("flow_version"), self.ir_of,
                             agent)
        except WrapupError as exc:
            # during the conversation the form is not asked for yet: the agent
            # talking now fills in the form of the flow the call runs
            form = self._form_while_talking(call_id, record, events)
            if form is None:
                return bad([str(exc)])
        checked = check(form, fields)
        if not checked.ok:
            return bad(checked.problems)
        who = agent or form.agent or record.get("agent")
        wrapup_ms = self._wrapup_ms(events, who)
        body_out = {"ok": True, "call_id": call_id, "agent": who,
                    "fields": to_json(checked.values)}
        taken = self._taken(call_id, who, record)
        if taken is not None:
            return taken
        if self.running(call_id):
            self.pending[(call_id, who)] = (checked.values, wrapup_ms)
            return Outcome(200, {**body_out, "stored": "when the call ends"})
        if who != agent and (call_id, who) in self.saving:  # the same agent's, named and not
            return refused(call_id, "saving", "is being saved now (a second press?)", who)
        self.saving.add((call_id, who))
        try:
            crm = await store_wrapup(self.store, self.crm, call_id, who, checked.values,
                                     wrapup_ms=wrapup_ms, at=self.now(), once=True,
                                     later=self._tell_later)
        except AlreadySaved:  # by another worker, since the record was read
            return refused(call_id, "saved", "is already saved", who)
        except CallNotStored as exc:  # pruned since the record was read: it will never be
            # the same 404 as a call not found at the first read: to the caller it is the
            # same fact (no such call now), and `ccf wrapup` exits 2 for it, as with --store
            # `gone`: it was there when its form was shown (no use looking it up in a list)
            return Outcome(404, {"ok": False, "error": f"{exc}; nothing saved", "gone": True})
        except StoreBusy as exc:  # nothing stored, nothing logged: save again
            return not_saved(call_id, exc)
        finally:
            if who != agent:
                self.saving.discard((call_id, who))
        return Outcome(200, {**body_out, "stored": "now", "crm": crm})

    def _taken(self, call_id: str, who: str | None,
               record: Mapping[str, Any]) -> Outcome | None:
        """409 when `who`'s wrap-up of the call waits for the call's end or is
        stored (in `record`'s wrap-ups); else None."""
        if (call_id, who) in self.pending:
            return refused(call_id, "saved", "is already saved: it is stored when the call "
                            "ends", who)
        for stored in record.get("wrapups") or ():
            if stored.get("agent") == who and stored.get("values") is not None:
                return refused(call_id, "saved", "is already saved", who)
        return None

    def holds(self, call_id: str) -> bool:
        """Whether a wrap-up of the call (any agent's) waits for the call's end."""
        return any(k[0] == call_id for k in self.pending)

    async def call_ended(self, call_id: str) -> None:
        """Store the wrap-ups (one per agent) that waited for this call to end, each on its
        own: one agent's stuck save (a locked row, a slow CRM) holds up no other's."""
        held = []
        for key in [k for k in self.pending if k[0] == call_id]:
            # claimed before it leaves `pending`: a re-post while it is stored is refused
            self.saving.add(key)
            held.append((key, *self.pending.pop(key)))
        await asyncio.gather(*(self._held(*one) for one in held))

    def stop(self) -> None:
        """`ccf serve` is stopping: a held wrap-up waiting to be tried again is tried once
        more now, and given up if the store is still busy. The store keeps its form unsaved,
        so the desk rebuilt at the next start shows it (console/desk_wrapups.rebuild)."""
        self.stopping = True
        if self._stopped is not None:
            self._stopped.set()

    async def _held(self, key: tuple[str, str | None], values: dict[str, Any],
                    wrapup_ms: int | None) -> None:
        """Store one agent's wrap-up that waited for the call's end (claimed in `saving`).
        While the store is busy it is tried again, `held_tries` times in all with doubling
        waits; then, or when the desk stops, it is given up: nothing stored, nothing logged,
        and the form, still unsaved in the store, waits on the agent's desk again."""
        call_id, who = key
        why = None
        try:
            for tried in range(1, self.held_tries + 1):
                try:
                    await store_wrapup(self.store, self.crm, call_id, who, values,
                                       wrapup_ms=wrapup_ms, at=self.now(), once=True,
                                       later=self._tell_later)
                    return
                except AlreadySaved:
                    log.warning("wrap-up of call %s by %s not stored: another save of it came "
                                "first (another worker) while the call ran", call_id, who or "?")
                    return
                except CallNotStored as exc:
                    log.warning("wrap-up of call %s by %s not stored: %s; nothing saved",
                                call_id, who or "?", exc)
                    return
                except StoreBusy as exc:
                    if self.stopping:
                        why = (f": stopping while {exc}; the store keeps its form unsaved, "
                               "back on the agent's desk at the next start")
                        return
                    if tried == self.held_tries:
                        why = f" after {tried} tries: {exc}"
                        return
                    delay = min(self.retry_s[0] * 2 ** (tried - 1), self.retry_s[1])
                    log.warning("wrap-up of call %s by %s not stored yet (tried again in %g "
                                "s): %s", call_id, who or "?", delay, exc)
                    await self._pause(delay)
        except Exception as exc:  # noqa: BLE001 - not lost: handed back, and said why
            log.exception("wrap-up of call %s by %s failed", call_id, who or "?")
            why = f": {type(exc).__name__}: {exc}"
        finally:
            self.saving.discard(key)
            if why is not None:
                self._given_up(key, why)

    def _tell_later(self, call_id: str, who: str | None, values: Mapping[str, Any],
                    said: dict[str, Any]) -> None:
        """The CRM's entry of stored values, told once the call can be read (tell_later), in a
        task of the loop that HeldSaves waits for at a stop."""
        task = asyncio.get_running_loop().create_task(tell_later(
            self.store, self.crm, call_id, who, values, **said, pause=self._pause,
            stopping=lambda: self.stopping, retry_s=self.retry_s))
        self.telling.add(task)
        task.add_done_callback(self.telling.discard)

    async def _pause(self, delay: float) -> None:
        """Wait `delay` seconds, or until the desk stops."""
        if self._stopped is None:  # stop() before this cannot be: no await since the check
            self._stopped = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), delay)

    def _given_up(self, key: tuple[str, str | None], why: str) -> None:
        call_id, who = key
        again = "" if self.stopping else "; its form waits on the agent's desk again: save it again"
        log.warning("wrap-up of call %s by %s not saved%s%s", call_id, who or "?", why, again)
        if self.on_unsaved is not None:
            self.on_unsaved(who, call_id)

    def _form_while_talking(self, call_id: str, record: Mapping[str, Any],
                            events: Sequence[Mapping[str, Any]]) -> WrapupForm | None:
        """The running flow's form, for the agent who answered, while the call runs."""
        if not self.running(call_id) or self.ir_of is None or not record.get("flow"):
            return None
        answered = [e for e in events if e.get("kind") == "agent_answered"]
        if not answered:
            return None
        ir = self.ir_of(record["flow"], record.get("flow_version")) or {}
        return form_from_ir(ir.get("wrapup"), (answered[-1].get("data") or {}).get("agent"))

    def _wrapup_ms(self, events: Sequence[Mapping[str, Any]],
                   who: str | None = None) -> int | None:
        """From the end of the agent's conversation (`who`'s last) to now: the
        wrap-up part of the handling time. `events`: the store's events() of
        the call, which see the rows its writer still holds (a locked file, the
        last 250 ms), unlike a query of the file."""
        ended = [e for e in events if e["kind"] == "conversation_ended"]
        ended = [e for e in ended if (e.get("data") or {}).get("agent") == who] or ended
        if not ended:
            return None
        return max(0, int(self.now().timestamp() * 1000) - int(ended[-1]["at_ms"]))
