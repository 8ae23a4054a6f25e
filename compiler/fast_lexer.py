"""lark's contextual lexer, the keyword-as-name hook and the indenter fused into one loop.

Must yield exactly the tokens lark's path would (every field); on anything it cannot
reproduce it raises, and grammar.parse_tree parses the text again through lark's path.
"""

from __future__ import annotations

import re
import unicodedata

from lark import Lark, Token
from lark.lexer import BasicLexer, ContextualLexer, PatternRE, PatternStr

from ccdsl.compiler import lalr_loop

# The whitespace every state ignores: matched as a prefix of each state's regex, so a
# run of spaces costs no token. No other terminal of grammar.lark starts with a space,
# tab or form feed, so skipping the run first cannot change which terminal wins.
_SPACES = "[\t \f]+"  # as lark stores it: a real tab and form feed
_new_str = str.__new__


class Unsupported(Exception):
    """The grammar or lark build uses something this lexer does not reproduce."""


def _state_table(lexer: BasicLexer) -> tuple:
    """(regex, keyword of each word per terminal, newline terminals, ignored terminals)
    of one state's lexer: lark's scanner of that state (its terminals in its order,
    the keywords a name may be, as lark's BasicLexer._build_scanner makes them) in
    one regex, compiled once (lark's own is compiled only if lark's path runs)."""
    if lexer.user_callbacks or lexer.use_bytes or lexer.re is not re:
        raise Unsupported("a lark lexer option this loop does not follow")
    terminals, callbacks = unless(lexer.terminals, lexer.g_regex_flags)
    if not any(lexer.terminals_by_name[n].pattern.value == _SPACES for n in lexer.ignore_types):
        raise Unsupported("no whitespace terminal ignored")
    # Python's re has no limit on groups (lark splits its regex only where one has),
    # and the first alternative that matches wins, as in lark's scanner
    pattern = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)
    regex = re.compile(f"[\\t \\f]*(?:{pattern})", lexer.g_regex_flags)
    return regex, callbacks, lexer.newline_types, lexer.ignore_types


def unless(terminals: list, flags: int) -> tuple[list, dict[str, dict[str, str]]]:
    """lark's lexer._create_unless without the keyword scanners it compiles (a regex
    each, a third of a first parse's lexer set-up): the terminals in lark's order, less
    the keywords a regex terminal takes in, and for each such regex terminal the
    keywords it may be, by their text."""
    strings = [t for t in terminals if type(t.pattern) is PatternStr]
    if any(type(t.pattern) not in (PatternStr, PatternRE) for t in terminals):
        raise Unsupported("a terminal neither a string nor a regex")
    embedded = set()
    callbacks: dict[str, dict[str, str]] = {}
    for retok in terminals:
        if type(retok.pattern) is not PatternRE:
            continue
        words = {}
        for strtok in strings:
            if strtok.priority != retok.priority:
                continue
            text = strtok.pattern.value
            match = re.match(retok.pattern.to_regexp(), text, flags)
            if match and match.group(0) == text:
                if strtok.pattern.flags:
                    raise Unsupported(f"keyword {strtok.name}")
                words[text] = strtok.name
                embedded.add(strtok)  # its flags are none: a subset of any regex's
        if words:
            callbacks[retok.name] = words
    return [t for t in terminals if t not in embedded], callbacks


class _States(dict):
    """Each LALR state's table for the loop below, built the first time the parser
    is in that state (a small flow visits a few of the 300-odd)."""

    def __init__(self, contextual: ContextualLexer) -> None:
        super().__init__()
        self._lexers = contextual.lexers
        self._by_lexer: dict[int, tuple] = {}
        self.keywords: frozenset | None = None
        self.special: frozenset = frozenset()

    def read_by(self, keywords: frozenset, indenter) -> None:
        """Which terminals tokens() treats apart, given its keywords and indenter: a
        state's other terminals are plain (see _plain). Tables made for others go."""
        if keywords is self.keywords:
            return
        self.clear()
        self._by_lexer.clear()
        self.keywords = keywords
        self.special = keywords | {"NAME", indenter.NL_type, *indenter.OPEN_PAREN_types,
                                   *indenter.CLOSE_PAREN_types}

    def __missing__(self, state) -> tuple:
        lexer = self._lexers[state]
        if type(lexer) is not BasicLexer:
            raise Unsupported("not lark's basic lexer")
        table = self._by_lexer.get(id(lexer))
        if table is None:
            table = _state_table(lexer)
            # and a name's keywords: a NAME not among them, all ASCII, is plain too
            table = self._by_lexer[id(lexer)] = (*table, _plain(table, self.special),
                                                 table[1].get("NAME", {}))
        self[state] = table
        return table


def _plain(table: tuple, special: frozenset) -> frozenset:
    """The terminals of a state that tokens() only turns into a token: none may hold a
    line break, be ignored, become a keyword or a name, be one of the keywords, the
    indenter's line end or a bracket."""
    regex, callbacks, newline_types, ignore_types = table
    return frozenset(regex.groupindex) - newline_types - ignore_types - callbacks.keys() \
        - special


