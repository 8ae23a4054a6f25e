"""The new test lines of issue 13 at compile time: unknown names and words in
expectations and faults are errors with a did-you-mean, and `ccf fmt` keeps them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccdsl.compiler.formatter import format_source
from ccdsl.compiler.pipeline import compile_file

FLOW = (Path(__file__).resolve().parent / "scenarios" / "fault_line.ccf").read_text(
    encoding="utf-8")
BODY = FLOW[: FLOW.index('\ntest "')]


def diags(tmp_path: Path, tests: str) -> list:
    flow = tmp_path / "fault_line.ccf"
    flow.write_text(BODY, encoding="utf-8")
    (tmp_path / "fault_line.test.ccf").write_text(textwrap.dedent(tests).lstrip(),
                                                  encoding="utf-8")
    return [d for d in compile_file(str(flow), lower=False).diagnostics if d.is_error]


def test_the_new_lines_are_quiet_when_right(tmp_path: Path) -> None:
    assert diags(tmp_path, """
        test "all of them":
          crm fails
          crm times out for card
          crm slow 2s for customer
          http get "https://status.example.com/open" status 503 body {error: "x"} delay 1s
          http post "https://example.com/hook"
          agent zhang skills [general]
          call from "+8613900000001"
          expect error
          expect not error "null"
          expect recording
          expect crm_log
          expect crm_log "agent"
          expect screen_pop
          expect screen_pop for zhang
          expect wrapup for zhang
          expect priority 10
          expect queue service priority 10
          expect outcome "answered"
          expect routed via owner to zhang
          expect routed via queue to service
          expect crm card
    """) == []


def test_unknown_names_and_words_are_errors_with_a_suggestion(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "typos":
          crm fails for cart
          http fetch "https://x"
          agent zhang skills [general]
          call from "+1"
          expect crm custmer
          expect outcome "answred"
          expect routed via ownr to zhang
          expect screen_pop for wang
          expect priority "high"
          expect error 3
          expect queue via owner service
          expect crm_log 1
          expect queue service priority "high"
          expect played welcome priority 10
          expect queue service priorty 10
    """)
    got = [(d.code, d.span.line, d.message, d.help) for d in result]
    assert got == [
        ("E109", 2, "`crm ... for cart`: unknown record type `cart`", "did you mean `card`?"),
        ("E303", 3, "`http fetch`: a test answers `http get` and `http post`",
         'write `http get "https://example.com/x" status 200`'),
        ("E109", 6, "`expect crm`: unknown record type `custmer`", "did you mean `customer`?"),
        ("E303", 7, '`expect outcome`: "answred" is not a call outcome',
         'did you mean `answered`? the outcomes are: "answered", "hangup", "transfer", '
         '"voicemail", "error", "abandoned"'),
        ("E303", 8, "`via ownr`: a route does not choose that way",
         "did you mean `owner`? the ways are: owner, last_agent, agent, skills, queue"),
        ("E303", 9, "`expect screen_pop`: there is no agent `wang` declared by an `agent` "
         "line of this test", "did you mean `zhang`?"),
        ("E303", 10, "`expect priority` takes the queue priority as a number",
         "write `expect priority 10`"),
        ("E303", 11, "`expect error` takes a text",
         "write the text the error's message contains, such as `expect error \"null\"`"),
        ("E303", 12, "`expect queue` does not take `via`",
         "`via` says how a call was routed: `expect routed via owner to zhang`"),
        ("E303", 13, "`expect crm_log` takes a text",
         'write the outcome logged, such as `expect crm_log "resolved"`'),
        ("E300", 14, "the option `priority` takes a number, not text", None),
        ("E106", 15, "`expect played` has no option `priority`", "it takes no options"),
        ("E106", 16, "`expect queue` has no option `priorty`", "did you mean `priority`?"),
    ]


def test_fault_lines_are_set_up_lines(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "late":
          call from "+1"
          crm fails
          http get "https://x" status 500
    """)
    assert [(d.code, d.span.line) for d in result] == [("E303", 3), ("E303", 4)]
    assert "come before the `call` line" in result[0].message


def test_fmt_keeps_the_new_lines() -> None:
    text = textwrap.dedent("""\
        test "t":
          crm times out for card
          crm slow 2s
          http get "https://x/y" status 503 body {a: 1} delay 6s
          call from "+1"
          expect routed via owner to zhang
          expect not error "null"
          expect queue service priority 10
        """)
    formatted, problems = format_source(text, "t.test.ccf")
    assert problems == [] and formatted is not None
    assert "  crm times out for card\n" in formatted
    assert "  crm slow 2s\n" in formatted
    assert '  http get "https://x/y" status 503 body {a: 1} delay 6s\n' in formatted
    assert "  expect routed via owner to zhang\n" in formatted
    assert "  expect queue service priority 10\n" in formatted
    assert format_source(formatted, "t.test.ccf")[0] == formatted
