"""The compiler's limits on nesting, and broken modules: each is a diagnostic, never a crash.

The cases of issue 11, item 8 (250 nested `if`, 350 chained `+`, 400
nested `not`, an `or` of 120 comparisons, a used module with a syntax
error) through `ccf validate` and `ccf compile` in process; flows at the
limits compile, and their IR passes both schema checks with stack to spare.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
from ccf_cli import ccf
from hypothesis import given, settings
from hypothesis import strategies as st

from ccdsl.compiler.limits import MAX_BLOCK_DEPTH, MAX_EXPR_DEPTH
from ccdsl.compiler.pipeline import compile_file

ROOT = Path(__file__).resolve().parent.parent
IWS = ROOT / "examples" / "iws"
HEAD = "flow deep\n\non start:\n  answer\n"


def nested_ifs(n: int) -> str:
    lines = [HEAD]
    for depth in range(1, n + 1):
        lines.append("  " * depth + 'if caller.number == "1":\n')
    lines.append("  " * (n + 1) + "hangup\n")
    return "".join(lines) + "  hangup\n"


def assigned(expr: str) -> str:
    return HEAD + f"  x = {expr}\n  log x\n  hangup\n"


def chained_plus(n: int) -> str:
    return assigned(" + ".join(["1"] * n))


def nested_not(n: int) -> str:
    return HEAD + "  if " + "not " * n + "true:\n    hangup\n  hangup\n"


def or_chain(n: int) -> str:
    tests = " or ".join(f'caller.number == "{i}"' for i in range(n))
    return HEAD + f"  if {tests}:\n    hangup\n  hangup\n"


def _write(tmp_path: Path, text: str, name: str = "deep.ccf") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _codes(output: str) -> list[str]:
    return [d["code"] for d in json.loads(output)]


def _refused(path: Path, code: str) -> None:
    """`ccf validate` and `ccf compile` both report `code` and exit 1."""
    checked = ccf("validate", "--format", "json", str(path))
    assert checked.exit_code == 1, checked.output
    assert code in _codes(checked.stdout)
    out = path.with_suffix(".json")
    compiled = ccf("compile", "--format", "concise", str(path), "-o", str(out))
    assert compiled.exit_code == 1, compiled.output
    assert f" {code} " in compiled.output
    assert not out.exists()


# ---- the reported cases --------------------------------------------------------------


def test_250_nested_ifs_are_too_deep_a_nesting_of_blocks(tmp_path: Path) -> None:
    _refused(_write(tmp_path, nested_ifs(250)), "E011")


def test_350_chained_pluses_are_too_deep_an_expression(tmp_path: Path) -> None:
    _refused(_write(tmp_path, chained_plus(350)), "E012")


def test_400_nested_nots_are_too_deep_an_expression(tmp_path: Path) -> None:
    _refused(_write(tmp_path, nested_not(400)), "E012")


def test_an_or_of_120_comparisons_is_refused_by_validate_and_compile_alike(
        tmp_path: Path) -> None:
    # compile died in the IR's schema validation while validate accepted it
    _refused(_write(tmp_path, or_chain(120)), "E012")


def test_the_diagnostic_says_how_deep_and_what_the_limit_is(tmp_path: Path) -> None:
    result = compile_file(str(_write(tmp_path, or_chain(120))))
    [found] = [d for d in result.diagnostics if d.code == "E012"]
    assert "121 levels" in found.message and str(MAX_EXPR_DEPTH) in found.message
    assert (found.span.line, found.span.column) == (5, 6)
    result = compile_file(str(_write(tmp_path, nested_ifs(250))))
    [found] = [d for d in result.diagnostics if d.code == "E011"]
    assert str(MAX_BLOCK_DEPTH) in found.message
    # the `if` that opens the first block too many
    assert found.span.line == 4 + MAX_BLOCK_DEPTH + 1


def _iws_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "iws"
    shutil.copytree(IWS, folder)
    return folder


BROKEN_MODULES = {
    "E001": lambda text: text.replace("sub tell_status(number):", "sub tell_status(number)"),
    "E002": lambda text: text.replace("failed = false", "failed = false;"),
    "E003": lambda text: text.replace("\n    play lookup_failed", "\n      play lookup_failed"),
    "E004": lambda text: text.replace('"Your order has been delivered."',
                                      '"Your order has been delivered.'),
    "E009": lambda text: "\n",
    "E012": lambda text: text.replace("failed = false", "failed = " + "not " * 40 + "true"),
}


@pytest.mark.parametrize("code", sorted(BROKEN_MODULES))
def test_a_used_module_that_does_not_parse_is_reported_not_a_crash(
        code: str, tmp_path: Path) -> None:
    folder = _iws_copy(tmp_path)
    orders = folder / "orders.ccf"
    orders.write_text(BROKEN_MODULES[code](orders.read_text(encoding="utf-8")),
                      encoding="utf-8")
    result = ccf("validate", "--format", "json", str(folder / "hotline.ccf"))
    assert result.exit_code == 1, result.output
    found = json.loads(result.stdout)
    assert code in [d["code"] for d in found if d["file"] == str(orders)]
    # the module's own diagnostics, and no noise about its names in the flow using it
    assert not [d for d in found if d["file"] != str(orders)], found
    out = tmp_path / "hotline.json"
    compiled = ccf("compile", str(folder / "hotline.ccf"), "-o", str(out))
    assert compiled.exit_code == 1 and code in compiled.output
    assert not out.exists()
    assert ccf("validate", str(folder)).exit_code == 1


def test_deploy_refuses_a_flow_whose_module_does_not_parse(tmp_path: Path) -> None:
    folder = _iws_copy(tmp_path)
    orders = folder / "orders.ccf"
    orders.write_text(BROKEN_MODULES["E001"](orders.read_text(encoding="utf-8")),
                      encoding="utf-8")
    config = tmp_path / "ccf.toml"
    config.write_text(textwrap.dedent(f"""\
        [paths]
        flows = "store"
        [agents]
        file = "{IWS / 'agents.toml'}"
        [numbers]
        "4008001234" = "hotline"
        """), encoding="utf-8")
    result = ccf("deploy", str(folder), "-c", str(config), "--dry-run",
                 env={"CCF_AMI_SECRET": "not-used"})
    assert result.exit_code == 1, result.output
    assert "E001" in result.output


# ---- at the limits, and far beyond them --------------------------------------------------


def _deepest_value() -> str:
    """An expression as deep as allowed, ending in a string whose
    interpolation takes what is left."""
    # the call, each list, the interpolated string and each `not` are a level
    # (lists are the most costly kind for the schema)
    opened = MAX_EXPR_DEPTH - 4
    return "len(" + "[" * opened + '"a${' + "not " * 2 + 'true}"' + "]" * opened + ")"


def _deepest_allowed(kind: str) -> str:
    """Blocks of one kind nested as deep as allowed, and inside the innermost
    an expression as deep as allowed: the deepest IR the compiler may produce."""
    if kind == "on error":
        lookup = 'y = crm.customer(phone: "1")'
        return HEAD + f"  {lookup}" + f" on error -> {lookup}" * (MAX_BLOCK_DEPTH - 1) + \
            f" on error -> x = {_deepest_value()}\n  log x\n  hangup\n"
    opening = {
        "if": ['if caller.number == "1":'],
        "match": ["match caller.number:", '  "1":'],
        "menu": ['menu prompt tts "x" timeout 5s:', "  timeout, invalid -> hangup", "  1:"],
    }[kind]
    lines, indent = [HEAD], 1
    for _ in range(MAX_BLOCK_DEPTH):
        lines += ["  " * indent + line + "\n" for line in opening]
        indent += 1 if kind == "if" else 2  # an arm's block is under the arm
    inner = "  " * indent
    lines.append(f"{inner}x = {_deepest_value()}\n{inner}log x\n{inner}hangup\n")
    return "".join(lines) + "  hangup\n"


def _stack_used_by(depth: int, fn):
    """Run fn below `depth` extra frames, as a caller with a deep stack would."""
    if depth == 0:
        return fn()
    return _stack_used_by(depth - 1, fn)


@pytest.mark.parametrize("kind", ["if", "match", "menu", "on error"])
def test_the_deepest_allowed_flow_compiles_and_its_ir_passes_both_schema_checks(
        kind: str, tmp_path: Path) -> None:
    from ccdsl.compiler.ir_schema import validate_ir
    from ccdsl.runtime.core.ir import schema_errors

    path = _write(tmp_path, _deepest_allowed(kind))
    result = compile_file(str(path))
    assert result.ok and result.ir is not None, result.diagnostics
    # a quarter of Python's default limit is left over for whoever calls
    headroom = sys.getrecursionlimit() // 4
    assert _stack_used_by(headroom, lambda: validate_ir(result.ir)) == []
    assert _stack_used_by(headroom, lambda: schema_errors(result.ir)) == []
    assert _stack_used_by(headroom, lambda: compile_file(str(path)).ok)
    assert ccf("compile", str(path), "-o", str(tmp_path / "deep.json")).exit_code == 0


def test_deepest_definitions_in_a_chain_are_checked_in_a_shallow_stack(tmp_path: Path) -> None:
    # each constant and variable as deep as allowed, defined by the next at
    # its innermost level, and used at the innermost block
    def deepest(ref: str) -> str:
        return "len(" + "[" * (MAX_EXPR_DEPTH - 1) + ref + "]" * (MAX_EXPR_DEPTH - 1) + ")"

    consts = "".join(f"const c{i} = {deepest(f'c{i + 1}')}\n" for i in range(50))
    lines = [f"flow deep\n\n{consts}const c50 = 1\n\non start:\n  answer\n"]
    for depth in range(1, MAX_BLOCK_DEPTH + 1):
        lines.append("  " * depth + 'if caller.number == "1":\n')
    inner = "  " * (MAX_BLOCK_DEPTH + 1)
    lines.append(f"{inner}v0 = {deepest('v1')}\n{inner}v1 = {deepest('c0')}\n"
                 f"{inner}log v0\n{inner}hangup\n")
    path = _write(tmp_path, "".join(lines) + "  hangup\n")
    headroom = sys.getrecursionlimit() // 4
    assert _stack_used_by(headroom, lambda: compile_file(str(path)).ok)


def test_one_level_more_is_refused(tmp_path: Path) -> None:
    assert ccf("validate", str(_write(tmp_path, nested_ifs(MAX_BLOCK_DEPTH)))).exit_code == 0
    assert ccf("validate", str(_write(tmp_path, nested_ifs(MAX_BLOCK_DEPTH + 1)))).exit_code == 1
    assert ccf("validate", str(_write(tmp_path, nested_not(MAX_EXPR_DEPTH)))).exit_code == 0
    assert ccf("validate", str(_write(tmp_path, nested_not(MAX_EXPR_DEPTH + 1)))).exit_code == 1
    # n comparisons: n - 1 `or`, then `==` and the field `caller.number`
    assert ccf("validate", str(_write(tmp_path, or_chain(MAX_EXPR_DEPTH - 1)))).exit_code == 0
    assert ccf("validate", str(_write(tmp_path, or_chain(MAX_EXPR_DEPTH)))).exit_code == 1


def test_an_interpolation_counts_from_where_its_string_stands(tmp_path: Path) -> None:
    # alone it is allowed; inside an expression as deep as allowed it is one too many
    deep = "not " * (MAX_EXPR_DEPTH - 1)
    alone = _write(tmp_path, HEAD + f'  log "${{{deep}true}}"\n  hangup\n')
    assert compile_file(str(alone)).ok
    inside = "[" * (MAX_EXPR_DEPTH - 1) + f'"${{{deep}true}}"' + "]" * (MAX_EXPR_DEPTH - 1)
    result = compile_file(str(_write(tmp_path, assigned(inside))))
    assert "E012" in [d.code for d in result.diagnostics]


DEEP = {  # each under the 4 MiB a flow file may have
    "nested ifs": nested_ifs(1200),
    "nested menus": HEAD + "".join(
        "  " * (2 * i + 1) + 'menu prompt tts "x" timeout 5s:\n' + "  " * (2 * i + 2) + "1:\n"
        for i in range(400)) + "  " * 801 + "hangup\n",
    "chained plus": chained_plus(1500),
    "nested not": nested_not(1500),
    "nested minus": assigned("-" * 1500 + "1"),
    "nested lists": assigned("[" * 1500 + "]" * 1500),
    "nested calls": assigned("len(" * 1500 + '"a"' + ")" * 1500),
    "field chain": assigned("caller" + ".number" * 1500),
    "conditional chain": assigned("1 if true else " * 1500 + "1"),
    "interpolation": HEAD + '  log "${' + "not " * 1500 + 'true}"\n  hangup\n',
    "option of a declaration": "flow deep\n\nqueue q max_wait " + "1s + " * 1500
    + "1s\n\non start:\n  hangup\n",
    "on error chain": HEAD + '  x = crm.customer(phone: "1")'
    + ' on error -> x = crm.customer(phone: "1")' * 1500 + "\n  log x\n  hangup\n",
}


@pytest.mark.parametrize("case", sorted(DEEP))
def test_far_too_deep_input_is_a_diagnostic_everywhere(case: str, tmp_path: Path) -> None:
    from ccdsl.compiler.formatter import format_source

    path = _write(tmp_path, DEEP[case])
    checked = ccf("validate", "--format", "json", str(path))
    assert checked.exit_code == 1
    assert set(_codes(checked.stdout)) & {"E011", "E012"}, checked.stdout
    assert ccf("compile", str(path)).exit_code == 1
    _, diags = format_source(DEEP[case], str(path))
    assert {d.code for d in diags} & {"E011", "E012"}


def test_parentheses_are_not_a_level(tmp_path: Path) -> None:
    # the parser keeps no node for them, so nothing recurses over them
    path = _write(tmp_path, assigned("(" * 5000 + "1" + ")" * 5000))
    assert ccf("compile", str(path), "-o", str(tmp_path / "deep.json")).exit_code == 0


def test_the_levels_are_the_expression_rules_of_the_builder() -> None:
    from ccdsl.compiler.build_expr import ExprBuilder
    from ccdsl.compiler.limits import LEAVES, OPERATIONS

    rules = {name[2:] for name in dir(ExprBuilder) if name.startswith("e_")}
    assert OPERATIONS | LEAVES == rules and not OPERATIONS & LEAVES


# ---- chains of definitions: no limit, and no recursion along them ---------------------------

# past Python's recursion limit however few frames a link costs
CHAIN = 1200


def _chain_flows() -> dict[str, str]:
    n = CHAIN
    head = "flow chain\n\n"
    return {
        # each defined by the next: resolving the first resolves them all
        "constants": head + "".join(f"const c{i} = c{i + 1} + 1\n" for i in range(n))
        + f"const c{n} = 1\n\non start:\n  log c0\n  hangup\n",
        "constants in a cycle": head + "".join(f"const c{i} = c{(i + 1) % n} + 1\n"
                                               for i in range(n))
        + "\non start:\n  log c0\n  hangup\n",
        "variables": HEAD + "".join(f"  v{i} = v{i + 1} + 1\n" for i in range(n))
        + f"  v{n} = 1\n  log v0\n  hangup\n",
        "lists of lists": HEAD + "  v0 = 1\n" + "".join(f"  v{i + 1} = [v{i}]\n" for i in range(n))
        + f"  log v{n}\n  hangup\n",
        "sub-flow calls": HEAD + "  x = f0()\n  log x\n  hangup\n"
        + "".join(f"sub f{i}():\n  return f{i + 1}()\n" for i in range(n))
        + f"sub f{n}():\n  return 1\n",
        "routing rules": HEAD + "  route r0\n"
        + "".join(f"routing r{i}:\n  otherwise -> route r{i + 1}\n" for i in range(n))
        + f"routing r{n}:\n  otherwise -> hangup\n",
    }


@pytest.mark.parametrize("case", sorted(_chain_flows()))
def test_long_chains_of_definitions_compile_without_following_them_down_the_stack(
        case: str, tmp_path: Path) -> None:
    path = _write(tmp_path, _chain_flows()[case])
    # checked and lowered (the IR is as flat as ever: its schema check is no
    # concern here, and slow on thousands of declarations)
    result = compile_file(str(path))
    assert result.ok and result.ir is not None, \
        [d for d in result.diagnostics if d.is_error][:3]
    assert ccf("validate", str(path)).exit_code == 0


def test_a_long_chain_of_used_modules(tmp_path: Path) -> None:
    (tmp_path / "main.ccf").write_text(
        "flow main\n\nuse m0\n\non start:\n  answer\n  log m0.f()\n  hangup\n", encoding="utf-8")
    for i in range(CHAIN):
        uses = f"use m{i + 1}\n\n" if i + 1 < CHAIN else ""
        value = f"m{i + 1}.f()" if uses else "1"
        (tmp_path / f"m{i}.ccf").write_text(
            f"flow m{i}\n\n{uses}sub f():\n  return {value}\n", encoding="utf-8")
    result = compile_file(str(tmp_path / "main.ccf"))
    assert result.ok and len(result.program.modules) == CHAIN + 1
    # the last module's syntax error, and the cycle back to the first, are reported
    (tmp_path / f"m{CHAIN - 1}.ccf").write_text("flow m\n\nsub f()\n", encoding="utf-8")
    assert "E001" in ccf("validate", str(tmp_path / "main.ccf")).output
    (tmp_path / f"m{CHAIN - 1}.ccf").write_text(
        "flow m\n\nuse m0\n\nsub f():\n  return 1\n", encoding="utf-8")
    assert "E104" in ccf("validate", str(tmp_path / "main.ccf")).output


def test_a_long_loop_of_steps_is_reported_as_a_loop(tmp_path: Path) -> None:
    steps = "".join(f"step s{i}:\n  log {i}\n  goto s{(i + 1) % CHAIN}\n" for i in range(CHAIN))
    path = _write(tmp_path, HEAD + "  goto s0\n" + steps)
    result = ccf("validate", "--format", "json", str(path))
    assert result.exit_code == 1 and _codes(result.stdout) == ["E205"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 11), max_size=3), min_size=1, max_size=12),
       st.lists(st.integers(0, 11), min_size=1, max_size=5))
def test_chains_give_what_a_recursive_memo_gives(graph, asked) -> None:
    # each node's value: 1 + the sum of its dependencies' values, 0 where a
    # node meets itself again; cycles make the answer depend on the order of
    # questions, which both must follow alike
    from ccdsl.compiler.chains import Chains

    deps = {i: [d for d in ds if d < len(graph)] for i, ds in enumerate(graph)}
    memo: dict[int, int] = {}
    busy: set[int] = set()

    def recursive(node: int) -> int:
        if node in memo:
            return memo[node]
        if node in busy:
            return 0
        busy.add(node)
        value = 1 + sum(recursive(d) for d in deps[node])
        busy.discard(node)
        memo[node] = value
        return value

    chains: Chains[int] = Chains(on_cycle=0)

    def shallow(node: int) -> int:
        return chains.get(node, lambda: 1 + sum(shallow(d) for d in deps[node]))

    for node in asked:
        if node < len(graph):
            assert shallow(node) == recursive(node)
    assert chains.values == memo
