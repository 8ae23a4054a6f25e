"""The value types of the .ccf language and the rules that combine them; imports nothing of ccdsl.

A type is one frozen ``Type``. Value kinds are what a variable can hold;
reference kinds name a declaration (an hours table, a queue, a prompt...)
that can be used only where the language expects that declaration, so the
checker can say "`office` is hours, not a value".

Nullability is tracked so that ``??`` can unwrap it, but a ``T?`` is still
accepted where a ``T`` is expected: field access is null-safe and a flow
tests for null explicitly (``if order == null``), so refusing ``text?`` as
``text`` would flag nearly every CRM look-up without catching real bugs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

VALUE_KINDS = ("text", "number", "bool", "duration", "time", "date", "datetime", "list", "map",
               "null", "any", "record")

# Declarations used by name; never a value.
REF_KINDS = {
    "hours": "hours",
    "queue": "queue",
    "prompt": "prompt",
    "step": "step",
    "routing": "routing rule",
    "module": "module",
    "namespace": "module path",
    "sub": "sub-flow",
    "builtins": "builtin namespace",
    "function": "builtin",
}
# Declarations that are values too: a variable, a parameter, a map may hold
# a queue or a routing rule (`dept = by_choice[choice] ?? general`).
VALUE_REFS = ("queue", "routing")


@dataclass(frozen=True)
class Type:
    kind: str
    name: str = ""  # record type name; or the referenced declaration's name
    item: Type | None = None  # element type of a list
    nullable: bool = False
    owner: str = ""  # module key of a referenced declaration, or a method's receiver

    def __str__(self) -> str:
        return describe(self)

    @property
    def is_ref(self) -> bool:
        return self.kind in REF_KINDS

    @property
    def only_a_name(self) -> bool:
        """A reference that is no value: an hours table, a prompt, a step..."""
        return self.kind in REF_KINDS and self.kind not in VALUE_REFS


TEXT = Type("text")
NUMBER = Type("number")
BOOL = Type("bool")
DURATION = Type("duration")
TIME = Type("time")
DATE = Type("date")
DATETIME = Type("datetime")
MAP = Type("map")
NULL = Type("null", nullable=True)
ANY = Type("any")


def list_of(item: Type) -> Type:
    return Type("list", item=item)


def map_of(item: Type | None) -> Type:
    """A map whose values all have one type (None or any: values of any type)."""
    return MAP if item is None or item.kind == "any" else Type("map", item=item)


def record(name: str, nullable: bool = False) -> Type:
    return Type("record", name=name, nullable=nullable)


def optional(t: Type) -> Type:
    return t if t.kind in ("any", "null") or t.nullable else _nullable(t, True)


def non_null(t: Type) -> Type:
    return _nullable(t, False) if t.nullable and t.kind != "null" else t


def _nullable(t: Type, nullable: bool) -> Type:
    # the constructor, not dataclasses.replace: the checks ask this of most expressions
    return Type(t.kind, t.name, t.item, nullable, t.owner)


def describe(t: Type) -> str:
    """How messages name a type: `text`, `list of text`, `customer?`,
    `hours office`."""
    if t.kind in REF_KINDS:
        return f"{REF_KINDS[t.kind]} `{t.name}`" if t.name else REF_KINDS[t.kind]
    if t.kind == "list":
        base = "list" if t.item is None or t.item.kind == "any" else f"list of {describe(t.item)}"
        return f"({base})?" if t.nullable else base
    base = t.name if t.kind == "record" else t.kind
    return base + "?" if t.nullable and t.kind not in ("null", "any") else base


def kind_words(t: Type) -> str:
    """What a type is, without the declaration's name: `queue`, `text?`."""
    return REF_KINDS[t.kind] if t.kind in REF_KINDS else describe(t)


def same_base(a: Type, b: Type) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind == "record":
        return a.name == b.name or not a.name or not b.name
    if a.kind == "list":
        return a.item is None or b.item is None or accepts(a.item, b.item) \
            or accepts(b.item, a.item)
    return True


def accepts(expected: Type, actual: Type) -> bool:
    """Whether a value of type ``actual`` may stand where ``expected`` is
    wanted (an argument, an option value, a record field)."""
    if expected.kind == "any" or actual.kind == "any":
        return True
    if actual.kind == "null":
        return expected.nullable or expected.kind == "null"
    return same_base(expected, actual)


def accepts_any(expected: tuple[Type, ...], actual: Type) -> bool:
    for e in expected:  # a loop, not any(): the checks ask this of most values
        if accepts(e, actual):
            return True
    return False


