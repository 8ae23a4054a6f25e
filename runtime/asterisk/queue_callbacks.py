"""ccf serve's in-queue call-backs on Asterisk: the dialler given the AMI mirror's agents
and AsteriskControl.callback (the AMI Originate of `ccf callback`).

Wiring only: must not decide turns or retries (runtime/operations/callback_dialler.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.clock import Clock
from ccdsl.runtime.operations.callback_dialler import CallbackDialler, QueueLine
from ccdsl.runtime.operations.callback_policy import CallbackPolicy
from ccdsl.runtime.operations.callback_rows import CallbackRows, Request
from ccdsl.runtime.operations.centre_control import ControlError
from ccdsl.runtime.operations.store_runs import this_process


def asterisk_dialler(store_path: str, policy: CallbackPolicy, line: QueueLine, *,
                     agents: Callable[[], list[Agent]], control: Any,
                     ami_up: Callable[[], Any], clock: Clock) -> CallbackDialler:
    """The dialler of a LiveCentre. No agent counts as free while the AMI
    link is down: their states are not known, and nothing could be placed."""

    def free() -> list[Agent]:
        return agents() if ami_up() is not None else []

    async def place(request: Request, agent: str) -> dict[str, Any]:
        try:
            return await control.callback(request.call_id, agent, number=request.number)
        except ControlError as exc:
            if exc.status == 404:  # no such call, an unsafe number: the customer's side
                return {"status": "failed", "reason": str(exc), "dial_status": "UNPLANNED"}
            raise

    return CallbackDialler(CallbackRows(store_path, this_process()), policy, line,
                           agents=free, place=place,
                           now_ms=lambda: int(clock.now().timestamp() * 1000))
