"""lark's parse-tree builder for LALR, fused into one call per rule: the same trees and spans.

lark builds each node through a chain of wrappers (child filter, single-child
expansion, position propagation), three Python calls and a dozen getattr per
reduction; a 2,000-step flow makes about 300,000 reductions. Here each rule gets
one closure doing the same work. Must build exactly lark's tree: its shape and
every meta field (tests/test_tree_builder.py compares the two), with lark's positions
filtered by placed() below, which grammar.py gives lark as its propagate_positions.
"""

from __future__ import annotations

from functools import partial
from operator import itemgetter

from lark import Lark, Token, Tree
from lark.parse_tree_builder import (
    ChildFilterLALR,
    ChildFilterLALR_NoPlaceholders,
    ExpandSingleChild,
    PropagatePositions,
)
from lark.tree import Meta

_new_meta = Meta.__new__
_UNSET = object()
_new_tree = Tree.__new__

# the tokens that are no text of the node they end: a line's end (with the blank and comment
# lines after it and the next line's indentation, all one _NL) and the indenter's marks,
# which stand where that _NL does. Positions come from the other children, so every node
# ends where its last token of code does, never at column 1 of whatever follows it.
LAYOUT = frozenset({"_NL", "_INDENT", "_DEDENT"})


class _Placed:
    """Whether a child gives its node a place: lark's propagate_positions filter. An
    object, not a function: lark keys its cached tables by the text of its options, and a
    function's text holds its address, another in every process (the tables would be
    built again at each start); this one's text is the same in every process."""

    __slots__ = ()

    def __call__(self, child) -> bool:
        return not (isinstance(child, Token) and child.type in LAYOUT)

    def __repr__(self) -> str:
        return "placed: not " + ",".join(sorted(LAYOUT))


placed = _Placed()


def _bounds(children) -> tuple | None:
    """lark's PropagatePositions._pp_get_meta for both ends in one call: (line, column,
    start, end line, end column, end) from the first and the last child that has a
    place (a tree's container, a token's own but a LAYOUT one's), or None when none has."""
    for first in children:
        if isinstance(first, Token):
            if first.type not in LAYOUT:
                line, column, start = first.line, first.column, first.start_pos
                break
        elif isinstance(first, Tree):
            m = first._meta
            if m is not None and not m.empty:
                line, column, start = m.container_line, m.container_column, m.container_start_pos
                break
    else:
        return None
    for last in reversed(children):  # it meets the first one at the latest
        if isinstance(last, Token):
            if last.type not in LAYOUT:
                return line, column, start, last.end_line, last.end_column, last.end_pos
        elif isinstance(last, Tree):
            m = last._meta
            if m is not None and not m.empty:
                return (line, column, start, m.container_end_line, m.container_end_column,
                        m.container_end_pos)
    return None  # not reached: the first child with a place is a last one too


def _fresh_meta(children: list) -> Meta | None:
    """The meta PropagatePositions gives a node this reduction makes, every field at
    once; None when no child has a place."""
    # most nodes begin and end with a token or a placed tree: read those here, and
    # leave a placeholder or an empty node at either end to _bounds
    if not children:
        return None
    first, last = children[0], children[-1]
    if type(last) is Token and last.type in LAYOUT and len(children) > 1:
        last = children[-2]  # a line's end: the node ends with what the line holds
    if type(first) is Token and first.type not in LAYOUT:
        line, column, start = first.line, first.column, first.start_pos
    elif type(first) is Tree and (m := first._meta) is not None and not m.empty:
        line, column, start = m.container_line, m.container_column, m.container_start_pos
    else:
        first = None
    if first is not None and type(last) is Token and last.type not in LAYOUT:
        end_line, end_column, end = last.end_line, last.end_column, last.end_pos
    elif first is not None and type(last) is Tree and (m := last._meta) is not None \
            and not m.empty:
        end_line, end_column, end = (m.container_end_line, m.container_end_column,
                                     m.container_end_pos)
    else:
        bounds = _bounds(children)
        if bounds is None:
            return None
        line, column, start, end_line, end_column, end = bounds
    meta = _new_meta(Meta)
    meta.empty = False
    meta.line = meta.container_line = line
    meta.column = meta.container_column = column
    meta.start_pos = meta.container_start_pos = start
    meta.end_line = meta.container_end_line = end_line
    meta.end_column = meta.container_end_column = end_column
    meta.end_pos = meta.container_end_pos = end
    return meta


