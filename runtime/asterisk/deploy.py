"""`ccf deploy` without the compiler: plan a deployment, write the flow store, apply the dialplan.

Must leave the store and Asterisk agreeing, or say loudly where they do not; docs/asterisk.md
"Deploying, in detail" says in what order and how a failed apply is undone.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_protocol import AmiError, CentreCommandError
from ccdsl.runtime.asterisk.config_servers import servers_of
from ccdsl.runtime.asterisk.dialplan import ConfFile, DialplanError, dialplan_files
from ccdsl.runtime.asterisk.files_undo import undone_on_failure
from ccdsl.runtime.asterisk.flow_changes import (
    identity,
    ir_changes,
    parse_sources,
    read_sources,
    source_diff,
    sources_name,
    sources_text,
)
from ccdsl.runtime.asterisk.flowstore import Bundle, DeployedVersion, FlowStore
from ccdsl.runtime.asterisk.names import UnsafeValue
from ccdsl.runtime.asterisk.queue_sounds import (
    MessageSound,
    QueueSoundError,
    planned,
    put_in_place,
)
from ccdsl.runtime.asterisk.tts import DEFAULT_COMMAND, TtsRenderer

UPDATE_HEADERS = 100  # per UpdateConfig: Asterisk keeps 128 headers, Action/ActionID/files too
QUEUE_MODULE = "app_queue.so"


class DeployError(CentreCommandError):
    """A deployment that was refused or failed; the message says what
    happened to the store and to Asterisk, and what to do. `unreachable`:
    Asterisk's AMI did not answer (`ccf deploy` exits 4, not 1)."""


class Link(Protocol):
    """What deploy needs of runtime.asterisk.ami.AmiLink."""

    async def action(self, action: str, **headers: str) -> Any: ...
    async def command(self, cli: str) -> list[str]: ...
    async def close(self) -> None: ...


Connect = Callable[[], Awaitable[Link]]


@dataclass(frozen=True)
class FlowChange:
    name: str
    change: str  # added, changed, removed, unchanged
    parts: tuple[str, ...] = ()  # changed: "steps added: extra", ...
    diff: str = ""  # changed: its sources against the deployed version's
    kept_no_sources: bool = False  # the deployed version kept none to diff against


@dataclass
class Plan:
    """A deployment before it is written."""

    flows: dict[str, dict]
    sources: dict[str, str]
    numbers: dict[str, str]
    files: dict[str, ConfFile]
    current: DeployedVersion | None
    changes: list[FlowChange] = field(default_factory=list)
    diff: str = ""  # the dialplan files against what the current version applied
    sounds: list[MessageSound] = field(default_factory=list)  # the queue messages' files
    kept: dict[str, str] = field(default_factory=dict)  # each flow's sources, to diff later

    @property
    def texts(self) -> dict[str, str]:
        return {name: conf.text() for name, conf in self.files.items()}

    @property
    def attached(self) -> dict[str, str]:
        """What the version keeps beside its flows: the dialplan it applies
        and each flow's sources."""
        return {**self.texts, **self.kept}

    @property
    def changed(self) -> bool:
        return bool(self.diff) or any(c.change != "unchanged" for c in self.changes)


def make_plan(config, store: FlowStore, flows: Mapping[str, dict],
              sources: Mapping[str, str] | None = None) -> Plan:
    """What deploying these flows (IR by flow name) would do."""
    numbers = dict(config.numbers)
    missing = sorted({flow for flow in numbers.values() if flow not in flows})
    if missing:
        have = ", ".join(sorted(flows)) or "none"
        raise DeployError(
            f"{config.path}: [numbers] sends calls to {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not among the flows deployed ({have}); "
            "deploy that flow too or change [numbers]")
    bundle = Bundle(version="new", flows=dict(flows), numbers=numbers)
    try:
        files = dialplan_files(config, bundle)
    except (DialplanError, UnsafeValue) as exc:
        raise DeployError(f"the dialplan cannot be generated: {exc}") from None
    current = store.versions()
    now = next((v for v in current if v.current), None)
    try:
        sounds = planned(flows, config.sounds_dir)
    except QueueSoundError as exc:
        raise DeployError(f"the queue messages cannot be played: {exc}") from None
    plan = Plan(flows=dict(flows), sources=dict(sources or {}), numbers=numbers, files=files,
                current=now, sounds=sounds)
    plan.kept = {sources_name(name): sources_text(read_sources(ir)) for name, ir in flows.items()}
    plan.changes = _changes(store, now, flows)
    plan.diff = _diff(store, now, plan.texts)
    return plan


