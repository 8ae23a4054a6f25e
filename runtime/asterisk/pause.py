"""An agent paused or unpaused in the queues through AMI QueuePause (`ccf agent`).

Must not touch a call: app_queue only stops or resumes ringing the member.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_protocol import AmiError, CentreCommandError


class PauseError(CentreCommandError):
    """The agent could not be paused or unpaused; the message says why.
    `unreachable`: Asterisk's AMI did not answer (`ccf agent` exits 4)."""


@dataclass(frozen=True)
class Paused:
    agent: str
    interface: str
    paused: bool
    queue: str | None  # the flow's queue name; None: every queue
    reason: str | None


def pause_headers(interface: str, paused: bool, *, queue: str | None = None,
                  reason: str | None = None) -> dict[str, str]:
    """QueuePause's headers: the member's Interface, in the Asterisk `queue`
    or (None) every queue it is in, with the Reason only when pausing
    (AMI's QueueMemberPause shows it as PausedReason)."""
    headers = {"Interface": interface, "Paused": "true" if paused else "false"}
    if queue:
        headers["Queue"] = queue
    if paused and reason:
        headers["Reason"] = reason
    return headers


async def set_paused(centre, agent_id: str, paused: bool, *, queue: str | None = None,
                     reason: str | None = None) -> Paused:
    """QueuePause for the agent's device, in `queue` (a flow's queue name)
    or in every queue it is a member of. An auto-paused member (the queue
    option `autopause`) stays paused until this unpauses it."""
    agents = centre.agents.agents
    agent = next((a for a in agents if a.id == agent_id), None)
    if agent is None:
        known = ", ".join(a.id for a in agents) or "none"
        raise PauseError(f"no agent {agent_id!r} in the agents file (the agents: {known})")
    try:
        interface = names.agent_interface(centre.agents.interface, agent.id, agent.extension)
        asterisk_queue = names.queue_name(queue) if queue else None
    except names.UnsafeValue as exc:
        raise PauseError(str(exc)) from None
    ami = centre.ami
    if ami.secret is None:
        raise PauseError(f"the AMI secret is missing: set the environment variable "
                         f"{ami.secret_env} (the secret of the user {ami.user} in "
                         "manager.conf)")
    headers = pause_headers(interface, paused, queue=asterisk_queue, reason=reason)
    link = AmiLink(ami.host, ami.port, ami.user, ami.secret, timeout=ami.timeout_s,
                   events="off", ping_interval=None)
    started = False
    try:
        await asyncio.wait_for(link.start(), ami.timeout_s * 2)
        started = True
        reply = await link.action("QueuePause", **headers)
    except (AmiError, OSError, TimeoutError) as exc:
        raise PauseError(f"{str(exc) or type(exc).__name__} (check [ami] in "
                         f"{centre.path})", unreachable=not started) from None
    finally:
        try:
            await asyncio.wait_for(link.close(), 5)
        except Exception:  # closing after a failure: nothing more to report
            pass
    if not reply.ok:
        if "not found" in (reply.message or "").lower():  # app_queue: "Interface not found"
            if queue:
                raise PauseError(f"agent {agent.id} ({interface}) is no member of queue "
                                 f"{queue} on Asterisk")
            raise PauseError(f"agent {agent.id} ({interface}) is a member of no queue on "
                             "Asterisk")
        raise PauseError(f"Asterisk refused QueuePause: {reply.message}")
    return Paused(agent.id, interface, paused, queue, reason if paused else None)
