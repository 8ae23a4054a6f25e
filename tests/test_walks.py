"""The fast walks over the syntax tree give what the plain ones they replaced gave: ast.walk
(fields declared as text skipped), symbols.walk_statements (a stack, not nested generators)
and ast.ClassTable (one look-up for an isinstance chain), on every flow of the project and
on trees written at random; controlflow.is_terminal answers the same when a module's
routings remember its answers, statement_lists, body_waits and a body's jumps as they were
first written, and null safety's names assigned by one statement as by a walk."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest
import strategies as gen
from hypothesis import HealthCheck, given, settings

from ccdsl import ast, ast_expr, ast_stmt
from ccdsl.compiler import controlflow as cf
from ccdsl.compiler import nullsafety
from ccdsl.compiler.parser import parse_source
from ccdsl.compiler.symbols import walk_statements
from ccdsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
FLOWS = sorted(p for folder in ("examples", "stdlib_flows", "tests")
               for p in (ROOT / folder).rglob("*.ccf"))
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def plain_walk(obj):
    """Every node, depth first: every field but spans and comments looked into."""
    if isinstance(obj, tuple):
        for x in obj:
            yield from plain_walk(x)
        return
    if not dataclasses.is_dataclass(obj):
        return
    yield obj
    for f in dataclasses.fields(obj):
        if f.name not in ("span", "comments"):
            yield from plain_walk(getattr(obj, f.name))


def plain_walk_statements(body):
    """walk_statements as nested generators, as it was written first."""
    for stmt in body:
        yield stmt
        on_error = getattr(stmt, "on_error", None)
        if on_error is not None:
            yield from plain_walk_statements((on_error.action,))
        if isinstance(stmt, ast.If):
            for _, branch in stmt.branches:
                yield from plain_walk_statements(branch)
            if stmt.orelse:
                yield from plain_walk_statements(stmt.orelse)
        elif isinstance(stmt, (ast.Match, ast.Menu)):
            for arm in stmt.arms:
                yield from plain_walk_statements(arm.body)
        elif isinstance(stmt, (ast.Repeat, ast.ForEach)):
            yield from plain_walk_statements(stmt.body)


def _same_walks(module: ast.Module) -> None:
    assert [id(n) for n in ast.walk(module)] == [id(n) for n in plain_walk(module)]
    for node in plain_walk(module):
        for body in _bodies(node):
            assert [id(s) for s in walk_statements(body)] == \
                [id(s) for s in plain_walk_statements(body)]


def _bodies(node) -> list:
    if isinstance(node, (ast.Step, ast.Handler, ast.Sub, ast.Repeat, ast.ForEach, ast.Arm,
                         ast.QueueKey)):
        return [node.body]
    if isinstance(node, ast.If):
        return [b for _, b in node.branches] + ([node.orelse] if node.orelse else [])
    return []


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_walks_of_every_flow_are_the_plain_walks(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", errors="replace")
    module, _ = parse_source(SourceFile(str(path), text))
    if module is not None:
        _same_walks(module)


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_OK)
@given(gen.modules)
def test_the_walks_of_a_generated_tree_are_the_plain_walks(module) -> None:
    _same_walks(module)


NODES = sorted({cls for module in (ast, ast_expr, ast_stmt)
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if dataclasses.is_dataclass(cls) and cls.__module__.startswith("ccdsl.ast")},
               key=lambda cls: cls.__qualname__)


def test_a_class_table_answers_as_its_isinstance_chain() -> None:
    class Sub(ast.Name):
        pass

    pairs = (((ast.Name, ast.Field), "name or field"), (ast.Expr, "expr"),
             (ast.Name, "never: a Name matched first"), (ast.Step, "step"))
    table = ast.ClassTable(pairs)
    for cls in [*NODES, Sub, int, str, tuple, type(None)]:
        expected = next((v for classes, v in pairs if issubclass(cls, classes)), None)
        assert table[cls] == expected, cls
        assert table[cls] == expected, cls  # and again, from the table


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_is_terminal_remembered_for_a_module_is_is_terminal(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", errors="replace")
    module, _ = parse_source(SourceFile(str(path), text))
    if module is None:
        return
    remembering = cf.routings_of(module)
    plain = dict(remembering)  # no memo: every answer worked out anew
    for node in plain_walk(module):
        for body in _bodies(node):
            for stmt in walk_statements(body):
                for _ in range(2):  # the second answer comes from the memo
                    assert cf.is_terminal(stmt, remembering) == cf.is_terminal(stmt, plain)


def plain_statement_lists(body):
    """controlflow.statement_lists as nested generators, as it was written first."""
    yield tuple(body)
    for stmt in body:
        if isinstance(stmt, ast.If):
            for nested in [b for _, b in stmt.branches] + \
                    ([stmt.orelse] if stmt.orelse is not None else []):
                yield from plain_statement_lists(nested)
        elif isinstance(stmt, (ast.Match, ast.Menu)):
            for arm in stmt.arms:
                yield from plain_statement_lists(arm.body)
        elif isinstance(stmt, (ast.Repeat, ast.ForEach)):
            yield from plain_statement_lists(stmt.body)


def plain_body_waits(body, waits) -> bool:
    """controlflow.body_waits as an isinstance chain, as it was written first."""
    for stmt in body:
        if waits(stmt):
            return True
        if isinstance(stmt, ast.If) and stmt.orelse is not None and all(
                plain_body_waits(b, waits) for b in [b for _, b in stmt.branches] + [stmt.orelse]):
            return True
        if isinstance(stmt, ast.Match) and cf.has_else(stmt.arms) and all(
                plain_body_waits(arm.body, waits) for arm in stmt.arms):
            return True
        if (isinstance(stmt, ast.Repeat) and isinstance(stmt.times, ast.Number)
                and stmt.times.value >= 1 and plain_body_waits(stmt.body, waits)):
            return True
    return False


def _same_control_flow(module: ast.Module) -> None:
    """statement_lists, body_waits and the jumps of a body that pass over a statement
    without a goto, an `on error` or a block answer as the plain versions."""
    routings = cf.routings_of(module)
    asked: list = []

    def waits(stmt) -> bool:  # records the order it is asked in: it must not change
        asked.append(id(stmt))
        return cf.stmt_waits(stmt)

    for node in plain_walk(module):
        for body in _bodies(node):
            assert [[id(s) for s in b] for b in cf.statement_lists(body)] == \
                [[id(s) for s in b] for b in plain_statement_lists(body)]
            for stmt in walk_statements(body):
                assert nullsafety._assigned(stmt) == nullsafety._assigned_in((stmt,))
                del asked[:]
                fast = cf.body_waits((stmt,), waits)
                fast_asked = list(asked)
                del asked[:]
                assert fast == plain_body_waits((stmt,), waits)
                assert fast_asked == asked
                for waited in (False, True):
                    one: list = []
                    cf._stmt_jumps(stmt, stmt, routings, waits, waited, one, frozenset())
                    passed: list = []
                    cf._body_jumps((stmt,), routings, waits, waited, passed)
                    assert passed == one


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_control_flow_of_every_flow_is_the_plain_one(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", errors="replace")
    module, _ = parse_source(SourceFile(str(path), text))
    if module is not None:
        _same_control_flow(module)


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_OK)
@given(gen.modules)
def test_the_control_flow_of_a_generated_tree_is_the_plain_one(module) -> None:
    _same_control_flow(module)
