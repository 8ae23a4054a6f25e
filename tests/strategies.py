"""hypothesis strategies for valid .ccf syntax trees.

Every tree these produce is one the parser can give back: the format ->
parse round trip in test_properties.py must return it unchanged. So the
strategies follow what the parser does, not just what the dataclasses allow:
string parts are normalised as the parser splits them, `of` is only kept
for `owner` and `last_agent` rules, and names avoid words the grammar reads
as keywords where they stand.

Keywords are contextual in the LALR grammar (lark's contextual lexer only
tries the terminals the parser can accept next), so most keywords are fine
as names most places: `x = play + in` parses. The exclusions below were
found by parsing each keyword in each position (`tests/test_properties.py`
checks them with the round trip): a keyword is excluded only from the first
token of the places where the grammar could take it as a keyword.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

from ccdsl import ast
from ccdsl.compiler.format_expr import format_expr
from ccdsl.compiler.grammar import grammar_text
from ccdsl.compiler.statements import STATEMENTS

# every word the grammar spells out, read from the grammar itself
KEYWORDS = sorted(set(re.findall(r'"([a-z_]+)"', grammar_text())))

# Words that are always an expression's own literal or operator at its start.
LITERAL_WORDS = frozenset({"true", "false", "null", "not"})
# Words that begin a statement: an assignment target or an expression
# statement cannot start with one.
STATEMENT_WORDS = LITERAL_WORDS | frozenset(
    s.keyword for s in STATEMENTS if s.keyword and s.starts_line)
# A line inside a block that follows a nested block is lexed in the state
# after that block, which LALR shares between every block: it accepts the
# union of what may follow any block (statements, `elif`, `else`, and the
# declarations that follow a step). So a name starting such a line (an
# assignment target, a menu option, an arm's pattern) cannot be one of these.
LINE_START_WORDS = STATEMENT_WORDS | frozenset({
    "elif", "else", "const", "flow", "hours", "on", "prompt", "routing", "step", "sub",
    "test", "use", "wrapup"})
# An option's name follows an expression, so it cannot be an operator word,
# a transfer mode, a word that may follow options (`on error`, `when`), or
# `every` (a queue's `messages [..] every 60s`), nor `press` (a queue's key line).
OPTION_NAME_WORDS = frozenset({"in", "and", "or", "if", "else", "on", "when", "attended",
                               "blind", "every", "press"})
# A menu line starting with these is an arm, not an option.
PATTERN_WORDS = frozenset({"else", "true", "false", "null"})

_IDENT = st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS)
any_name = st.one_of(_IDENT, _IDENT, _IDENT, st.sampled_from(KEYWORDS))


def name_except(*excluded: frozenset[str] | set[str]) -> st.SearchStrategy[str]:
    bad = frozenset().union(*excluded)
    return any_name.filter(lambda s: s not in bad)


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def leading_word(e: ast.Expr) -> str | None:
    """The word an expression's printed text starts with, if any."""
    m = _WORD.match(format_expr(e))
    return m.group(0) if m else None


def not_starting_with(strategy, words: frozenset[str]):
    """Expressions whose first token is not one of ``words`` as a name. A
    literal (`true`, `not x`) is the keyword it looks like, so it stays."""
    names = words - LITERAL_WORDS
    return strategy.filter(lambda e: leading_word(e) not in names)


# ---- literals -------------------------------------------------------------------

numbers = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,2})?", fullmatch=True).map(ast.Number)
durations = st.from_regex(r"[0-9]{1,3}(\.[0-9])?(ms|s|m|h|d)", fullmatch=True).map(ast.Duration)
times = st.from_regex(r"[0-2]?[0-9]:[0-5][0-9]", fullmatch=True).map(ast.Time)
dates = st.from_regex(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]", fullmatch=True).map(ast.Date)
bools = st.booleans().map(ast.Bool)
nulls = st.just(ast.Null())

# Characters that need escaping or that the lexer, the comment scanner or
# the interpolation scanner treat specially, plus some plain text.
_TEXT_CHARS = st.sampled_from(list('ab Z9#{}$"\\\n\t\r.:-中é'))
texts = st.text(_TEXT_CHARS, max_size=6)

_RAW_ESCAPE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "$": "\\$"}


def _raw(text: str) -> str:
    return "".join(_RAW_ESCAPE.get(ch, ch) for ch in text)


def _make_str(pieces: list) -> ast.Str:
    # The parser joins neighbouring literal pieces and drops empty ones.
    parts: list = []
    raw = []
    for piece in pieces:
        if isinstance(piece, str):
            raw.append(_raw(piece))
            if not piece:
                continue
            if parts and isinstance(parts[-1], str):
                parts[-1] += piece
            else:
                parts.append(piece)
        else:
            raw.append("${" + format_expr(piece) + "}")
            parts.append(piece)
    return ast.Str("".join(raw), tuple(parts))


plain_strings = texts.map(lambda t: _make_str([t]))

# ---- expressions ------------------------------------------------------------------

_BINARY_OPS = ["??", "or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/",
               "%"]
