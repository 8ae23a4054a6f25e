"""`expect` lines judged against what happened on the whole call, after it ended.

Never runs a call: it reads the events of one that ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.testing import call_facts


@dataclass(frozen=True)
class Expectation:
    what: str  # played, heard, queue, routed, answered, voicemail, transfer, hangup, step, crm,
    # callback
    negated: bool
    value: str | None  # the name, number or text expected; None: anything of the kind
    connector: str | None
    loc: dict
    value_kind: str | None = None  # prompt, queue, step, agent, text
    via: str | None = None  # `expect routed via owner to X`: how the route chose (call_facts)
    implicit: bool = False  # the `expect not error` every test has unless it says otherwise
    priority: str | None = None  # `expect queue service priority 10`: that queue's join's

    def describe(self) -> str:
        """The line as a person would write it: `expect not played welcome`."""
        if self.implicit and self.what == "http":
            return "an answer for every HTTP request (a test makes no real request)"
        if self.implicit:
            return "no run-time error (a test fails on one unless it says `expect error`)"
        words = ["expect"]
        if self.negated:
            words.append("not")
        words.append(self.what)
        if self.via:
            words.extend(("via", self.via))
        if self.connector:
            words.append(self.connector)
        if self.value is not None:
            words.append(f'"{self.value}"' if self.value_kind == "text" else self.value)
        if self.priority is not None:
            words.extend(("priority", self.priority))
        return " ".join(words)


@dataclass(frozen=True)
class Outcome:
    """What one expectation found on the call."""

    expectation: Expectation
    passed: bool
    happened: str  # what the call did of this kind, in words
    where: dict | None = None  # the .ccf place of what happened, when it has one (an error)


@dataclass(frozen=True)
class CallFacts:
    """The call as the checker sees it: its events, and the CRM records it
    created (type names, in order)."""

    events: Sequence[Event]
    created: Sequence[str] = ()
    unanswered: Sequence[str] = ()  # HTTP requests the test declared no answer for


def check(expectations: Iterable[Expectation], facts: CallFacts) -> list[Outcome]:
    """Each expectation, judged: one outcome per expectation."""
    return [judge(e, facts) for e in expectations]


def check_test(expectations: Iterable[Expectation], facts: CallFacts,
               test_loc: dict | None = None) -> list[Outcome]:
    """A test's expectations judged, and what every test expects without
    saying: a test that says nothing of errors expects none (a call that
    ended in a run-time error fails it), and every HTTP request of its call
    has an answer from the test's `http` lines."""
    expectations = list(expectations)
    # `expect not error "null"` rules out one error, not every other one
    if not any(e.what == "error" and (not e.negated or e.value is None)
               for e in expectations):
        expectations.append(Expectation("error", True, None, None, test_loc or {},
                                        implicit=True))
    outcomes = [judge(e, facts) for e in expectations]
    if facts.unanswered:
        where = next((e.loc for e in facts.events if e.kind == "http_request"
                      and f"{e.data.get('method')} {e.data.get('url')}" in facts.unanswered
                      and e.data.get("error")), None)
        outcomes.append(Outcome(Expectation("http", False, None, None, test_loc or {},
                                            implicit=True), False,
                                "no `http` line of the test answers: "
                                + ", ".join(dict.fromkeys(facts.unanswered)), where))
    return outcomes


def judge(exp: Expectation, facts: CallFacts) -> Outcome:
    seen = call_facts.seen(exp.what, facts.events, exp.via, exp.priority is not None)
    if seen is None:
        seen = _seen(exp.what, facts, by_name=exp.value_kind not in (None, "text", "number"))
    if exp.value is None:
        found = bool(seen)
    else:
        found = any(_matches(exp, item) for item in seen)
    passed = found != exp.negated
    where = None
    if exp.what == "error":
        errors = call_facts.errors(facts.events)
        seen = [call_facts.error_text(d) for d in errors]
        where = next((d.get("where") for d in errors if d.get("where")), None)
    if exp.what == "routed" and exp.via:
        return Outcome(exp, passed, call_facts.routes_text(facts.events))
    if exp.what == "played":
        seen = _played(facts)
    return Outcome(exp, passed, _happened(exp.what, seen), where)


