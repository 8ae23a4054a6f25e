"""The flow store: versioned bundles of compiled flows; `ccf deploy` writes, `ccf serve` reads.

Must never change a version once written; docs/asterisk.md "The flow store" has the layout
and why a reader never sees half a version.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccdsl import json_text
from ccdsl.runtime.operations.atomic_file import write_atomically

POINTER = "current"
LOCK = ".lock"
VERSIONS = "versions"
MANIFEST = "manifest.json"
ATTACHED = "asterisk"
_VERSION = re.compile(r"^[0-9]{4,}$")
_FLOW_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ATTACHED_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _flow_name(name: str) -> bool:
    """A flow's name as the language allows it (letters of any script, NFC):
    it names a file here, so never a separator, a dot or a control character."""
    if name.isascii():
        return bool(_FLOW_NAME.match(name))
    return (name.isidentifier() and len(name) <= 80
            and unicodedata.normalize("NFC", name) == name)


class FlowStoreError(Exception):
    """The store cannot do what was asked; the message says why and what to do."""


def check_names(flows: Mapping[str, Any], attached: Mapping[str, str] | None) -> None:
    """FlowStoreError for a flow or attached file name a store cannot keep."""
    for name in flows:
        if not _flow_name(name):
            raise FlowStoreError(f"{name!r} cannot be a flow name in the store")
    for name in attached or {}:
        if not _ATTACHED_NAME.match(name):
            raise FlowStoreError(f"{name!r} cannot be a file name in the store")


def ir_hash(ir: Mapping[str, Any]) -> str:
    """A content hash of an IR document (canonical JSON), to tell which
    flows a deployment changes."""
    text = json_text.dumps(ir, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FlowEntry:
    name: str
    source: str  # the entry file it was compiled from
    ir_hash: str


@dataclass(frozen=True)
class DeployedVersion:
    """A version's manifest (what `ccf flows` lists)."""

    version: str  # "0001": the directory name, also the label calls are recorded with
    created: str  # ISO 8601, UTC
    flows: tuple[FlowEntry, ...]
    numbers: Mapping[str, str]
    note: str = ""
    previous: str | None = None  # the version that was current when this one was deployed
    current: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version, "created": self.created, "current": self.current,
            "previous": self.previous, "note": self.note, "numbers": dict(self.numbers),
            "flows": {f.name: {"source": f.source, "ir_hash": f.ir_hash} for f in self.flows},
        }


@dataclass(frozen=True)
class Bundle:
    """One deployed version: the IR of each flow by name, and the numbers."""

    version: str
    flows: Mapping[str, dict]
    numbers: Mapping[str, str]
    manifest: DeployedVersion | None = field(default=None, repr=False)  # None: not stored yet


