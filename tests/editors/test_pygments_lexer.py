"""The Pygments lexer of .ccf: every flow of the repository, chosen tokens, and
`pygmentize -l ccf` through the entry point the installed package declares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Literal, Name, Number, Operator, String

from ccdsl.compiler import words
from ccdsl.compiler.pygments_lexer import TEST_LINE_WORDS, CcfLexer
from tests.editors import parsed_names
from tests.editors.conftest import ROOT
from tests.editors.test_textmate import PURPOSE_MADE

FLOWS = sorted(p for p in ROOT.rglob("*.ccf")
               if not {".venv", "node_modules"} & set(p.relative_to(ROOT).parts))


def tokens(text: str) -> list[tuple]:
    return list(CcfLexer().get_tokens_unprocessed(text))


def readable(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:  # E007's golden file: not UTF-8 on purpose
        return None


def test_the_repository_has_flows_to_lex():
    assert len(FLOWS) > 100
    assert ROOT / "examples" / "iws" / "hotline.ccf" in FLOWS


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_flow_lexes_to_its_own_text(path):
    text = readable(path)
    if text is None:
        assert path.name.startswith("E007")
        return
    found = tokens(text)
    assert "".join(value for _, _, value in found) == text
    errors = [value for _, kind, value in found if kind in Error]
    # a character the compiler refuses (E002) is the only thing the lexer cannot place
    if path.name.startswith("E002"):
        assert errors, "the refused character lexes as an error"
    else:
        assert errors == []


def kind_of(text: str, value: str, nth: int = 0):
    found = [kind for _, kind, v in tokens(text) if v == value]
    assert len(found) > nth, f"no token {value!r}"
    return found[nth]


def line(number: int) -> str:
    return PURPOSE_MADE.splitlines(keepends=True)[number - 1]


def test_chosen_tokens_land_where_expected():
    text = PURPOSE_MADE
    assert kind_of(text, "flow") is Keyword.Declaration
    assert kind_of(text, "demo") is Name.Namespace
    assert kind_of(text, "ask") is Name.Function
    assert kind_of(line(14), "main") is Name.Function
    assert kind_of(text, "answered by agent") is Name.Function
    assert kind_of(text, "hello") is Name.Class
    assert kind_of(text, "menu") is Keyword
    assert kind_of(text, "wait") is Keyword
    assert kind_of(line(5), "Hi ") is String.Double
    assert kind_of(line(5), "${") is String.Interpol
    assert kind_of(line(5), "caller") is Name.Builtin.Pseudo
    assert kind_of(line(5), "len") is Name.Builtin
    assert kind_of(line(5), "\\t") is String.Escape
    assert kind_of(line(4), "3s") in Number
    assert kind_of(line(21), "1.5s") in Number
    assert kind_of(line(15), "3") is Number.Integer
    assert kind_of(line(17), "1") is Name.Label
    assert kind_of(line(18), '"*"') is Name.Label
    assert kind_of(line(19), "timeout") is Name.Label
    assert kind_of(line(17), "->") is Operator
    assert kind_of(line(14), "# ccf: ignore[W206]") is Comment.Special
    # contextual keywords: `record = ...` names a variable, `crm.` the namespace
    assert kind_of(line(20), "record") is Name
    assert kind_of(line(20), "crm") is Name.Builtin
    assert kind_of(line(26), "at") is Keyword.Pseudo
    assert kind_of("hours h:\n  closed 2026-01-01\n", "2026-01-01") in Literal.Date
    assert kind_of("# just a comment\n", "# just a comment") is Comment.Single


def test_every_keyword_of_the_language_lexes_as_a_keyword():
    for word in sorted(words.keywords() - set(TEST_LINE_WORDS)):
        kind = kind_of(f"  x {word} y\n", word)
        assert kind in Keyword or kind in Operator.Word, (word, kind)


def test_call_and_agent_are_keywords_opening_a_tests_line_and_builtins_elsewhere():
    for word in TEST_LINE_WORDS:
        assert kind_of(f"  {word} from \"+1\"\n", word) is Keyword.Pseudo
        assert kind_of(f"  screen_pop {word}\n", word) is Name.Builtin.Pseudo
        assert kind_of(f"  x = f({word}: {word}.id)\n", word) in Name


def test_keywords_spelt_as_names_where_only_a_name_can_stand():
    text = ("sub leave(for, queue):\n  mailbox = for ?? queue ?? \"x\"\n  play closed\n"
            "  crm.create(\"t\", prompt: times, call: call.id)\n  return times > 1\n")
    names = [v for _, kind, v in tokens(text) if kind in Name]
    assert names.count("for") == 2 and names.count("queue") == 2
    assert {"closed", "prompt", "times", "call"} <= set(names)
    assert kind_of(text, "play") in Keyword and kind_of(text, "return") in Keyword
    assert kind_of("  play tts \"hi\"\n", "tts") in Keyword
    assert kind_of("  else:  # the rest\n", "else") in Keyword


def test_every_declaration_word_opens_a_declaration_at_the_first_column():
    for word in sorted(words.declarations()):
        assert kind_of(f"{word} x:\n", word) is Keyword.Declaration, word


def test_pygments_finds_the_lexer_by_the_entry_point():
    assert type(get_lexer_by_name("ccf")) is CcfLexer
    assert type(get_lexer_for_filename("flows/hotline.ccf")) is CcfLexer


def test_pygmentize_highlights_the_hotline_as_html():
    pygmentize = Path(sys.executable).parent / "pygmentize"
    done = subprocess.run([str(pygmentize), "-l", "ccf", "-f", "html",
                           str(ROOT / "examples" / "iws" / "hotline.ccf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    html = done.stdout
    assert ('<span class="kd">step</span><span class="w"> </span>'
            '<span class="nf">main_menu</span>') in html
    assert '<span class="si">${</span>' in html
    assert '<span class="c1"># The IWS customer-service hotline' in html
    assert 'class="err"' not in html


@pytest.mark.parametrize("path", parsed_names.flows(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_name_spelt_like_a_keyword_lexes_as_a_name(path):
    """Every place the parser reads a name (a parameter, a named argument, a record's field,
    a variable) lexes as a name, never as the keyword it is spelt like."""
    text = path.read_text(encoding="utf-8")
    starts = {}
    offset = 0
    lines = text.split("\n")
    for number, line_text in enumerate(lines, start=1):
        starts[number] = offset
        offset += len(line_text) + 1
    kinds = {position: kind for position, kind, _ in tokens(text)}
    wrong = [(n.line, n.text, str(kinds.get(starts[n.line] + n.column - 1)))
             for n in parsed_names.names(path)
             if kinds.get(starts[n.line] + n.column - 1) not in Name]
    assert wrong == []
