"""Hygiene warnings: external calls without an error path, unused
variables and constants. Warnings never stop the compile."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file


def result(tmp_path: Path, text: str, name: str = "flow.ccf", files: dict | None = None):
    for other, body in (files or {}).items():
        (tmp_path / other).write_text(textwrap.dedent(body), encoding="utf-8")
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return compile_file(str(path), lower=False)


def of(res, code):
    return [d for d in res.diagnostics if d.code == code]


def test_crm_call_without_error_path_is_a_warning_at_the_call(tmp_path):
    res = result(tmp_path, """\
        flow f
        on start:
          customer = crm.customer(phone: caller.number)
          log customer
          hangup
        """)
    [d] = of(res, "W600")
    assert d.message.startswith("`crm.customer` can fail")
    assert (d.span.line, d.span.column) == (3, 14)
    assert "on error ->" in d.help
    assert res.ok


def test_error_path_silences_it_even_when_nested(tmp_path):
    res = result(tmp_path, """\
        flow f
        on start:
          customer = crm.customer(phone: caller.number) on error -> customer = null
          stdlib_owner = crm.owner(customer) ?? "service" on error -> hangup
          log stdlib_owner
          hangup
        """)
    assert of(res, "W600") == []


def test_http_in_a_condition_asks_to_assign_first(tmp_path):
    res = result(tmp_path, """\
        flow f
        on start:
          if http.get("https://x").status == 200:
            log "up"
          hangup
        """)
    [d] = of(res, "W600")
    assert "the web service" in d.message
    assert d.help.startswith("call it on its own line")


def test_non_external_builtins_need_no_error_path(tmp_path):
    res = result(tmp_path, """\
        flow f
        on start:
          n = agents.available(skills: [general])
          log "${n} ${agents.state("li")} ${now()}"
          hangup
        """)
    assert of(res, "W600") == []


def test_unused_variable_once_at_its_first_assignment(tmp_path):
    res = result(tmp_path, """\
        flow f
        on start:
          code = collect digits 4
          code = "0000"
          used = 1
          log used
          hangup
        """)
    [d] = of(res, "W601")
    assert d.message == "the variable `code` is assigned but never read"
    assert (d.span.line, d.span.column, d.span.end_column) == (3, 3, 7)


def test_variables_read_in_other_steps_routing_and_sub_locals(tmp_path):
    res = result(tmp_path, """\
        flow f
        queue service
        routing r:
          queue service priority (10 if tier == "vip" else 0)
          otherwise -> hangup
        sub s(x):
          local = x
          dead = 2
          return local
        on start:
          tier = "vip"
          msg = "hi"
          goto next
        step next:
          play tts msg
          log s(1)
          route r
        """)
    assert [d.message for d in of(res, "W601")] == [
        "the variable `dead` is assigned but never read"]


def test_unused_constant_but_not_one_used_by_an_importer(tmp_path):
    res = result(tmp_path, """\
        flow f
        use lib
        const used = 3
        const unused = 4
        on start:
          log used + lib.shared
          hangup
        """, files={"lib.ccf": "flow lib\nconst shared = 1\nconst spare = 2\n"})
    assert sorted(d.message for d in of(res, "W602")) == [
        "the constant `spare` is never used", "the constant `unused` is never used"]
