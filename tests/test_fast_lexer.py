"""The fused lexer (compiler/fast_lexer.py) gives lark's own token stream, every field of
every token, INDENT, DEDENT and _NL included, on every flow of the project, on flows
and expressions written at random, and on hostile texts; whatever it cannot lex exactly
it refuses, and then grammar.parse_tree gives lark's own tree or lark's own error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import strategies as gen
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lark import Token
from lark.lexer import LexerThread, _create_unless

from ccdsl.compiler import fast_lexer, grammar
from ccdsl.compiler.format_expr import format_expr
from ccdsl.compiler.formatter import format_module

ROOT = Path(__file__).resolve().parent.parent
FLOWS = sorted(p for folder in ("examples", "stdlib_flows", "tests")
               for p in (ROOT / folder).rglob("*.ccf"))
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
FIELDS = ("type", "value", "start_pos", "line", "column", "end_line", "end_column", "end_pos")


def _record(tokens, out: list):
    for tok in tokens:
        # repr shows a value that is itself a token (lark's NFC hook makes those)
        out.append((repr(tok), repr(tok.value)) + tuple(getattr(tok, f) for f in FIELDS))
        yield tok


class _Spy:
    """A lexer thread for lark's LALR parser that records what the lexer gives it."""

    _Token = Token  # what lark's error reporting asks a lexer thread for

    def __init__(self, lex) -> None:
        self._lex, self.tokens = lex, []

    def lex(self, parser_state):
        return _record(self._lex(parser_state), self.tokens)


def _parse(spy: _Spy, start: str):
    try:
        grammar.lark_parser().parser.parser.parser.parse(spy, start)
    except Exception as exc:
        return spy.tokens, f"{type(exc).__name__}: {exc}"
    return spy.tokens, None


def larks_stream(text: str, start: str):
    """The tokens lark's path feeds the parser (contextual lexer, keyword hook,
    indenter), and its error if any."""
    parser = grammar.lark_parser()
    thread = LexerThread.from_text(parser.parser.lexer, text)
    token = grammar._TEXT.set(text)  # the keyword-as-name hook reads the text
    try:
        return _parse(_Spy(thread.lex), start)
    finally:
        grammar._TEXT.reset(token)


def fast_stream(text: str, start: str):
    parser = grammar.lark_parser()
    assert grammar._fast_tables() is not None, "the fused lexer refuses this grammar"
    states = grammar._fast_tables()[0]
    postlex = parser.parser.lexer.postlexer
    return _parse(_Spy(lambda ps: fast_lexer.tokens(text, states, grammar._keyword_terminals(),
                                                    postlex, ps)), start)


def assert_same_or_refused(text: str, start: str) -> bool:
    """The fused lexer's stream is lark's, or both fail: True when it lexed it all."""
    ours, our_error = fast_stream(text, start)
    theirs, their_error = larks_stream(text, start)
    if our_error is None:
        assert their_error is None, f"lark fails where the fused lexer does not: {their_error}"
        assert ours == theirs
        # and the LALR loop (compiler/lalr_loop.py) over those tokens builds lark's tree,
        # with no fallback to lark's path
        assert repr(_fast_tree(text, start)) == repr(_larks_tree(text, start))
        return True
    # a syntax error, refused where lark fails too: up to there, it gave lark's tokens
    assert their_error is not None, f"the fused lexer refuses what lark parses: {our_error}"
    assert ours == theirs[:len(ours)]
    return False


def _fast_tree(text: str, start: str):
    return fast_lexer.parse(grammar.lark_parser(), *grammar._fast_tables(),
                            grammar._keyword_terminals(), text, start)


def _tree_or_error(parse, text: str, start: str):
    try:
        return repr(parse(text, start))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def _larks_tree(text: str, start: str):
    token = grammar._TEXT.set(text)
    try:
        return grammar.lark_parser().parse(text, start=start)
    finally:
        grammar._TEXT.reset(token)


def assert_parse_tree_is_larks(text: str, start: str) -> None:
    """What compiling sees: the same tree as lark's path, or the same error."""
    assert (_tree_or_error(grammar.parse_tree, text, start)
            == _tree_or_error(_larks_tree, text, start))


