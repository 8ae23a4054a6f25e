"""Telling the CRM of a stored wrap-up (its `log_call` entry, built from the call's record) and
noting it in the store's centre_events (`wrapup_stored`); told later when the record cannot be
read just after the values were stored. Must not store or check values (wrapup.py does).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.values import to_json
from ccdsl.runtime.operations.store_errors import StoreBusy, read_or_busy

log = logging.getLogger("ccdsl.wrapup")

NOTE_FLUSH_S = 5.0  # how long a save waits for its `wrapup_stored` note to be written
UNTOLD = "not told yet: the call store could not be read after the values were stored " \
         "({}); told once it can be read"


def crm_entry(record: Mapping[str, Any], agent: str | None,
              values: Mapping[str, Any]) -> dict[str, Any]:
    """The CRM `log_call` entry of a wrap-up: the call from its record,
    the customer's id the call found, and the values."""
    def moment(text: Any) -> Any:
        try:
            return dt.datetime.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:
            return None

    return {"call_id": record.get("call_id"), "customer": record.get("customer_id"),
            "caller": record.get("caller"), "dialled": record.get("dialled"),
            "agent": agent or record.get("agent"), "started": moment(record.get("started")),
            "ended": moment(record.get("ended")), "talk_ms": record.get("talk_ms"),
            "outcome": record.get("outcome") or "", "note": "wrap-up",
            "recording": record.get("recording"), "wrapup": dict(values)}


async def tell(store, crm, call_id: str, agent: str | None, values: Mapping[str, Any],
               record: Mapping[str, Any] | None, *, wrapup_ms: int | None, source: str,
               at: dt.datetime | None, state: str | None = None) -> str:
    """Log the stored values to the CRM (when there is one and `record`, the call's, was
    read), then note them (`wrapup_stored`, with what became of the CRM's entry). Returns
    that: "logged", "none" (no CRM), "failed: REASON", or `state` when given (the entry not
    told: said as it is)."""
    if state is None:
        state = "none"
        if crm is not None and record is not None:
            try:
                await crm.log_call(crm_entry(record, agent, values))
                state = "logged"
            except (ExternalError, OSError, ValueError) as exc:
                state = f"failed: {exc}"
                log.warning("wrap-up of call %s not logged in the CRM: %s", call_id, exc)
    store.record_centre_event(source, "wrapup_stored",
                              {"agent": agent, "fields": sorted(values), "values": to_json(
                                  dict(values)), "wrapup_ms": wrapup_ms, "crm": state},
                              at or dt.datetime.now().astimezone(), call_id=call_id)
    # the note is queued: a store locked now has it written later, and holds up no one
    await asyncio.to_thread(_flush_note, store, call_id)
    log.info("wrap-up of call %s by %s stored (%s); CRM: %s", call_id, agent or "?",
             ", ".join(sorted(values)) or "no values", state)
    return state


async def not_told(store, crm, call_id: str, agent: str | None, values: Mapping[str, Any],
                   why: str, *, wrapup_ms: int | None, source: str,
                   at: dt.datetime | None) -> str:
    """Stored values whose CRM entry is given up on (`why`): said so in the log and in the
    `wrapup_stored` note ("failed: not told: WHY"), which is returned."""
    log.warning("wrap-up of call %s by %s stored, but the CRM was not told of it: %s",
                call_id, agent or "?", why)
    return await tell(store, crm, call_id, agent, values, None, wrapup_ms=wrapup_ms,
                      source=source, at=at, state=f"failed: not told: {why}")


async def tell_later(store, crm, call_id: str, agent: str | None, values: Mapping[str, Any],
                     *, wrapup_ms: int | None, source: str, at: dt.datetime | None,
                     stopping: Callable[[], bool], pause: Callable[[float], Awaitable[None]],
                     retry_s: tuple[float, float]) -> None:
    """The CRM's entry of values stored while the call's record could not be read: the record
    read again (the waits doubling from retry_s[0] to retry_s[1]) until it can be, then told
    and noted. As held saves are, it is tried once more when ccf serve stops; still not read
    then, it is said as not told, in the log and the note: the values stay stored."""
    tried = 0
    while True:
        tried += 1
        try:
            record = await asyncio.to_thread(read_or_busy, store.call, call_id)
        except StoreBusy as exc:
            if stopping():
                await not_told(store, crm, call_id, agent, values,
                               f"stopping while the call store could not be read ({exc})",
                               wrapup_ms=wrapup_ms, source=source, at=at)
                return
            delay = min(retry_s[0] * 2 ** (tried - 1), retry_s[1])
            log.warning("wrap-up of call %s by %s stored; the CRM is told once the call store "
                        "can be read (tried again in %g s): %s", call_id, agent or "?", delay, exc)
            await pause(delay)
            continue
        await tell(store, crm, call_id, agent, values, record or {"call_id": call_id},
                   wrapup_ms=wrapup_ms, source=source, at=at)
        return


def _flush_note(store, call_id: str) -> None:
    """Have the store's writer write the `wrapup_stored` note, waiting a little: the values
    are stored already, so a failure here is only logged."""
    try:
        store.flush(NOTE_FLUSH_S)
    except Exception as exc:  # noqa: BLE001 - the writer keeps the row and says why
        log.warning("the note of call %s's wrap-up not written yet: %s", call_id, exc)
