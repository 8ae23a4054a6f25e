"""`ccf simulate FLOW`: one simulated call, printed as a readable trace.

Rendering only: the call itself is built and run by
runtime.scenario.simulate_call, which a library user can call too. The
trace renderer here is shared with `ccf test`, which prints the trace of
a failing test.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from ccdsl.cli.common import write


class TraceFormat(StrEnum):
    text = "text"
    json = "json"


PRESS_HELP = (
    "What the caller does, in order, separated by spaces or commas: keys such as `1` or "
    "`20261128#` (pressed when the call next listens for keys), a silence such as `5s` or "
    "`500ms`, or `hangup`. Example: --press \"1 20261128# 0\".")


# ---- the trace -------------------------------------------------------------------------


def offset_text(ms: int) -> str:
    """+MM:SS.mmm from the start of the call (+H:MM:SS.mmm past an hour)."""
    ms = max(ms, 0)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    if hours:
        return f"+{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    return f"+{minutes:02d}:{seconds:02d}.{millis:03d}"


def where_text(loc: dict | None, root: str | None = None) -> str:
    if not loc or not loc.get("file"):
        return ""
    from ccdsl.render import display_path

    return f"{display_path(loc['file'], root)}:{loc.get('line', 1)}"


def _short(text: Any, limit: int = 90) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sounds(sounds) -> str:
    parts = []
    for s in sounds or ():
        if s.get("kind") == "tts":
            parts.append(f"\"{_short(s.get('text', ''))}\"")
        else:
            parts.append(f"file {s.get('text', '')}")
    return " + ".join(parts) if parts else "nothing"


def _value(value: Any) -> str:
    if isinstance(value, dict):
        if "kind" in value and len(value) > 1:
            ident = value.get("id") or value.get("number") or value.get("name")
            return f"{value['kind']} {ident}" if ident else str(value["kind"])
        return json.dumps(value, ensure_ascii=False, default=str)
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{_short(value, 60)}"'
    return str(value)


def describe(kind: str, data: dict) -> str:
    """What one event means, in words."""
    d = data
    match kind:
        case "call_started":
            to = f" to {d['dialled']}" if d.get("dialled") else ""
            flow = f" (flow {d['flow']})" if d.get("flow") else ""
            return f"call from {d.get('caller') or 'an unknown number'}{to}{flow}"
        case "step_entered":
            return f"step {d.get('step')}"
        case "handler_entered":
            return f"on {str(d.get('handler', '')).replace('_', ' ')}"
        case "answered":
            return "answered"
        case "prompt_played":
            name = f"{d['prompt']}: " if d.get("prompt") else ""
            lang = {s.get("language") for s in d.get("sounds") or () if s.get("language")}
            tag = f" [{', '.join(sorted(lang))}]" if lang else ""
            # stamped when the playback started; `ms` says how long it played
            length = _seconds(d["ms"]) if isinstance(d.get("ms"), (int, float)) else ""
            if d.get("interrupted_by"):
                after = f" after {length}" if length else ""
                cut = f" (interrupted by {d['interrupted_by']}{after})"
            else:
                cut = f" ({length})" if length else ""
            return f"plays {name}{_sounds(d.get('sounds'))}{tag}{cut}"
        case "said":
            return f"says {d.get('kind')} {d.get('value')} [{d.get('language', '')}]"
        case "keys":
            keys = d.get("keys") or ""
            what = f'caller presses "{keys}"' if keys else "caller presses nothing"
            timed = " (timed out)" if d.get("timed_out") and keys else ""
            purpose = f" for {d['purpose']}" if d.get("purpose") else ""
            return f"{what}{timed}{purpose}"
        case "menu_choice":
            attempt = f" (attempt {d['attempt']})" if d.get("attempt") else ""
            return f"menu: {d.get('key') or d.get('choice')}{attempt}"
        case "collected":
            return f"{d.get('name')} = {_value(d.get('value'))}"
        case "variable_set":
            return f"{d.get('name')} = {_value(d.get('value'))}"
        case "crm_query":
            args = d.get("args")
            shown = ", ".join(f"{k}: {_value(v)}" for k, v in args.items()) \
                if isinstance(args, dict) else ("" if args is None else _value(args))
            ms = f" ({d['ms']} ms)" if d.get("ms") is not None else ""
            if d.get("error"):
                return f"CRM {d.get('operation')}({shown}) failed: {d['error']}{ms}"
            if d.get("operation") in ("log_call", "update", "close"):
                return f"CRM {d.get('operation')}({shown}) done{ms}"
            return f"CRM {d.get('operation')}({shown}) -> {_result(d.get('result'))}{ms}"
        case "http_request":
            status = d.get("error") or d.get("status")
            return f"HTTP {d.get('method')} {d.get('url')} -> {status}"
        case "routing_decision":
            # the line of the rule is the event's own .ccf location
            reason = f" ({d['reason']})" if d.get("reason") else ""
            return f"routing {d.get('routing')}: {d.get('outcome')}{reason}"
        case "queue_joined":
            return (f"joins queue {d.get('queue')} at position {d.get('position')}"
                    f", priority {d.get('priority')}")
        case "queue_left":
            return (f"leaves queue {d.get('queue')}: {d.get('outcome')}"
                    f" after {_seconds(d.get('wait_ms'))}")
        case "agent_offered":
            via = f" (via {d['via']})" if d.get("via") else ""
            return f"rings agent {d.get('agent')}{via}"
        case "agent_answered":
            return f"agent {d.get('agent')} answers after {_seconds(d.get('ring_ms'))}"
        case "conversation_ended":
            return (f"conversation with {d.get('agent')} ends after "
                    f"{_seconds(d.get('talk_ms'))}, ended by {d.get('ended_by')}")
        case "transfer":
            return f"transfer ({d.get('mode')}) to {d.get('target')}: {d.get('status')}"
        case "three_way":
            return f"three-way call with {d.get('target')}: {d.get('status')}"
        case "recording_started":
            return f"recording starts: {_file_name(d.get('file'))}"
        case "recording_stopped":
            return f"recording stops: {_file_name(d.get('file'))}"
        case "language_set":
            was = f" (was {d['previous']})" if d.get("previous") else ""
            return f"language {d.get('language')}{was}"
        case "voicemail":
            stored = "stored" if d.get("stored") else "not stored"
            length = f", {_seconds(d.get('duration_ms'))}" if d.get("duration_ms") else ""
            return f"voicemail for {d.get('mailbox')}: {stored}{length}"
        case "screen_pop":
            items = d.get("data")
            shown = ", ".join(_value(v) for v in items) if isinstance(items, list) \
                else _value(items)
            return f"screen pop for {d.get('agent')}: {shown}"
        case "wrapup_requested":
            fields = d.get("fields") or []
            names = ", ".join(f.get("name", "") if isinstance(f, dict) else str(f)
                              for f in fields)
            return f"wrap-up form for {d.get('agent')}: {names}"
        case "log":
            return f"log: {d.get('message')}"
        case "error":
            return f"ERROR: {d.get('message')}"
        case "hangup":
            step = f" in step {d['step']}" if d.get("step") else ""
            return f"hang-up by {d.get('by')}{step}"
        case "call_ended":
            return (f"call ended: {d.get('outcome')} after "
                    f"{_seconds(d.get('duration_ms'))}")
    rest = ", ".join(f"{k}={_value(v)}" for k, v in d.items())
    return f"{kind.replace('_', ' ')}{': ' + rest if rest else ''}"


def _file_name(path: Any) -> str:
    """A recording's file name: the simulator's folder is temporary, so
    its path would mean nothing after the run."""
    return os.path.basename(str(path)) if path else "?"


def _result(value: Any) -> str:
    if value is None:
        return "nothing found"
    return _value(value)


def _seconds(ms: Any) -> str:
    if not isinstance(ms, (int, float)):
        return "0s"
    return f"{ms / 1000:g}s"


def _offset_ms(at: datetime, start: datetime | None) -> int:
    if start is None:
        return 0
    return int((at - start).total_seconds() * 1000)


def where_width(files, root: str | None = None) -> int:
    """The width of the location column for a call through these files."""
    from ccdsl.render import display_path

    longest = max((len(display_path(f, root)) for f in files), default=20)
    return longest + 5  # ":" and a line number of up to four digits


def trace_line(event, start: datetime | None, *, root: str | None = None,
               where_width: int = 30) -> str:
    where = where_text(event.loc, root)
    return (f"{offset_text(_offset_ms(event.at, start))}  {where:<{where_width}} "
            f"{describe(event.kind, event.data)}").rstrip()


def trace_json(event, start: datetime | None) -> str:
    from ccdsl.runtime.core.values import to_json

    return json.dumps({
        "seq": event.seq,
        "at": event.at.isoformat(),
        "offset_ms": _offset_ms(event.at, start),
        "kind": event.kind,
        "loc": event.loc,
        "data": to_json(event.data),
    }, ensure_ascii=False, sort_keys=False)


def render_trace(events, *, root: str | None = None, indent: str = "") -> str:
    """A whole call's trace, one line per event."""
    events = list(events)
    start = events[0].at if events else None
    width = where_width({e.loc["file"] for e in events if e.loc and e.loc.get("file")}, root)
    return "".join(f"{indent}{trace_line(e, start, root=root, where_width=width)}\n"
                   for e in events)


