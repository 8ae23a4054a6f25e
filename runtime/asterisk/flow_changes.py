"""What a deployment changes in a flow: its identity (the IR whatever path named its files),
the parts added, removed or changed, and the diff of its sources. Pure but for reading the
sources a deployment keeps; must not write the flow store."""

from __future__ import annotations

import difflib
import hashlib
import json
import posixpath
from collections.abc import Mapping
from typing import Any

from ccdsl import json_text
from ccdsl.stdlib_files import STDLIB_PREFIX

# the IR's named parts a flow author recognises, in the order they are listed
PARTS = ("steps", "subs", "handlers", "prompts", "queues", "routing", "hours", "constants",
         "records", "modules")


def _base(ir: Mapping[str, Any]) -> str | None:
    entry = (ir.get("flow") or {}).get("file")
    return posixpath.dirname(posixpath.normpath(entry)) if isinstance(entry, str) else None


def canonical_paths(ir: Mapping[str, Any]) -> dict[str, str]:
    """Each user source path of the IR (as the compiler was given it) ->
    the same file relative to the entry flow's folder: `flows/util.ccf`
    and `/srv/flows/util.ccf` are both `util.ccf`. The standard library's
    paths are the package's already."""
    base = _base(ir)
    out = {}
    for path in ir.get("source_files") or ():
        if not isinstance(path, str) or path.startswith(STDLIB_PREFIX) or base is None:
            continue
        norm = posixpath.normpath(path)
        # relpath is lexical when both are absolute or both relative (the
        # compiler names a flow's modules the way its entry file was named)
        if posixpath.isabs(norm) == posixpath.isabs(base or "."):
            out[path] = posixpath.relpath(norm, base or ".")
    return out


def _renamed(value: Any, paths: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return paths.get(value, value)
    if isinstance(value, list):
        return [_renamed(v, paths) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, paths) for k, v in value.items()}
    return value


def identity(ir: Mapping[str, Any]) -> str:
    """A content hash of a flow that does not depend on the path its files
    were named by: two deployments of the same files from different working
    folders, or by a relative and an absolute path, are the same flow."""
    text = json_text.dumps(_renamed(dict(ir), canonical_paths(ir)), sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _without_places(value: Any) -> Any:
    """A part as it behaves: where it is written (loc) left out, so a line
    added above a step does not make it a changed step."""
    if isinstance(value, list):
        return [_without_places(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_places(v) for k, v in value.items() if k != "loc"}
    return value


def ir_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The named parts added, removed and changed, one line per kind and
    part: "steps added: extra", "prompts changed: bye"."""
    old, new = _renamed(dict(old), canonical_paths(old)), _renamed(dict(new), canonical_paths(new))
    lines = []
    for part in PARTS:
        before, after = old.get(part) or {}, new.get(part) or {}
        if not isinstance(before, Mapping) or not isinstance(after, Mapping):
            continue
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        changed = sorted(name for name in set(before) & set(after)
                         if _without_places(before[name]) != _without_places(after[name]))
        for what, names in (("added", added), ("removed", removed), ("changed", changed)):
            if names:
                lines.append(f"{part} {what}: {', '.join(names)}")
    return lines


def read_sources(ir: Mapping[str, Any]) -> dict[str, str]:
    """The text of each user source file of a flow (its tests left out, as
    a deployment leaves them out), by canonical path: what a deployment
    keeps to diff the next one against. A file that cannot be read is
    left out (the compiler just read it)."""
    out = {}
    for path, name in sorted(canonical_paths(ir).items()):
        if name.endswith(".test.ccf"):
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                out[name] = handle.read()
        except OSError:
            continue
    return out


def sources_name(flow: str) -> str:
    """The file a version keeps a flow's sources in (an attached file)."""
    return f"{flow}.sources.json"


def sources_text(sources: Mapping[str, str]) -> str:
    return json_text.dumps(dict(sources), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def parse_sources(text: str | None) -> dict[str, str] | None:
    """A kept sources file read back; None when there is none or it is not one."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def source_diff(old: Mapping[str, str], new: Mapping[str, str], version: str) -> str:
    """A unified diff of each source file that differs, file by file."""
    parts = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        lines = difflib.unified_diff(
            (before or "").splitlines(), (after or "").splitlines(),
            fromfile=f"{name} (version {version})" if before is not None else "/dev/null",
            tofile=f"{name} (new)" if after is not None else "/dev/null", lineterm="")
        parts.append("".join(line + "\n" for line in lines))
    return "".join(parts)