def _changes(store: FlowStore, current: DeployedVersion | None,
             flows: Mapping[str, dict]) -> list[FlowChange]:
    """Each flow against the current version, by its identity: the same
    files named by another path are the same flow."""
    deployed = store.get(current.version).flows if current else {}
    out = []
    for name in sorted(set(deployed) | set(flows)):
        if name not in flows:
            out.append(FlowChange(name, "removed"))
        elif name not in deployed:
            out.append(FlowChange(name, "added"))
        elif identity(deployed[name]) == identity(flows[name]):
            out.append(FlowChange(name, "unchanged"))
        else:
            assert current is not None
            old = parse_sources(store.attached(current.version, sources_name(name)))
            diff = "" if old is None else source_diff(old, read_sources(flows[name]),
                                                       current.version)
            out.append(FlowChange(name, "changed",
                                  parts=tuple(ir_changes(deployed[name], flows[name])),
                                  diff=diff, kept_no_sources=old is None))
    return out


def _diff(store: FlowStore, current: DeployedVersion | None, texts: Mapping[str, str]) -> str:
    parts = []
    for name, text in texts.items():
        old = store.attached(current.version, name) if current else None
        label = f"{name} (version {current.version})" if current else f"{name} (none)"
        lines = difflib.unified_diff((old or "").splitlines(keepends=True),
                                     text.splitlines(keepends=True),
                                     fromfile=label, tofile=f"{name} (new)")
        parts.append("".join(lines))
    return "".join(parts)


# -- applying through AMI --------------------------------------------------------------


def update_batches(name: str, existing: list[str], conf: ConfFile) -> list[dict[str, str]]:
    """The UpdateConfig actions that make `name` hold exactly `conf`'s
    sections: each a dict of headers, small enough for Asterisk."""
    steps: list[dict[str, str]] = []
    for category in existing:
        steps.append({"Action": "DelCat", "Cat": category, "Options": "ignoreerror"})
    for section in conf.sections:
        steps.append({"Action": "NewCat", "Cat": section.name})
        for line in section.lines:
            # a leading ">" makes Asterisk write `key => value` (manager.c handle_updates)
            value = (">" if line.arrow else "") + line.value
            steps.append({"Action": "Append", "Cat": section.name, "Var": line.key,
                          "Value": value})
    batches: list[dict[str, str]] = []
    current: dict[str, str] = {}
    index = 0
    for step in steps:
        if current and len(current) + len(step) > UPDATE_HEADERS:
            batches.append(current)
            current, index = {}, 0
        current.update({f"{key}-{index:06d}": value for key, value in step.items()})
        index += 1
    if current or not batches:
        batches.append(current)
    return [{"SrcFilename": name, "DstFilename": name, **batch} for batch in batches]


def categories(reply: Any) -> list[str]:
    """The sections a GetConfig reply lists (`Category-000000: name`)."""
    headers = getattr(reply, "headers", reply)
    found = []
    for key in sorted(k for k in headers if k.lower().startswith("category-")):
        value = headers[key]
        found.extend(value if isinstance(value, list) else [value])
    return found


