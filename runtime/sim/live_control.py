"""The console's actions on calls of the real-time simulated centre: hang-up, hold, transfers...

Must not import Asterisk code or the console. A mixin of SimLiveCentre (live_centre.py), whose
calls, agents and clock it acts on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.core.channel import DialTarget, QueueRing
from ccdsl.runtime.operations.centre_control import (
    MONITOR_MODES,
    TARGET_KINDS,
    TRANSFER_MODES,
    ControlError,
    Target,
    one_of,
)
from ccdsl.runtime.sim.centre import DEFAULT_RING_MS
from ccdsl.runtime.sim.channel import tts_ms
from ccdsl.runtime.sim.live_channel import CONSULT_MS, LiveChannel
from ccdsl.runtime.sim.live_parts import ms_of, wait_any
from ccdsl.runtime.sim.live_queue import LiveQueueWait


class CallActions:
    """SimLiveCentre's CentreControl methods on calls (module doc)."""

    # -- CentreControl: calls ----------------------------------------------------------

    def _call(self, call_id: str, *, talking: bool = False) -> LiveChannel:
        channel = self.calls.get(call_id)
        if channel is None or channel.ended_by is not None:
            raise ControlError(f"no call {call_id!r} in progress", 404)
        if talking and channel.agent is None:
            raise ControlError(f"call {call_id} is not talking to an agent")
        return channel

    async def hangup(self, call_id: str) -> None:
        channel = self._call(call_id)
        channel.stream.add("log", {"message": "hung up from the console"
                                   + (f" (agent {channel.agent})" if channel.agent else "")})
        channel.kill("agent" if channel.agent else "console")

    async def hold(self, call_id: str, on: bool) -> None:
        channel = self._call(call_id, talking=True)
        if channel.on_hold == on:
            return
        channel.on_hold = on
        channel._note("hold", on=on, music="default")
        channel.stream.add("hold", {"on": on, "agent": channel.agent,
                                    "music": "default" if on else None})

    async def transfer(self, call_id: str, target: Target, mode: str) -> None:
        channel = self._call(call_id, talking=True)
        one_of(mode, TRANSFER_MODES, "transfer mode")
        self._check_target(target)
        if target.kind == "agent" and target.value == channel.agent:
            raise ControlError(f"the call is with agent {target.value} already")
        channel.ask(("transfer", target, mode))

    def _check_target(self, target: Target) -> None:
        one_of(target.kind, TARGET_KINDS, "target")
        if target.kind == "agent":
            self._spec(target.value)
        elif target.kind == "queue" and target.value not in self.queues:
            raise ControlError(f"no queue {target.value!r} in the flows", 404)
        elif target.kind == "number" and not target.value.strip():
            raise ControlError("a number to transfer to", 400)

    async def transfer_now(self, ch: LiveChannel, agent: str, started: datetime,
                           target: Target, mode: str) -> str | None:
        """A console transfer, from inside the conversation: the new agent,
        "" (the call left to a number), "back" (a blind transfer nobody
        took: the caller returns to the flow) or None (an attended one
        nobody took: the caller stays with the agent)."""
        data = {"target": target.value, "kind": target.kind, "mode": mode, "by": "console",
                "from": agent}
        if target.kind == "number":
            if mode == "attended":
                await wait_any([ch.killed], self.clock.seconds(
                    (self.centre.number_script.answer_after_ms or 0) + CONSULT_MS))
                ch._check()
            ch.stream.add("log", {"message": f"agent {agent} transfers the call to "
                                             f"{target.value} ({mode}) from the console"})
            self._hand_over(ch, agent, started, report=False)
            return ""
        if mode == "blind":
            self._hand_over(ch, agent, started)
        new = await self._reach(ch, target)
        if new is None:
            ch.stream.add("transfer", {**data, "status": "failed"})
            return "back" if mode == "blind" else None
        if mode == "attended":
            await wait_any([ch.killed], self.clock.seconds(CONSULT_MS))
            self._hand_over(ch, agent, started)
        ch.stream.add("transfer", {**data, "status": "transferred", "to": new})
        ch._check()
        return new

    def _hand_over(self, ch: LiveChannel, agent: str, started: datetime, *,
                   report: bool = True) -> None:
        """The agent leaves the conversation (a transfer)."""
        if report:
            ch.stream.add("conversation_ended", {"agent": agent, "ended_by": "transfer",
                                                 "talk_ms": ms_of(self.clock.now() - started)})
        self._last_call[agent] = ch.info.call_id
        if ch.agent == agent:
            ch.agent = None
        self.release(agent)

    async def _reach(self, ch: LiveChannel, target: Target) -> str | None:
        """Ring an agent, or wait in a queue, for a transferred caller."""
        started = self.clock.now()
        if target.kind == "agent":
            refusal = ch._refusal(DialTarget("agent", target.value))
            if refusal is not None:
                ch.stream.add("log", {"message": f"transfer: {refusal}"})
                return None
            ch.stream.add("agent_offered", {"agent": target.value, "via": "transfer"})
            winner = await ch.ring((target.value,), DEFAULT_RING_MS)
            if winner is None:
                ch.stream.add("agent_no_answer", {"agent": target.value, "via": "transfer",
                                                  "ring_ms": ms_of(self.clock.now() - started)})
                return None
        else:
            request = self.queue_request(target.value)
            ch.stream.add("queue_joined", {"queue": target.value, "priority": request.priority,
                                           "position": self.centre.queue_waiting(
                                               target.value) + 1, "via": "transfer"})

            def report(ring: QueueRing) -> None:
                kind = "agent_offered" if ring.status == "ringing" else "agent_no_answer"
                ch.stream.add(kind, {"agent": ring.agent, "via": "queue", "queue": target.value,
                                     "ring_ms": ring.ring_ms})

            found = await LiveQueueWait(ch, request, report, patient=True).run()
            ch.stream.add("queue_left", {"queue": target.value, "outcome": found.status,
                                         "wait_ms": found.wait_ms, "agent": found.agent})
            winner = found.agent
            if winner is None:
                return None
        self.centre.connect(winner)
        ch.agent = winner
        ch.stream.add("agent_answered", {"agent": winner, "via": "transfer",
                                         "ring_ms": ms_of(self.clock.now() - started)})
        return winner

    async def add_party(self, call_id: str, target: Target) -> None:
        channel = self._call(call_id, talking=True)
        self._check_target(target)
        if target.kind == "queue":
            raise ControlError("a third party is an agent or a number, not a queue", 400)
        if target.kind == "agent":
            refusal = channel._refusal(DialTarget("agent", target.value))
            if refusal is not None:
                raise ControlError(f"agent {target.value} cannot join: {refusal}")
        self._spawn(self._join(channel, target))

    async def _join(self, ch: LiveChannel, target: Target) -> None:
        data = {"target": target.value, "kind": target.kind, "by": "console"}
        try:
            if target.kind == "agent":
                if await ch.ring((target.value,), DEFAULT_RING_MS) is None:
                    ch.stream.add("three_way", {**data, "status": "no_answer"})
                    return
                self.centre.connect(target.value)
                ch.parties.append(target.value)
            else:
                await wait_any([ch.killed], self.clock.seconds(
                    self.centre.number_script.answer_after_ms or 0))
                ch._check()
            ch.stream.add("three_way", {**data, "status": "answered", "agent": ch.agent})
        except Exception:  # noqa: BLE001 - the call ended while the party rang
            return

    async def read_to_caller(self, call_id: str, text: str, language: str) -> None:
        channel = self._call(call_id)
        if not text.strip():
            raise ControlError("nothing to read: the text is empty", 400)
        ms = tts_ms(text)
        channel._note("heard", kind="tts", text=text, language=language, ms=ms,
                      interrupted_by=None, by="console")
        channel.stream.add("prompt_played", {
            "sounds": [{"kind": "tts", "text": text, "language": language}], "prompt": None,
            "interrupted_by": None, "ms": ms, "by": "console"})

    async def monitor(self, call_id: str, supervisor: str, mode: str) -> dict[str, Any]:
        channel = self._call(call_id, talking=True)
        one_of(mode, MONITOR_MODES, "monitor mode")
        if not supervisor.strip():
            raise ControlError("the supervisor's extension is needed", 400)
        data = {"supervisor": supervisor, "mode": mode, "agent": channel.agent,
                "status": "joined", "simulated": True}
        channel.stream.add("monitor", data)
        if self.record is not None:
            self.record("monitor", data, call_id)
        return {"call_id": call_id, **data}

    async def callback(self, voicemail_call_id: str, agent: str,
                       number: str | None = None) -> dict[str, Any]:
        """Runs `callbacks` (what the lead wires: make_plan and run_callback
        with a SimOriginator on this centre's clock), the agent busy meanwhile."""
        spec = self._spec(agent)
        if self.callbacks is None:
            raise ControlError("call-backs are not set up in this simulated centre", 503)
        state = self._state(agent)
        if state != AgentState.AVAILABLE:
            raise ControlError(f"agent {agent} is {state.value}: a call-back needs a free agent")
        self.centre.connect(agent)
        self.changed.notify()
        try:
            spec = replace(spec, state="available")
            if number is None:
                return await self.callbacks(voicemail_call_id, spec)
            return await self.callbacks(voicemail_call_id, spec, number)
        except ControlError:
            raise
        except Exception as exc:  # noqa: BLE001 - the plan's or the run's reason, shown
            raise ControlError(f"the call-back failed: {exc}") from None
        finally:
            self.release(agent)
