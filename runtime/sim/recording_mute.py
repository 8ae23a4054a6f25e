"""The silent spans of a simulated recording (`pause recording`): as MixMonitor muted by
AMI's MixMonitorMute, the file goes on and records silence meanwhile.

Bookkeeping only: must not pass time or note on the channel's log.
"""

from __future__ import annotations

from datetime import datetime, timedelta


class RecordingMutes:
    """When the recording running was muted, as spans of ms from its start."""

    def __init__(self) -> None:
        self.since: datetime | None = None  # muted now, from then
        self.spans: list[tuple[datetime, datetime]] = []

    def mute(self, now: datetime, on: bool) -> bool:
        """Mute (on) or unmute; False when that changes nothing."""
        if on == (self.since is not None):
            return False
        if on:
            self.since = now
        else:
            assert self.since is not None
            self.spans.append((self.since, now))
            self.since = None
        return True

    def close(self, start: datetime, end: datetime) -> tuple[tuple[int, int], ...]:
        """The spans of the recording that ran from start to end (a mute
        still on ends with it), in ms from its start; then forgotten."""
        if self.since is not None:
            self.spans.append((self.since, end))
        ms = timedelta(milliseconds=1)
        spans = tuple((round((a - start) / ms), round((b - start) / ms))
                      for a, b in self.spans)
        self.since, self.spans = None, []
        return spans
