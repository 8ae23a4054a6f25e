"""Test blocks (E303): the `at` clock, key presses, the `call` line (set-up above it,
the caller's lines below it) and expectations. Names inside a test (prompts, queues,
steps, agents) are checked here too, as E303: a test has names of its own (the agents
its `agent` lines declare), so the whole block is judged in one place.

The values inside a well-formed `at` string are held to the same rules
as the flow: an impossible date or time is E501, an unknown zone E503.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ccdsl import ast
from ccdsl.agent_ids import agent_id_problem
from ccdsl.articles import article
from ccdsl.compiler.checks import test_expects
from ccdsl.compiler.checks.values import date_problem, time_problem, zone_problem
from ccdsl.compiler.namespan import word_span
from ccdsl.compiler.program import Program
from ccdsl.diagnostics import Diagnostic, diagnostic, did_you_mean
from ccdsl.moment_forms import FORMS, MOMENT

KEYS = re.compile(r"^[0-9*#]+$")
# the lines that set up the world a test's call starts in
SETUP = (ast.TestAt, ast.TestCrm, ast.TestAgent, ast.TestCrmFault, ast.TestHttp)
# the caller's lines, which act during the call, and the word each is written with
CALLER = {ast.TestPress: "press", ast.TestSilence: "silence", ast.TestSpeak: "speak",
          ast.TestHangup: "hangup"}


@dataclass(frozen=True)
class Kind:
    """An expectation kind: whether it needs a value, the connector word
    it takes before one, and what a bare name after it must be."""

    needs_value: bool
    connector: str | None
    names: tuple[str, ...]  # kinds of declared names a bare name may be


EXPECT_KINDS = {
    "played": Kind(True, None, ("prompt",)),
    "heard": Kind(True, None, ("prompt",)),
    "queue": Kind(True, None, ("queue",)),
    "routed": Kind(True, "to", ("agent", "queue")),
    "answered": Kind(False, "by", ("agent",)),
    "voicemail": Kind(False, "for", ("agent",)),
    "transfer": Kind(False, "to", ("agent", "queue")),
    "hangup": Kind(False, None, ()),
    "step": Kind(True, None, ("step",)),
    "crm": Kind(True, None, ()),
    # issue 13: errors, recordings, the CRM call log, screen pops, wrap-up, priority, outcome
    "error": Kind(False, None, ()),
    "recording": Kind(False, None, ()),
    "crm_log": Kind(False, None, ()),
    "screen_pop": Kind(False, "for", ("agent",)),
    "wrapup": Kind(False, "for", ("agent",)),
    "priority": Kind(True, None, ()),
    "outcome": Kind(True, None, ()),
    "callback": Kind(False, "for", ("queue",)),  # a call-back booked in that queue
}


def check(program: Program, scopes, analysis) -> Iterator[Diagnostic]:
    entry = program.entry_module.module
    declared: dict[str, str] = {}
    for item in entry.items:
        if isinstance(item, ast.Prompt):
            declared.setdefault(item.name, "prompt")
        elif isinstance(item, ast.QueueDecl):
            declared.setdefault(item.name, "queue")
        elif isinstance(item, ast.Step):
            declared.setdefault(item.name, "step")
    sources = program.sources()
    records = analysis.context.records
    crm_types = sorted(n for n, r in records.items() if r.crm)
    startless = not any(isinstance(item, ast.Handler) and item.event == ("start",)
                        or isinstance(item, ast.Step) and item.name == "start"
                        for item in entry.items)
    flow = next((f"the flow `{item.name}`" for item in entry.items
                 if isinstance(item, ast.FlowDecl)), "this file")  # no header: E010 too
    for test in program.tests:
        if startless:  # a module: its subs are tested through a flow that uses it
            yield diagnostic("E303", f"test {_quoted(test.name)}: {flow} has no "
                             "`on start`, so a call has nowhere to begin", test.name.span,
                             help="test a module's subs through a flow that uses it, or add "
                                  "`on start:` to this flow")
        yield from _test(test, declared, sources, crm_types)
    yield from _duplicate_names(program.tests)


def _duplicate_names(tests) -> Iterator[Diagnostic]:
    """W605: a second test of a name already taken, in the flow or in its
    NAME.test.ccf. JUnit readers key a test by its name (GitLab shows one of
    two alike) and -k selects by it, so two alike cannot be told apart."""
    first: dict[str, ast.Test] = {}
    for test in tests:
        if not test.name.is_plain:  # an interpolated name is E303 already
            continue
        name = test.name.value  # as the IR, the reports and -k have it
        seen = first.setdefault(name, test)
        if seen is test:
            continue
        where = seen.name.span
        at = f"line {where.line}" if where.file == test.name.span.file \
            else f"{os.path.basename(where.file)}:{where.line}"
        yield diagnostic("W605", f"the test {_quoted(test.name)} is declared twice",
                         test.name.span,
                         help="rename one of them: CI reports (JUnit) and `ccf test -k` "
                              "tell tests apart by their names",
                         notes=(f"the first {_quoted(test.name)} is the test at {at}",))


def _test(test: ast.Test, declared: dict[str, str], sources,
          crm_types: list[str] = ()) -> Iterator[Diagnostic]:
    # a name may be both: the agents file's `service` and the flow's queue `service`
    names = {name: {kind} for name, kind in declared.items()}
    for stmt in test.body:
        if isinstance(stmt, ast.TestAgent):
            names.setdefault(stmt.name, set()).add("agent")
    if not test.name.value.strip():
        yield diagnostic("E303", "a test needs a name that says what it checks",
                         test.name.span, help='the reports and `ccf test -k` know a test by its '
                         'name: `test "after hours the caller leaves a message":`')
    calls = [s for s in test.body if isinstance(s, ast.TestCall)]
    if not calls:
        yield diagnostic("E303", f"test {_quoted(test.name)} never makes a call", test.name.span,
                         help='add a `call from "+8613800000000"` line after the set-up lines')
    yield from _set_twice(test)
    for extra in calls[1:]:
        yield diagnostic("E303", "a test makes one call; this is a second `call` line",
                         extra.span, help="write a second test for the second call",
                         notes=(f"the first call is on line {calls[0].span.line}",))
    after_call = False
    for stmt in test.body:
        if isinstance(stmt, ast.TestAgent) and (problem := agent_id_problem(stmt.name)):
            yield diagnostic("E303", problem, stmt.span,
                             help="an agent of a test stands for one of the agents file, whose "
                                  "ids name Asterisk queue members: `agent wang ...`")
        yield from test_expects.check_set_up(stmt)
        if isinstance(stmt, ast.TestAt):
            yield from _at(stmt)
        elif isinstance(stmt, ast.TestPress):
            yield from _press(stmt)
        elif isinstance(stmt, ast.TestExpect):
            yield from _expect(stmt, names, sources, list(crm_types))
        elif isinstance(stmt, (ast.TestCrmFault, ast.TestHttp)):
            yield from test_expects.check_fault(stmt, list(crm_types), sources)
        if isinstance(stmt, SETUP) and after_call:
            yield diagnostic(
                "E303", "set-up lines (`at`, `crm`, `agent`, `http`) come before the `call` "
                "line",
                stmt.span, help="move this line above `call`; it sets up the world the call "
                                "starts in")
        if type(stmt) in CALLER and not after_call and calls:
            # the runner plays the caller's lines in order once the call starts: one
            # written above `call` was moved below it without a word
            yield diagnostic(
                "E303", f"`{CALLER[type(stmt)]}` acts during the call: it comes after the "
                "`call` line", stmt.span,
                help="move this line below `call`; the caller presses, waits and hangs up "
                     "once the call has started")
        if isinstance(stmt, ast.TestCall):
            after_call = True


def _set_twice(test: ast.Test) -> Iterator[Diagnostic]:
    """A second `at`, or a second `agent` line of one name: the later one silently won,
    so a copied line left behind changed what the test tested."""
    clock = [s for s in test.body if isinstance(s, ast.TestAt)]
    for extra in clock[1:]:
        yield diagnostic("E303", "a test sets the clock once; this is a second `at` line",
                         extra.span, help="keep one `at` line; a second moment is a second "
                                          "test", notes=(f"the first `at` is on line "
                                                         f"{clock[0].span.line}",))
    agents: dict[str, ast.TestAgent] = {}
    for stmt in test.body:
        if not isinstance(stmt, ast.TestAgent):
            continue
        first = agents.setdefault(stmt.name, stmt)
        if first is not stmt:
            yield diagnostic("E303", f"the agent `{stmt.name}` is declared twice in this test",
                             stmt.span, help="give the agent one `agent` line with its skills "
                                             "and state",
                             notes=(f"the first `agent {stmt.name}` is on line "
                                    f"{first.span.line}",))


def _quoted(text: ast.Str) -> str:
    return f'"{text.raw}"'


def _at(stmt: ast.TestAt) -> Iterator[Diagnostic]:
    """The forms `--at` reads too (ccdsl/moment_forms.py), held to the flow's rules."""
    when = stmt.when
    match = MOMENT.match(when.value) if when.is_plain else None
    if match is None:
        yield diagnostic(
            "E303", f"`at {_quoted(when)}` is not a date and time", when.span,
            help=FORMS)
        return
    date, offset, zone = match.group("day"), match.group("offset"), match.group("zone")
    minute, _, second = match.group("rest")[1:].partition(":")
    problem = date_problem(date)
    if problem:
        yield diagnostic("E501", f"`{date}` is not a date: {problem}", when.span,
                         help="write dates as YYYY-MM-DD, a day that exists in that month")
    time = f"{int(match.group('hour')):02d}:{minute}"
    problem = time_problem(time) or (
        f"there is no second {second[:2]} (seconds run 00 to 59)"
        if second and int(second[:2]) > 59 else None)
    if problem:
        yield diagnostic("E501", f"`{time}` is not a time of day: {problem}", when.span,
                         help="write times as HH:MM on a 24-hour clock, from 00:00 to 23:59")
    if offset and zone:
        yield diagnostic("E303", f"`at {_quoted(when)}` gives both an offset and a time zone",
                         when.span, help="give one: `+08:00` or `Asia/Shanghai`")
    elif offset and not _offset_ok(offset):
        yield diagnostic("E501", f"`{offset}` is not an offset from UTC", when.span,
                         help="offsets run from -23:59 to +23:59, such as +08:00 or Z")
    elif zone is not None and zone.upper() not in ("UTC", "Z"):
        problem = zone_problem(zone)
        if problem:
            yield diagnostic("E503", problem[0], when.span, help=problem[1])


