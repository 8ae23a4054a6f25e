"""A call's record folded from its events (calls row, visits, legs, recordings); data as JSON.

Pure data: must not touch SQLite; runtime/operations/store.py writes what this builds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from ccdsl.runtime.core.values import to_json

try:  # a compiled encoder, used where its text is json's (event_element); json's where not
    import orjson
except ImportError:  # pragma: no cover - a dependency; the store works without it, slower
    orjson = None  # type: ignore[assignment]

# Kinds after which a still-ringing agent offer counts as missed: the call
# moved on without that agent answering. (FOLDS, below, folds the kinds
# that feed the record; the others, most events, only become event rows.)
MOVED_ON = frozenset({"routing_decision", "step_entered", "voicemail",
                       "transfer", "prompt_played", "agent_answered"})
ENTERING = frozenset({"step_entered", "handler_entered"})

# json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=to_json),
# made once; no circular-reference check, since event data is a tree
# and no NaN or Infinity, which are not JSON: SQLite's json functions refuse them
encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                               check_circular=False, allow_nan=False, default=to_json).encode
# The same encoder's C core, called directly for a dict (every event's data):
# JSONEncoder.encode reaches it through two Python frames per call, a fifth
# of the cost of encoding an event's data.
_c_encoder = (json.encoder.c_make_encoder(None, to_json, json.encoder.encode_basestring, None,
                                          ":", ",", False, False, False)
              if json.encoder.c_make_encoder is not None else None)


def dumps(value: Any) -> str:
    # Most event data is plain JSON already: encode it directly, with
    # to_json only for the run-time values inside (records, dates,
    # durations), instead of first copying the whole structure through
    # to_json. Keys json cannot take (a tuple) fall back to the full walk.
    if type(value) is dict and _c_encoder is not None:
        if not value:
            return "{}"
        try:
            return "".join(_c_encoder(value, 0))
        except TypeError:
            return encode_json(to_json(value))
    if not value and isinstance(value, dict):
        return "{}"
    try:
        return encode_json(value)
    except TypeError:
        return encode_json(to_json(value))


# the JSON of the texts events repeat (kinds, steps, files), each encoded once
_TEXT_JSON: dict[Any, str] = {None: "null"}
_TEXTS_KEPT = 4096


# what orjson writes as json would, else it raises: datetimes, dataclasses and subclasses of
# the JSON types go to _not_plain (to_json's values), and so does a key that is no text
_FAST_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                 | orjson.OPT_PASSTHROUGH_SUBCLASS) if orjson is not None else 0
# the numbers orjson writes otherwise, those from 1e-9 to 1e-4 (json's 1e-05, 3e-07; orjson's
# 0.00001, 3e-7): an array that may hold one is made again by json
_SMALL_NUMBER = re.compile(r"[0-9]e-[0-9]|0\.0000")


def _not_plain(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def event_element(seq: int, at: str, ms: int, kind: str, step: str | None,
                  loc: Mapping[str, Any] | None, data: Any) -> str:
    """One event as its event_batches element: the JSON array of EVENT_COLUMNS
    but call_id (`at`: its time as stored), as `encode_json` would write it (its
    data as `dumps`). orjson writes the whole array where its text is json's;
    where it may not be, the array is built as text around json's encoding of
    the data (encoding the list with json costs twice as much as encoding the
    data alone). A float that is not finite, which no source of event data
    lets through, orjson writes as null where json would refuse the event; a
    plain Enum (not a StrEnum or IntEnum; none is emitted) as its value."""
    if loc:
        file, line, col = loc.get("file"), loc.get("line"), loc.get("column")
    else:
        file = line = col = None
    if orjson is not None:
        try:
            out = orjson.dumps([seq, at, ms, kind, step, file, line, col, data], _not_plain,
                               _FAST_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: a value only json writes
            pass
        else:
            # looked for in the text, not the bytes: `b"e-" in out` first tries b"e-" as an
            # int (a byte's value), and the TypeError it makes and drops costs more than the
            # search itself
            text = out.decode()
            if ("e-" not in text and "0.0000" not in text) or _SMALL_NUMBER.search(text) is None:
                return text
    return _event_text(seq, at, ms, kind, step, file, line, col, data)


def _event_text(seq: int, at: str, ms: int, kind: str, step: str | None, file: Any,
                line: Any, col: Any, data: Any) -> str:
    texts = _TEXT_JSON
    try:
        return (f"[{seq if type(seq) is int else encode_json(seq)},{encode_json(at)},{ms},"
                f"{texts.get(kind) or _text_json(kind)},{texts.get(step) or _text_json(step)},"
                f"{texts.get(file) or _text_json(file)},"
                f"{line if type(line) is int else texts.get(line) or encode_json(line)},"
                f"{col if type(col) is int else texts.get(col) or encode_json(col)},"
                f"{''.join(_c_encoder(data, 0)) if data and type(data) is dict else dumps(data)}]")
    except TypeError:  # a text that is no dict key (unhashable)
        return (f"[{encode_json([seq, at, ms, kind, step, file, line, col])[1:-1]}"
                f",{dumps(data)}]")


def _text_json(value: Any) -> str:
    found = encode_json(value)
    if type(value) is str and len(_TEXT_JSON) < _TEXTS_KEPT:
        _TEXT_JSON[value] = found
    return found


_NOBODY = object()  # settle_ringing keeps no leg


@dataclass
class CallRecord:
    """What the store tracks of a call in progress."""

    row: dict[str, Any]
    node: dict[str, Any] | None = None  # the open node visit
    nodes: list[dict[str, Any]] = field(default_factory=list)
    queue: dict[str, Any] | None = None  # the open queue visit
    # the wait in a queue as a node of the per-node report (kind "queue"), open
    # beside the step's node: its choice is the key that left the queue
    queue_node: dict[str, Any] | None = None
    left_queue_node: dict[str, Any] | None = None  # the last one closed: `queue_key` follows
    queues: list[dict[str, Any]] = field(default_factory=list)
    legs: list[dict[str, Any]] = field(default_factory=list)
    # the legs still ringing, kept as they change: most events ask for them
    ringing: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # in-queue call-backs booked
    # the wrap-up forms asked for, one per agent (wrapups rows), and how many are written
    wrapups: list[dict[str, Any]] = field(default_factory=list)
    wrapups_written: int = 0
    stored: bool = False  # its row is in the file, or in a write already handed over

    def settle_ringing(self, outcome: str, keep: Any = _NOBODY) -> None:
        """Every leg still ringing (but those of agent `keep`) ends with
        `outcome`."""
        still = []
        for leg in self.ringing:
            if leg["agent"] == keep:
                still.append(leg)
            else:
                leg["outcome"] = outcome
        self.ringing = still


# the CallRecord attribute holding each visit table's rows
VISITS = {"node_visits": "nodes", "queue_visits": "queues", "agent_legs": "legs",
          "recordings": "recordings", "queue_callbacks": "callbacks"}


# -- folding events into a call's record -------------------------------------------------
# One function per kind that feeds the record or its visits, each given the
# call, the event's seq and data, and its time as ISO text and epoch ms. A
# table, not a chain of comparisons: most events are of kinds with nothing
# to fold (their ringing legs are settled in `emit`), and a dict look-up
# finds that at once.


def close_node(call: CallRecord, ms: int) -> None:
    if call.node is not None:
        call.node["duration_ms"] = ms - call.node["entered_ms"]
        call.node = None


def _fold_started(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row.update(flow=data.get("flow"), flow_version=_text(data.get("flow_version")),
                    caller=data.get("caller"), dialled=data.get("dialled"))


def _fold_step(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    _open_node(call, seq, str(data.get("step")), "step", at, ms)


def _fold_handler(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    handler = data.get("handler")
    if handler == "answered_by_agent":
        # it runs inside the step that rang the agent and ends without an
        # event: the conversation and what follows stay that step's
        return
    _open_node(call, seq, f"on {handler}", "handler", at, ms)


def _open_node(call: CallRecord, seq: int, name: str, node_kind: str, at: str, ms: int) -> None:
    close_node(call, ms)
    call.node = {"call_id": call.row["call_id"], "seq": seq, "node": name,
                 "node_kind": node_kind, "entered": at, "entered_ms": ms,
                 "duration_ms": None, "choice": None, "dropped": 0}
    call.nodes.append(call.node)


def _fold_choice(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    if call.node is not None:
        call.node["choice"] = _text(data.get("key"))


def _fold_answered(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row["answered"] = call.row["answered"] or at


def _fold_crm(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row["customer_id"] = call.row["customer_id"] or _customer_id(data)


def _fold_joined(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    row = call.row
    call.queue = {"call_id": row["call_id"], "seq": seq, "queue": data.get("queue"),
                  "priority": _whole(data.get("priority")),
                  "position": _whole(data.get("position")),
                  "joined": at, "joined_ms": ms,
                  "wait_ms": None, "outcome": None, "agent": None, "talk_ms": None}
    call.queues.append(call.queue)
    row["queue"] = data.get("queue")
    call.queue_node = {"call_id": row["call_id"], "seq": seq, "node": f"queue {data.get('queue')}",
                       "node_kind": "queue", "entered": at, "entered_ms": ms,
                       "duration_ms": None, "choice": None, "dropped": 0}
    call.nodes.append(call.queue_node)


def _fold_queue_key(call: CallRecord, seq: int, data: Mapping[str, Any], at: str,
                    ms: int) -> None:
    # the runtimes emit it just after the `queue_left` (outcome key) it explains
    node = call.queue_node or call.left_queue_node
    if node is not None and node["node"] == f"queue {data.get('queue')}":
        node["choice"] = _text(data.get("key"))


def _close_queue_node(call: CallRecord, ms: int, dropped: bool) -> None:
    node = call.queue_node
    if node is not None:
        node.update(duration_ms=ms - node["entered_ms"], dropped=int(dropped))
        call.queue_node, call.left_queue_node = None, node


def _fold_left(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    row = call.row
    wait = _int(data.get("wait_ms"))
    row["wait_ms"] = (row["wait_ms"] or 0) + wait
    _close_queue_node(call, ms, data.get("outcome") == "hangup")
    if call.queue is not None:
        call.queue.update(wait_ms=wait, outcome=data.get("outcome"))
        if data.get("outcome") != "answered":
            call.queue = None
    call.settle_ringing("caller_gone" if data.get("outcome") == "hangup" else "missed")


def _fold_offered(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    leg = {"call_id": call.row["call_id"], "seq": seq,
           "agent": data.get("agent"), "via": data.get("via"),
           "queue": call.queue["queue"] if call.queue else None,
           "offered": at, "offered_ms": ms,
           "outcome": "ringing", "ring_ms": None, "talk_ms": None,
           "ended_by": None, "wrapup_ms": None}
    call.legs.append(leg)
    call.ringing.append(leg)


def _fold_no_answer(call: CallRecord, seq: int, data: Mapping[str, Any], at: str,
                    ms: int) -> None:
    """A queue member's ring ran out while the caller stays queued: that
    agent's leg is missed, as a dial's ring the call moved on from is."""
    agent = data.get("agent")
    for leg in reversed(call.ringing):
        if leg["agent"] == agent:
            leg.update(outcome="missed", ring_ms=_whole(data.get("ring_ms")))
            call.ringing.remove(leg)
            break


def _fold_agent_answered(call: CallRecord, seq: int, data: Mapping[str, Any], at: str,
                         ms: int) -> None:
    agent = data.get("agent")
    call.row.update(agent=agent, talked_to_agent=1)
    for recording in call.recordings:  # the agent who talks while it records
        if recording["duration_ms"] is None:
            recording["agent"] = agent
    for leg in reversed(call.ringing):
        if leg["agent"] == agent:
            leg.update(outcome="answered", ring_ms=_whole(data.get("ring_ms")))
            call.ringing.remove(leg)
            break
    if call.queue is not None:
        call.queue["agent"] = agent


def _fold_conversation(call: CallRecord, seq: int, data: Mapping[str, Any], at: str,
                       ms: int) -> None:
    row = call.row
    talk = _int(data.get("talk_ms"))
    row["talk_ms"] = (row["talk_ms"] or 0) + talk
    for leg in reversed(call.legs):
        if leg["agent"] == data.get("agent") and leg["outcome"] == "answered":
            leg.update(talk_ms=talk, ended_by=data.get("ended_by"))
            break
    if call.queue is not None:
        call.queue["talk_ms"] = talk
        call.queue = None


def _fold_recording(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    row, file = call.row, data.get("file")
    row["recording"] = row["recording"] or file
    if file is None:
        return
    # started during a conversation (`record call` in `on answered by agent`): that agent
    legs = call.legs
    talking = legs and legs[-1]["outcome"] == "answered" and legs[-1]["talk_ms"] is None
    call.recordings.append({"call_id": row["call_id"], "file": _text(file), "started": at,
                            "started_ms": ms, "duration_ms": None,
                            "agent": legs[-1]["agent"] if talking else None})


def _fold_recording_stopped(call: CallRecord, seq: int, data: Mapping[str, Any], at: str,
                            ms: int) -> None:
    file = _text(data.get("file"))
    for recording in reversed(call.recordings):
        if recording["file"] == file and recording["duration_ms"] is None:
            recording["duration_ms"] = ms - recording["started_ms"]
            break


def recordings_done(call: CallRecord, ms: int) -> None:
    """A finished call's recordings get what the call's record knows: the
    caller, the customer (found at any time in the call), the flow; one
    still open when the call ended lasts until then."""
    row = call.row
    for recording in call.recordings:
        recording.update(caller=row["caller"], customer_id=row["customer_id"],
                         flow=row["flow"])
        if recording["duration_ms"] is None:
            recording["duration_ms"] = max(0, ms - recording["started_ms"])


def _fold_voicemail(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    # the record names the message the call left: a later attempt that stored
    # nothing (the caller said nothing) must not erase an earlier message
    if data.get("stored") and data.get("file"):
        call.row.update(voicemail_mailbox=data.get("mailbox"), voicemail_file=data.get("file"))


def _fold_callback(call: CallRecord, seq: int, data: Mapping[str, Any], at: str,
                   ms: int) -> None:
    """An in-queue call-back the flow booked: a request for the dialler,
    its place in line the moment the caller joined the queue."""
    waited = _int(data.get("waited_ms"))
    joined_ms = _epoch_ms(data.get("joined_at"))
    if joined_ms is None:
        joined_ms = ms - waited
    priority = data.get("priority")
    call.callbacks.append({
        "call_id": call.row["call_id"], "seq": seq, "queue": _text(data.get("queue")),
        "number": _text(data.get("number")) or call.row["caller"],
        "priority": _int(priority) if priority is not None else 0,
        "joined": _text(data.get("joined_at")), "joined_ms": joined_ms, "waited_ms": waited,
        "customer": _text(data.get("customer")), "reason": _text(data.get("reason")),
        "requested": at, "requested_ms": ms, "status": "pending"})


def _epoch_ms(value: Any) -> int | None:
    """An ISO 8601 time (with its offset) as epoch ms; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return int(moment.timestamp() * 1000)