def unify(a: Type, b: Type) -> Type | None:
    """The one type both values fit (the two branches of a conditional,
    the items of a list, both sides of ``??``); None if there is none."""
    if a.kind == "any" or b.kind == "any":
        return ANY
    if a.kind == "null":
        return optional(b)
    if b.kind == "null":
        return optional(a)
    if not same_base(a, b):
        return None
    merged = a if a.kind != "list" or (a.item and a.item.kind != "any") else b
    if a.kind == "record" and not a.name:
        merged = b
    if a.kind in VALUE_REFS and (a.name, a.owner) != (b.name, b.owner):
        merged = Type(a.kind)  # one of several queues: which one is known at run time
    if a.kind == "map" and a.item != b.item:
        merged = MAP
    nullable = a.nullable or b.nullable
    return merged if merged.nullable == nullable else _nullable(merged, nullable)


ORDERED = ("number", "text", "duration", "time", "date", "datetime")


def comparable(op: str, a: Type, b: Type) -> bool:
    if "any" in (a.kind, b.kind):
        return True
    if op in ("==", "!="):
        return a.kind == "null" or b.kind == "null" or same_base(a, b)
    return a.kind == b.kind and a.kind in ORDERED


# (op, left kind, right kind) -> result kind
_ARITHMETIC = {
    ("+", "number", "number"): NUMBER,
    ("+", "text", "text"): TEXT,
    ("+", "duration", "duration"): DURATION,
    ("+", "datetime", "duration"): DATETIME,
    ("+", "duration", "datetime"): DATETIME,
    ("+", "time", "duration"): TIME,
    ("+", "duration", "time"): TIME,
    ("+", "duration", "date"): DATE,
    ("+", "date", "duration"): DATE,
    ("-", "number", "number"): NUMBER,
    ("-", "duration", "duration"): DURATION,
    ("-", "datetime", "duration"): DATETIME,
    ("-", "datetime", "datetime"): DURATION,
    ("-", "time", "duration"): TIME,
    ("-", "time", "time"): DURATION,
    ("-", "date", "duration"): DATE,
    ("-", "date", "date"): DURATION,
    ("*", "number", "number"): NUMBER,
    ("*", "duration", "number"): DURATION,
    ("*", "number", "duration"): DURATION,
    ("/", "number", "number"): NUMBER,
    ("/", "duration", "number"): DURATION,
    ("/", "duration", "duration"): NUMBER,
    ("%", "number", "number"): NUMBER,
}


def arithmetic(op: str, a: Type, b: Type) -> Type | None:
    """The result of ``a op b`` for + - * / %, or None when the operator
    does not apply to those types. ``+`` joins lists and texts, but never
    text and a number: write ``"${n}"`` to make text of a number."""
    if op == "+" and a.kind == "list" and b.kind == "list":
        return unify(non_null(a), non_null(b))  # None: items of two types
    if a.kind == "any" and b.kind == "any":
        return ANY
    if a.kind == "any" or b.kind == "any":
        known = b if a.kind == "any" else a
        results = {r for (o, x, y), r in _ARITHMETIC.items()
                   if o == op and known.kind in (x, y)}
        return results.pop() if len(results) == 1 else (ANY if results else None)
    return _ARITHMETIC.get((op, a.kind, b.kind))


# ---- fields of values and records ------------------------------------------------


@dataclass(frozen=True)
class FieldType:
    name: str
    type: Type
    doc: str = ""


@dataclass(frozen=True)
class RecordType:
    name: str
    fields: tuple[FieldType, ...]
    doc: str
    crm: bool = True  # stored in the CRM: crm.find/create/update accept it

    def field(self, name: str) -> FieldType | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def extended(self, fields: tuple[FieldType, ...]) -> RecordType:
        known = set(self.field_names)
        return replace(self, fields=self.fields + tuple(f for f in fields if f.name not in known))


def _f(name: str, t: Type, doc: str) -> FieldType:
    return FieldType(name, t, doc)


