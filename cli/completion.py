"""Shell completion of `ccf`'s arguments: flow files, diagnostic codes. Runs only when
the shell asks (`_CCF_COMPLETE`); imports the compiler's code table only then."""

from __future__ import annotations

import os


def flow_paths(incomplete: str) -> list[str]:
    """The .ccf files and the folders (which may hold some) starting with the
    word typed so far; hidden ones only when the word starts with a dot."""
    head, sep, stem = incomplete.rpartition("/")
    prefix = head + sep
    folder = prefix or "."
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        if not name.startswith(stem) or (name.startswith(".") and not stem.startswith(".")):
            continue
        if os.path.isdir(os.path.join(folder, name)):
            found.append(f"{prefix}{name}/")
        elif name.endswith(".ccf"):
            found.append(prefix + name)
    return found


def diagnostic_codes(incomplete: str) -> list[tuple[str, str]]:
    """The diagnostic codes starting with the word typed so far, with their titles."""
    from ccdsl.codes import CODES

    wanted = incomplete.strip().upper()
    return [(code, info.title) for code, info in CODES.items() if code.startswith(wanted)]