def _offset_ok(offset: str) -> bool:
    digits = offset.replace(":", "")
    return offset == "Z" or (int(digits[1:3]) < 24 and int(digits[3:5] or 0) < 60)


def _press(stmt: ast.TestPress) -> Iterator[Diagnostic]:
    keys = stmt.keys
    if isinstance(keys, ast.Str) and keys.is_plain and KEYS.match(keys.value):
        return
    if isinstance(keys, ast.Str) and keys.is_plain:
        message = f"`press {_quoted(keys)}`: a caller can only press 0-9, * and #"
    elif isinstance(keys, ast.Number) and keys.text.isdigit():
        message = f"`press {keys.text}`: the keys are written as a string"
    else:
        message = "`press` takes the keys as a string of 0-9, * and #"
    yield diagnostic("E303", message, keys.span,
                     help='write the keys in quotes, such as `press "1"` or `press "123456#"`')


def _expect(stmt: ast.TestExpect, names: dict[str, set[str]], sources,
            crm_types: list[str]) -> Iterator[Diagnostic]:
    kind = EXPECT_KINDS.get(stmt.kind)
    kinds = ", ".join(EXPECT_KINDS)
    if kind is None:
        hint = did_you_mean(stmt.kind, EXPECT_KINDS)
        yield diagnostic(
            "E303", f"`expect {stmt.kind}` is not something a test can expect",
            word_span(stmt.span, stmt.kind, sources, skip=len("expect")),
            help=f"{hint} the kinds are: {kinds}" if hint else f"the kinds are: {kinds}")
        return
    if stmt.connector is not None and stmt.connector != kind.connector:
        fix = (f"write `expect {stmt.kind} {kind.connector} ...`" if kind.connector
               else f"write `expect {stmt.kind} VALUE` with no connecting word")
        yield diagnostic("E303", f"`expect {stmt.kind} {stmt.connector}` does not read right",
                         word_span(stmt.span, stmt.kind, sources, skip=len("expect")), help=fix)
        return
    yield from test_expects.check_value(stmt, crm_types, sources)
    if stmt.value is None:
        if kind.needs_value or stmt.connector is not None:
            example = {"played": "welcome", "heard": "welcome", "queue": "service",
                       "routed": "li", "step": "main_menu", "crm": "customer",
                       "priority": "10", "outcome": '"hangup"'}.get(stmt.kind, "x")
            words = f"{stmt.kind} {kind.connector}" if kind.connector else stmt.kind
            yield diagnostic(
                "E303", f"`expect {words}` needs to say what is expected", stmt.span,
                help=f"name it, such as `expect {words} {example}`")
        return
    if isinstance(stmt.value, ast.Call):
        target = stmt.value.func
    else:
        target = stmt.value
    if not isinstance(target, ast.Name) or not kind.names:
        return
    kinds = names.get(target.id, set())
    if kinds & set(kind.names):
        return
    found = min(kinds) if kinds else None
    wanted = " or ".join(kind.names)
    candidates = [n for n, k in names.items() if k & set(kind.names)]
    hint = did_you_mean(target.id, candidates)
    where = ("declared by an `agent` line of this test" if kind.names == ("agent",)
             else "declared in the flow")
    if found is None:
        message = f"`expect {stmt.kind}`: there is no {wanted} `{target.id}` {where}"
    else:
        message = (f"`expect {stmt.kind}`: `{target.id}` is {article(found)}, not "
                   f"{article(wanted)}")
    yield diagnostic("E303", message, target.span,
                     help=hint or f"name {article(wanted)} {where}")


def agent_names(test) -> Iterator[ast.Name]:
    """The bare names of a test's expectations that stand for an agent (`expect answered by
    li`, `expect routed to li` when the test declares `agent li`): ids of the agents file,
    not references to a step or queue that happens to have the name (the editor's rename)."""
    if not isinstance(test, ast.Test):
        return
    agents = {s.name for s in test.body if isinstance(s, ast.TestAgent)}
    for stmt in test.body:
        kind = EXPECT_KINDS.get(stmt.kind) if isinstance(stmt, ast.TestExpect) else None
        if kind is None or "agent" not in kind.names:
            continue
        target = stmt.value.func if isinstance(stmt.value, ast.Call) else stmt.value
        if isinstance(target, ast.Name) and (kind.names == ("agent",) or target.id in agents):
            yield target
