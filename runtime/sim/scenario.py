"""A simulated call from start to end: its world (clock, CRM, agents, caller), run, events kept.

`ccf simulate` and test blocks both run through run_scenario; nothing here judges a call.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.folder import import_crm_folder
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.errors import ExternalError, InputError
from ccdsl.runtime.core.events import Event, EventList, FanOut
from ccdsl.runtime.core.interpreter import run_call
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.core.queues import queue_configs
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.core.values import Record
from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.operations.store import StoreError
from ccdsl.runtime.sim import (
    InteractiveCaller,
    ScriptedCaller,
    SimCentre,
    SimChannel,
    StepWatch,
)
from ccdsl.runtime.sim.centre import spec_agent
from ccdsl.runtime.sim.faults import Faults, faulty_crm, http_transport, unanswered
from ccdsl.runtime.sim.script import CallerAction, flow_zone, hours_zone, parse_at
from ccdsl.runtime.sim.sounds import SoundsFolder
from ccdsl.runtime.sim.store_template import open_store


@dataclass(frozen=True)
class Scenario:
    name: str
    loc: dict
    start: datetime
    caller: str
    dialled: str = ""
    caller_name: str | None = None
    language: str | None = None
    crm: tuple[tuple[str, dict[str, Any]], ...] = ()
    agents: tuple[AgentSpec, ...] = ()
    actions: tuple[CallerAction, ...] = ()
    # a test block's `expect` lines (runtime.testing.expectations): carried, never judged here
    expectations: tuple = ()
    # a test's faults and HTTP answers (runtime/sim/faults.py); None: the real HTTP
    # (`ccf simulate`), a test always has a table, so it never reaches the network
    faults: Faults | None = None
    # random.choose's seed (RuntimeConfig.random_seed): a test's `call seed N`, 0 in a
    # test that gives none, `ccf simulate --seed`; None draws one
    seed: int | None = None


def simulation(ir: dict, *, caller: str, at: str | None = None, dialled: str = "",
               actions: Sequence[CallerAction] = (), agents: Sequence[AgentSpec] = (),
               now: datetime | None = None, seed: int | None = None) -> Scenario:
    """The scenario of `ccf simulate`: no expectations, the clock at `at`
    (read like a test's `at`), else at `now`, else at the current time."""
    zone, _ = flow_zone(ir)
    if at is not None:
        start = parse_at(at, zone)
    else:
        start = (now or datetime.now(UTC)).astimezone(zone)
    return Scenario(name="simulated call", loc={}, start=start, caller=caller,
                    dialled=dialled, agents=tuple(agents), actions=tuple(actions), seed=seed)


CALL_ID = "sim-1"  # one call per scenario: a fixed id keeps traces reproducible


class WatchedCRM:
    """The CRM of a scenario, noting the record types the call creates, so
    `expect crm TYPE` judges what reached the CRM whatever the events say.
    Everything else is passed through."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.created: list[str] = []

    async def find_customer(self, phone: str):
        return await self.inner.find_customer(phone)

    async def find(self, record_type: str, fields: dict[str, Any]):
        return await self.inner.find(record_type, fields)

    async def owner(self, record: Record):
        return await self.inner.owner(record)

    async def create(self, record_type: str, fields: dict[str, Any]) -> Record:
        record = await self.inner.create(record_type, fields)
        self.created.append(record_type)
        return record

    async def update(self, record: Record, fields: dict[str, Any]) -> Record:
        return await self.inner.update(record, fields)

    async def log_call(self, call: dict[str, Any]) -> None:
        await self.inner.log_call(call)

    async def close(self) -> None:
        await self.inner.close()


def scenario_centre(ir: dict, scenario: Scenario):
    return SimCentre([spec_agent(spec) for spec in scenario.agents],
                     queues=queue_configs(ir).values(), now=scenario.start)


@dataclass
class CallRun:
    """One simulated call, done: its events, the CRM record types it
    created, the interpreter's result, and notes on how the world was set."""

    events: list[Event]
    created: list[str]
    result: Any = None  # the interpreter's CallResult
    notes: list[str] = field(default_factory=list)
    # a test's HTTP requests it declared no answer for (runtime/sim/faults.py)
    unanswered: list[str] = field(default_factory=list)
    # what the line itself did (its ChannelLog's entries): the simulated
    # line's, or over FastAGI the test peer's (what Asterisk would have done)
    line: list = field(default_factory=list)


def copy_database(source: str, target: str) -> None:
    """Copy a SQLite file (a `--crm` database) through SQLite's online
    backup rather than byte by byte: a CRM in WAL mode that another process
    is using keeps its latest commits in the write-ahead log until a
    checkpoint, and a copy of the main file alone would miss them. The
    source is opened read-only, so copying never changes it (not even by
    the checkpoint a last connection closing would run)."""

    src = sqlite3.connect(Path(source).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


async def run_scenario(program, ir: dict, scenario: Scenario, *, workdir: str,
                       sink=None, crm_db: str | None = None, crm_folder: str | None = None,
                       ask=None, note=None, store_path: str | None = None,
                       companion=None, sounds_dir: str | None = None,
                       stores=None) -> CallRun:
    """Build the scenario's world in `workdir` (a fresh SQLite CRM, a call
    store), run the call with the interpreter, and return what happened.
    `sink` also receives every event as it happens; `ask` makes the caller
    interactive (runtime.sim.caller.InteractiveCaller); `note` is told how
    the world was set up, before the call starts. With `store_path` the call
    is kept in that call store (the call's id is the next free `sim-N`
    there), otherwise in a temporary one. `companion(crm, store)` makes one
    more event sink with the call's own CRM and call store (the screen pop
    of `ccf simulate --screen-pop-url`); its `finish()` is awaited once the
    call has ended, before they close. With `sounds_dir` (the centre's
    sounds folder) a recorded prompt missing there is skipped, as on Asterisk.
    `stores` (runtime.sim.store_template.StoreTemplates) makes the temporary
    call store as a copy of an empty one, as a run of many tests does."""

    notes: list[str] = []
    db_path = os.path.join(workdir, "crm.db")
    try:
        if crm_db is not None:
            SqliteCRM(crm_db, create=False).close_now()  # a bad file is named as given
            copy_database(crm_db, db_path)
            notes.append(f"CRM: a copy of {crm_db}")
        crm = SqliteCRM(db_path)
    except (OSError, sqlite3.Error, ExternalError) as exc:
        raise InputError(f"the CRM cannot be opened: {exc}") from None
    try:
        store = open_store(store_path, workdir, timezone=hours_zone(ir), stores=stores)
    except (OSError, sqlite3.Error, ValueError, StoreError) as exc:
        crm.close_now()  # the run ends here: its CRM with it
        # a temporary store is ccf's own: no path of the user's to name
        named = f" `{store_path}`" if store_path else ""
        raise InputError(f"the call store{named} cannot be opened: {exc}") from exc
    call_id = _next_sim_id(store, scenario.start) if store_path else CALL_ID
    if store_path and note is not None:
        note(f"call store: {store_path} (this call is {call_id})")
    try:
        try:
            if crm_folder is not None:
                notes.extend(import_crm_folder(crm, crm_folder))
            for record_type, fields in scenario.crm:
                crm.upsert(record_type, [dict(fields)])
        except ExternalError as exc:
            raise InputError(f"the CRM fixtures cannot be loaded: {exc}") from None
        if note is not None:
            for text in notes:
                note(text)
        clock = VirtualClock(scenario.start)
        line: list = []  # the channel, once made: the interactive caller reads what was heard
        caller = (InteractiveCaller(_asking(ask, line), messages=True) if ask is not None
                  else ScriptedCaller(scenario.actions))
        info = CallInfo(call_id=call_id, caller_number=scenario.caller,
                        caller_name=scenario.caller_name, dialled=scenario.dialled,
                        started=scenario.start, channel="sim/1", language=scenario.language)
        channel = SimChannel(info, clock, caller, scenario_centre(ir, scenario),
                             sounds=SoundsFolder(sounds_dir) if sounds_dir else None)
        line.append(channel)
        events = EventList()
        sinks = (events, store) if sink is None else (events, store, sink)
        config = RuntimeConfig(recordings_dir=os.path.join(workdir, "recordings"),
                               random_seed=scenario.seed)
        watched = WatchedCRM(faulty_crm(crm, scenario.faults, clock, config.crm_timeout_ms))
        extra = companion(crm, store) if companion is not None else None
        if extra is not None:
            sinks = (*sinks, extra)
        transport = http_transport(scenario.faults, clock)
        services = Services(clock=clock, crm=watched, centre=channel.centre, history=store,
                            sink=StepWatch(FanOut(*sinks), channel), config=config,
                            http_transport=transport)
        result = await run_call(program, channel, services)
        if extra is not None:
            await extra.finish()
        return CallRun(events.events, watched.created, result, notes, unanswered(transport),
                       channel.log.entries)
    finally:
        store.close()
        crm.close_now()


def _asking(ask, line: list):
    """The interactive caller's question, with what the caller heard since
    it was last asked (the prompt they answer): ask(waiting_for, heard),
    heard a list of {kind, text, language} from the channel's log, kind
    "file", "tts" or "said" (a `say`: {said: number, value, words})."""
    seen = [0]

    def question(waiting_for: str):
        entries = line[0].log.entries if line else []
        # prompts and spoken values (`say`) alike: both are what the caller hears
        heard = [dict(data, kind=data.get("kind") if kind == "heard" else "said",
                      said=data.get("kind") if kind == "said" else None)
                 for kind, data in entries[seen[0]:] if kind in ("heard", "said")]
        seen[0] = len(entries)
        return ask(waiting_for, heard)

    return question


def _next_sim_id(store, at: datetime) -> str:
    """The next `sim-N` call id of a call store, reserved there (its row
    inserted in one transaction with the choice), so simulated calls kept in
    one store never share an id, however many processes simulate at once."""
    try:
        return store.reserve_call_id("sim-", at)  # the simulated call's clock
    except sqlite3.Error as exc:
        raise InputError(f"the call store `{store.path}` cannot take a new call: {exc}") \
            from None


def run_simulation(ir: dict, scenario: Scenario, *, sink=None, crm_db: str | None = None,
                   crm_folder: str | None = None, ask=None, note=None,
                   store_path: str | None = None, companion=None,
                   sounds_dir: str | None = None) -> CallRun:
    """One simulated call for `ccf simulate`, in a temporary directory that
    is removed afterwards (the call store too, unless `store_path` names one
    to keep the call in)."""

    program = load_program(ir, validate=False)
    with tempfile.TemporaryDirectory(prefix="ccf-simulate-") as workdir:
        return asyncio.run(run_scenario(program, ir, scenario, workdir=workdir, sink=sink,
                                        crm_db=crm_db, crm_folder=crm_folder, ask=ask,
                                        note=note, store_path=store_path,
                                        companion=companion, sounds_dir=sounds_dir))
