"""The Pygments lexer of .ccf, so `pygmentize -l ccf` and ```ccf fences in Markdown and Sphinx
highlight flows; its words come from ccdsl.compiler.words, never a list of its own.

Highlighting only: it must not parse, check or decide what a flow means.
"""

from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups, include, this, using, words
from pygments.token import (
    Comment,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

from ccdsl.compiler import words as ccf_words
from ccdsl.compiler.grammar import grammar_text

# a name as grammar.lark spells it: a letter of any script, then letters, digits, marks
NAME = re.search(r"^NAME: /(.*)/$", grammar_text(), re.M).group(1)
STRING = r'"(?:[^"\\\n]|\\.)*"'
KEY = rf"-?\d+(?:\.\d+)?|{STRING}|{NAME}"
# a keyword followed by `=` or `.` is a name, as the parser has it (grammar.py); so is one
# that a `,` or `)` follows (a parameter, an argument), a `:` with more on the line (a
# named argument, a record's field, a key) or a binary operator (`for ?? "x"`, `times > 1`):
# no keyword is, and a block's `:` ends its line (`-` and `+` are left out: `return -1`)
NOT_A_NAME = (r"\b(?!\s*(?:=(?!=)|\.(?!\.))"
              r"|[ \t]*(?:[,)*/%]|\?\?|[=!<>]=|[<>]|:(?![ \t]*(?:#|$))))")
TEST_LINE_WORDS = ccf_words.TEST_LINE_WORDS
BEFORE = r"(?<![\w.])"
NUMBER_BEFORE = r"(?<![\w.])|(?<=\.\.)"

Duration = Number.Duration  # a subtype: styles without it fall back to Number

_KEYWORD_TOKENS = {
    "constant": Keyword.Constant,
    "operator": Operator.Word,
    "control": Keyword,
    "statement": Keyword,
    "declaration": Keyword.Declaration,
    "test": Keyword.Pseudo,
    "other": Keyword.Reserved,
}


def _keywords():
    kinds = ccf_words.kinds()
    return [(words(sorted(kinds[kind] - set(TEST_LINE_WORDS)), prefix=BEFORE,
                   suffix=NOT_A_NAME), token)
            for kind, token in _KEYWORD_TOKENS.items()]


class CcfLexer(RegexLexer):
    """The .ccf call-flow language of ccdsl."""

    name = "ccf"
    aliases = ["ccf"]
    filenames = ["*.ccf"]
    mimetypes = ["text/x-ccf"]
    url = "https://pypi.org/project/ccdsl/"

    tokens = {
        "root": [
            include("comment"),
            # a declaration starts at the line's first column
            (rf"^(flow)(\s+)({NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Namespace)),
            (rf"^(use)(\s+)({NAME}(?:\.{NAME})*)",
             bygroups(Keyword.Declaration, Whitespace, Name.Namespace)),
            (rf"^(const)(\s+)({NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Constant)),
            (rf"^(hours|prompt|queue|routing|record)(\s+)({NAME})",
             bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (rf"^(step|sub)(\s+)({NAME})",
             bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (rf"^(on)(\s+)({NAME}(?:[ \t]+{NAME})*)(?=[ \t]*:)",
             bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (rf"^(test)(\s+)({STRING})", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            # a menu's or a match's arm: its keys, then `->` or `:` at the end of the line
            (rf"^([ \t]+)((?:{KEY})(?:[ \t]*,[ \t]*(?:{KEY}))*)"
             r"(?=[ \t]*(?:->|:[ \t]*(?:#.*)?$))",
             bygroups(Whitespace, using(this, state="keys"))),
            (rf"{BEFORE}(press)([ \t]+)(\d+|{STRING})",
             bygroups(Keyword.Pseudo, Whitespace, Name.Label)),
            (rf"{BEFORE}(goto)([ \t]+)({NAME})", bygroups(Keyword, Whitespace, Name.Function)),
            # a prompt played by its name, spelt like a keyword or not (`play closed`)
            (rf"{BEFORE}(play)([ \t]+)(?!(?:tts|file)\b)({NAME})(?![\w.(])",
             bygroups(Keyword, Whitespace, Name)),
            (words(TEST_LINE_WORDS, prefix=r"^([ \t]+)", suffix=NOT_A_NAME),
             bygroups(Whitespace, Keyword.Pseudo)),
            include("expression"),
        ],
        "keys": [
            (words(("else", "otherwise"), prefix=BEFORE, suffix=r"\b"), Keyword),
            (words(ccf_words.CONSTANTS, prefix=BEFORE, suffix=r"\b"), Keyword.Constant),
            (r",", Punctuation),
            (r"[ \t]+", Whitespace),
            (KEY, Name.Label),
        ],
        "comment": [
            (r"#[ \t]*ccf:[ \t]*ignore\b.*$", Comment.Special),
            (r"#.*$", Comment.Single),
        ],
        "expression": [
            include("comment"),
            (r"\n", Whitespace),
            (r"[ \t\f]+", Whitespace),
            (r"\\[ \t]*\n", Whitespace),  # a line continued
            (r'"', String.Double, "string"),
            (rf"(?:{NUMBER_BEFORE})\d{{4}}-\d{{2}}-\d{{2}}(?!\d)", Literal.Date),
            (rf"(?:{NUMBER_BEFORE})\d{{1,2}}:\d{{2}}(?!\d)", Literal.Date),
            (rf"(?:{NUMBER_BEFORE})\d+(?:\.\d+)?(?:ms|s|m|h|d)\b", Duration),
            (rf"(?:{NUMBER_BEFORE})\d+\.\d+\b", Number.Float),
            (rf"(?:{NUMBER_BEFORE})\d+\b", Number.Integer),
            *_keywords(),
            (words(ccf_words.builtin_values(), prefix=BEFORE, suffix=r"\b"), Name.Builtin.Pseudo),
            (words(ccf_words.builtin_functions(), prefix=BEFORE, suffix=r"\b(?=\s*\()"),
             Name.Builtin),
            (rf"{BEFORE}({'|'.join(ccf_words.builtin_namespaces())})(\.)({NAME})",
             bygroups(Name.Builtin, Punctuation, Name.Builtin)),
            (r"->|\?\?|\.\.|==|!=|<=|>=|[<>=+\-*/%?]", Operator),
            (r"[.,:()\[\]{}]", Punctuation),
            (NAME, Name),
        ],
        "string": [
            (r'"', String.Double, "#pop"),
            (r"(?=\n)", String.Double, "#pop"),  # never closed: the compiler says so
            (r"\\.", String.Escape),
            (r"\$\{", String.Interpol, "interpolation"),
            (r'[^"\\$\n]+', String.Double),
            (r"\$", String.Double),
        ],
        "interpolation": [
            (r"\}", String.Interpol, "#pop"),
            (r'(?=["\n])', String.Interpol, "#pop"),
            (r"[^}\"\n\S]+", Whitespace),
            include("expression"),
        ],
    }
