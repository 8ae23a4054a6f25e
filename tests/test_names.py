"""Name resolution: unknown, duplicate and misused names, handlers, record
types, `return` placement, the flow header and `on start`."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file


def diags(tmp_path: Path, text: str, name: str = "flow.ccf", files: dict | None = None):
    for other, body in (files or {}).items():
        (tmp_path / other).write_text(textwrap.dedent(body), encoding="utf-8")
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return compile_file(str(path), lower=False).diagnostics


def only(ds, code):
    return [d for d in ds if d.code == code]


def test_unknown_step_suggests_the_closest_name_and_points_at_it(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        on start:
          goto main_mnu
        step main_menu:
          hangup
        """)
    [d] = only(ds, "E100")
    assert d.message == "unknown step `main_mnu`"
    assert d.help == "did you mean `main_menu`?"
    assert (d.span.line, d.span.column, d.span.end_column) == (3, 8, 16)


def test_unknown_variable_in_an_interpolation(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        on start:
          customer = crm.customer(phone: caller.number) on error -> hangup
          play tts "Hi ${custmer.name}"
          hangup
        """)
    [d] = only(ds, "E100")
    assert d.message == "unknown name `custmer`"
    assert d.help == "did you mean `customer`?"
    assert not only(ds, "W601")  # the misspelt read was meant for it


def test_a_misspelt_statement_word_is_suggested(tmp_path):
    ds = diags(tmp_path, "flow f\non start:\n  answer\n  hangupp\n")
    [d] = only(ds, "E100")
    assert "`hangup` (the statement)" in d.help


def test_agent_exists_only_in_the_answered_handler(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        on start:
          log agent.name
          hangup
        on answered by agent:
          log agent.name
        """)
    [d] = only(ds, "E100")
    assert d.span.line == 3
    assert "on answered by agent" in d.help


def test_sub_flows_do_not_see_call_variables(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        sub greet(who):
          play tts "Hello ${who} ${name}"
        on start:
          name = "x"
          greet(name)
          hangup
        """)
    [d] = only(ds, "E100")
    assert d.message == "unknown name `name`"
    assert "pass `name` as an argument" in d.help


def test_stdlib_module_by_full_path_and_by_alias(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        use stdlib.voicemail
        on start:
          stdlib.voicemail.leave(for: "service") on error -> hangup
          x = voicemail.leave(for: "service") on error -> hangup
          log x
          stdlib.voicemail.leav(for: "service") on error -> hangup
          stdlib.voicemal.leave(for: "service") on error -> hangup
          hangup
        """)
    e100 = only(ds, "E100")
    assert [d.message for d in e100] == ["module `stdlib.voicemail` has no `leav`",
                                         "unknown module `stdlib.voicemal`"]
    assert e100[0].help == "did you mean `leave`?"
    assert e100[1].help == "did you mean `stdlib.voicemail`?"


def test_sibling_module_sub_flow(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        use billing
        on start:
          billing.check(caller.number)
          billing.nope()
          hangup
        """, files={"billing.ccf": "flow billing\nsub check(number):\n  log number\n"})
    [d] = only(ds, "E100")
    assert d.message == "module `billing` has no `nope`"


def test_duplicate_declaration_notes_the_first(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        on start:
          goto a
        step a:
          hangup
        step a:
          hangup
        """)
    [d] = only(ds, "E101")
    assert d.message == "the step `a` is declared twice"
    assert d.span.line == 6
    assert d.notes == ("the first `a` is the step at line 4",)


def test_duplicate_handler_and_variable_hiding_a_declaration(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        queue service
        on start:
          service = 1
          log service
          hangup
        on start:
          hangup
        """)
    messages = sorted(d.message for d in only(ds, "E101"))
    assert messages == ["the handler `on start` is declared twice",
                        "the variable `service` has the name of the queue declared at line 2"]


def test_wrong_kind_of_name(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        prompt welcome:
          en-US tts "hi"
        queue service
        on start:
          play service
          route welcome
          x = main
          log x
          goto welcome
        step main:
          hangup
        """)
    got = [(d.span.line, d.message) for d in only(ds, "E102")]
    assert got == [
        (6, "`service` is a queue, not a prompt"),
        (7, "`welcome` is a prompt, not a routing rule or a queue"),
        (8, "`main` is a step, not a value"),
        (10, "`welcome` is a prompt, not a step"),
    ]


def test_unknown_field_of_a_known_record(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        on start:
          order = crm.find("order", number: "1") on error -> hangup
          log order.statu
          log now().hour
          log now().hours
          hangup
        """)
    got = [(d.message, d.help) for d in only(ds, "E105")]
    assert got == [("the record type `order` has no field `statu`", "did you mean `status`?"),
                   ("a datetime has no field `hours`", "did you mean `hour`?")]


def test_record_declarations_extend_known_records(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        record order:
          eta: date?
        record invoice:
          amount: number
          paid: bool
        on start:
          order = crm.find("order", number: "1", eta: 2026-10-01) on error -> hangup
          bill = crm.create("invoice", amount: 3, paid: false) on error -> hangup
          log "${order.eta} ${bill.amount}"
          hangup
        """)
    assert ds == []


def test_unknown_handler_record_type_and_type_name(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        wrapup:
          reason: txt
        on strat:
          hangup
        on start:
          x = crm.find("ordr", number: "1") on error -> hangup
          log x
          hangup
        """)
    assert [(d.code, d.help) for d in ds if d.code in ("E108", "E109", "E110")] == [
        ("E110", "did you mean `text`?"),
        ("E108", "did you mean `start`?"),
        ("E109", "did you mean `order`?"),
    ]


def test_return_only_in_sub_flows(tmp_path):
    ds = diags(tmp_path, """\
        flow f
        sub twice(n):
          return n * 2
        on start:
          log twice(2)
          return
        """)
    [d] = only(ds, "E111")
    assert d.span.line == 6


def test_steps_without_on_start(tmp_path):
    ds = diags(tmp_path, "flow f\nstep a:\n  hangup\n")
    [d] = only(ds, "E112")
    assert "`goto a`" in d.help


def test_flow_header_missing_misplaced_and_repeated(tmp_path):
    assert [d.message for d in only(diags(tmp_path, "on start:\n  hangup\n"), "E010")] == \
        ["this file has no `flow` header"]
    ds = diags(tmp_path, "const x = 1\nflow f\nflow g\non start:\n  log x\n  hangup\n")
    assert [d.span.line for d in only(ds, "E010")] == [2, 3]
