"""The simulated caller's time in queue: periodic messages, position and expected wait, keys.

Follows app_queue (apps/app_queue.c say_periodic_announcement, say_position, valid_exit) as
runtime/sim/channel.py's queue wait uses it. Must not ring members nor move the caller in
the queue: the wait does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ccdsl.runtime.core.channel import (
    OnAnnounce,
    QueueAnnouncement,
    QueueOutcome,
    QueueRequest,
    Sound,
)

# app_queue's sounds for the expected wait (queues.conf's defaults)
HOLDTIME = "queue-holdtime"
MINUTE, MINUTES = "queue-minute", "queue-minutes"
# an expected wait this long means no member will free up: app_queue has no
# average to say then (the simulator's centre.NEVER_FREE_WAIT_MS is longer)
UNKNOWN_WAIT_MS = 24 * 3_600_000


class WaitExtras:
    """What plays to one waiting caller besides the music, and the keys that
    take them out of the queue."""

    def __init__(self, ch, request: QueueRequest, on_announce: OnAnnounce | None) -> None:
        self.ch = ch
        self.req = request
        self.on_announce = on_announce
        self.next_at: datetime | None = None  # the next message
        self.announce_at: datetime | None = None  # the next position announcement
        self.turn = 0  # the next message, in turn (app_queue's last_periodic_announce_sound)
        # a key the caller may leave with; other keys are lost, as app_queue's valid_exit
        self.accept = request.keys.__contains__ if request.keys else None

    def begin(self, start: datetime) -> datetime | None:
        """Start the clocks of a stay that began at `start`; the wait's
        deadline (max_wait), None without one. The first message and the
        first position announcement come one period after the caller joined
        (periodic-announce-startdelay unset: last announce = the join)."""
        req = self.req
        if req.messages and req.message_every_ms:
            self.next_at = start + timedelta(milliseconds=req.message_every_ms)
        if req.announce_position_ms:
            self.announce_at = start + timedelta(milliseconds=req.announce_position_ms)
        return start + timedelta(milliseconds=req.max_wait_ms) \
            if req.max_wait_ms is not None else None

    def due(self, now: datetime) -> bool:
        """Whether a message or a position announcement is due."""
        return self.announcing(now) or (self.next_at is not None and now >= self.next_at)

    def announcing(self, now: datetime) -> bool:
        """Whether the position announcement is due (app_queue plays it
        before a message due as well)."""
        return self.announce_at is not None and now >= self.announce_at

    def wake_at(self) -> datetime | None:
        """When the next message or announcement is due; None: never."""
        times = [t for t in (self.next_at, self.announce_at) if t is not None]
        return min(times) if times else None

    def message(self, now: datetime) -> str | None:
        """Play the next message; the next one is due a period after this one
        began. A declared key pressed during it is returned."""
        req = self.req
        message = req.messages[self.turn % len(req.messages)]
        self.turn += 1
        self.next_at = now + timedelta(milliseconds=req.message_every_ms or 0)
        return self._play(list(message.sounds), now, prompt=message.prompt)

    def position(self, centre, now: datetime, sounds_of_position) -> str | None:
        """app_queue's say_position: the place, then (announce_wait, not for
        the caller who is next) the expected wait in whole minutes; the next
        one is due a period after this one was."""
        if self.announce_at is not None:
            self.announce_at += timedelta(milliseconds=self.req.announce_position_ms or 0)
        pos = centre.position(self.req.queue, self.ch.info.call_id, now)
        sounds = list(sounds_of_position(self.ch, centre, self.req.queue, now))
        minutes = None
        if self.req.announce_wait and pos > 1:
            wait_ms = centre.queue_expected_wait_ms(self.req.queue)
            if wait_ms < UNKNOWN_WAIT_MS:
                minutes = abs((wait_ms // 1000 + 30) // 60)  # rounded to the nearest minute
            if minutes:
                sounds += [Sound("file", HOLDTIME, ""), Sound("tts", str(minutes), ""),
                           Sound("file", MINUTE if minutes == 1 else MINUTES, "")]
        return self._play(sounds, now, position=pos, wait_minutes=minutes or None)

    def _play(self, sounds: list[Sound], now: datetime, **what) -> str | None:
        key = None
        for sound in sounds:
            key = self.ch._hear(sound, self.req.keys)
            if key is not None:
                break
        if self.on_announce is not None:
            self.on_announce(QueueAnnouncement(tuple(sounds), now, interrupted_by=key, **what))
        return key


def left_with_key(ch, centre, request: QueueRequest, key: str, start: datetime,
                  position: int) -> QueueOutcome:
    """The caller pressed a declared key: out of the queue (app_queue's
    EXITWITHKEY), their place noted."""
    now = ch.clock.now()
    place = centre.position(request.queue, ch.info.call_id, now)
    centre.leave(request.queue, ch.info.call_id)
    wait = ch._ms_since(start)
    ch._note("queue_left", queue=request.queue, outcome="key", key=key, wait_ms=wait,
             position=place)
    return QueueOutcome("key", wait, position, reason=f"the caller pressed {key}", key=key,
                        left_position=place)