def _grow(res: Tree, children: list) -> None:
    """Set the meta of res, a node passed up by a `?rule` (or an inlined one), as
    PropagatePositions does from the unfiltered children: its own place stays, only
    its container grows to the tokens the rule dropped around it."""
    bounds = _bounds(children)
    if bounds is None:
        return
    line, column, start, end_line, end_column, end = bounds
    meta = res._meta
    # whether each field is set, read without making the meta's __dict__ (Meta has no
    # class attributes, so a default means the instance lacks it)
    if getattr(meta, "line", _UNSET) is _UNSET:
        meta.line, meta.column, meta.start_pos, meta.empty = line, column, start, False
    if getattr(meta, "end_line", _UNSET) is _UNSET:
        meta.end_line, meta.end_column, meta.end_pos, meta.empty = (end_line, end_column,
                                                                     end, False)
    meta.container_line, meta.container_column, meta.container_start_pos = line, column, start
    meta.container_end_line, meta.container_end_column, meta.container_end_pos = (
        end_line, end_column, end)


def _callback(name: str, expand1: bool, include, append_none: int):
    """One rule's reduction: include is lark's child filter as (index, inline its
    children, Nones before it) triples, or None to keep the children as they are."""
    if include is None:
        def build(children):
            if expand1 and len(children) == 1:
                return children[0]  # lark's propagation would leave it as it is
            res = _new_tree(Tree)  # Tree(name, children) without its __init__'s call
            res.data, res.children, res._meta = name, children, _fresh_meta(children)
            return res
        # lalr_loop skips the call where it would hand back a rule's only child
        build.passes_only_child = expand1
        return build

    if not append_none and include and not any(e or n for _i, e, n in include):
        return _picking(name, expand1, [i for i, _e, _n in include])
    if not expand1 and not append_none and include[:1] == [(0, True, 0)] \
            and not any(add_none for _i, _e, add_none in include):
        return _growing(name, include[1:], build_filtered_by(name, expand1, include,
                                                             append_none))
    return build_filtered_by(name, expand1, include, append_none)


def _picking(name: str, expand1: bool, picked: list[int]):
    """build_filtered for a rule that only keeps some of its children as they are (no
    inlined node, no placeholder): the same node, without the walk of the filter."""
    if expand1:
        if len(picked) > 1:  # a `?rule` keeping several: build_filtered's general way
            return build_filtered_by(name, expand1, [(i, False, 0) for i in picked], 0)
        (only,) = picked

        def build_passed(children):
            res = children[only]
            if not isinstance(res, Tree):
                return res
            if res._meta is None:
                res._meta = Meta()
            _grow(res, children)
            return res
        return build_passed
    if len(picked) == 1:
        (only,) = picked

        def build_one(children):
            res = _new_tree(Tree)
            res.data, res.children, res._meta = name, [children[only]], _fresh_meta(children)
            return res
        return build_one
    pick = itemgetter(*picked)

    def build_picked(children):
        res = _new_tree(Tree)
        res.data, res.children, res._meta = name, list(pick(children)), _fresh_meta(children)
        return res
    return build_picked


