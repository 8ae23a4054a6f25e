"""The simulator: a scripted caller, a simulated contact centre and a
Channel over them, all on a virtual clock (see runtime/sim/channel.py)."""

from ccdsl.runtime.sim.caller import (
    HangUp,
    InteractiveCaller,
    Press,
    ScriptedCaller,
    Silence,
    Speak,
)
from ccdsl.runtime.sim.centre import AgentScript, QueueConfig, SimCentre, parse_state, queue_configs
from ccdsl.runtime.sim.channel import RecordingEntry, SimChannel, StepWatch, tts_ms

__all__ = [
    "AgentScript", "HangUp", "InteractiveCaller", "Press", "QueueConfig", "RecordingEntry",
    "ScriptedCaller", "Silence", "SimCentre", "SimChannel", "Speak", "StepWatch", "parse_state",
    "queue_configs", "tts_ms",
]