expr_names = name_except(LITERAL_WORDS).map(ast.Name)
field_names = any_name  # after `.` only a name can follow, so any word is one
_atoms = st.one_of(expr_names, expr_names, numbers, durations, times, dates, bools, nulls)


def _compound(children):
    return st.one_of(
        st.builds(ast.Binary, st.sampled_from(_BINARY_OPS), children, children),
        st.builds(ast.Unary, st.sampled_from(["-", "not"]), children),
        st.builds(ast.Cond, children, children, children),
        st.builds(ast.Field, children, field_names),
        st.builds(ast.Index, children, children),
        st.builds(ast.Call, children, st.lists(
            st.builds(ast.Arg, st.none() | name_except(LITERAL_WORDS), children),
            max_size=2).map(tuple)),
        st.lists(children, max_size=3).map(lambda xs: ast.ListLit(tuple(xs))),
    )


# Inside `${...}` no string literal (its quote would end the string) and no
# map literal (its `}` would end the interpolation).
interp_exprs = st.recursive(_atoms, _compound, max_leaves=4)


def _string_pieces():
    return st.lists(st.one_of(texts, interp_exprs), max_size=4)


strings = st.one_of(plain_strings, _string_pieces().map(_make_str))


def _map_lits(children):
    entry = st.one_of(
        st.builds(ast.MapEntry, any_name, st.just(False), children),
        st.builds(ast.MapEntry, texts, st.just(True), children))
    return st.lists(entry, max_size=3).map(lambda es: ast.MapLit(tuple(es)))


_exprs = st.recursive(
    st.one_of(_atoms, strings),
    lambda children: st.one_of(_compound(children), _map_lits(children)),
    max_leaves=5)
exprs = st.deferred(lambda: _exprs)

# ---- options ----------------------------------------------------------------------

_OPTION_VALUE_WORDS = frozenset({"tts", "file", "every"})
option_values = st.one_of(
    not_starting_with(exprs, _OPTION_VALUE_WORDS),
    not_starting_with(exprs, _OPTION_VALUE_WORDS),
    st.builds(ast.RangeValue, not_starting_with(exprs, _OPTION_VALUE_WORDS), exprs),
    st.builds(ast.EveryValue, exprs),
    st.builds(ast.SourceValue, st.sampled_from(["tts", "file"]), exprs),
)
option_names = name_except(OPTION_NAME_WORDS)
options = st.lists(st.builds(ast.Option, option_names, option_values),
                   max_size=3).map(tuple)
menu_item_options = st.builds(
    ast.Option, name_except(OPTION_NAME_WORDS, PATTERN_WORDS, LINE_START_WORDS), option_values)

# ---- statements ------------------------------------------------------------------

_stmt_exprs = not_starting_with(exprs, LINE_START_WORDS)
# a keyword followed by `=` is read as a name, except the values true, false, null
_targets = name_except({"true", "false", "null"})


def _simple(on_error):
    return st.one_of(
        st.just(ast.Answer()),
        st.just(ast.Hangup()),
        st.builds(ast.Goto, any_name),
        st.builds(ast.Return, st.none() | exprs),
        st.builds(ast.Play, st.none(), not_starting_with(exprs, frozenset({"tts", "file"})),
                  options),
        st.builds(ast.Play, st.sampled_from(["tts", "file"]), exprs, options),
        st.builds(ast.Say, any_name, exprs, options),
        st.builds(ast.Assign, _targets, not_starting_with(exprs, frozenset({"collect"})),
                  on_error),
        st.builds(ast.Collect, _targets, options, on_error),
        st.builds(ast.ExprStmt, _stmt_exprs, on_error),
        # `queue X` / `route X` take an expression, which `not` begins: no queue or
        # rule is called `not` (E102)
        st.builds(ast.Route, name_except({"not"}), options, on_error),
        st.builds(ast.Enqueue, name_except({"not"}), options, on_error),
        st.builds(ast.Transfer, any_name, exprs, st.sampled_from([None, "attended", "blind"]),
                  options, on_error),
        st.builds(ast.ThreeWay, any_name, exprs, options, on_error),
        st.builds(ast.RecordCall, options),
        st.just(ast.StopRecording()),
        st.just(ast.PauseRecording()),
        st.just(ast.ResumeRecording()),
        st.builds(ast.Voicemail, exprs, options, on_error),
        st.builds(ast.Wait, exprs, options),
        st.lists(exprs, min_size=1, max_size=3).map(lambda xs: ast.ScreenPop(tuple(xs))),
        st.builds(ast.SetLanguage, exprs),
        st.builds(ast.Log, exprs),
    )


# `x = f() on error -> y = g() on error -> hangup` is allowed; one level is enough.
simple_stmts = _simple(st.none() | st.builds(ast.OnError, _simple(st.none())))

patterns = st.one_of(
    name_except(PATTERN_WORDS, LINE_START_WORDS).map(ast.Name),
    st.from_regex(r"-?[0-9]{1,2}", fullmatch=True).map(ast.Number),
    plain_strings, bools, nulls, st.just(ast.ElsePattern()))


