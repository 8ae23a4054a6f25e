"""The registry of builtins' signatures: values, functions and methods a flow uses undeclared.

Must import nothing of ccdsl but the core's types; the implementations live
in the runtime. It is data, read by the type checker, the documentation and
the runtime alike, so a builtin is described once.

Kinds:
- ``value``: a name that holds a value (``caller``, ``call``, ``agent``);
  its facts are the fields of its record type (``caller.number``).
- ``function``: called by qualified name (``crm.customer(phone: ...)``,
  ``now()``, ``len(x)``).
- ``method``: called on a declaration: ``office.open()`` on an ``hours``,
  ``service.waiting()`` on a ``queue``; the qualified name is
  ``<declaration kind>.<method>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ccdsl.types import (
    ANY,
    BOOL,
    BUILTIN_RECORDS,
    DATE,
    DATETIME,
    DURATION,
    MAP,
    NULL,
    NUMBER,
    TEXT,
    TIME,
    Type,
    list_of,
    optional,
    record,
)

# How an argument is written and checked, beyond its type.
#   value        an expression of the parameter's types
#   skills       a skills list: bare names are skill names, `{tech: 3}` levels
#   record_type  a string literal naming a CRM record type ("order")
#   record       a CRM record value, whose type gives the allowed field arguments
#   date_pattern a text; written as a plain literal, its letters are checked (E312)


@dataclass(frozen=True)
class Param:
    name: str
    types: tuple[Type, ...]  # accepted types
    required: bool = True
    default: str | None = None  # as a flow author would write it, for the docs
    doc: str = ""
    form: str = "value"


@dataclass(frozen=True)
class Builtin:
    name: str  # qualified: "crm.find", "hours.open", "caller"
    kind: str  # value | function | method
    params: tuple[Param, ...]
    returns: Type
    doc: str
    can_fail: bool = False  # an external call: needs `on error ->`
    waits_for_caller: bool = False
    # named arguments beyond the params are fields of a record type, taken
    # from the first argument: "type_arg" (a type name, crm.find/create) or
    # "record_arg" (a record, crm.update)
    record_fields: str | None = None
    only_in: str | None = None  # the handler a value exists in
    # the parameter whose list's item type is the result (`random.choose`);
    # `returns` when that list's items are of any type
    returns_item_of: str | None = None

    @property
    def namespace(self) -> str | None:
        return self.name.rsplit(".", 1)[0] if "." in self.name else None

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


def _p(name: str, *types: Type, required: bool = True, default: str | None = None,
       doc: str = "", form: str = "value") -> Param:
    return Param(name, types, required, default, doc, form)


_REGISTRY: tuple[Builtin, ...] = (
    # -- facts about the call
    Builtin("caller", "value", (), record("caller"),
            "the person calling: caller.number, caller.name, caller.dialled, caller.language"),
    Builtin("call", "value", (), record("call"),
            "this call: call.id, call.language, call.start, call.talked_to_agent, call.agent, "
            "call.queue_wait, call.voicemail_stored"),
    Builtin("agent", "value", (), record("agent"),
            "the agent who answered; only inside `on answered by agent`",
            only_in="answered by agent"),
    Builtin("now", "function", (), DATETIME,
            "the current date and time in the flow's time zone"),
    Builtin("today", "function", (), DATE, "today's date in the flow's time zone"),
    # -- methods of declarations
    Builtin("hours.open", "method",
            (_p("at", DATETIME, required=False, default="now()",
                doc="the moment to check"),),
            BOOL, "whether the business hours are open now (or at `at`)"),
    Builtin("hours.next_open", "method",
            (_p("after", DATETIME, required=False, default="now()",
                doc="look for the next opening after this moment"),),
            optional(DATETIME), "when the business hours next open (null if never)"),
    Builtin("hours.holiday", "method",
            (_p("at", DATETIME, required=False, default="now()",
                doc="the moment whose day to look at"),),
            optional(TEXT), "the name of the `closed` (else `open`) dated line covering today "
            "(or `at`'s day): \"National Day\"; \"\" for one without a name; null on an "
            "ordinary day"),
    Builtin("queue.waiting", "method", (), NUMBER, "how many callers wait in the queue now"),
    Builtin("queue.expected_wait", "method", (), DURATION,
            "the expected wait of a caller joining the queue now"),
    Builtin("queue.available", "method", (), NUMBER,
            "how many agents who can take the queue's calls are available now"),
    Builtin("queues.named", "function", (_p("name", TEXT, doc="a queue's name, as declared"),),
            optional(Type("queue")), "the declared queue of this name (text from the CRM, "
            "a menu...), or null when the flow declares none"),
    # -- the CRM
    Builtin("crm.customer", "function",
            (_p("phone", TEXT, doc="the phone number to look up"),),
            record("customer", nullable=True),
            "the customer with this phone number, or null when there is none", can_fail=True),
    Builtin("crm.find", "function",
            (_p("type", TEXT, form="record_type", doc="the record type, such as \"order\""),),
            ANY, "the first record of a type whose fields equal the named arguments, or null",
            can_fail=True, record_fields="type_arg"),
    Builtin("crm.owner", "function",
            (_p("customer", record("customer", nullable=True), doc="the customer"),),
            optional(TEXT), "the agent id of the customer's account owner, or null",
            can_fail=True),
    Builtin("crm.create", "function",
            (_p("type", TEXT, form="record_type", doc="the record type, such as \"ticket\""),),
            ANY, "create a record with the fields given as named arguments; returns it",
            can_fail=True, record_fields="type_arg"),
    Builtin("crm.update", "function",
            (_p("record", ANY, form="record", doc="the record to change"),),
            ANY, "set the fields given as named arguments on a record; returns it",
            can_fail=True, record_fields="record_arg"),
    Builtin("crm.log_call", "function",
            (_p("customer", record("customer", nullable=True), required=False, default="null",
                doc="the customer the call is about"),
             _p("note", TEXT, required=False, default="\"\"", doc="a note for the call history"),
             _p("outcome", TEXT, required=False, default="\"\"",
                doc="a short outcome, such as \"resolved\"")),
            NULL, "add this call (time, numbers, recording) to the customer's history",
            can_fail=True),
    # -- agents
    Builtin("agents.available", "function",
            (_p("skills", list_of(TEXT), MAP, form="skills", doc="skills the agents need"),),
            NUMBER, "how many agents with these skills are available now"),
    Builtin("agents.state", "function", (_p("id", TEXT, doc="the agent id"),), TEXT,
            "the agent's state: available, busy, ringing, paused, wrapup or offline"),
    Builtin("agents.get", "function", (_p("id", TEXT, doc="the agent id"),),
            record("agent", nullable=True), "the agent with this id, or null"),
    # -- HTTP
    Builtin("http.get", "function",
            (_p("url", TEXT, doc="the address"),
             _p("timeout", DURATION, required=False, default="5s", doc="give up after this"),
             _p("headers", MAP, required=False, default="{}", doc="request headers")),
            record("response"), "send an HTTP GET request", can_fail=True),
    Builtin("http.post", "function",
            (_p("url", TEXT, doc="the address"),
             _p("body", ANY, required=False, default="null",
                doc="the body: text as is, anything else as JSON"),
             _p("timeout", DURATION, required=False, default="5s", doc="give up after this"),
             _p("headers", MAP, required=False, default="{}", doc="request headers")),
            record("response"), "send an HTTP POST request", can_fail=True),
    # -- text and number helpers
    Builtin("len", "function", (_p("value", TEXT, list_of(ANY), MAP),), NUMBER,
            "the length of a text, list or map"),
    Builtin("upper", "function", (_p("text", TEXT),), TEXT, "the text in upper case"),
    Builtin("lower", "function", (_p("text", TEXT),), TEXT, "the text in lower case"),
    Builtin("trim", "function", (_p("text", TEXT),), TEXT,
            "the text without white space at either end"),
    Builtin("contains", "function", (_p("value", TEXT, list_of(ANY)), _p("part", ANY)), BOOL,
            "whether a text contains a text, or a list an item"),
    Builtin("starts_with", "function", (_p("text", TEXT), _p("prefix", TEXT)), BOOL,
            "whether the text starts with the prefix"),
    Builtin("replace", "function", (_p("text", TEXT), _p("old", TEXT), _p("new", TEXT)), TEXT,
            "the text with every `old` replaced by `new`"),
    Builtin("to_number", "function", (_p("text", TEXT),), optional(NUMBER),
            "the number a text spells, or null if it is not one"),
    Builtin("to_text", "function", (_p("value", ANY),), TEXT, "any value as text"),
    Builtin("round", "function",
            (_p("number", NUMBER), _p("digits", NUMBER, required=False, default="0")),
            NUMBER, "the number rounded to `digits` decimal places"),
    Builtin("abs", "function", (_p("number", NUMBER),), NUMBER, "the absolute value"),
    Builtin("min", "function", (_p("a", NUMBER), _p("b", NUMBER)), NUMBER,
            "the smaller of two numbers"),
    Builtin("max", "function", (_p("a", NUMBER), _p("b", NUMBER)), NUMBER,
            "the larger of two numbers"),
    Builtin("first_chars", "function",
            (_p("text", TEXT, NUMBER, doc="a text, or a number taken as its text"),
             _p("count", NUMBER, doc="how many characters, 0 or more")),
            TEXT, "the first `count` characters of a text (all of it when it is shorter)"),
    Builtin("last_chars", "function",
            (_p("text", TEXT, NUMBER, doc="a text, or a number taken as its text"),
             _p("count", NUMBER, doc="how many characters, 0 or more")),
            TEXT, "the last `count` characters of a text (all of it when it is shorter): "
            "`last_chars(card, 4)`"),
    Builtin("format_date", "function",
            (_p("value", DATE, TIME, DATETIME, doc="a date, a time or a datetime"),
             _p("pattern", TEXT, form="date_pattern",
                doc="such as \"YYYY-MM-DD\", \"HH:mm\" or \"long\""),
             _p("language", TEXT, required=False, default="the call's language",
                doc="the language of month and weekday names")),
            TEXT, "a date, time or datetime as text, in the centre's time zone"),
    # -- chance
    Builtin("random.choose", "function",
            (_p("items", list_of(ANY), doc="the items to choose from"),
             _p("weights", list_of(NUMBER), required=False, default="equal",
                doc="one number per item: [90, 10] chooses the first nine times in ten")),
            ANY, "one item of the list at random, of the list's item type (seeded per call; "
            "a `random_choice` event)", returns_item_of="items"),
)

BUILTINS: dict[str, Builtin] = {b.name: b for b in _REGISTRY}

# Namespaces of functions: `crm.find`, `http.get`, `agents.state`.
NAMESPACES: dict[str, str] = {
    "crm": "the customer database",
    "http": "web requests",
    "agents": "the agents of the contact centre",
    "random": "choices at random, for A/B tests",
    "queues": "the flow's queues, found by name",
}

# Kinds of declaration that have methods.
METHOD_RECEIVERS = ("hours", "queue")


def lookup(name: str) -> Builtin | None:
    return BUILTINS.get(name)


@lru_cache(maxsize=1)
def top_level_names() -> tuple[str, ...]:
    """Every name a flow can use bare: values, plain functions, namespaces."""
    names = [b.name for b in _REGISTRY if b.kind != "method" and b.namespace is None]
    return tuple(names) + tuple(NAMESPACES)


def members(namespace: str) -> tuple[Builtin, ...]:
    """The functions of a namespace, or the methods of a declaration kind."""
    return tuple(b for b in _REGISTRY if b.namespace == namespace)


def external(name: str) -> bool:
    b = BUILTINS.get(name)
    return bool(b and b.can_fail)


def facts() -> tuple[tuple[str, Type, str], ...]:
    """The facts of the builtin values: ("caller.number", text, doc), ..."""
    out = []
    for b in _REGISTRY:
        if b.kind == "value" and b.returns.kind == "record":
            for f in BUILTIN_RECORDS[b.returns.name].fields:
                out.append((f"{b.name}.{f.name}", f.type, f.doc))
    return tuple(out)
