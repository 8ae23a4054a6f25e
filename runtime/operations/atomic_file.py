"""A file written whole or not at all: beside it, flushed to disk, then renamed over it.

For the files people and servers read while others change them (the agents file, the console
users, the flow store's manifests). Must not decide what goes in them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: str | Path, text: str, *, mode: int | None = None,
                     check: Callable[[str], None] | None = None) -> None:
    """Write `text` to `path` in one rename. `mode`: the new file's
    permissions (None: the old file's, else the umask's); `check(temp)` may
    raise to refuse what was written before it replaces anything."""
    file = Path(path)
    if mode is None and file.exists():
        mode = file.stat().st_mode & 0o777
    fd, temp = tempfile.mkstemp(prefix=f".{file.name}-", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        if check is not None:
            check(temp)
        os.replace(temp, file)
    finally:
        Path(temp).unlink(missing_ok=True)