def _bodies(stmts):
    return st.lists(stmts, min_size=1, max_size=3).map(tuple)


def _block_stmts(stmts):
    arms = st.builds(ast.Arm, st.lists(patterns, min_size=1, max_size=2).map(tuple),
                     _bodies(stmts))
    branch = st.tuples(exprs, _bodies(stmts))
    return st.one_of(
        st.builds(ast.If, st.lists(branch, min_size=1, max_size=2).map(tuple),
                  st.none() | _bodies(stmts)),
        st.builds(ast.Match, exprs, st.lists(arms, min_size=1, max_size=3).map(tuple)),
        st.builds(ast.Menu, options,
                  st.lists(st.one_of(arms, menu_item_options), min_size=1, max_size=4).map(tuple)),
    )


stmts = st.recursive(simple_stmts, lambda inner: st.one_of(inner, _block_stmts(inner)),
                     max_leaves=4)
bodies = _bodies(stmts)

# ---- declarations ------------------------------------------------------------------

langs = st.lists(any_name, min_size=1, max_size=2).map(lambda parts: ast.Lang("-".join(parts)))
time_ranges = st.builds(ast.TimeRange, times, times)
date_ranges = st.builds(ast.DateRange, dates, st.none() | dates)
hours_lines = st.one_of(
    st.builds(ast.HoursWeekly,
              st.lists(st.builds(ast.DayRange, name_except({"closed", "open"}),
                                 st.none() | any_name), min_size=1, max_size=2).map(tuple),
              st.lists(time_ranges, min_size=1, max_size=2).map(tuple)),
    st.builds(ast.HoursClosed, date_ranges, st.none() | plain_strings),
    st.builds(ast.HoursOpen, date_ranges,
              st.lists(time_ranges, min_size=1, max_size=2).map(tuple),
              st.none() | plain_strings),
)
_params = st.lists(any_name, max_size=3).map(tuple)
field_decls = st.lists(st.builds(ast.FieldDecl, any_name,
                                 st.builds(ast.TypeRef, any_name, st.booleans())),
                       min_size=1, max_size=3).map(tuple)


rules = st.one_of(
    st.builds(ast.Rule, st.sampled_from(["owner", "last_agent"]), exprs, options,
              st.none() | exprs),
    st.builds(ast.Rule, name_except({"otherwise"}), not_starting_with(exprs, frozenset({"of"})),
              options, st.none() | exprs),
    st.builds(ast.Otherwise, simple_stmts),
)

_expect_values = st.none() | exprs
test_stmts = st.one_of(
    st.builds(ast.TestAt, plain_strings),
    # `crm fails|times|slow` is a fault line (a record type cannot be so called, E102)
    st.builds(ast.TestCrm, name_except({"fails", "times", "slow"}), exprs),
    st.builds(ast.TestAgent, any_name, options),
    st.builds(ast.TestCall, options),
    st.builds(ast.TestPress, exprs, options),
    st.builds(ast.TestSilence, exprs),
    st.builds(ast.TestSpeak, exprs),
    st.builds(ast.TestHangup, options),
    st.builds(ast.TestExpect, st.booleans(), name_except({"not"}), st.none(),
              st.none() | not_starting_with(exprs, frozenset({"by", "for", "to"}))),
    st.builds(ast.TestExpect, st.booleans(), name_except({"not"}),
              st.sampled_from(["by", "for", "to"]), _expect_values),
)

items = st.one_of(
    st.builds(ast.FlowDecl, any_name, st.none() | strings, st.none() | strings,
              st.lists(langs, max_size=2).map(tuple)),
    st.builds(ast.Use, st.lists(any_name, min_size=1, max_size=3).map(tuple),
              st.none() | any_name),
    st.builds(ast.Const, any_name, exprs),
    st.builds(ast.Hours, any_name, st.none() | plain_strings,
              st.lists(hours_lines, min_size=1, max_size=3).map(tuple)),
    st.builds(ast.Prompt, any_name, st.none() | _params,
              st.lists(st.builds(ast.PromptVariant, langs, st.sampled_from(["tts", "file"]),
                                 strings), min_size=1, max_size=2).map(tuple)),
    st.builds(ast.QueueDecl, any_name, options),
    st.builds(ast.Routing, any_name, st.lists(rules, min_size=1, max_size=3).map(tuple)),
    st.builds(ast.RecordDecl, any_name, field_decls),
    st.builds(ast.Wrapup, field_decls),
    st.builds(ast.Step, any_name, bodies),
    st.builds(ast.Handler, st.lists(any_name, min_size=1, max_size=3).map(tuple), bodies),
    st.builds(ast.Sub, any_name, _params, bodies),
    st.builds(ast.Test, plain_strings, st.lists(test_stmts, min_size=1, max_size=3).map(tuple)),
)

MODULE_PATH = "generated.ccf"
_modules = st.lists(items, min_size=1, max_size=3).map(
    lambda xs: ast.Module(MODULE_PATH, tuple(xs)))
# deferred, so hypothesis does not build the (huge) repr of the nested strategy
modules = st.deferred(lambda: _modules)
