"""Which recorded prompts the simulated centre lacks: the sounds folder as ccf serve reads it.

Looks at file names only: never plays, times or opens a sound, and knows of
Asterisk's own sounds only the few ccdsl plays itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ccdsl.runtime.core.channel import PLAYABLE, Sound

# Asterisk's own sounds that ccdsl plays: ccf serve finds no such prompt in
# the sounds folder and asks Asterisk for the bare name, which it has
ASTERISK_OWN = frozenset({"beep", "queue-youarenext", "queue-thereare", "queue-callswaiting"})
# a take RECORD FILE wrote on this centre, played back from the recordings
RECORDED = "voicemail/"


@dataclass
class SoundsFolder:
    """`<root>/<language>/<name>.<ext>`, the [paths] sounds of ccf.toml."""

    root: str
    asterisk_own: frozenset[str] = ASTERISK_OWN
    _seen: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)

    def lacks(self, sound: Sound) -> bool:
        """True when Asterisk would find no file for it and skip it: a
        recorded prompt with a language that has no playable file here and
        is none of Asterisk's own sounds."""
        if sound.kind != "file" or not sound.language or sound.text in self.asterisk_own:
            return False
        if sound.text.startswith(RECORDED):
            return False
        key = (sound.language, sound.text)
        found = self._seen.get(key)
        if found is None:  # a flow plays the same prompts again: looked up once
            found = self._seen[key] = self._has(self.path(sound))
        return not found

    def path(self, sound: Sound) -> str:
        """Where ccf serve looks for it (without the format's extension)."""
        return os.path.join(self.root, sound.language, *sound.text.split("/"))

    def _has(self, base: str) -> bool:
        folder, stem = os.path.split(base)
        try:
            entries = os.listdir(folder)
        except OSError:
            return False
        for entry in entries:
            base, ext = os.path.splitext(entry)
            if base == stem and ext[1:] in PLAYABLE:
                return True
        return False
