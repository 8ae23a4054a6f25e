"""An agent paused or unpaused in the queues through AMI QueuePause (`ccf agent`), on every
Asterisk server of ccf.toml (ccf serve makes the logged-in agents members on each).

Must not touch a call: app_queue only stops or resumes ringing the member.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.ami_protocol import CentreCommandError
from ccdsl.runtime.asterisk.each_server import Answer, ask_each
from ccdsl.runtime.operations.agents_file import agent_named


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
    servers: tuple[str, ...] = ()  # where it was done, when the config names several


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
    """QueuePause for the agent's device on every server, in `queue` (a flow's queue
    name) or in every queue it is a member of. An auto-paused member (the queue
    option `autopause`) stays paused until this unpauses it. Every server's secret is
    set: the command checked them before (cli.common.require_ami_secrets). An agent
    the agents file does not have is a PauseError with `unknown` (a usage error), before
    any server is asked, in the words every command uses for it."""
    agent = agent_named(centre.agents.agents, agent_id, PauseError)
    try:
        interface = names.agent_interface(centre.agents.interface, agent.id, agent.extension)
        asterisk_queue = names.queue_name(queue) if queue else None
    except names.UnsafeValue as exc:
        raise PauseError(str(exc)) from None
    headers = pause_headers(interface, paused, queue=asterisk_queue, reason=reason)
    answers = await ask_each(centre, lambda link: link.action("QueuePause", **headers))
    return _outcome(answers, agent.id, interface, paused, queue, reason)


def _outcome(answers: list[Answer], agent: str, interface: str, paused: bool,
             queue: str | None, reason: str | None) -> Paused:
    """Every server was asked (the agent is a queue member on each where ccf serve logged
    them in). Done where it is a member; a server that did not answer or refused is an
    error naming it, after the others were done (exit 4 when one did not answer)."""
    several = len(answers) > 1
    done, absent, failed = [], [], []
    for answer in answers:
        reply = answer.reply
        if reply is None:
            failed.append(answer)
        elif reply.ok:
            done.append(answer.label)
        elif "not found" in (reply.message or "").lower():  # app_queue: "Interface not found"
            absent.append(answer.label)
        else:
            failed.append(Answer(answer.server, None, f"Asterisk refused QueuePause: "
                                                      f"{reply.message}"))
    verb = "paused" if paused else "unpaused"
    if failed:
        so_far = f"{verb} on {', '.join(done)}; " if done and several else ""
        problems = "; ".join(f"{a.label}: {a.error}" if several else str(a.error)
                             for a in failed)
        raise PauseError(f"agent {agent}: {so_far}{problems}" if several else problems,
                         unreachable=any(a.unreachable for a in failed))
    if not done:
        where = f"queue {queue}" if queue else "no queue"
        on = " on any Asterisk server" if several else " on Asterisk"
        if queue:
            raise PauseError(f"agent {agent} ({interface}) is no member of {where}{on}")
        raise PauseError(f"agent {agent} ({interface}) is a member of {where}{on}")
    return Paused(agent, interface, paused, queue, reason if paused else None,
                  tuple(done) if several else ())
