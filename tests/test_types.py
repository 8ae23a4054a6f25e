"""Type checks: operators, conditions, arguments, calls and options."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ccdsl import builtins as bi
from ccdsl.compiler.pipeline import compile_file
from ccdsl.options import OPTIONS
from ccdsl.types import DATETIME, DURATION, NUMBER, TEXT, accepts, arithmetic, optional, unify


def diags(tmp_path: Path, text: str):
    path = tmp_path / "flow.ccf"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return compile_file(str(path), lower=False).diagnostics


def codes(ds, *wanted):
    return [(d.code, d.message) for d in ds if d.code in wanted]


def body(lines: str) -> str:
    """A flow whose `on start` runs the given (unindented) statements."""
    inner = textwrap.indent(textwrap.dedent(lines).rstrip("\n") + "\n", "  ")
    return "flow f\nqueue service skills [general]\nhours office:\n  mon-fri 09:00-18:00\n" \
           "on start:\n" + inner + "  hangup\n"


def test_the_rules_of_the_type_module():
    assert arithmetic("+", TEXT, TEXT) == TEXT
    assert arithmetic("+", TEXT, NUMBER) is None
    assert arithmetic("+", DATETIME, DURATION) == DATETIME
    assert arithmetic("+", DURATION, DURATION) == DURATION
    assert accepts(TEXT, optional(TEXT))
    assert unify(optional(TEXT), TEXT) == optional(TEXT)
    assert unify(TEXT, NUMBER) is None


def test_registry_is_data_the_runtime_can_read():
    assert bi.lookup("crm.customer").can_fail
    assert not bi.lookup("agents.state").can_fail
    assert all(not b.waits_for_caller for b in bi.BUILTINS.values())
    assert ("caller.number", TEXT) in [(n, t) for n, t, _ in bi.facts()]
    assert {"menu", "collect", "queue", "route", "routing owner", "test hangup"} <= set(OPTIONS)


@pytest.mark.parametrize(("line", "message"), [
    ('log "a" + 1', "`+` cannot combine text and number"),
    ("log 5s + 1", "`+` cannot combine duration and number"),
    ('log 1 < "2"', "cannot compare number with text"),
    ("log 5s < 09:00", "cannot compare duration with time"),
    ('log 1 if true else "x"', "the two results of this conditional have different types: "
                               "number and text"),
    ("log not 3", "`not` needs a bool, not number"),
    ('log [1, "a"]', "a list holds values of one type, but this item is text and the ones "
                     "before it are number"),
    ('log 1 and true', "`and` needs a bool on both sides, but the left side is number"),
    ('log caller.name ?? 3', "the two sides of `??` have different types: text? and number"),
])
def test_operator_mismatches(tmp_path, line, message):
    assert codes(diags(tmp_path, body(line)), "E300") == [("E300", message)]


def test_conditions_must_be_bool(tmp_path):
    ds = diags(tmp_path, body("""\
        if caller.number:
          log 1
        elif 3:
          log 2
        """))
    assert [d.message for d in ds if d.code == "E300"] == [
        "the condition of `if` must be a bool, not text",
        "the condition of `elif` must be a bool, not number"]


def test_correct_expressions_of_the_sketch_are_accepted(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        use stdlib.voicemail
        queue service skills [general]
        queue support skills [tech]
        hours office:
          mon-fri 09:00-18:00
        prompt order_status(status):
          en-US tts "Your order is ${status}."
        routing to_service:
          owner of customer ring 20s
          last_agent of caller ring 15s
          queue service priority (10 if customer.tier == "vip" else 0)
          otherwise -> goto after_hours
        on start:
          customer = crm.customer(phone: caller.number) on error -> customer = null
          if not office.open() or office.open(at: now() + 1h):
            goto after_hours
          order_no = collect digits 6..10 end "#" timeout 10s retries 2 prompt tts "Order?"
          order = crm.find("order", number: order_no) on error -> goto after_hours
          if order == null:
            goto after_hours
          play order_status(order.status)
          wait_time = service.expected_wait() + 30s
          if wait_time > 2m and now().hour >= 17 and call.start.date == today():
            route support skills [tech, customer.language ?? "zh-CN"]
          n = agents.available(skills: [general])
          say number n
          reply = http.get("https://x/y", timeout: 3s) on error -> hangup
          log "${reply.status} ${len(reply.body)} ${upper(trim(order.number))}"
          route to_service
        step after_hours:
          stdlib.voicemail.leave(for: crm.owner(customer) ?? "service") on error -> hangup
          hangup
        """)
    assert [d for d in ds if d.is_error] == []