BUILTIN_RECORDS: dict[str, RecordType] = {r.name: r for r in (
    RecordType("customer", (
        _f("id", TEXT, "the CRM's id of the customer"),
        _f("name", TEXT, "full name"),
        _f("phone", TEXT, "phone number in E.164 form"),
        _f("email", TEXT, "email address"),
        _f("owner", TEXT, "agent id of the account owner"),
        _f("tier", TEXT, "service tier, such as \"vip\""),
        _f("language", TEXT, "preferred language tag, such as \"zh-CN\""),
        _f("company", TEXT, "company name"),
    ), "a customer in the CRM"),
    RecordType("agent", (
        _f("id", TEXT, "agent id (login name)"),
        _f("name", TEXT, "display name"),
        _f("extension", TEXT, "phone extension"),
        _f("skills", list_of(TEXT), "skill names"),
        _f("state", TEXT, "available, busy, ringing, paused, wrapup or offline"),
    ), "a contact-centre agent"),
    RecordType("order", (
        _f("id", TEXT, "the CRM's id of the order"),
        _f("number", TEXT, "order number as the customer knows it"),
        _f("status", TEXT, "order status"),
        _f("customer", TEXT, "id of the customer who placed it"),
        _f("total", NUMBER, "order total"),
        _f("created", DATETIME, "when it was placed"),
    ), "an order in the CRM"),
    RecordType("ticket", (
        _f("id", TEXT, "the CRM's id of the ticket"),
        _f("subject", TEXT, "one-line subject"),
        _f("status", TEXT, "ticket status"),
        _f("customer", TEXT, "id of the customer it is about"),
        _f("owner", TEXT, "agent id of the ticket's owner"),
        _f("created", DATETIME, "when it was opened"),
    ), "a support ticket in the CRM"),
    RecordType("response", (
        _f("status", NUMBER, "HTTP status code"),
        _f("body", TEXT, "response body as text"),
        _f("json", ANY, "response body parsed as JSON (null if it is not JSON)"),
    ), "the answer to an HTTP request", crm=False),
    RecordType("caller", (
        _f("number", TEXT, "the caller's number (caller id)"),
        _f("name", optional(TEXT), "the caller-id name, when the network sends one"),
        _f("dialled", TEXT, "the number the caller dialled"),
        _f("language", optional(TEXT), "language chosen by the caller or the flow"),
    ), "the person calling", crm=False),
    RecordType("call", (
        _f("id", TEXT, "unique id of this call"),
        _f("language", TEXT, "language the flow speaks on this call"),
        _f("start", DATETIME, "when the call arrived"),
        _f("talked_to_agent", BOOL, "whether an agent answered the call"),
        _f("agent", record("agent", nullable=True), "the agent who answered, if any"),
        _f("queue_wait", DURATION, "time spent waiting in queues so far"),
        _f("voicemail_stored", BOOL, "whether the last `voicemail` stored a message (false "
           "when the caller said nothing, or before any)"),
    ), "this call", crm=False),
)}

# Fields of the time-like values: `now().hour`, `call.start.date`.
VALUE_FIELDS: dict[str, tuple[FieldType, ...]] = {
    "datetime": (
        _f("date", DATE, "the calendar date"),
        _f("time", TIME, "the time of day"),
        _f("hour", NUMBER, "hour of the day, 0-23"),
        _f("minute", NUMBER, "minute of the hour, 0-59"),
        _f("weekday", TEXT, "day of the week: mon, tue, wed, thu, fri, sat, sun"),
        _f("year", NUMBER, "the year"),
        _f("month", NUMBER, "month of the year, 1-12"),
        _f("day", NUMBER, "day of the month, 1-31"),
    ),
    "date": (
        _f("weekday", TEXT, "day of the week: mon, tue, wed, thu, fri, sat, sun"),
        _f("year", NUMBER, "the year"),
        _f("month", NUMBER, "month of the year, 1-12"),
        _f("day", NUMBER, "day of the month, 1-31"),
    ),
    "time": (
        _f("hour", NUMBER, "hour of the day, 0-23"),
        _f("minute", NUMBER, "minute of the hour, 0-59"),
    ),
    "duration": (
        _f("seconds", NUMBER, "the duration in seconds"),
        _f("minutes", NUMBER, "the duration in minutes"),
    ),
}

# Names a `record` or `wrapup` field may be declared with.
SIMPLE_TYPES: dict[str, Type] = {
    "text": TEXT, "number": NUMBER, "bool": BOOL, "duration": DURATION, "time": TIME,
    "date": DATE, "datetime": DATETIME, "list": list_of(ANY), "map": MAP, "any": ANY,
}


def type_named(name: str, records: dict[str, RecordType], nullable: bool = False) -> Type | None:
    """The type a field declaration names, or None for an unknown name."""
    if name in SIMPLE_TYPES:
        t = SIMPLE_TYPES[name]
    elif name in records:
        t = record(name)
    else:
        return None
    return optional(t) if nullable else t
