"""Outside parties a flow brings in by number (`three_way number "+86..."`): a courier,
a specialist's mobile; never an agent.

An outside party's answer is `party_joined`, its end `party_left`: it runs no
`on answered by agent`, makes no screen pop, and leaves the call not talked to
an agent, out of the agents' figures. Must not route or queue.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ccdsl.runtime.core.call import CallRuntime
from ccdsl.runtime.core.channel import Conversation, OnAnswer
from ccdsl.runtime.core.errors import CallHungUp


def party_callback(rt: CallRuntime, party: str, via: str, offered_at: Any,
                   loc: dict | None) -> OnAnswer:
    """What the line calls when the number answers; the name the line
    gives (Asterisk's answered Gosub has none for a number) is ignored."""
    async def on_answer(_: str) -> None:
        ring_ms = int((rt.services.clock.now() - offered_at) / timedelta(milliseconds=1))
        rt.emit("party_joined", {"party": party, "via": via, "ring_ms": ring_ms}, loc)
    return on_answer


def after_party(rt: CallRuntime, party: str, conversation: Conversation | None,
                loc: dict | None) -> None:
    """The outside party's talk is over: `party_left`; the caller hanging up
    during it ends the call. Its talk is not an agent's (`call.talk_ms`)."""
    if conversation is None:
        return
    rt.emit("party_left", {"party": party, "talk_ms": conversation.talk_ms,
                           "ended_by": conversation.ended_by}, loc)
    if conversation.ended_by == "caller":
        raise CallHungUp("the caller hung up during the three-way call")
