"""Whether one time-zone name is surely in `zoneinfo.available_timezones()`, from its one
file. Listing every zone walks the whole database (tens of ms); a flow names one or two.
Answers only "surely listed" or "ask the full list"; never says a zone is unknown."""

from __future__ import annotations

import os
import posixpath


def surely_listed(name: str) -> bool:
    """True only when available_timezones() would list `name` because of a system file:
    the same walk (no right/ or posix/, no symlinked folder, no posixrules), the same
    spelling (case included) and the same TZif check. False means: ask that list."""
    import zoneinfo  # deferred: only flows that name a time zone pay for it

    parts = name.split("/")
    if (not name or name != posixpath.normpath(name) or name.startswith("/")
            or parts[0] in ("..", "right", "posix") or name == "posixrules"):
        return False
    for root in zoneinfo.TZPATH:
        folder = root
        try:
            for part in parts[:-1]:
                folder = os.path.join(folder, part)
                if os.path.islink(folder) or not os.path.isdir(folder):
                    break
            else:
                path = os.path.join(folder, parts[-1])
                if parts[-1] in os.listdir(folder) and not os.path.isdir(path):
                    with open(path, "rb") as file:
                        if file.read(4) == b"TZif":
                            return True
        except OSError:
            continue
    return False