def _fold_wrapup(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    # each agent asked keeps a form of their own (a transferred call asks both agents); an
    # agent asked again on the same call (transferred back) still has the one
    agent = _text(data.get("agent") or call.row["agent"]) or ""
    if all(w["agent"] != agent for w in call.wrapups):
        call.wrapups.append({"call_id": call.row["call_id"], "agent": agent, "seq": seq,
                             "asked_ms": ms, "fields": dumps(data.get("fields"))})


def unwritten_wrapups(call: CallRecord) -> list[dict[str, Any]]:
    """The forms asked for since the call's last write (then counted as written)."""
    new = call.wrapups[call.wrapups_written:]
    call.wrapups_written = len(call.wrapups)
    return new


def _fold_error(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row["error"] = call.row["error"] or _text(data.get("message"))


def _fold_hangup(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row["ended_by"] = call.row["ended_by"] or data.get("by")
    if data.get("by") == "caller":
        if call.node is not None:
            call.node["dropped"] = 1
        call.settle_ringing("caller_gone")


def _fold_ended(call: CallRecord, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    row = call.row
    close_node(call, ms)
    _close_queue_node(call, ms, row["ended_by"] in (None, "caller"))  # no queue_left came
    row.update(outcome=data.get("outcome"), ended=at, ended_ms=ms)
    duration = data.get("duration_ms")
    row["duration_ms"] = (_int(duration) if duration is not None
                          else row["ended_ms"] - row["started_ms"])
    ended_by = row["ended_by"]
    # a leg still ringing when the call was handed back at shutdown was
    # neither missed nor left by the caller: Asterisk still rings it
    call.settle_ringing("caller_gone" if ended_by in (None, "caller")
                        else "handed_back" if ended_by == "handed_back" else "missed")
    if call.recordings:
        recordings_done(call, ms)


FOLDS: dict[str, Callable[[CallRecord, int, Mapping[str, Any], str, int], None]] = {
    "call_started": _fold_started,
    "step_entered": _fold_step,
    "handler_entered": _fold_handler,
    "menu_choice": _fold_choice,
    "answered": _fold_answered,
    "crm_query": _fold_crm,
    "queue_joined": _fold_joined,
    "queue_left": _fold_left,
    "queue_key": _fold_queue_key,
    "agent_offered": _fold_offered,
    "agent_no_answer": _fold_no_answer,
    "agent_answered": _fold_agent_answered,
    "conversation_ended": _fold_conversation,
    "recording_started": _fold_recording,
    "recording_stopped": _fold_recording_stopped,
    "voicemail": _fold_voicemail,
    "wrapup_requested": _fold_wrapup,
    "callback_requested": _fold_callback,
    "error": _fold_error,
    "hangup": _fold_hangup,
    "call_ended": _fold_ended,
}


def apply(call: CallRecord, seq: int, kind: str, data: Mapping[str, Any], at: str,
          ms: int) -> tuple[str | None, bool]:
    """Fold one event into its call's record. Returns the step the event
    belongs to (the node the call was in; entering one belongs to it) and
    whether the call's row changed."""
    current = call.node
    if call.ringing and kind in MOVED_ON:
        call.settle_ringing("missed", keep=data.get("agent") if kind == "agent_answered" else None)
    fold = FOLDS.get(kind)
    if fold is not None:
        fold(call, seq, data, at, ms)
        if kind in ENTERING:
            current = call.node
    return (current["node"] if current else None), fold is not None


def interrupt(call: CallRecord, at: str, ms: int, reason: str) -> None:
    """Close the record of a call whose run died while it ran, at its last
    known moment: outcome `interrupted`, the reason in `error` (an earlier
    error kept after it); a queue visit or an offer still open ends
    `interrupted` too."""
    row = call.row
    close_node(call, ms)
    row.update(outcome="interrupted", ended=at, ended_ms=ms,
               duration_ms=max(0, ms - (row["started_ms"] or ms)))
    row["error"] = reason if not row["error"] else f"{reason}; earlier: {row['error']}"
    call.settle_ringing("interrupted")
    if call.queue is not None and call.queue["outcome"] is None:
        call.queue.update(outcome="interrupted", wait_ms=max(0, ms - call.queue["joined_ms"]))
    for leg in call.legs:
        if leg["outcome"] == "answered" and leg["talk_ms"] is None:
            leg["ended_by"] = "interrupted"
    recordings_done(call, ms)


def _int(value: Any) -> int:
    """A number from event data; anything else counts as 0 (the store
    records what it is given and never breaks the call over a field)."""
    if isinstance(value, (int, float)):  # a bool too: it is an int
        return int(value)
    return 0


def _whole(value: Any) -> int | None:
    """A number from event data for an INTEGER column, else NULL: a PostgreSQL store's
    columns are typed, and a text there would fail the whole write, not one field."""
    return int(value) if isinstance(value, (int, float)) and value == value \
        and value not in (float("inf"), float("-inf")) else None


_SQL_TYPES = frozenset((type(None), int, float, str))
_GETTERS: dict[tuple[str, ...], Callable[[Mapping[str, Any]], tuple]] = {}


def row_values(row: Mapping[str, Any], columns: tuple[str, ...]) -> tuple:
    # picked and their types checked in C: nearly every value is plain (itemgetter of one
    # column gives the value, not a tuple of it)
    getter = _GETTERS.get(columns)
    if getter is None:
        getter = _GETTERS[columns] = (itemgetter(*columns) if len(columns) > 1 else
                                      lambda row, name=columns[0]: (row[name],))
    values = getter(row)
    if _SQL_TYPES.issuperset(map(type, values)):
        return values
    return tuple([_col(v) for v in values])


def _col(value: Any) -> Any:
    """A value SQLite can hold: event data may carry run-time values."""
    if value is None or isinstance(value, (int, float, str)):
        return value
    return dumps(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(to_json(value))


def _customer_id(data: Mapping[str, Any]) -> str | None:
    """The customer's id from a CRM query that found one (the interpreter
    reports the found record, in its JSON form, as the query's result)."""
    result = data.get("result")
    if not isinstance(result, Mapping) or result.get("id") is None:
        return None
    operation = str(data.get("operation") or "")
    if result.get("kind") == "customer" or "customer" in operation:
        return str(result["id"])
    return None