def test_builtin_arguments(tmp_path):
    ds = diags(tmp_path, body("""\
        x = crm.customer(number: caller.number) on error -> hangup
        y = http.get("u", timeout: 5) on error -> hangup
        z = crm.find("order") on error -> hangup
        log len("a", 2)
        log now(1)
        log "${x}${y}${z}"
        """))
    assert codes(ds, "E301") == [
        ("E301", "`crm.customer` has no parameter `number`"),
        ("E301", "the argument `timeout` of `http.get` must be duration, not number"),
        ("E301", "`crm.find` needs at least one field to match"),
        ("E301", "`len` takes 1 argument, but this is argument 2"),
        ("E301", "`now` takes no arguments, but this is argument 1"),
    ]


def test_sub_flow_and_prompt_arguments(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        prompt status(s):
          en-US tts "${s}"
        prompt hello:
          en-US tts "hi"
        sub greet(who):
          play tts "hi ${who}"
        on start:
          greet()
          greet("a", "b")
          play status
          play hello("x")
          hangup
        """)
    assert [m for _, m in codes(ds, "E301")] == [
        "`greet` needs the argument `who`",
        "`greet` takes 1 argument, but this is argument 2",
        "the prompt `status` needs an argument: s",
        "the prompt `hello` takes no arguments",
    ]


def test_calling_what_is_not_callable(tmp_path):
    ds = diags(tmp_path, body("""\
        log caller.number()
        log service()
        """))
    assert [m for _, m in codes(ds, "E302")] == [
        "`caller.number` is a text, not something to call",
        "`service` is a queue, not something to call"]


def test_unknown_repeated_and_missing_options(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        queue service skills [general] max_wiat 60s
        on start:
          x = collect timeout 5s timeout 6s
          log x
          menu retries 2:
            1 -> hangup
            timeout, invalid -> play "x"
            exhausted -> hangup
        """)
    got = [(d.code, d.message, d.help) for d in ds if d.code in ("E106", "E107")]
    assert got == [
        ("E106", "a queue declaration has no option `max_wiat`", "did you mean `max_wait`?"),
        ("E107", "`collect` needs the option `digits`",
         "add `digits ...`: how many digits: a number or a range `lo..hi`"),
        ("E107", "the option `timeout` is given twice", "keep one of them"),
        ("E107", "`menu` needs the option `prompt`",
         "add `prompt ...`: what to play before waiting for a key"),
    ]


def test_option_value_types_and_forms(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        queue service skills [general] max_wait 120 announce_position 30s
        on start:
          x = collect digits "6" prompt service
          log x
          hangup
        """)
    assert [m for _, m in codes(ds, "E300")] == [
        "the option `max_wait` takes a duration, not number",
        "the option `announce_position` takes `announce_position every 30s`, not a plain value",
        "the option `digits` takes a number, not text",
    ]
    assert [m for _, m in codes(ds, "E102")] == ["`service` is a queue, not a prompt"]


def test_routing_lines_are_checked_per_kind(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        queue service
        routing r:
          owner of caller ring 5
          queue nosuch
          skills [tech] priority 3
          ownr of customer
          otherwise -> hangup
        on start:
          customer = null
          route r
        """)
    got = [(d.code, d.message) for d in ds if d.code in ("E100", "E106", "E300")]
    assert got == [
        ("E300", "`owner` routes to a customer (or another CRM record with an owner), "
                 "not caller"),
        ("E300", "the option `ring` takes a duration, not number"),
        ("E100", "unknown name `nosuch`"),
        ("E106", "a routing `skills` line has no option `priority`"),
    ]
    # the unknown kind is the flow checks' E207, reported once
    assert [d.code for d in ds if "`ownr`" in d.message] == ["E207"]


def test_match_patterns_against_the_subject(tmp_path):
    ds = diags(tmp_path, body("""\
        choice = collect digits 1
        match choice:
          1 -> log "one"
          "2" -> log "two"
          else -> log "other"
        """))
    [d] = [d for d in ds if d.code == "E300"]
    assert d.message == "this pattern is number, but the value matched is text"
    assert d.help == '`choice` is text: quote the pattern, `"1"`'