def _prompts_played(facts: CallFacts) -> list[tuple[str | None, list[str]]]:
    """Each prompt_played event: the prompt's name (None for a file played alone) and
    the files it played. What `expect played` compares and what it shows both come
    from here."""
    return [(e.data.get("prompt"),
             [s.get("text", "") for s in e.data.get("sounds", ()) if s.get("kind") == "file"])
            for e in facts.events if e.kind == "prompt_played"]


def _played(facts: CallFacts) -> list[str]:
    """What was played, as a person reads it: each prompt with the files it played
    beside it (`welcome (file iws/welcome)`), a file played alone by its name."""
    out: list[str] = []
    for prompt, files in _prompts_played(facts):
        if prompt and files:
            out.append(f"{prompt} (file{'s' if len(files) > 1 else ''} {', '.join(files)})")
        else:
            out.extend([prompt] if prompt else files)
    return out


def _matches(exp: Expectation, item: str) -> bool:
    if exp.priority is not None:
        return item == call_facts.queue_at(exp.value, exp.priority)
    if exp.what in ("heard", "error"):
        return exp.value in item if exp.value_kind in ("text", "number") else item == exp.value
    return item == exp.value


def _seen(what: str, facts: CallFacts, by_name: bool = False) -> list[str]:
    """The things of one kind the call did, as comparable words. What the
    caller heard is its words, or with by_name the prompts' names."""
    if what == "played":  # a prompt matches by its name or by a file it played
        return [word for prompt, files in _prompts_played(facts)
                for word in ([prompt] if prompt else []) + files]
    out: list[str] = []
    for e in facts.events:
        data = e.data
        if what == "heard" and e.kind == "prompt_played":
            if by_name:
                out.extend([data["prompt"]] if data.get("prompt") else [])
            else:
                out.extend(s.get("text", "") for s in data.get("sounds", ()))
        elif what == "heard" and e.kind == "said":
            out.append(str(data.get("value", "")))
        elif what == "queue" and e.kind == "queue_joined":
            out.append(data.get("queue", ""))
        elif what == "routed" and e.kind == "agent_offered":
            out.append(data.get("agent", ""))
        elif what == "routed" and e.kind == "queue_joined":
            out.append(data.get("queue", ""))
        elif what == "answered" and e.kind == "agent_answered":
            out.append(data.get("agent", ""))
        elif what == "voicemail" and e.kind == "voicemail" and data.get("stored", True):
            out.append(data.get("mailbox", ""))
        elif what == "transfer" and e.kind == "transfer" and _transferred(data):
            out.append(str(data.get("target", "")))
        elif what == "hangup" and e.kind == "hangup" and data.get("by") == "flow":
            out.append("flow")
        elif what == "step" and e.kind == "step_entered":
            out.append(data.get("step", ""))
        elif what == "callback" and e.kind == "callback_requested":
            out.append(data.get("queue", ""))
    if what == "crm":
        out.extend(facts.created)
    return out


def _transferred(data: dict) -> bool:
    return data.get("status", "transferred") == "transferred"


_NOTHING = {
    "played": "no prompt was played",
    "heard": "the caller heard nothing",
    "queue": "the call joined no queue",
    "routed": "no agent was rung and no queue joined",
    "answered": "no agent answered",
    "voicemail": "no message was left",
    "transfer": "the call was not transferred",
    "hangup": "the flow did not hang up",
    "step": "the call entered no step",
    "crm": "no CRM record was created",
    "callback": "no call-back was booked",
}


_SOME = {
    "played": "played",
    "heard": "heard",
    "queue": "queues joined",
    "routed": "rang / queued",
    "answered": "answered by",
    "voicemail": "messages left for",
    "transfer": "transferred to",
    "hangup": "hung up by",
    "step": "steps entered",
    "crm": "CRM records created",
    "callback": "call-backs booked in",
}


def _happened(what: str, seen: list[str]) -> str:
    if not seen:
        return _NOTHING.get(what) or call_facts.NOTHING.get(what, "nothing of this kind happened")
    unique = list(dict.fromkeys(s for s in seen if s))
    shown = unique[:12]
    more = f" and {len(unique) - len(shown)} more" if len(unique) > len(shown) else ""
    if what == "heard":
        return "heard: " + "; ".join(f'"{s}"' for s in shown) + more
    if what == "error":
        return "the call ended in an error: " + "; ".join(shown) + more
    return f"{_SOME.get(what) or call_facts.SOME.get(what, what)}: " + ", ".join(shown) + more
