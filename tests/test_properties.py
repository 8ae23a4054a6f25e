"""Properties of the parser, formatter and compiler, checked with hypothesis.

1. A generated syntax tree, formatted and parsed again, is the same tree,
   and formatting that text changes nothing.
2. No text, and no bytes, make the compiler raise: bad input gets
   diagnostics.
3. Nor does any mutation of a real flow (truncation, inserted or deleted
   characters, deleted, duplicated or swapped lines, changed indentation);
   and a mutant that still parses formats idempotently, keeping its comments.

A failing example prints the text that was compiled (hypothesis `note`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import strategies as gen
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from ccdsl.compiler.comments import scan
from ccdsl.compiler.format_expr import format_expr
from ccdsl.compiler.formatter import format_module, format_source
from ccdsl.compiler.loader import TEST_SUFFIX
from ccdsl.compiler.parser import parse_source
from ccdsl.compiler.pipeline import CompileResult, compile_file
from ccdsl.diagnostics import Diagnostic
from ccdsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
# The nested strategies have a long repr; hypothesis warns when it builds one.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


# ---- 1. format -> parse round trip ----------------------------------------------


@settings(max_examples=250, deadline=None, suppress_health_check=SLOW_OK)
@given(gen.modules)
def test_generated_tree_survives_format_and_parse(module) -> None:
    text = format_module(module)
    note(f"formatted text:\n{text}")
    parsed, diags = parse_source(SourceFile(gen.MODULE_PATH, text))
    assert not diags, diags
    assert parsed == module
    again, _ = format_source(text, gen.MODULE_PATH)
    assert again == text


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_OK)
@given(gen.exprs)
def test_generated_expression_survives_format_and_parse(expr) -> None:
    text = f"const c = {format_expr(expr)}\n"
    note(f"text:\n{text}")
    parsed, diags = parse_source(SourceFile(gen.MODULE_PATH, text))
    assert not diags, diags
    assert parsed.items[0].value == expr


def test_the_strategies_read_keywords_from_the_grammar_and_the_statement_table() -> None:
    # both lists are derived (a new keyword or statement needs no edit in the
    # strategies); this guards the derivation itself
    assert {"play", "route", "expect", "tz", "otherwise", "elif"} <= set(gen.KEYWORDS)
    assert {"answer", "hangup", "if", "menu", "wait", "true"} <= gen.STATEMENT_WORDS
    assert "collect" not in gen.STATEMENT_WORDS  # `x = collect ...`: not a line's first word


@pytest.mark.parametrize("word", gen.KEYWORDS)
def test_keywords_are_names_after_a_dot_and_as_map_keys(word: str) -> None:
    # The strategies rely on this: after `.` and `{` only a name can come.
    text = f"const c = a.{word}\nconst d = {{{word}: 1}}\n"
    parsed, diags = parse_source(SourceFile("k.ccf", text))
    assert not diags
    assert parsed.items[0].value.name == word
    assert parsed.items[1].value.entries[0].key == word


# ---- 2. random input never raises ----------------------------------------------

# Pieces of .ccf, so random text gets past the lexer and into the parser
# and the checks rather than failing on the first character.
_PIECES = (gen.KEYWORDS + [
    "x", "main", "customer", "crm.customer", "office.open()", ":", "->", "=", "==", "(", ")",
    "[", "]", "{", "}", ",", ".", "..", "?", "??", "+", "-", "*", "/", "%", "#c", '"s"',
    '"${x}"', '"${', '"\\q"', "1", "2.5", "5s", "09:00", "2026-10-01", "25:99", "8..6",
    " ", " ", "  ", "\t", "\n", "\n  ", "\n    ", "\\\n", "\r\n", "\x00", "\ufeff", "中"])
flow_like_text = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


def _compile_text(data: bytes, name: str = "random.ccf") -> CompileResult:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return _compile(str(path))


def _compile(path: str) -> CompileResult:
    result = compile_file(path)
    assert isinstance(result, CompileResult)
    assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
    return result


@settings(max_examples=1000, deadline=None, suppress_health_check=SLOW_OK)
@given(st.text(max_size=200))
def test_random_text_gives_diagnostics_only(text: str) -> None:
    note(f"text: {text!r}")
    _compile_text(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=1500, deadline=None, suppress_health_check=SLOW_OK)
@given(flow_like_text)
def test_random_flow_like_text_gives_diagnostics_only(text: str) -> None:
    note(f"text: {text!r}")
    _compile_text(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_OK)
@given(st.binary(max_size=200))
def test_random_bytes_give_diagnostics_only(data: bytes) -> None:
    note(f"bytes: {data!r}")
    _compile_text(data)


def test_non_utf8_bytes_are_a_diagnostic() -> None:
    result = _compile_text(b"step s:\n  play tts \"\xff\xfe\"\n")
    assert not result.ok and result.diagnostics


# ---- 3. mutations of real flows ------------------------------------------------------


def _corpus() -> list[Path]:
    files: list[Path] = []
    for folder in ("examples", "stdlib_flows", "tests/golden/ok"):
        files.extend(sorted((ROOT / folder).rglob("*.ccf")))
    return files


CORPUS = _corpus()
_MIRRORS: dict[Path, Path] = {}


def _mirror(path: Path) -> Path:
    """A private copy of the folder a flow is in, so a mutated flow still
    finds the files it uses, and the real files are never touched."""
    folder = path.parent
    if folder not in _MIRRORS:
        copy = Path(tempfile.mkdtemp(prefix="ccf-mutants-"))
        for sibling in folder.glob("*.ccf"):
            shutil.copy(sibling, copy / sibling.name)
        _MIRRORS[folder] = copy
    return _MIRRORS[folder]


def teardown_module() -> None:
    for copy in _MIRRORS.values():
        shutil.rmtree(copy, ignore_errors=True)


@st.composite
def mutations(draw) -> tuple[Path, str]:
    path = draw(st.sampled_from(CORPUS))
    text = path.read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 3))):
        text = draw(_mutate(text))
    return path, text


def _mutate(text: str):
    lines = text.split("\n")
    end = len(text)
    position = st.integers(0, end)
    line_no = st.integers(0, max(len(lines) - 1, 0))

    def cut(i):
        return text[:i]

    def insert(args):
        i, extra = args
        return text[:i] + extra + text[i:]

    def delete(args):
        i, n = args
        return text[:i] + text[i + n:]

    def with_lines(f):
        return lambda args: "\n".join(f(list(lines), *args))

    def drop_line(ls, i):
        return ls[:i] + ls[i + 1:]

    def dup_line(ls, i):
        return ls[:i + 1] + ls[i:]

    def swap_lines(ls, i, j):
        ls[i], ls[j] = ls[j], ls[i]
        return ls

    def reindent(ls, i, width):
        ls[i] = " " * width + ls[i].lstrip(" \t")
        return ls

    return st.one_of(
        position.map(cut),
        st.tuples(position, st.one_of(st.text(max_size=5),
                                      st.sampled_from(_PIECES))).map(insert),
        st.tuples(position, st.integers(1, 20)).map(delete),
        st.tuples(line_no).map(with_lines(drop_line)),
        st.tuples(line_no).map(with_lines(dup_line)),
        st.tuples(line_no, line_no).map(with_lines(swap_lines)),
        st.tuples(line_no, st.sampled_from([0, 1, 2, 3, 4, 6, 8])).map(with_lines(reindent)),
    )


@settings(max_examples=1000, deadline=None, suppress_health_check=SLOW_OK)
@given(mutations())
def test_mutated_flows_give_diagnostics_only(case) -> None:
    assert CORPUS
    path, text = case
    note(f"mutant of {path.relative_to(ROOT)}:\n{text}")
    copy = _mirror(path)
    original = (path.parent / path.name).read_text(encoding="utf-8")
    target = copy / path.name
    target.write_text(text, encoding="utf-8", newline="")
    try:
        entry = target
        if path.name.endswith(TEST_SUFFIX):
            entry = copy / (path.name[: -len(TEST_SUFFIX)] + ".ccf")
        _compile(str(entry))
        formatted, _ = format_source(text, str(target))
        if formatted is not None:
            assert format_source(formatted, str(target))[0] == formatted
            position = 0
            for comment in scan(text):
                position = formatted.find(comment.text, position)
                assert position >= 0, f"comment lost: {comment.text}"
                position += len(comment.text)
    finally:
        target.write_text(original, encoding="utf-8", newline="")
