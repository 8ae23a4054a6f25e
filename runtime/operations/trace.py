"""A call's events as text: the trace `ccf simulate` and `ccf test` print, `ccf calls show`.

Pure rendering: no I/O but reading the .ccf lines it quotes; no terminal, no command line.
Every value from a call is shown through terminal_text.visible (the JSON forms keep them).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from ccdsl import json_text
from ccdsl.render import display_path
from ccdsl.runtime.core.durations import offset_text, seconds_text
from ccdsl.runtime.core.values import Duration, map_key, spell, to_json
from ccdsl.runtime.operations.centre_time import local_text, zone_name
from ccdsl.stdlib_files import STDLIB_PREFIX, stdlib_dir
from ccdsl.terminal_text import visible


def where_text(loc: dict | None, root: str | None = None) -> str:
    if not loc or not loc.get("file"):
        return ""
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


def _value(value: Any, depth: int = 0) -> str:
    """A value of an event (values.to_json's form) as the language writes
    it (values.spell): null, true, "text", 30s, [1, 2], {a: 1}."""
    if isinstance(value, dict):
        if set(value) == {"ref", "kind"}:  # a declaration as a value: `dept = lost_cards`
            return str(value["ref"])
        if "kind" in value and len(value) > 1:
            ident = value.get("id") or value.get("number") or value.get("name")
            return f"{value['kind']} {ident}" if ident else str(value["kind"])
        if set(value) == {"duration_ms"} and isinstance(value["duration_ms"], int):
            return spell(Duration(value["duration_ms"]))
        if depth > 8:
            return "{…}"
        return "{" + ", ".join(f"{map_key(k)}: {_value(v, depth + 1)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[…]" if depth > 8 else \
            "[" + ", ".join(_value(v, depth + 1) for v in value) + "]"
    if isinstance(value, str):
        return spell(_short(value, 60))
    return spell(value)


def _seconds(ms: Any) -> str:
    return seconds_text(ms, missing="0s")


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
            words = d.get("words")
            heard = f' "{words}"' if words and words != d.get("value") else ""
            return f"says {d.get('kind')} {d.get('value')}{heard} [{d.get('language', '')}]"
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
            why = f" (json null: {d['json_problem']})" if d.get("json_problem") else ""
            return f"HTTP {d.get('method')} {d.get('url')} -> {status}{why}"
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
        case "agent_no_answer":
            return (f"agent {d.get('agent')} does not answer "
                    f"after {_seconds(d.get('ring_ms'))}")
        case "agent_answered":
            return f"agent {d.get('agent')} answers after {_seconds(d.get('ring_ms'))}"
        case "conversation_ended":
            return (f"conversation with {d.get('agent')} ends after "
                    f"{_seconds(d.get('talk_ms'))}, ended by {d.get('ended_by')}")
        case "transfer":
            return f"transfer ({d.get('mode')}) to {d.get('target')}: {d.get('status')}"
        case "three_way":
            return f"three-way call with {d.get('target')}: {d.get('status')}"
        case "party_joined":
            return (f"outside party {d.get('party')} answers after "
                    f"{_seconds(d.get('ring_ms'))}")
        case "party_left":
            return (f"outside party {d.get('party')} leaves after "
                    f"{_seconds(d.get('talk_ms'))}, ended by {d.get('ended_by')}")
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
        case "random_choice":  # the seed and draw say how to replay it: --seed / `call seed`
            return (f"random choice: {_value(d.get('chosen'))} (item {(d.get('index') or 0) + 1}"
                    f" of {_value(d.get('items'))}; seed {d.get('seed')}, draw {d.get('draw')})")
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


def _offset_ms(at: datetime, start: datetime | None) -> int:
    if start is None:
        return 0
    return int((at - start).total_seconds() * 1000)


def where_width(files, root: str | None = None) -> int:
    """The width of the location column for a call through these files."""
    longest = max((len(display_path(f, root)) for f in files), default=20)
    return longest + 5  # ":" and a line number of up to four digits


def trace_line(event, start: datetime | None, *, root: str | None = None,
               where_width: int = 30) -> str:
    """One line whatever the event holds: what it says is a caller's number,
    a CRM name, a peer's answer, escaped as a whole (describe() itself
    writes no line breaks or control characters)."""
    return "".join(trace_parts(event, start, root=root, where_width=where_width))


def trace_parts(event, start: datetime | None, *, root: str | None = None,
                where_width: int = 30) -> tuple[str, str]:
    """trace_line as its offset and the rest (where and what): lines whose rest is the same
    repeat one another (trace_fold.py)."""
    where = visible(where_text(event.loc, root))
    return (offset_text(_offset_ms(event.at, start)),
            f"  {where:<{where_width}} {visible(describe(event.kind, event.data))}".rstrip())


def trace_json(event, start: datetime | None) -> str:
    return json_text.dumps({
        "seq": event.seq,
        "at": event.at.isoformat(),
        "offset_ms": _offset_ms(event.at, start),
        "kind": event.kind,
        "loc": event.loc,
        "data": to_json(event.data),
    }, ensure_ascii=False, sort_keys=False)


def render_trace(events, *, root: str | None = None, indent: str = "",
                 fold: bool = True) -> str:
    """A whole call's trace, one line per event, its repeats folded unless `fold` is False
    (trace_fold.py: a call looping until it was cut off reads as one round and how many
    more; a JSON report keeps every line)."""
    from ccdsl.runtime.operations.trace_fold import folded

    events = list(events)
    start = events[0].at if events else None
    width = where_width({e.loc["file"] for e in events if e.loc and e.loc.get("file")}, root)
    parts = [trace_parts(e, start, root=root, where_width=width) for e in events]
    if fold:
        return folded(parts, indent)
    return "".join(f"{indent}{offset}{rest}\n" for offset, rest in parts)


# ---- one call from the call store (`ccf calls show`) ----------------------------------


def render_detail(detail, root: str | None = None, zone: tzinfo = UTC) -> str:
    """A call's record, events, path through the flow, recordings and
    wrap-up (runtime.operations.recordings.CallDetail), as sections; times
    of day in `zone` (the centre's)."""
    record = detail.record
    out = [f"call {visible(record['call_id'])}  flow {visible(record['flow'] or '?')} "
           f"(version {visible(record['flow_version'] or '?')})\n"]
    shown = zone_name(zone)
    facts = [("started", f"{local_text(record['started'], zone)} {shown}"),
             ("ended", record["ended"] and f"{local_text(record['ended'], zone)} {shown}"),
             ("caller", record["caller"]), ("dialled", record["dialled"]),
             ("customer", record["customer_id"]), ("outcome", record["outcome"] or "in progress"),
             ("ended by", record["ended_by"]), ("length", seconds_text(record["duration_ms"])),
             ("queue", record["queue"]), ("waited", seconds_text(record["wait_ms"])),
             ("agent", record["agent"]), ("talked", seconds_text(record["talk_ms"])),
             ("voicemail", " ".join(filter(None, (
                 record["voicemail_mailbox"], record["voicemail_file"],
                 record.get("voicemail_removed") and
                 f"(removed on {record['voicemail_removed'][:10]})")))),
             ("error", record["error"])]
    out += [f"  {name:<10} {visible(value)}\n" for name, value in facts
            if value not in (None, "")]
    out.append("\nEvents:\n")
    out.append(render_trace(detail.events, root=root, indent="  ") or "  (none)\n")
    out.append("\nPath through the flow:\n")
    out.append(render_path(detail.events, root) or "  (no step ran)\n")
    out.append("\nRecordings:\n")
    if not detail.recordings:
        out.append("  (none)\n")
    for rec in detail.recordings:
        where = ("on disk" if rec["exists"] else f"removed on {rec['removed'][:10]}"
                 if rec.get("removed") else "not on this machine")
        out.append(f"  {visible(rec['file'])}  ({where})\n    started "
                   f"{local_text(rec['started'], zone)} {shown}, "
                   f"{seconds_text(rec['duration_ms']) or '?'}, "
                   f"agent {visible(rec['agent'] or '-')}, "
                   f"customer {visible(rec['customer_id'] or '-')}\n")
    out.append("\nWrap-up:\n")
    # each agent asked keeps their own (a transferred call: both agents')
    out.append("".join(map(render_wrapup, record.get("wrapups") or ())) or render_wrapup(None))
    return "".join(out)


def render_path(events, root: str | None = None) -> str:
    """The .ccf lines the call went through, in order, each once per visit
    (consecutive events of one line are one entry), with the line's text."""
    start = events[0].at if events else None
    lines, last = [], None
    sources: dict[str, list[str] | None] = {}
    for event in events:
        loc = event.loc
        if not loc or not loc.get("file"):
            continue
        key = (loc["file"], loc.get("line"))
        if key == last:
            continue
        last = key
        text = _source_line(sources, loc["file"], loc.get("line") or 0)
        offset = offset_text(int((event.at - start).total_seconds() * 1000))
        where = visible(f"{display_path(loc['file'], root)}:{loc.get('line')}")
        lines.append(f"  {offset}  {where:<40} | {visible(text)}".rstrip() + "\n")
    return "".join(lines)


def _readable(file: str) -> Path:
    """The file to quote: the standard library's from the installed package, wherever the
    command runs; any other as the call store names it."""
    if file.startswith(STDLIB_PREFIX):
        return Path(stdlib_dir(), file[len(STDLIB_PREFIX):])
    return Path(file)


def _source_line(cache: dict, file: str, line: int) -> str:
    if file not in cache:
        try:
            cache[file] = _readable(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            cache[file] = None  # not readable here: the location alone
    text = cache[file]
    return text[line - 1].strip() if text and 1 <= line <= len(text) else ""


def render_wrapup(wrapup: dict | None) -> str:
    if not wrapup:
        return "  (no wrap-up form)\n"
    fields = wrapup.get("fields") or []
    names = [f.get("name") if isinstance(f, dict) else str(f) for f in fields]
    values = wrapup.get("values")
    head = (f"  agent {visible(wrapup.get('agent') or '-')}; "
            f"fields {visible(', '.join(map(str, names)) or '-')}\n")
    if not values:
        return head + "  (not entered yet)\n"
    return head + "".join(f"  {visible(k)} = {visible(json_text.dumps(v, ensure_ascii=False))}\n"
                          for k, v in values.items())


def call_json(detail) -> dict:
    """The same call as plain JSON data (`ccf calls show --format json`)."""
    return {
        "call": detail.record,
        "events": [{"seq": e.seq, "at": e.at.isoformat(), "kind": e.kind, "loc": e.loc,
                    "data": to_json(e.data)} for e in detail.events],
        "path": [dict(v) for v in detail.visits],
        "recordings": list(detail.recordings),
        "wrapup": detail.record.get("wrapup"),  # the last agent's
        "wrapups": detail.record.get("wrapups") or [],
    }