def tables(parser: Lark) -> dict:
    """The per-state tables of tokens() for parser, each built on first use."""
    contextual = parser.parser.lexer.lexer  # under lark's PostLexConnector
    if type(contextual) is not ContextualLexer:
        raise Unsupported("not the contextual lexer")
    return _States(contextual)


def tokens(text: str, states: dict, keywords: frozenset, indenter, parser_state,
           end: bool = False):
    """The tokens of text as lark's contextual lexer, grammar._keywords_as_names and
    lark's Indenter give them, each lexed in the parser's current state; then, if end,
    the $END token lark's parser adds at the last one's place (lalr_loop reads it)."""
    nl_type = indenter.NL_type
    opens = frozenset(indenter.OPEN_PAREN_types)
    closes = frozenset(indenter.CLOSE_PAREN_types)
    indent_type, dedent_type, tab_len = indenter.INDENT_type, indenter.DEDENT_type, indenter.tab_len
    normalize = unicodedata.normalize
    n = len(text)
    pos, line, line_start = 0, 1, 0
    levels = [0]
    parens = 0
    tok = None
    states.read_by(keywords, indenter)
    stack = parser_state.state_stack  # the parser grows and cuts this very list
    while True:
        regex, callbacks, newline_types, ignore_types, plain, name_words = states[stack[-1]]
        m = regex.match(text, pos)
        if m is None:
            if text[pos:].strip("\t \f"):
                raise Unsupported("no terminal matches")  # lark's error, from lark's path
            break  # only spaces left: the end
        type_ = m.lastgroup
        start, pos = m.span(type_)
        value = text[start:pos]
        if type_ in plain or (type_ == "NAME" and value not in name_words
                              and value.isascii()):
            # most tokens: what the rest of the loop would make of them
            tok = _new_str(Token, value)
            tok.type = type_
            tok.start_pos = start
            tok.value = value
            tok.line = tok.end_line = line
            tok.column = start - line_start + 1
            tok.end_column = pos - line_start + 1
            tok.end_pos = pos
            yield tok
            continue
        column = start - line_start + 1
        start_line = line
        if type_ in newline_types and "\n" in value:
            line += value.count("\n")
            line_start = start + value.rindex("\n") + 1
        if type_ in ignore_types:
            continue
        if type_ in callbacks:
            type_ = callbacks[type_].get(value, type_)
        if type_ in keywords:
            i = pos
            while i < n and text[i] in " \t":
                i += 1
            if i + 1 < n:
                ch, nxt = text[i], text[i + 1]
                if (ch == "=" and nxt != "=") or (ch == "." and nxt != "."):
                    type_ = "NAME"
        tok = _new_str(Token, value)  # Token(...) field by field, without its two calls
        tok.type = type_
        tok.start_pos = start
        tok.value = value
        tok.line = start_line
        tok.column = column
        tok.end_line = line
        tok.end_column = pos - line_start + 1
        tok.end_pos = pos
        if type_ == "NAME" and not value.isascii():
            # as grammar._keywords_as_names does it, down to normalising the token
            # itself (its value is then the token when already NFC)
            tok = Token.new_borrow_pos("NAME", normalize("NFC", tok), tok)
        if type_ == nl_type:
            if parens > 0:
                continue
            yield tok
            indent_str = value.rsplit("\n", 1)[1]
            indent = indent_str.count(" ") + indent_str.count("\t") * tab_len
            if indent > levels[-1]:
                levels.append(indent)
                yield Token.new_borrow_pos(indent_type, indent_str, tok)
            else:
                while indent < levels[-1]:
                    levels.pop()
                    yield Token.new_borrow_pos(dedent_type, indent_str, tok)
                if indent != levels[-1]:
                    raise Unsupported("a dedent to no enclosing level")
            continue
        yield tok
        if type_ in opens:
            parens += 1
        elif type_ in closes:
            parens -= 1
            if parens < 0:
                raise Unsupported("a closing bracket with none open")
    while len(levels) > 1:
        levels.pop()
        yield (Token.new_borrow_pos(dedent_type, "", tok) if tok
               else Token(dedent_type, "", 0, 0, 0, 0, 0, 0))
    if end:  # every token yielded was tok or took its place from it
        yield Token.new_borrow_pos("$END", "", tok) if tok else Token("$END", "", 0, 1, 1)


def parse(parser: Lark, states: dict, actions, keywords: frozenset, text: str, start: str):
    """The tree lark's parser.parse(text, start=start) gives, lexed by tokens above and
    parsed by lalr_loop over actions (lalr_loop.actions of the parser); raises on any
    error or doubt (the caller then parses through lark's path)."""
    indenter = parser.parser.lexer.postlexer
    return lalr_loop.parse(parser.parser.parser.parser, actions,
                           lambda position: tokens(text, states, keywords, indenter, position,
                                                   end=True),
                           start)
