"""`pause recording` / `resume recording`: one recording, silent while paused (a card
number keyed, PCI), never a second file.

On Asterisk the MixMonitor is muted (AMI MixMonitorMute); in the simulator the
recording keeps its paused spans. Must not start or stop a recording (media.py does).
"""

from __future__ import annotations

from datetime import timedelta

from ccdsl.runtime.core.call import CallRuntime, Frame, OpFn


async def op_record_pause(rt: CallRuntime, op: dict, frame: Frame) -> None:
    """Pause the recording running; nothing when none runs or it is paused."""
    if rt.recording is None or rt.paused_at is not None:
        return
    await rt.line().pause_recording()
    rt.paused_at = rt.services.clock.now()
    rt.emit("recording_paused", {"file": rt.recording}, op["loc"])


async def resume(rt: CallRuntime, loc: dict | None) -> None:
    """Resume a paused recording: `recording_resumed` with how long it was silent."""
    paused_at = rt.paused_at
    if rt.recording is None or paused_at is None:
        return
    await rt.line().resume_recording()
    rt.paused_at = None
    paused_ms = int((rt.services.clock.now() - paused_at) / timedelta(milliseconds=1))
    rt.emit("recording_resumed", {"file": rt.recording, "paused_ms": paused_ms}, loc)


async def op_record_resume(rt: CallRuntime, op: dict, frame: Frame) -> None:
    await resume(rt, op["loc"])


OPS: dict[str, OpFn] = {
    "record_pause": op_record_pause,
    "record_resume": op_record_resume,
}
