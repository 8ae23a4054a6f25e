"""The desk's unsaved wrap-up forms read again from the call store: every agent's when the
console starts (a restart lost the desk's memory), one agent's before the desk is shown or
the agent leaves, and every WATCH_S those of all agents wrapping a call up, in one read
(another worker over the same store, or `ccf wrapup`, may have asked for or saved one: saved
there, the agent is ready here as after a save on this desk).

Must not decide which forms wait: store_wrapups reads them, AgentDesk.sync_wrapups keeps them.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.off_loop import off_loop
from ccdsl.runtime.operations.agent_desk import MAX_UNSAVED
from ccdsl.runtime.operations.centre_control import ControlError
from ccdsl.runtime.operations.store_migrate import StoreError
from ccdsl.runtime.operations.store_wrapups import Waiting, waiting, waiting_all, waiting_many

log = logging.getLogger("ccdsl.console")

# how often the desks of agents wrapping a call up look for a save made elsewhere: one read
# for all such agents, and an agent waits no longer than this for the desk to follow
WATCH_S = 2.0


def _now_ms(ctx: ConsoleContext) -> int:
    # the centre's clock: a simulated centre's calls start on its simulated one
    return int(ctx.now().timestamp() * 1000)


async def rebuild(ctx: ConsoleContext) -> None:
    """Every agent's unsaved forms, as the store has them, back on the desk."""
    try:
        found = await off_loop(waiting_all, ctx.store, _now_ms(ctx), limit=MAX_UNSAVED)
    except (sqlite3.Error, StoreError) as exc:  # each desk reads its own when shown
        log.warning("the agents' unsaved wrap-up forms not read from the call store: %s", exc)
        return
    known = {status.agent for status in ctx.desk.all()}
    for agent, ids in sorted(found.items()):
        if agent in known:
            ctx.desk.sync_wrapups(agent, ids)
    if found:
        log.info("console: unsaved wrap-up forms back on the desks of %s",
                 ", ".join(f"{a} ({len(ids)})" for a, ids in sorted(found.items())
                           if a in known))


async def refresh(ctx: ConsoleContext, agent: str) -> None:
    """The agent's forms as the store has them now; the desk's own when it cannot be read."""
    known = ctx.desk.looked_up(agent)
    try:
        found = await off_loop(waiting, ctx.store, agent, _now_ms(ctx), known,
                               limit=MAX_UNSAVED)
    except (sqlite3.Error, StoreError) as exc:
        log.warning("agent %s's unsaved wrap-up forms not read from the call store: %s",
                    agent, exc)
        return
    await _follow(ctx, agent, found)


async def look_again(ctx: ConsoleContext) -> None:
    """One round of the watch: the forms of every agent wrapping a call up, in one read of
    the store (a floor's worth of agents is one round trip, not one each)."""
    known = {s.agent: ctx.desk.looked_up(s.agent) for s in ctx.desk.all()
             if s.state == "wrapup"}
    if not known:
        return
    try:
        found = await off_loop(waiting_many, ctx.store, known, _now_ms(ctx),
                               limit=MAX_UNSAVED)
    except (sqlite3.Error, StoreError) as exc:  # the next round tries again
        log.warning("the wrap-up forms of the agents wrapping a call up not read again "
                    "from the call store: %s", exc)
        return
    for agent, theirs in found.items():
        try:
            await _follow(ctx, agent, theirs)
        except Exception:  # noqa: BLE001 - one agent's fault leaves the others' desks
            log.exception("agent %s's wrap-up forms not followed", agent)


async def _follow(ctx: ConsoleContext, agent: str, found: Waiting) -> None:
    """The desk takes the store's word on the agent's forms; a save made elsewhere of the
    call the agent wraps up makes them ready."""
    wrapping = ctx.desk.saved_elsewhere(agent, found.done)
    ctx.desk.sync_wrapups(agent, found.unsaved, found.done)
    if wrapping is None:
        return
    log.info("agent %s's wrap-up of call %s was saved elsewhere: ready here too", agent,
             wrapping)
    try:
        await ctx.desk.wrapped_up(agent, wrapping)
    except ControlError as exc:  # the form waits no more; Ready takes the agent on
        log.warning("agent %s's wrap-up of call %s saved elsewhere, but the agent stays "
                    "paused: %s", agent, wrapping, exc)


async def watch(ctx: ConsoleContext) -> None:
    """The forms rebuilt at start, then every WATCH_S those of the agents wrapping a call
    up read again (runs until cancelled with the console's other chores; a fault escaping
    it is the supervisor's to log, chores.py)."""
    await rebuild(ctx)
    while True:
        await asyncio.sleep(WATCH_S)
        await look_again(ctx)
