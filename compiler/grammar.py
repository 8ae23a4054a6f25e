"""The lark parser built from grammar.lark, and the lexer hook that makes keywords contextual.

Must not build AST nodes or diagnostics: parser.py and build_expr.py do.
The LALR tables are cached on disk (lark's ``cache`` option) so a short
`ccf validate` does not rebuild them on every run.
"""

from __future__ import annotations

import os
import re
import unicodedata
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Tree
from lark.indenter import Indenter

from ccdsl.compiler import fast_lexer, lalr_loop, tree_builder


class _CcfIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def process(self, stream):
        return super().process(_keywords_as_names(stream))


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return (resources.files("ccdsl.compiler") / "grammar.lark").read_text(encoding="utf-8")


def _cache_path(grammar: str) -> str | bool:
    """Where lark keeps the tables, or False: none kept. lark loads them with pickle, so
    only a folder the Store would use (its user's alone) holds them; never a fixed name in
    the shared temporary folder, where another user could leave a file first."""
    from ccdsl.compiler.cache_store import USED, cache_folder, check, grammar_tables

    folder = cache_folder()  # $CCF_CACHE_DIR first
    try:
        # as cache_store.Store makes it: one group-writable would turn the cache off
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return False  # the tables are built in memory, as with --no-cache
    if check(folder)[0] != USED:  # not the user's alone, or read-only: none kept
        return False
    return os.path.join(folder, grammar_tables(grammar))


# The text being parsed, for the lexer callback below (lark passes it only
# the token).
_TEXT: ContextVar[str] = ContextVar("ccf_text", default="")


@lru_cache(maxsize=1)
def _keyword_terminals() -> frozenset[str]:
    # lark names the terminal of a quoted keyword after its text in capitals
    # (true, false and null are values: `false.x` is the field of a value)
    words = set(re.findall(r'"([a-z_][a-z0-9_]*)"', grammar_text())) - {"true", "false", "null"}
    return frozenset(w.upper() for w in words)


def _keywords_as_names(stream):
    """A keyword followed by `=` or `.` is a name: `test = 1`, `voicemail.leave()`.

    Keywords are contextual, but where a block ends the LALR state still
    admits every word that may follow any enclosing block (`step`, `test`,
    `else`, ...), so without this `test = 1` right after an `if` block, or a
    call into a module named like a statement, would lex as the keyword. No
    keyword of the grammar is ever followed by `=` or by a single `.`."""
    keywords = _keyword_terminals()
    text = _TEXT.get()
    n = len(text)
    for tok in stream:
        if tok.type == "NAME" and not tok.isascii():
            # one spelling per name, however the editor composed it: `café`
            # typed as e + U+0301 is the name written with é
            tok = Token.new_borrow_pos("NAME", unicodedata.normalize("NFC", tok), tok)
        if tok.type in keywords:
            i = tok.end_pos
            while i < n and text[i] in " \t":
                i += 1
            if i + 1 < n:
                ch, nxt = text[i], text[i + 1]
                if (ch == "=" and nxt != "=") or (ch == "." and nxt != "."):
                    tok = Token.new_borrow_pos("NAME", str(tok), tok)
        yield tok


def lark_tables_parser() -> Lark:
    """A new lark parser of grammar.lark with lark's own tree builder (its tables
    from the disk cache when there)."""
    grammar = grammar_text()
    options = dict(
        parser="lalr",
        strict=True,
        postlex=_CcfIndenter(),
        # a node's place is that of its children but the newlines and indentation
        propagate_positions=tree_builder.placed,
        maybe_placeholders=True,
        start=["start", "expr"],
    )
    try:
        return Lark(grammar, cache=_cache_path(grammar), **options)
    except OSError:
        return Lark(grammar, **options)


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The parser every compile uses: lark's, with its trees built by tree_builder
    (the same trees, one call per reduction instead of a chain of wrappers)."""
    parser = lark_tables_parser()
    tree_builder.install(parser)
    return parser


@lru_cache(maxsize=1)
def _fast_tables() -> tuple | None:
    """The fused lexer's and the LALR loop's tables, each state's built on first use."""
    parser = lark_parser()
    try:
        return fast_lexer.tables(parser), lalr_loop.actions(parser.parser.parser.parser)
    except (fast_lexer.Unsupported, lalr_loop.Unsupported):
        return None


def parse_tree(text: str, start: str) -> Tree:
    """The lark tree of text from the rule start ("start" or "expr")."""
    fast = _fast_tables()
    if fast is not None:
        # the fused lexer (fast_lexer.py) and lark's loop without its per-token calls
        # (lalr_loop.py) first; anything they cannot do exactly as lark would, and
        # every syntax error, goes through lark's path below, so errors and their
        # diagnostics are lark's own
        try:
            return fast_lexer.parse(lark_parser(), *fast, _keyword_terminals(), text, start)
        except Exception:  # noqa: BLE001 - lark's path below raises what lark raises
            pass
    token = _TEXT.set(text)
    try:
        return lark_parser().parse(text, start=start)
    finally:
        _TEXT.reset(token)
