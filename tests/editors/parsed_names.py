"""Where the compiler's parser reads a name: the places in each flow of the repository
where a highlighter must show a name, even one spelt like a keyword (`sub leave(for)`,
`crm.create(call: call.id)`, a record's field `prompt: text`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lark import Token, Tree

from ccdsl.compiler.grammar import parse_tree
from tests.editors.conftest import ROOT

# the rules whose NAME child is a name wherever it stands, and which child: None for all
NAME_RULES = {"params": None, "field_decl": 0, "named_arg": 0, "entry": 0, "name_expr": 0,
              "assign_stmt": 0, "collect_stmt": 0, "for_each_stmt": 0}


@dataclass(frozen=True)
class ParsedName:
    line: int  # 1-based
    column: int  # 1-based, in code points
    text: str


def flows() -> list[Path]:
    """Every .ccf of the repository that parses (the golden files of syntax errors do not)."""
    out = []
    for path in sorted(ROOT.rglob("*.ccf")):
        if {".venv", "node_modules"} & set(path.relative_to(ROOT).parts):
            continue
        try:
            parse_tree(_text(path), "start")
        except Exception:  # noqa: BLE001 - a flow that does not parse has no names to check
            continue
        out.append(path)
    return out


def _text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return "\0"  # E007's golden file: not UTF-8 on purpose; fails to parse
    return text if text.endswith("\n") else text + "\n"


def names(path: Path) -> list[ParsedName]:
    """The names of a flow at the places NAME_RULES lists, spelt like a keyword or not."""
    found = []
    for tree in parse_tree(_text(path), "start").iter_subtrees():
        if not isinstance(tree, Tree) or tree.data not in NAME_RULES:
            continue
        tokens = [c for c in tree.children if isinstance(c, Token) and c.type == "NAME"]
        which = NAME_RULES[tree.data]
        for token in tokens if which is None else tokens[which:which + 1]:
            found.append(ParsedName(token.line, token.column, str(token)))
    return found
