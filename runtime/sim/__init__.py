"""The simulator: a scripted caller, a simulated contact centre and a
Channel over them, all on a virtual clock (see runtime/sim/channel.py).
Must not import Asterisk or the testing floor.
"""

from ccdsl.runtime.sim.caller import (
    HangUp,
    InteractiveCaller,
    Press,
    ScriptedCaller,
    Silence,
    Speak,
)
from ccdsl.runtime.sim.centre import AgentScript, SimCentre
from ccdsl.runtime.sim.channel import RecordingEntry, SimChannel, StepWatch, tts_ms

__all__ = [
    "AgentScript", "HangUp", "InteractiveCaller", "Press", "RecordingEntry", "ScriptedCaller",
    "Silence", "SimCentre", "SimChannel", "Speak", "StepWatch", "tts_ms",
]