async def apply_files(link: Link, files: Mapping[str, ConfFile]) -> list[str]:
    """Write the files through AMI, then reload; what was done, as lines."""
    done = []
    for name, conf in files.items():
        created = await link.action("CreateConfig", Filename=name)
        if _ok(created):
            done.append(f"created {name}")
        elif "exists" not in _message(created).lower():
            raise DeployError(f"Asterisk cannot create {name}: {_message(created)}")
        got = await link.action("GetConfig", Filename=name)
        if not _ok(got):
            raise DeployError(f"Asterisk cannot read {name}: {_message(got)}")
        for headers in update_batches(name, categories(got), conf):
            reply = await link.action("UpdateConfig", **headers)
            if not _ok(reply):
                raise DeployError(f"Asterisk did not write {name}: {_message(reply)}")
        done.append(f"wrote {name} ({len(conf.sections)} sections)")
    await link.command("dialplan reload")
    done.append("dialplan reload")
    reloaded = await link.action("Reload", Module=QUEUE_MODULE)
    if not _ok(reloaded):
        raise DeployError(f"Asterisk did not reload its queues ({QUEUE_MODULE}): "
                          f"{_message(reloaded)}")
    done.append(f"reload {QUEUE_MODULE}")
    return done


async def _put_back(config, store: FlowStore, link: Link, previous: str | None,
                    tried: Mapping[str, ConfFile]) -> str:
    """After a failed apply, some files may already be rewritten (and the
    dialplan reloaded): write the previous version's files again (no
    version before: the files emptied), so Asterisk and the flow store
    agree. What happened, as a phrase for the error."""
    try:
        if previous is not None:
            files = dialplan_files(config, store.get(previous))
        else:
            files = {name: ConfFile(name, conf.header, ()) for name, conf in tried.items()}
        await apply_files(link, files)
    except Exception as exc:  # noqa: BLE001 - the first failure is the one reported
        return (f"putting Asterisk's files back failed too ({_reason(exc)}): check "
                f"{', '.join(tried)} and run `ccf deploy --rollback` or deploy again")
    return ("Asterisk's files were put back as they were" if previous is not None
            else "Asterisk's ccdsl files were emptied")


def _ok(reply: Any) -> bool:
    return bool(getattr(reply, "ok", False))


def _message(reply: Any) -> str:
    return str(getattr(reply, "message", "") or "no reason given")


def ami_connector(config, server=None) -> Connect:
    """Log in to the AMI of one server (config_servers.AsteriskServer; None: [ami]). Its
    secret is set: `ccf deploy` checked every server's before (cli.common.require_ami_secrets)."""
    ami = config.ami if server is None else server.ami
    named = f"[[asterisk]] {server.name}" if server is not None and server.name else "[ami]"

    async def connect() -> Link:
        link = AmiLink(ami.host, ami.port, ami.user, ami.secret, timeout=ami.timeout_s,
                       events="off")  # deploy reads replies only
        try:
            await asyncio.wait_for(link.start(), ami.timeout_s * 2)
        except (AmiError, OSError, TimeoutError) as exc:
            await _close(link)
            reason = str(exc) or type(exc).__name__
            raise DeployError(f"{reason}; nothing was deployed (check {named} in {config.path} "
                              "and the AMI user in manager.conf, or deploy with --no-apply to "
                              "write the flow store alone)", unreachable=True) from None
        return link

    return connect


def ami_connectors(config) -> list[tuple[str, Connect]]:
    """A connector per Asterisk server, by name ("" for the single [ami])."""
    return [(server.name, ami_connector(config, server)) for server in servers_of(config)]


Servers = Sequence[tuple[str, Connect]]


async def _open(connect: Connect | Servers) -> list[tuple[str, Link]]:
    """Log in to every server before anything is written: one that cannot be reached
    refuses the deploy, and the links already open are closed."""
    if callable(connect):
        return [("", await connect())]
    opened: list[tuple[str, Link]] = []
    try:
        for name, one in connect:
            try:
                opened.append((name, await one()))
            except DeployError as exc:
                raise DeployError(_named(name, str(exc)), unreachable=exc.unreachable) \
                    from None
    except BaseException:
        await _close_all(opened)
        raise
    return opened


def _named(name: str, what: str) -> str:
    return f"{name}: {what}" if name else what


async def _close_all(links: Sequence[tuple[str, Link]]) -> None:
    for _, link in links:
        await _close(link)