def test_the_project_flows_are_found():
    assert len(FLOWS) > 100


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_flow_lexes_to_larks_tokens(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    assert_same_or_refused(text, "start")
    for inner in set(re.findall(r"\$\{([^}]*)\}", text)):  # interpolations parse alone
        assert_same_or_refused(inner, "expr")
        assert_parse_tree_is_larks(inner, "expr")


@settings(max_examples=150, deadline=None)
@given(gen.modules)
def test_random_flows_lex_to_larks_tokens(module):
    text = format_module(module)
    assert assert_same_or_refused(text, "start")


@settings(max_examples=150, deadline=None)
@given(gen.exprs)
def test_random_expressions_lex_to_larks_tokens(expr):
    assert assert_same_or_refused(format_expr(expr), "expr")


HOSTILE = [
    "",
    "\n\n   \n",
    "flow a\n\tstep x:\n",                                   # a tab, then spaces
    "step x:\n        if a:\n\t    answer\n        hangup\n",   # a tab is 8 columns
    "step x:\n  play \"unterminated\n",
    "step x:\n  play welcome $\n",                            # a stray character
    "stepfoo:\n  answer\n",                                   # a keyword glued to a name
    "step x:\n  if a:\n    b = 1\n  test = 2\n",              # a keyword as a name
    "step x:\n  voicemail.leave()\n  queue.size(x) \\\n  + 1\n",
    "step café:\n  goto cafe\u0301\n",                        # names NFC-normalised
    "step x:\n    answer\n  hangup\n",                        # dedent to no level
    "step x:\n  f(a,\n b\n  )\n  g(a))\n",                   # brackets across lines, unbalanced
    "step x:\n  answer # a comment at the end",
    "# only a comment",
    "step x:\r\n  answer\r\n",
    "step x:\n  a = 2024-01-02 + 9:30 + 10ms + 1.5 + \"s\\\"\"\n",
    "\u200bstep x:\n  answer\n",
    "step x:\n  answer\n\f\n",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_texts_lex_as_lark_or_fall_back(text):
    assert_same_or_refused(text, "start")
    assert_parse_tree_is_larks(text, "start")


_HOSTILE_CHARS = st.sampled_from(list("stepanwrgoq_ :=.,()[]{}\"\\#-+?$\t\n\r\f 0123456789")
                                 + ["é", "e\u0301", "\u00a0", "ß", "中", "\u0301"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_HOSTILE_CHARS, max_size=60).map("".join))
@example("step x:\n  answer\n")
def test_random_characters_lex_as_lark_or_fall_back(text):
    assert_same_or_refused(text, "start")
    assert_parse_tree_is_larks(text, "start")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(FLOWS[:40]), st.integers(min_value=0), _HOSTILE_CHARS)
def test_flows_with_a_character_inserted_lex_as_lark_or_fall_back(path, where, char):
    text = path.read_text(encoding="utf-8", errors="replace")
    where %= len(text) + 1
    text = text[:where] + char + text[where:]
    assert_same_or_refused(text, "start")
    assert_parse_tree_is_larks(text, "start")


def test_parse_tree_takes_the_fused_lexer():
    # a guard that the comparisons above compare the path compiling takes
    assert grammar._fast_tables() is not None
    text = "step x:\n  answer\n"
    assert _fast_tree(text, "start") == _larks_tree(text, "start")


def test_each_state_drops_and_reads_keywords_as_larks_create_unless():
    contextual = grammar.lark_parser().parser.lexer.lexer
    for lexer in {id(lx): lx for lx in contextual.lexers.values()}.values():
        theirs, scanners = _create_unless(lexer.terminals, lexer.g_regex_flags, re, False)
        ours, words = fast_lexer.unless(lexer.terminals, lexer.g_regex_flags)
        assert [t.name for t in ours] == [t.name for t in theirs]
        assert words == {name: {t.pattern.value: t.name for t in cb.scanner.terminals}
                         for name, cb in scanners.items()}
