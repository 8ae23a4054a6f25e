"""Where a call's recording or voicemail message is on disk, for GET /recordings/{call}.

A stored name is resolved the ways the centres write it (relative to the working folder,
under the recordings folder, with or without `.wav`) and kept only when its real path is
inside the recordings folder: no name from the store can reach another file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

AUDIO_TYPES = {".wav": "audio/wav", ".wav49": "audio/wav", ".gsm": "audio/x-gsm",
               ".ulaw": "audio/basic", ".alaw": "audio/basic", ".sln": "audio/L16",
               ".g722": "audio/G722", ".mp3": "audio/mpeg", ".ogg": "audio/ogg"}


def inside(path: str, root: str) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([real, base]) == base and real != base


def candidates(name: str, root: str) -> Iterable[str]:
    tried = []
    if os.path.isabs(name):
        tried.append(name)
    else:
        tried += [os.path.abspath(name), os.path.join(root, name)]
    tried.append(os.path.join(root, os.path.basename(name)))
    for path in tried:
        yield path
        if not path.endswith(".wav"):
            yield path + ".wav"  # MixMonitor and RECORD FILE may add the format


def audio_file(names: Iterable[str | None], root: str) -> str | None:
    """The first of the stored names that is a file inside `root`."""
    if not root:
        return None
    for name in names:
        if not name or "\x00" in name:
            continue
        for path in candidates(name, root):
            if os.path.isfile(path) and inside(path, root):
                return os.path.realpath(path)
    return None


def media_type(path: str) -> str:
    return AUDIO_TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")
