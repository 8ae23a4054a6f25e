"""Every code example in docs/language.md is valid .ccf.

The reference marks its code blocks with one of two info strings:

- ```ccf          a complete flow: it compiles with no diagnostics at all;
- ```ccf-snippet  a fragment: either top-level declarations (checked by
                  parsing them after a flow header) or statements (checked
                  by parsing them as the body of `on start`).

A reader can then copy any ```ccf block into a file and run `ccf validate`.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from ccdsl.compiler.parser import parse_source
from ccdsl.compiler.pipeline import compile_file
from ccdsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "language.md"

_BLOCK = re.compile(r"^```(ccf|ccf-snippet)\n(.*?)^```$", re.M | re.S)
_HEADER = "flow snippet:\n  languages zh-CN, en-US\n"


def _blocks(kind: str) -> list[tuple[int, str]]:
    text = DOC.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(2))
            for m in _BLOCK.finditer(text) if m.group(1) == kind]


def _parses(text: str) -> list:
    _, diags = parse_source(SourceFile("snippet.ccf", text))
    return diags


def test_the_reference_has_both_kinds_of_examples() -> None:
    assert len(_blocks("ccf")) >= 10
    assert len(_blocks("ccf-snippet")) >= 20


@pytest.mark.parametrize(("line", "text"), _blocks("ccf"), ids=lambda v: str(v)[:12])
def test_complete_examples_compile_cleanly(line: int, text: str, tmp_path: Path) -> None:
    flow = tmp_path / "example.ccf"
    flow.write_text(text, encoding="utf-8")
    diags = compile_file(str(flow), lower=False).diagnostics
    shown = [f"{d.span.line}:{d.span.column} {d.code} {d.message}" for d in diags]
    assert not shown, f"docs/language.md line {line}: {shown}"


@pytest.mark.parametrize(("line", "text"), _blocks("ccf-snippet"), ids=lambda v: str(v)[:12])
def test_snippets_parse(line: int, text: str) -> None:
    as_declarations = text if text.lstrip().startswith("flow ") else _HEADER + text
    if not _parses(as_declarations):
        return
    as_statements = _HEADER + "on start:\n" + textwrap.indent(text, "  ")
    errors = _parses(as_statements)
    assert not errors, f"docs/language.md line {line}: {[d.message for d in errors]}"


def test_every_builtin_is_documented() -> None:
    from ccdsl import builtins

    text = DOC.read_text(encoding="utf-8")
    for b in builtins.BUILTINS.values():
        shown = f"`{b.name}" if b.kind != "method" else f".{b.short_name}()`"
        if b.kind == "method":
            shown = f"`{b.namespace.upper()}{shown}"
        assert shown in text, f"docs/language.md does not describe the builtin {b.name}"


def test_every_option_is_documented() -> None:
    from ccdsl import options

    text = DOC.read_text(encoding="utf-8")
    tables = text[text.index("### Option tables"):]
    for construct, specs in options.OPTIONS.items():
        for spec in specs:
            assert f"| `{spec.name}` |" in tables, \
                f"docs/language.md has no row for the {construct} option `{spec.name}`"


def test_every_statement_and_declaration_has_a_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    headings = set(re.findall(r"^###+ (.+)$", text, re.M))
    for title in ("answer", "hangup", "goto", "return", "play", "say", "Assignment", "collect",
                  "Expression statements", "route", "queue", "transfer", "three_way",
                  "record call, stop recording", "voicemail", "wait", "screen_pop", "language",
                  "log", "if / elif / else", "match", "flow: the header",
                  "use: the standard library and sibling files", "const", "hours: business hours",
                  "prompt", "routing: who gets the call", "record: record types",
                  "wrapup: wrap-up fields", "step", "sub: sub-flows"):
        assert title in headings, f"docs/language.md has no section `### {title}`"


@pytest.mark.parametrize(("line", "text"), _blocks("ccf"), ids=lambda v: str(v)[:12])
def test_complete_examples_are_formatted(line: int, text: str) -> None:
    from ccdsl.compiler.formatter import format_source

    formatted, _ = format_source(text, "example.ccf")
    assert formatted == text, f"docs/language.md line {line} is not as `ccf fmt` writes it"