class TracePrinter:
    """An event sink that prints each event as it happens, so an
    interactive caller sees the prompt before being asked for keys."""

    def __init__(self, fmt: TraceFormat, root: str | None = None, width: int = 30) -> None:
        self.fmt = fmt
        self.root = root
        self.width = width
        self.start: datetime | None = None

    def emit(self, event) -> None:
        if self.start is None:
            self.start = event.at
        if self.fmt is TraceFormat.json:
            write(trace_json(event, self.start) + "\n")
        else:
            write(trace_line(event, self.start, root=self.root, where_width=self.width) + "\n")


# ---- the command ---------------------------------------------------------------------


def simulate(
    flow: str = typer.Argument(..., metavar="FLOW", show_default=False,
                               help="The entry .ccf flow to call."),
    caller: str = typer.Option("+8613900000000", "--caller", metavar="NUMBER",
                               help="The caller's number (caller id)."),
    dialled: str = typer.Option("", "--to", metavar="NUMBER", help="The number dialled."),
    at: str = typer.Option(None, "--at", metavar="WHEN",
                           help="When the call arrives: \"YYYY-MM-DD HH:MM [Zone]\", such as "
                                "\"2026-11-30 10:00 Asia/Shanghai\". Without a zone, the zone "
                                "of the flow's business hours (else UTC). Default: now."),
    press: str = typer.Option("", "--press", metavar="KEYS", help=PRESS_HELP),
    crm: Path = typer.Option(None, "--crm", metavar="DB", dir_okay=False,
                             help="A SQLite CRM (see `ccf crm import`). The call works on a "
                                  "copy, so the file is not changed. Default: the CSV/JSON "
                                  "files of a `crm/` folder beside the flow, imported into a "
                                  "temporary CRM (empty when there is no such folder)."),
    agents: Path = typer.Option(None, "--agents", metavar="FILE", dir_okay=False,
                                help="Agents of the simulated centre, a TOML or JSON file: a "
                                     "list `agents` of {id, name, skills, state, extension, "
                                     "answer_after}. Default: `agents.toml` beside the flow, "
                                     "else no agents."),
    interactive: bool = typer.Option(False, "--interactive", "-i",
                                     help="Ask for key presses on standard input whenever the "
                                          "call listens (`keys> `; an empty line is silence, "
                                          "end of input hangs up)."),
    store: Path = typer.Option(None, "--store", metavar="FILE", dir_okay=False,
                               envvar="CCF_STORE",
                               help="Keep the call (its events and call record) in this SQLite "
                                    "call store, created if missing; reports and `last_agent` "
                                    "read it. Default: $CCF_STORE, else a temporary store that "
                                    "is discarded."),
    screen_pop_url: str = typer.Option(None, "--screen-pop-url", metavar="URL",
                                       help="Send a screen pop (a JSON POST: the call, the "
                                            "agent, the caller's CRM record and recent calls) "
                                            "to this URL whenever an agent is offered the "
                                            "call, as `ccf serve` does; Bearer token from "
                                            "$CCF_SCREEN_POP_TOKEN when set."),
    fmt: TraceFormat = typer.Option(TraceFormat.text, "--format", "-f",
                                    help="text: a readable trace; json: one JSON event per "
                                         "line."),
) -> None:
    """Run one simulated call through a flow and print its trace.

    Each line shows the time since the call started, the .ccf line that
    acted, and what happened: steps, what the caller hears, keys, CRM
    look-ups, routing decisions and their reasons, queues, agents,
    recordings, voicemail and the hang-up. Exit status: 0 when the call
    ran (whatever its outcome), 1 when the flow has errors, 2 for bad
    options.
    """
    from ccdsl.cli.common import Format, render_diagnostics
    from ccdsl.compiler.pipeline import compile_file

    def bad(message: str) -> typer.Exit:
        write(f"error: {message}\n", err=True)
        return typer.Exit(2)

    if not os.path.isfile(flow):
        raise bad(f"`{flow}` is not a file")
    if interactive and press:
        raise bad("--press and --interactive do not go together: choose a script or typing")
    from ccdsl.runtime.core.errors import InputError
    from ccdsl.runtime.operations.agents_file import load_agents
    from ccdsl.runtime.sim.scenario import run_simulation, simulation
    from ccdsl.runtime.sim.script import parse_press

    try:
        actions = parse_press(press)
        agent_file = str(agents) if agents is not None else _beside(flow, "agents.toml")
        agent_specs = load_agents(agent_file) if agent_file else ()
    except InputError as exc:
        raise bad(str(exc)) from None
    if crm is not None and not crm.is_file():
        raise bad(f"there is no CRM database at `{crm}`")

    result = compile_file(flow)
    write(render_diagnostics(result.diagnostics, result.sources, Format.text, err=True),
          err=True)
    if not result.ok or result.ir is None:
        raise typer.Exit(1)
    if not (result.ir.get("handlers") or {}).get("start"):
        raise bad(f"`{flow}` has no `on start` handler: it is a module that other flows use; "
                  "simulate a flow that uses it")
    try:
        scenario = simulation(result.ir, caller=caller, at=at, dialled=dialled,
                              actions=actions, agents=agent_specs)
    except InputError as exc:
        raise bad(str(exc)) from None

    root = os.getcwd()
    printer = TracePrinter(fmt, root=root,
                           width=where_width(result.ir.get("source_files", [flow]), root))
    ask = _ask_keys if interactive else None

    def note(text: str) -> None:
        # set-up facts go to standard error: standard output is the trace
        write(f"{text}\n", err=True)

    zone = scenario.start.tzinfo
    note(f"call at {scenario.start:%Y-%m-%d %H:%M} {getattr(zone, 'key', None) or zone} "
         f"({scenario.start:%A})")
    note(f"agents: {len(agent_specs)} from {agent_file}" if agent_file
         else "agents: none (give --agents FILE)")
    crm_folder = None if crm else _beside(flow, "crm", folder=True)
    if store is None:
        note("call store: temporary (give --store FILE to keep the call)")
    if crm is None and crm_folder is None:
        note("CRM: empty (give --crm DB, or put a crm/ folder of CSV files beside the flow)")
    if screen_pop_url is not None and not screen_pop_url.startswith(("http://", "https://")):
        raise bad(f"--screen-pop-url {screen_pop_url!r}: write an http:// or https:// URL")
    run = run_simulation
    if screen_pop_url is not None:
        from functools import partial

        from ccdsl.runtime.sim.screen_pop import run_simulation_with_pop

        run = partial(run_simulation_with_pop, url=screen_pop_url)
    try:
        run(result.ir, scenario, sink=printer, crm_db=str(crm) if crm else None,
            crm_folder=crm_folder, ask=ask, note=note, store_path=str(store) if store else None)
    except InputError as exc:
        raise bad(str(exc)) from None


def _beside(flow: str, name: str, *, folder: bool = False) -> str | None:
    """A file (or folder) of this name in the flow's directory, if there is one."""
    path = os.path.join(os.path.dirname(flow) or ".", name)
    found = os.path.isdir(path) if folder else os.path.isfile(path)
    return path if found else None


def _ask_keys(waiting_for: str, heard: list[dict]) -> str | None:
    """Keys typed by the person at the terminal: a line of keys, an empty
    line for silence, end of input to hang up. The prompt being answered
    is shown first: the trace prints it only once the keys are in."""
    import sys

    for sound in heard[-3:]:
        what = (f"\"{sound.get('text', '')}\"" if sound.get("kind") == "tts"
                else f"file {sound.get('text', '')}")
        sys.stderr.write(f"caller hears: {what}\n")
    sys.stderr.write(f"caller may press {waiting_for}; empty line: silence\n" if waiting_for
                     else "")
    sys.stderr.write("keys> ")
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        sys.stderr.write("\n")
        return None
    return line.strip()