class FlowStore:
    """The folder store (the embedded default); flowstore_db.py keeps the same versions in the
    call store's database, for workers on several hosts."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._seen: tuple | None = None  # the pointer's stat when last read
        self._bundles: dict[str, Bundle] = {}  # versions never change: safe to keep
        self._lock_depth = 0
        self._lock_fd: int | None = None

    @property
    def where(self) -> str:
        """The store as messages name it."""
        return str(self.root)

    # -- reading -------------------------------------------------------------------------

    def current_version(self) -> str | None:
        try:
            text = (self.root / POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not _VERSION.match(text):
            raise FlowStoreError(f"{self.root / POINTER} holds {text[:20]!r}, not a version; "
                                 "run `ccf deploy --rollback` or deploy again")
        return text

    def current(self) -> Bundle | None:
        """The bundle calls start on now (None before the first deploy)."""
        signature = self._signature()
        version = self.current_version()
        self._seen = signature
        return None if version is None else self.get(version)

    def changed(self) -> bool:
        """Whether the pointer moved since current() last read it: one
        stat, cheap enough to call before every new call."""
        return self._signature() != self._seen

    def get(self, version: str) -> Bundle:
        bundle = self._bundles.get(version)
        if bundle is not None:
            return bundle
        manifest = self._manifest(version)
        folder = self._folder(version)
        flows: dict[str, dict] = {}
        for entry in manifest.flows:
            try:
                flows[entry.name] = json.loads((folder / f"{entry.name}.json")
                                               .read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise FlowStoreError(f"version {version}: the flow {entry.name} cannot be "
                                     f"read ({exc}); deploy again") from None
        bundle = Bundle(version=version, flows=flows, numbers=dict(manifest.numbers),
                        manifest=manifest)
        self._bundles[version] = bundle
        return bundle

    def attached(self, version: str, name: str) -> str | None:
        """A text file kept with a version (None when it has none)."""
        if not _ATTACHED_NAME.match(name):
            return None
        try:
            return (self._folder(version) / ATTACHED / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def versions(self) -> list[DeployedVersion]:
        """Every version, oldest first, the current one marked."""
        current = self.current_version()
        found = []
        for version in self._version_names():
            manifest = self._manifest(version)
            found.append(_with_current(manifest, version == current))
        return found

    # -- changing ------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock (re-entrant within this object), so two
        deploys, or a deploy and a rollback, never interleave."""
        if self._lock_depth == 0:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            self._lock_fd = fd
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0 and self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
                self._lock_fd = None

    def prepare(self, flows: Mapping[str, dict], *, numbers: Mapping[str, str],
                note: str = "", sources: Mapping[str, str] | None = None,
                attached: Mapping[str, str] | None = None) -> DeployedVersion:
        """Write a new version without making it current. `attached`: text
        files kept with it (the dialplan it applies), by plain file name."""
        check_names(flows, attached)
        with self.locked():
            names = self._version_names()
            version = f"{int(names[-1]) + 1 if names else 1:04d}"
            entries = tuple(FlowEntry(name=name, source=(sources or {}).get(name, ""),
                                      ir_hash=ir_hash(ir)) for name, ir in sorted(flows.items()))
            manifest = DeployedVersion(
                version=version, created=datetime.now(UTC).isoformat(timespec="seconds"),
                flows=entries, numbers=dict(sorted(numbers.items())), note=note,
                previous=self.current_version())
            versions = self.root / VERSIONS
            versions.mkdir(parents=True, exist_ok=True)
            # built under a temporary name and renamed whole: a crash leaves
            # no directory that looks like a version but lacks files
            building = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=versions))
            try:
                for name, ir in flows.items():
                    _write_json(building / f"{name}.json", ir)
                body = manifest.to_json()
                del body["current"]
                _write_json(building / MANIFEST, body)
                if attached:
                    (building / ATTACHED).mkdir()
                    for name, text in attached.items():
                        (building / ATTACHED / name).write_text(text, encoding="utf-8")
                os.replace(building, versions / version)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
            return manifest

    def activate(self, version: str) -> DeployedVersion:
        """Point `current` at a version that exists."""
        with self.locked():
            manifest = self._manifest(version)
            write_atomically(self.root / POINTER, version + "\n")
            return _with_current(manifest, True)

    def restore(self, version: str | None) -> None:
        """Put the pointer back where it was (None: nothing deployed)."""
        with self.locked():
            if version is not None:
                self.activate(version)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.root / POINTER)

    def discard(self, version: str) -> None:
        """Remove a version that is not current (a deploy that failed to apply)."""
        with self.locked():
            if version == self.current_version():
                raise FlowStoreError(f"version {version} is current; it cannot be removed")
            shutil.rmtree(self._folder(version), ignore_errors=True)
            self._bundles.pop(version, None)

    def deploy(self, flows: Mapping[str, dict], *, numbers: Mapping[str, str],
               note: str = "", sources: Mapping[str, str] | None = None,
               attached: Mapping[str, str] | None = None) -> DeployedVersion:
        """Write a new version and make it current."""
        with self.locked():
            manifest = self.prepare(flows, numbers=numbers, note=note, sources=sources,
                                    attached=attached)
            return self.activate(manifest.version)

    def rollback_target(self) -> DeployedVersion:
        """The version a rollback would return to: the one that was current
        when the current one was deployed."""
        current = self.current_version()
        if current is None:
            raise FlowStoreError(f"nothing is deployed in {self.where}; there is no version "
                                 "to roll back to")
        previous = self._manifest(current).previous
        if previous is None:
            raise FlowStoreError(f"version {current} is the first deployment; there is no "
                                 "earlier version to roll back to")
        if not self._has(previous):
            raise FlowStoreError(f"version {current} came after {previous}, which is no longer "
                                 "in the store; deploy the flows you want instead")
        return self._manifest(previous)

    def rollback(self) -> DeployedVersion:
        """Make the previous version current again."""
        with self.locked():
            return self.activate(self.rollback_target().version)

    # -- internals -----------------------------------------------------------------------

    def _has(self, version: str) -> bool:
        return (self._folder(version) / MANIFEST).is_file()

    def _signature(self) -> tuple | None:
        try:
            st = os.stat(self.root / POINTER)
        except FileNotFoundError:
            return None
        # os.replace gives the pointer a new inode: a change is seen even
        # within the file system's mtime granularity
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _folder(self, version: str) -> Path:
        if not _VERSION.match(version):
            raise FlowStoreError(f"{version!r} is not a version (such as 0003)")
        return self.root / VERSIONS / version

    def _version_names(self) -> list[str]:
        try:
            names = [p.name for p in (self.root / VERSIONS).iterdir()
                     if _VERSION.match(p.name) and (p / MANIFEST).is_file()]
        except FileNotFoundError:
            return []
        return sorted(names, key=int)

    def _manifest(self, version: str) -> DeployedVersion:
        path = self._folder(version) / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FlowStoreError(f"there is no version {version} in {self.root}") from None
        except (OSError, ValueError) as exc:
            raise FlowStoreError(f"{path} cannot be read ({exc})") from None
        return manifest_of(data, version)


def manifest_of(data: Mapping[str, Any], version: str) -> DeployedVersion:
    """A version's manifest from its JSON (to_json's, without `current`)."""
    flows = tuple(FlowEntry(name=name, source=spec.get("source", ""),
                            ir_hash=spec.get("ir_hash", ""))
                  for name, spec in sorted(data.get("flows", {}).items()))
    return DeployedVersion(version=data.get("version", version),
                           created=data.get("created", ""), flows=flows,
                           numbers=dict(data.get("numbers", {})), note=data.get("note", ""),
                           previous=data.get("previous"))


def _with_current(manifest: DeployedVersion, current: bool) -> DeployedVersion:
    return replace(manifest, current=current)


def _write_json(path: Path, data: Any) -> None:
    # key order kept as written: the IR's tables are ordered (declaration order)
    path.write_text(json_text.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


