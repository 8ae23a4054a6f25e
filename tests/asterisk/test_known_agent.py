"""An agent id the agents file does not have: `ccf agent` (pause.set_paused) and `ccf callback`
(callback.make_plan) look it up through one helper and say so in the same words, as a usage
error (`unknown`), before anything is asked of Asterisk or the call store's CRM."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from ccdsl.runtime.asterisk.callback import CallbackError, make_plan
from ccdsl.runtime.asterisk.pause import PauseError, set_paused
from ccdsl.runtime.operations.agents_file import AgentSpec, agent_named

AGENTS = (AgentSpec("li", extension="8001"), AgentSpec("wang", extension="8002"))
WORDS = "no agent 'ghost' in the agents file (the agents: li, wang)"


def test_the_helper_returns_the_agent_or_raises_the_standard_words() -> None:
    assert agent_named(AGENTS, "wang", PauseError) is AGENTS[1]
    with pytest.raises(PauseError) as caught:
        agent_named(AGENTS, "ghost", PauseError)
    assert str(caught.value) == WORDS and caught.value.unknown
    with pytest.raises(CallbackError) as caught:
        agent_named((), "ghost", CallbackError)
    assert str(caught.value) == "no agent 'ghost' in the agents file (the agents: none)"


def test_pause_and_callback_say_the_same_words() -> None:
    class NoServer:
        def __getattr__(self, name):
            raise AssertionError(f"an unknown agent asked the centre for {name}")

    centre = SimpleNamespace(agents=SimpleNamespace(agents=AGENTS, interface="PJSIP/{extension}"),
                             servers=NoServer())
    with pytest.raises(PauseError) as paused:
        asyncio.run(set_paused(centre, "ghost", True))

    class Store:
        path = "calls.db"

        def call(self, call_id):
            return {"caller": "+8613800000001", "customer_id": None,
                    "voicemail_mailbox": None, "voicemail_file": None}

    with pytest.raises(CallbackError) as called:
        asyncio.run(make_plan(Store(), "c1", "ghost", AGENTS))
    assert str(paused.value) == str(called.value) == WORDS
    assert paused.value.unknown and called.value.unknown
