"""A sub-flow call has the type its `return` statements give back, in its module or a used one."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file

HEAD = "flow f\nqueue service skills [general]\n"


def diags(tmp_path: Path, text: str, **modules: str):
    for name, source in modules.items():
        (tmp_path / f"{name}.ccf").write_text(textwrap.dedent(source), encoding="utf-8")
    path = tmp_path / "flow.ccf"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return compile_file(str(path), lower=False).diagnostics


def errors(ds) -> list[tuple[str, int, str]]:
    return [(d.code, d.span.line, d.message) for d in ds if d.severity == "error"]


def flow(sub: str, start: str) -> str:
    start = textwrap.indent(textwrap.dedent(start).strip("\n") + "\n", "  ")
    return HEAD + textwrap.dedent(sub).strip("\n") + "\non start:\n" + start + "  hangup\n"


BALANCE = """
sub check_balance():
  return "low"
"""


def test_a_text_result_compared_with_a_number_is_never_equal(tmp_path):
    ds = diags(tmp_path, flow(BALANCE, """
        r = check_balance()
        if r == 3:
          log "three"
    """))
    assert errors(ds) == [("E300", 7, "cannot compare text with number: they are never equal")]


def test_the_call_itself_has_the_type(tmp_path):
    ds = diags(tmp_path, flow(BALANCE, 'log check_balance() + 1'))
    assert [e[2] for e in errors(ds)] == ["`+` cannot combine text and number"]


def test_a_result_used_as_its_type_is_accepted(tmp_path):
    ds = diags(tmp_path, flow(BALANCE, """
        r = check_balance()
        if r == "low":
          log "low: ${r}"
    """))
    assert errors(ds) == []


def test_every_return_counts_and_falling_off_the_end_gives_null(tmp_path):
    sub = """
        sub score(n):
          if n > 3:
            return 5
          elif n > 1:
            return 2
    """
    ds = diags(tmp_path, flow(sub, """
        s = score(2)
        if s == "5":
          log "five"
        log s + 1
    """))
    assert [(c, m) for c, _, m in errors(ds)] == [
        ("E300", "cannot compare number? with text: they are never equal"),
        ("E304", "`+` needs a value, but `s` may be null (number?)"),
    ]


def test_returns_of_different_types_hold_the_caller_to_neither(tmp_path):
    sub = """
        sub either(n):
          if n > 1:
            return 1
          return "one"
    """
    ds = diags(tmp_path, flow(sub, """
        e = either(2)
        if e == 1 or e == "one":
          log "ok"
    """))
    assert errors(ds) == []


def test_a_recursive_sub_flow_is_typed_by_its_other_returns(tmp_path):
    sub = """
        sub countdown(n):
          if n < 1:
            return "done"
          return countdown(n - 1)
    """
    ds = diags(tmp_path, flow(sub, """
        if countdown(3) == 0:
          log "never"
    """))
    assert [c for c, _, _ in errors(ds)] == []


def test_a_used_module_sub_flow_is_typed_too(tmp_path):
    billing = """
        flow billing
        sub read_balance(customer):
          return "unknown"
    """
    ds = diags(tmp_path, flow("", """
        b = billing.read_balance("c1")
        if b > 10:
          log "rich"
    """).replace("flow f\n", "flow f\nuse billing\n"), billing=billing)
    assert [(c, m) for c, _, m in errors(ds)] == [("E300", "cannot compare text with number")]


def test_a_value_narrowed_where_it_is_returned_is_not_held_as_null(tmp_path):
    sub = """
        sub name_of(phone):
          c = crm.find("customer", phone: phone)
          if c != null:
            return c.name
          return "nobody"
        sub tier_of(phone):
          c = crm.find("customer", phone: phone)
          if c == null:
            return "none"
          return c.tier
    """
    ds = diags(tmp_path, flow(sub, """
        log name_of(caller.number) + "!"
        log tier_of(caller.number) + "!"
        if name_of(caller.number) == 1:
          log "never"
    """))
    assert [(c, m) for c, _, m in errors(ds)] == [
        ("E300", "cannot compare text with number: they are never equal")]


def test_a_returned_value_that_may_be_null_makes_the_call_one(tmp_path):
    sub = """
        sub first():
          return [1, 2][0]
    """
    ds = diags(tmp_path, flow(sub, "log first() + 1"))
    assert [(c, m) for c, _, m in errors(ds)] == [
        ("E304", "`+` needs a value, but `first()` may be null (number?)")]


def test_a_long_chain_of_sub_flows_each_returning_the_last_is_typed_to_its_end(tmp_path):
    """Each sub-flow's type asks for the one before it: a chain as long as the flow makes
    it, not as deep as the stack allows."""
    subs = "sub s0():\n  return 1\n" + "".join(
        f"sub s{i}():\n  return s{i - 1}() + 1\n" for i in range(1, 1500))
    ds = diags(tmp_path, flow(subs, 'if s1499() == "x":\n  log "never"'))
    assert [(c, m) for c, _, m in errors(ds)] == [
        ("E300", "cannot compare number with text: they are never equal")]


def test_a_returned_name_that_may_be_null_there_makes_the_call_one(tmp_path):
    """`return c` where nothing proves `c` not null: the caller is held to the null check,
    as for any other value that may be null; the same name narrowed on its path is not."""
    sub = """
        sub first():
          n = [1, 2][0]
          return n
        sub first_or_zero():
          n = [1, 2][0]
          if n == null:
            return 0
          return n
        record order:
          number: text
          total: number
        sub order_of(number):
          o = crm.find("order", number: number)
          return o
    """
    ds = diags(tmp_path, flow(sub, """
        log first() + 1
        log first_or_zero() + 1
        o = order_of(number: "1")
        log o.total + 1
    """))
    assert [(c, m) for c, _, m in errors(ds)] == [
        ("E304", "`+` needs a value, but `first()` may be null (number?)"),
        ("E304", "`+` needs a value, but `o.total` may be null (number?)")]


def test_a_name_narrowed_in_a_loop_or_a_menu_arm_is_returned_as_not_null(tmp_path):
    sub = """
        sub pick(items):
          for each item in items:
            n = [1][0]
            if n != null:
              return n
          return 0
    """
    ds = diags(tmp_path, flow(sub, "log pick(items: [1]) + 1"))
    assert errors(ds) == []
