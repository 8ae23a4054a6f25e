"""lark's LALR(1) loop over lark's own tables and callbacks, without its per-token calls.

Must build exactly the tree lark's parser builds; on anything else (a syntax error, a
table this loop does not read) it raises, and grammar.parse_tree parses the text again
through lark's path, whose errors the diagnostics quote.
"""

from __future__ import annotations

from lark.parsers.lalr_analysis import Shift


class Unsupported(Exception):
    """A parse this loop does not finish exactly as lark would: lark's path decides."""


# a reduction of one symbol whose callback returns that symbol's value as it is (a
# `?rule` with one child, as tree_builder marks it): the loop only moves the state
_PASS = object()


class _Actions(dict):
    """Each LALR state's actions, resolved the first time the parser is in it: a shift
    as (None, next state), a reduce as (its callback or _PASS, its length, its rule's
    name), so the loop never hashes lark's Rule objects (a Python __hash__ each) per
    token, and most of an expression's climb through the precedence rules costs no
    call."""

    def __init__(self, states: dict, callbacks: dict) -> None:
        super().__init__()
        self._states, self._callbacks = states, callbacks
        self.passes: dict[tuple, int] = {}  # parse()'s runs of _PASS, by _passed's key

    def __missing__(self, state) -> dict:
        resolved = {}
        for kind, (action, arg) in self._states[state].items():
            if action is Shift:
                resolved[kind] = (None, arg, None)
            else:
                callback, size = self._callbacks[arg], len(arg.expansion)
                if size == 1 and getattr(callback, "passes_only_child", False):
                    callback = _PASS
                resolved[kind] = (callback, size, arg.origin.name)
        self[state] = resolved
        return resolved


def _passed(table: _Actions, key: tuple) -> int:
    """Where a run of one-child `?rule` reductions (_PASS) ends for key, (the state
    under the top, the top, the next token's type): each replaces only the top
    state, by the goto of the state under it, until an action that is not one.
    An expression's atom climbs the ten precedence rules this way."""
    under, top, kind = key
    callback, _arg, name = table[top][kind]
    while callback is _PASS:
        top = table[under][name][1]
        callback, _arg, name = table[top][kind]
    return top


class _Position:
    """What the contextual lexer reads of the parser: its state stack, grown and cut
    by the loop below."""

    __slots__ = ("state_stack",)

    def __init__(self, stack: list) -> None:
        self.state_stack = stack


def actions(parser) -> _Actions:
    """The resolved tables of lark's LALR _Parser, for parse()."""
    if any(isinstance(key, str) for key in parser.callbacks):
        raise Unsupported("terminal callbacks")  # a shift would have to call them
    return _Actions(parser.parse_table.states, parser.callbacks)


def parse(parser, table: _Actions, tokens, start: str):
    """What lark's parser.parse(lexer, start) returns, for tokens(position) the tokens
    and then lark's $END token (fast_lexer.tokens gives it when asked)."""
    stack = [parser.parse_table.start_states[start]]
    end_state = parser.parse_table.end_states[start]
    values: list = []
    push_state, push_value = stack.append, values.append
    passes = table.passes
    try:
        for token in tokens(_Position(stack)):
            kind = token.type
            at_end = kind == "$END"
            while True:
                callback, arg, name = table[stack[-1]][kind]
                if callback is None:
                    if at_end:
                        raise Unsupported("a shift of the end")
                    push_state(arg)
                    push_value(token)
                    break
                if callback is _PASS:
                    if at_end:  # the end state may be met inside a run: one step at a time
                        del stack[-1]
                    else:
                        key = (stack[-2], stack[-1], kind)
                        top = passes.get(key)
                        if top is None:
                            top = passes[key] = _passed(table, key)
                        stack[-1] = top
                        continue
                else:
                    if arg:
                        children = values[-arg:]
                        del stack[-arg:]
                        del values[-arg:]
                    else:
                        children = []
                    push_value(callback(children))
                push_state(table[stack[-1]][name][1])
                if at_end and stack[-1] == end_state:
                    return values[-1]
    except KeyError as error:
        raise Unsupported("a syntax error: lark's path reports it") from error
    raise Unsupported("the tokens ended before the end")
