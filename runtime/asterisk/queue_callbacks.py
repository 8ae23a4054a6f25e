"""ccf serve's in-queue call-backs on Asterisk: the dialler given the AMI mirror's agents,
AsteriskControl.callback (the AMI Originate of `ccf callback`) and QueuePause to hold members.

Wiring only: must not decide turns or retries (runtime/operations/callback_dialler.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.ami_protocol import AmiError
from ccdsl.runtime.asterisk.pause import pause_headers
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.clock import Clock
from ccdsl.runtime.operations.callback_dialler import CallbackDialler, QueueLine
from ccdsl.runtime.operations.callback_hold import HOLD_REASON, Holds
from ccdsl.runtime.operations.callback_policy import CallbackPolicy
from ccdsl.runtime.operations.callback_rows import CallbackRows, Request
from ccdsl.runtime.operations.centre_control import ControlError
from ccdsl.runtime.operations.store_runs import this_process


def ami_holds(centre: Any, ami_up: Callable[[], Any],
              links: Callable[[], Mapping[str, Any]] | None = None) -> Holds:
    """Members held through QueuePause (Queue, Interface, Paused, Reason
    HOLD_REASON) as the AMI mirror (AmiCentre) sees them; nothing is known
    or done while the link is down. links: every server's link that is up, by name (the
    member is in the queue on each, so held on each); None: ami_up's alone."""

    def pauses():
        return centre.pauses() if ami_up() is not None else None

    async def hold(queue: str, agent_id: str, on: bool) -> None:
        link = ami_up()
        agent = centre.agent(agent_id)
        if link is None or agent is None:
            return
        interface = names.agent_interface(centre.interface_template, agent.id, agent.extension)
        headers = pause_headers(interface, on, queue=names.queue_name(queue),
                                reason=HOLD_REASON)
        refused, absent, done = [], [], 0
        for name, each in (links() if links is not None else {"": link}).items():
            try:
                reply = await each.action("QueuePause", **headers)
            except AmiError as exc:  # this server's link dropped: the others still held
                if links is None:
                    raise
                refused.append(f"{name}: {exc}")
                continue
            if reply.ok:
                done += 1
            else:  # no member on one server of several is no error while another held it
                (absent if _not_member(reply) else refused).append(
                    f"{name}: " * (links is not None) + (reply.message or "no reason"))
        if not done:
            refused += absent
        if refused:
            raise AmiError(f"QueuePause refused: {'; '.join(refused)}")

    return Holds(pauses, hold)


def _not_member(reply: Any) -> bool:
    """app_queue's "Interface not found": a server where the agent is no member."""
    return "not found" in (reply.message or "").lower()


def asterisk_dialler(store_path: str, policy: CallbackPolicy, line: QueueLine, *,
                     agents: Callable[[], list[Agent]], control: Any,
                     ami_up: Callable[[], Any], clock: Clock,
                     centre: Any = None,
                     links: Callable[[], Mapping[str, Any]] | None = None) -> CallbackDialler:
    """The dialler of a LiveCentre. No agent counts as free while the AMI
    link is down: their states are not known, and nothing could be placed.
    centre: the AmiCentre, whose members are held for call-backs (None: none); links: every
    server's link that is up, by name (each holds the member)."""

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
                           now_ms=lambda: int(clock.now().timestamp() * 1000),
                           holds=ami_holds(centre, ami_up, links) if centre is not None else None)
