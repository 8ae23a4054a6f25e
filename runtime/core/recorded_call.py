"""The end of a recorded call: log it to the customer's CRM record if the flow did not.

Part of the interpreter core (it runs after `on hangup`); must not import the call store.
A flow that records but never logs would leave the recording out of the
customer's history, so the interpreter logs it for the flow (docs/runtime.md).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ccdsl.runtime.core.builtins.external import crm_call
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.values import Record

if TYPE_CHECKING:
    from ccdsl.runtime.core.call import CallRuntime

AUTO_NOTE = "recorded call"


async def log_recorded_call(rt: CallRuntime, outcome: str) -> None:
    """Log a recorded call the flow did not log with its last recording to
    the customer's CRM record (module doc). Never raises for the CRM."""
    if not rt.recordings:
        return
    last = rt.recordings[-1]
    if last in rt.crm_logged:
        return
    customer = rt.crm_customer
    phone = rt.info.caller_number
    crm = rt.services.crm
    if customer is None and not rt.crm_asked and phone:
        try:
            customer = await crm_call(rt, "customer", {"phone": phone, "automatic": True},
                                      lambda: crm.find_customer(phone), None)
        except ExternalError:
            return  # the crm_query event says why
    if not isinstance(customer, Record) or customer.id is None:
        return
    entry = {**rt.call_log(), "customer": customer.id, "note": AUTO_NOTE, "outcome": outcome}
    shown = {"customer": customer, "outcome": outcome, "recording": os.path.basename(last),
             "automatic": True}
    try:
        await crm_call(rt, "log_call", shown, lambda: crm.log_call(entry), None)
    except ExternalError:
        return
    rt.crm_logged.add(last)