def _growing(name: str, rest: list, build_filtered):
    """A rule whose first child is an inlined node it takes the list of (lark's
    left-recursion shortcut: `__items: __items item`): that node, no longer held by
    anything but this reduction, becomes the new one in place. Its list grows by the
    other children, its meta's end moves to the last child's; the start stays, as the
    first child's container start is the one it already has. When either end is not
    where _fresh_meta would look (no meta, a last child with no place), lark's way.
    lark's InteractiveParser.accepts() copies the value stack shallowly, so a reduction
    it tries grows the node of the stack it copied: that runs only after a syntax
    error, whose tree nobody reads."""
    if any(to_expand for _i, to_expand, _n in rest):
        return build_filtered
    kept = [i for i, _e, _n in rest]

    def build_grown(children):
        head = children[0]
        meta = head._meta
        last = children[-1]
        if type(head) is not Tree or meta is None or meta.empty:
            return build_filtered(children)
        if type(last) is Token and last.type not in LAYOUT:
            end_line, end_column, end = last.end_line, last.end_column, last.end_pos
        elif type(last) is Tree and (m := last._meta) is not None and not m.empty:
            end_line, end_column, end = (m.container_end_line, m.container_end_column,
                                         m.container_end_pos)
        else:
            return build_filtered(children)
        items = head.children
        for i in kept:
            items.append(children[i])
        head.data = name
        meta.end_line = meta.container_end_line = end_line
        meta.end_column = meta.container_end_column = end_column
        meta.end_pos = meta.container_end_pos = end
        return head
    return build_grown


def build_filtered_by(name: str, expand1: bool, include, append_none: int):
    """lark's child filter, then the node (or the one child a `?rule` passes up)."""
    def build_filtered(children):
        filtered: list = []
        for i, to_expand, add_none in include:
            if add_none:
                filtered += [None] * add_none
            if to_expand:
                if filtered:
                    filtered += children[i].children
                else:  # lark's left-recursion shortcut: the inlined node's own list
                    filtered = children[i].children
            else:
                filtered.append(children[i])
        if append_none:
            filtered += [None] * append_none
        if expand1 and len(filtered) == 1:
            res = filtered[0]
            if not isinstance(res, Tree):
                return res
            if res._meta is None:
                res._meta = Meta()
            _grow(res, children)
            return res
        res = _new_tree(Tree)
        res.data, res.children, res._meta = name, filtered, _fresh_meta(children)
        return res
    return build_filtered


def _spec(chain: list) -> tuple[bool, list | None, int] | None:
    """(expand single child, child filter, Nones at the end) from lark's wrapper
    chain; None for a chain this module does not know (then lark's stays)."""
    expand1, include, append_none = False, None, 0
    propagates = False
    for wrapper in chain:
        if wrapper is ExpandSingleChild:
            expand1 = True
        elif isinstance(wrapper, partial) and wrapper.func is PropagatePositions \
                and not wrapper.args and wrapper.keywords == {"node_filter": placed}:
            propagates = True
        elif isinstance(wrapper, partial) and wrapper.func is ChildFilterLALR:
            include, append_none = list(wrapper.args[0]), wrapper.args[1]
        elif isinstance(wrapper, partial) and wrapper.func is ChildFilterLALR_NoPlaceholders:
            include = [(i, to_expand, 0) for i, to_expand in wrapper.args[0]]
        else:
            return None
    if not propagates:  # lark's positions unfiltered, or none: lark's chain stays
        return None
    return expand1, include, append_none


def install(parser: Lark) -> None:
    """Replace the LALR parser's tree callbacks with fused ones, rule by rule."""
    builder = parser._parse_tree_builder
    lalr = parser.parser.parser.parser
    callbacks = dict(lalr.callbacks)
    for rule, chain in builder.rule_builders:
        spec = _spec(chain)
        if spec is None or rule not in callbacks:
            continue
        name = rule.alias or rule.options.template_source or rule.origin.name
        callbacks[rule] = _callback(name, *spec)
    # Keyed by the very rule objects of the parse table: tables loaded from lark's
    # cache hold equal copies, and every reduction's lookup would otherwise end in
    # Rule.__eq__ (a Python call) instead of an identity check.
    for actions in lalr.parse_table.states.values():
        for _action, arg in actions.values():
            if arg in callbacks:
                callbacks[arg] = callbacks.pop(arg)
    lalr.callbacks = callbacks