async def _apply_everywhere(config, store: FlowStore, links: Sequence[tuple[str, Link]],
                            files: Mapping[str, ConfFile], previous: str | None,
                            undo_store: Callable[[], None], back: str) -> list[str]:
    """Apply the files on each server in turn. One fails: the store is undone and every
    server written so far (the failing one too) gets the previous version's files back, so
    all servers and the store agree; the error says per server what happened. Returns what
    was done: apply_files' lines for a single unnamed server, else a line per server."""
    applied: list[str] = []
    for index, (name, link) in enumerate(links):
        try:
            done = await apply_files(link, files)
        except BaseException as exc:  # a cancel or Ctrl-C too: never leave it half done
            undo_store()
            told = [_named(other, await _put_back(config, store, written, previous, files))
                    for other, written in links[:index + 1]]
            if not isinstance(exc, Exception):
                raise
            raise DeployError(f"{_named(name, _reason(exc))}; the flow store is back at "
                              f"{back}; {'; '.join(told)}") from None
        applied.extend(done if not name else [f"{name}: {'; '.join(done)}"])
    return applied


async def _close(link: Link) -> None:
    try:
        await asyncio.wait_for(link.close(), 5)
    except Exception:  # closing a link that failed: nothing more to report
        pass


async def deploy(config, store: FlowStore, plan: Plan, *, note: str = "",
                 connect: Connect | Servers | None) -> tuple[DeployedVersion, list[str]]:
    """Write the plan as a new current version and apply its dialplan on every server
    (connect None: write the store only). Every server is logged in to first: one that
    cannot be reached refuses the deploy before anything is written. Then the queue
    messages' sound files are put in place (a message that cannot be rendered refuses
    it), then the store and the dialplan. A deploy that fails after that puts the sound
    files back as they were, so it leaves nothing other commands would find. Returns the
    version and what was applied."""
    links = await _open(connect) if connect is not None else []
    try:
        with undone_on_failure([sound.target for sound in plan.sounds],
                               [config.tts_cache_dir] if plan.sounds else []):
            await _put_sounds(config, plan)
            if connect is None:
                version = store.deploy(plan.flows, numbers=plan.numbers, note=note,
                                       sources=plan.sources, attached=plan.attached)
                return version, []
            with store.locked():
                previous = store.current_version()
                prepared = store.prepare(plan.flows, numbers=plan.numbers, note=note,
                                         sources=plan.sources, attached=plan.attached)
                version = store.activate(prepared.version)

                def undo() -> None:
                    store.restore(previous)
                    store.discard(prepared.version)

                back = f"version {previous}" if previous else "nothing deployed"
                done = await _apply_everywhere(config, store, links, plan.files, previous,
                                               undo, back)
                return version, done
    finally:
        await _close_all(links)


async def rollback(config, store: FlowStore, *,
                   connect: Connect | Servers | None) -> tuple[DeployedVersion, list[str]]:
    """Make the previous version current again and apply its dialplan on every server,
    generated with the config as it is now."""
    target = store.rollback_target()
    bundle = store.get(target.version)
    try:
        files = dialplan_files(config, bundle)
    except (DialplanError, UnsafeValue) as exc:
        raise DeployError(f"the dialplan of version {target.version} cannot be generated "
                          f"with {config.path}: {exc}") from None
    if connect is None:
        return store.rollback(), []
    links = await _open(connect)
    try:
        with store.locked():
            previous = store.current_version()
            version = store.activate(target.version)
            done = await _apply_everywhere(config, store, links, files, previous,
                                           lambda: store.restore(previous),
                                           f"version {previous}")
            return version, done
    finally:
        await _close_all(links)


async def _put_sounds(config, plan: Plan) -> None:
    if not plan.sounds:
        return
    renderer = TtsRenderer(config.tts_cache_dir, config.tts_command or DEFAULT_COMMAND)
    try:
        await put_in_place(plan.sounds, renderer)
    except QueueSoundError as exc:
        raise DeployError(f"{exc}; nothing was deployed") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, DeployError):
        return str(exc)
    return f"applying the dialplan failed ({type(exc).__name__}: {exc})"
