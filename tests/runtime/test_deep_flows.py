"""Flows nested or chained past Python's recursion limit end as defined, never by RecursionError.

The chains the compiler accepts (constants, sub-flows, routing rules, lists
in variables, 1200 long), the sub-flow limit at and past it with the
deepest level the compiler allows, and hand-made IR nested past the
compiler's limits, refused by load_program. Flows are built as text, as in
tests/test_compiler_limits.py, and run in process through the simulator and
`ccf simulate`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from ccf_cli import ccf

from ccdsl.compiler import limits
from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.builtins.external import _parsed_json
from ccdsl.runtime.core.crm import codec
from ccdsl.runtime.core.crm.http import _json as crm_json
from ccdsl.runtime.core.errors import ExternalError, IRError
from ccdsl.runtime.core.ir import load_program, schema_errors
from ccdsl.runtime.core.nesting import MAX_SUB_DEPTH
from ccdsl.runtime.core.values import MAX_VALUE_DEPTH
from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.sim.scenario import run_simulation, simulation

# past Python's recursion limit however few frames a link costs
CHAIN = 1200
HEAD = "flow deep\n\non start:\n  answer\n"


def _write(tmp_path: Path, text: str, name: str = "deep.ccf") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _compiled(tmp_path: Path, text: str) -> dict:
    result = compile_file(str(_write(tmp_path, text)))
    assert result.ok and result.ir is not None, \
        [d for d in result.diagnostics if d.is_error][:3]
    return result.ir


def _call(ir: dict, agents=()):
    scenario = simulation(ir, caller="+8613800000001", at="2026-12-07 10:00 UTC",
                          agents=agents)
    return run_simulation(ir, scenario)


def _logs(run) -> list[str]:
    return [e.data["message"] for e in run.events if e.kind == "log"]


def _errors(run) -> list[dict]:
    return [e.data for e in run.events if e.kind == "error"]


def _no_internal_error(run) -> None:
    assert not [e for e in _errors(run) if e["kind"] == "internal"], _errors(run)


def _stack_used_by(depth: int, fn):
    """Run fn below `depth` extra frames, as a caller with a deep stack would."""
    if depth == 0:
        return fn()
    return _stack_used_by(depth - 1, fn)


def _deepest_stack(fn) -> tuple[int, object]:
    """How many Python frames deeper than its caller fn's stack ever gets
    (a coroutine resumed counts as called again, suspended as returned)."""
    depth = [0, 0]

    def profile(frame, event, arg) -> None:
        if event == "call":
            depth[0] += 1
            depth[1] = max(depth[1], depth[0])
        elif event == "return":
            depth[0] -= 1

    sys.setprofile(profile)
    try:
        result = fn()
    finally:
        sys.setprofile(None)
    return depth[1], result


# ---- constants ---------------------------------------------------------------------------


def constants_chain(n: int) -> str:
    return "flow chain\n\n" + "".join(f"const c{i} = c{i + 1} + 1\n" for i in range(n)) \
        + f"const c{n} = 1\n\non start:\n  answer\n  log c0\n  hangup\n"


def test_a_chain_of_constants_gives_the_value_it_always_gave(tmp_path: Path) -> None:
    for n in (3, CHAIN):
        run = _call(_compiled(tmp_path, constants_chain(n)))
        _no_internal_error(run)
        assert _logs(run) == [str(n + 1)]
        assert run.result.outcome == "hangup" and run.result.hung_up_by == "flow"


def test_constants_are_still_evaluated_lazily_and_in_order(tmp_path: Path) -> None:
    # each constant calls a sub-flow, then needs the next: the marks come in
    # the order a recursive evaluation makes them, each once
    consts = "".join(f"const c{i} = mark({i}) + c{i + 1}\n" for i in range(CHAIN))
    text = (f"flow chain\n\n{consts}const c{CHAIN} = 0\n"
            "const a = caller.number != \"\" or b\nconst b = not a\n\n"
            "on start:\n  answer\n  log a\n  log c0\n  log c0\n  hangup\n\n"
            "sub mark(i):\n  log \"${i}\"\n  return 1\n")
    run = _call(_compiled(tmp_path, text))
    _no_internal_error(run)
    # `a` needs no `b` (which would close a cycle): not evaluated
    assert _logs(run) == ["true", *map(str, range(CHAIN)), str(CHAIN), str(CHAIN)]


def test_a_cycle_of_constants_is_a_flow_error_naming_it(tmp_path: Path) -> None:
    consts = "".join(f"const c{i} = c{(i + 1) % CHAIN} + 1\n" for i in range(CHAIN))
    text = (f"flow cycle\n\n{consts}\non start:\n  answer\n  log c0\n  hangup\n\n"
            "on error:\n  log \"handled\"\n  hangup\n")
    run = _call(_compiled(tmp_path, text))
    [error] = _errors(run)
    assert error["kind"] == "flow" and not error["handled"]
    assert error["message"] == ("the constant `c0` is defined in terms of itself: "
                                "`c0` -> `c1` -> `c2` -> ... -> `c1198` -> `c1199` -> `c0`")
    assert error["where"]["line"] == 2 + CHAIN  # `const c1199 = c0 + 1`, where it closes
    assert _logs(run) == ["handled"]
    assert run.result.outcome == "error"


# ---- sub-flows -----------------------------------------------------------------------------


def subs_chain(n: int, *, on_error: str = "") -> str:
    return HEAD + f"  x = f0(){on_error}\n  log x\n  hangup\n" \
        + "".join(f"sub f{i}():\n  return f{i + 1}()\n" for i in range(n)) \
        + f"sub f{n}():\n  return 1\n"


def test_sub_flows_nest_up_to_the_limit(tmp_path: Path) -> None:
    # f0 ... f99: MAX_SUB_DEPTH calls active at once
    run = _call(_compiled(tmp_path, subs_chain(MAX_SUB_DEPTH - 1)))
    assert _errors(run) == [] and _logs(run) == ["1"]


def test_a_chain_of_sub_flows_past_the_limit_is_a_flow_error(tmp_path: Path) -> None:
    run = _call(_compiled(tmp_path, subs_chain(CHAIN)))
    [error] = _errors(run)
    assert error["kind"] == "flow" and not error["handled"]
    assert error["message"] == (
        f"calling `f{MAX_SUB_DEPTH}` would make {MAX_SUB_DEPTH + 1} sub-flow calls active at "
        f"once; at most {MAX_SUB_DEPTH} may be: `f0` -> `f1` -> `f2` -> ... -> `f98` -> "
        "`f99` -> `f100`")
    # at the call of f100, in f99
    assert error["where"]["line"] == 9 + 2 * (MAX_SUB_DEPTH - 1)
    assert run.result.outcome == "error" and run.result.error == error["message"]


def test_the_flow_handles_the_sub_flow_limit_like_any_flow_error(tmp_path: Path) -> None:
    run = _call(_compiled(tmp_path, subs_chain(CHAIN, on_error=" on error -> x = -1")))
    [error] = _errors(run)
    assert error["handled"] and str(MAX_SUB_DEPTH) in error["message"]
    assert _logs(run) == ["-1"] and run.result.outcome == "hangup"
    run = _call(_compiled(tmp_path, subs_chain(CHAIN) + "\non error:\n  log \"handled\"\n"
                          "  hangup\n"))
    assert _logs(run) == ["handled"] and run.result.outcome == "error"


def test_recursion_counts_towards_the_limit(tmp_path: Path) -> None:
    text = HEAD + "  x = f(n: {N})\n  log x\n  hangup\n\n" \
        "sub f(n):\n  if n > 0:\n    return f(n: n - 1) + 1\n  return 0\n"
    run = _call(_compiled(tmp_path, text.replace("{N}", str(MAX_SUB_DEPTH - 1))))
    assert _errors(run) == [] and _logs(run) == [str(MAX_SUB_DEPTH - 1)]
    run = _call(_compiled(tmp_path, text.replace("{N}", str(MAX_SUB_DEPTH))))
    [error] = _errors(run)
    assert error["message"] == (
        f"calling `f` would make {MAX_SUB_DEPTH + 1} sub-flow calls active at once; at most "
        f"{MAX_SUB_DEPTH} may be (a sub-flow that calls itself without end?): "
        "`f` -> `f` -> `f` -> ... -> `f` -> `f` -> `f`")


def _level(body: list[str], indent: int) -> str:
    """`body` inside blocks nested as deep as the compiler allows."""
    lines = ["  " * (indent + d) + 'if caller.number != "":\n'
             for d in range(limits.MAX_BLOCK_DEPTH)]
    inner = "  " * (indent + limits.MAX_BLOCK_DEPTH)
    return "".join(lines) + "".join(f"{inner}{line}\n" for line in body)


def _deepest_call(ref: str) -> str:
    """A call inside an expression as deep as the compiler allows (the
    call, `len` and each list are a level; lists cost the most frames)."""
    lists = limits.MAX_EXPR_DEPTH - 2
    return "len(" + "[" * lists + ref + "]" * lists + ")"


def deepest_subs(n: int) -> str:
    """n sub-flows active at once, each level (the handler's too) as deep
    as the compiler allows: the most stack a chain of sub-flows can ask for."""
    text = HEAD + _level([f"x = {_deepest_call('f0()')}", "log x", "hangup"], 1) + "  hangup\n"
    for i in range(n - 1):
        text += f"sub f{i}():\n" + _level([f"return {_deepest_call(f'f{i + 1}()')}"], 1) \
            + "  return 0\n"
    return text + f"sub f{n - 1}():\n  log \"bottom\"\n  return 1\n"


def test_at_the_limit_the_deepest_sub_flows_leave_the_stack_as_one_level_does(
        tmp_path: Path) -> None:
    # each level costs some 160 frames: a hundred on one stack would be
    # 16,000; nested ones run on stacks of their own, so the deepest stack
    # is that of two levels however many there are
    at_limit = _compiled(tmp_path, deepest_subs(MAX_SUB_DEPTH))
    two, run = _deepest_stack(lambda: _call(_compiled(tmp_path, deepest_subs(2))))
    assert _logs(run) == ["bottom", "1"]
    hundred, run = _deepest_stack(lambda: _call(at_limit))
    assert _errors(run) == [] and _logs(run) == ["bottom", "1"]
    assert hundred <= two < sys.getrecursionlimit() // 2, (two, hundred)
    # and it runs with half of Python's recursion limit used before the call
    run = _stack_used_by(sys.getrecursionlimit() // 2, lambda: _call(at_limit))
    assert _errors(run) == [] and _logs(run) == ["bottom", "1"]
    # one more is the flow error, not a RecursionError
    run = _call(_compiled(tmp_path, deepest_subs(MAX_SUB_DEPTH + 1)))
    [error] = _errors(run)
    assert error["kind"] == "flow" and f"`f{MAX_SUB_DEPTH}`" in error["message"]


def test_on_answered_by_agent_inside_nested_sub_flows(tmp_path: Path) -> None:
    text = HEAD + "  x = f0()\n  log x\n  hangup\n\non answered by agent:\n" \
        "  log \"answered ${g0()}\"\n\n" \
        + "".join(f"sub f{i}():\n  return f{i + 1}()\n" for i in range(50)) \
        + "sub f50():\n  route r\n  return 1\n\nrouting r:\n  agent \"zhang\"\n\n" \
        + "".join(f"sub g{i}():\n  return g{i + 1}()\n" for i in range(40)) \
        + "sub g40():\n  return \"deep\"\n"
    run = _call(_compiled(tmp_path, text), agents=[AgentSpec(id="zhang", answer_after_ms=1000)])
    assert _errors(run) == []
    assert _logs(run) == ["answered deep", "1"] and run.result.agent == "zhang"


# ---- routing rules ---------------------------------------------------------------------------


def routing_chain(n: int, links: dict[int, str] | None = None, last: str = "log \"end\"",
                  extra: str = "") -> str:
    """Rules r0 ... rn, each with a line that skips and `otherwise -> route`
    the next; `links` adds an `on error ->` to the route out of rule i."""
    links = links or {}
    rules = "".join(
        f"routing r{i}:\n  agent \"a{i}\" when caller.number == \"nobody\"\n"
        f"  otherwise -> route r{i + 1}{links.get(i, '')}\n" for i in range(n))
    return (HEAD + "  route r0\n  log \"after\"\n  hangup\n\n" + rules
            + f"routing r{n}:\n  agent \"z\" when {extra or 'false'}\n  otherwise -> {last}\n")


def test_a_chain_of_routing_rules_is_followed_in_order(tmp_path: Path) -> None:
    run = _call(_compiled(tmp_path, routing_chain(CHAIN)))
    _no_internal_error(run)
    decisions = [e.data for e in run.events if e.kind == "routing_decision"]
    assert [d["routing"] for d in decisions] == [f"r{i}" for i in range(CHAIN + 1)]
    assert {d["outcome"] for d in decisions} == {"skip"}
    assert _logs(run) == ["end", "after"] and run.result.outcome == "hangup"


def test_a_failure_deep_in_a_chain_goes_to_the_innermost_on_error(tmp_path: Path) -> None:
    # rule r1200's line fails; the routes out of r5 and r700 have `on error`
    # the caller has no name: a division by zero
    failing = '1 / len(caller.name ?? "") > 0'
    links = {5: ' on error -> log "caught at 5"', 700: ' on error -> log "caught at 700"'}
    run = _call(_compiled(tmp_path, routing_chain(CHAIN, links, extra=failing)))
    _no_internal_error(run)
    [error] = _errors(run)
    assert error["handled"] and error["message"].startswith("division by zero")
    assert error["where"]["line"] == 9 + 3 * CHAIN + 1  # the failing line of r1200
    assert _logs(run) == ["caught at 700", "after"]
    # without any, the flow's `route r0` gets it, as from one rule
    run = _call(_compiled(tmp_path, routing_chain(CHAIN, extra=failing)
                          + "\non error:\n  log \"handled\"\n  hangup\n"))
    [error] = _errors(run)
    assert not error["handled"] and error["where"]["line"] == 9 + 3 * CHAIN + 1
    assert _logs(run) == ["handled"] and run.result.outcome == "error"


def test_an_on_error_that_routes_on_continues_the_chain(tmp_path: Path) -> None:
    failing = '1 / len(caller.name ?? "") > 0'
    text = routing_chain(CHAIN, {700: " on error -> route s0"}, extra=failing) + "".join(
        f"routing s{i}:\n  otherwise -> route s{i + 1}\n" for i in range(CHAIN)) \
        + f"routing s{CHAIN}:\n  otherwise -> log \"s end\"\n"
    run = _call(_compiled(tmp_path, text))
    _no_internal_error(run)
    assert [e["handled"] for e in _errors(run)] == [True]
    assert _logs(run) == ["s end", "after"]


def test_routing_rules_in_a_cycle_end_on_the_step_budget(tmp_path: Path) -> None:
    text = HEAD + "  route r0\n  hangup\n\nrouting r0:\n  otherwise -> route r1\n\n" \
        "routing r1:\n  otherwise -> route r0\n"
    run = _call(_compiled(tmp_path, text))
    [error] = _errors(run)
    assert error["kind"] == "step_budget" and run.result.outcome == "error"


# ---- values ----------------------------------------------------------------------------------


def lists_chain(n: int) -> str:
    return HEAD + "  v0 = 1\n" + "".join(f"  v{i + 1} = [v{i}]\n" for i in range(n)) \
        + f"  log v{n}\n  hangup\n"


def test_a_value_nests_lists_at_most_to_the_limit(tmp_path: Path) -> None:
    run = _call(_compiled(tmp_path, lists_chain(MAX_VALUE_DEPTH)))
    # logged as the language writes it
    nested = "[" * MAX_VALUE_DEPTH + "1" + "]" * MAX_VALUE_DEPTH
    assert _errors(run) == [] and _logs(run) == [nested]
    run = _call(_compiled(tmp_path, lists_chain(CHAIN)))
    [error] = _errors(run)
    assert error["kind"] == "flow" and error["where"]["line"] == 6 + MAX_VALUE_DEPTH
    assert error["message"] == (
        f"this list would nest lists, maps and records more than {MAX_VALUE_DEPTH} levels "
        f"deep; a value nests at most {MAX_VALUE_DEPTH}")


def test_json_from_outside_nested_too_deep_is_refused_not_a_recursion() -> None:
    for depth in (MAX_VALUE_DEPTH + 1, 100_000):
        body = b"[" * depth + b"]" * depth
        value, why = _parsed_json(httpx.Response(200, content=body))  # http.get's `json`
        assert value is None and why == f"JSON nested more than {MAX_VALUE_DEPTH} levels deep"
        with pytest.raises(ExternalError, match=f"with {why}"):
            crm_json("crm find", httpx.Response(200, content=body))
        cell = body.decode()
        assert codec.decode(cell, "json") == cell  # a CRM cell reads as its text
    shallow = b"[" * MAX_VALUE_DEPTH + b"]" * MAX_VALUE_DEPTH
    assert _parsed_json(httpx.Response(200, content=shallow))[0] is not None
    assert crm_json("crm find", httpx.Response(200, content=shallow)) is not None


# ---- `ccf simulate` --------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["constants", "sub-flows", "routing rules", "lists"])
def test_ccf_simulate_ends_every_chain_without_an_internal_error(
        case: str, tmp_path: Path) -> None:
    text, expected = {
        "constants": (constants_chain(CHAIN), f"log: {CHAIN + 1}"),
        "sub-flows": (subs_chain(CHAIN), f"at most {MAX_SUB_DEPTH} may be"),
        "routing rules": (routing_chain(CHAIN), "log: end"),
        "lists": (lists_chain(CHAIN), f"a value nests at most {MAX_VALUE_DEPTH}"),
    }[case]
    path = _write(tmp_path, text)
    result = ccf("simulate", str(path), "--at", "2026-12-07 10:00 UTC")
    assert result.exit_code == 0, result.output
    assert expected in result.stdout and "internal error" not in result.stdout
    assert "call ended:" in result.stdout


# ---- loading IR nested deeper than the compiler writes -----------------------------------------


@pytest.fixture(scope="module")
def small_ir(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("ir")
    return _compiled(folder, HEAD + "  x = 1\n  log x\n  hangup\n")


def _with_value(ir: dict, value: dict) -> dict:
    doc = json.loads(json.dumps(ir))
    doc["handlers"]["start"]["body"][1]["value"] = value
    return doc


def _nots(n: int) -> dict:
    node: dict = {"lit": True, "type": "bool"}
    for _ in range(n):
        node = {"not": node}
    return node


def _ifs(ir: dict, n: int) -> dict:
    doc = json.loads(json.dumps(ir))
    body = doc["handlers"]["start"]["body"]
    loc = body[0]["loc"]
    ops = [{"op": "hangup", "loc": loc}]
    for _ in range(n):
        ops = [{"op": "if", "branches": [{"test": {"lit": True, "type": "bool"}, "body": ops}],
                "orelse": None, "loc": loc}]
    doc["handlers"]["start"]["body"] = [body[0], *ops]
    return doc


def test_ir_at_the_compilers_limits_loads_and_one_more_level_is_refused(small_ir: dict) -> None:
    load_program(_ifs(small_ir, limits.MAX_BLOCK_DEPTH))
    with pytest.raises(IRError) as refused:
        load_program(_ifs(small_ir, limits.MAX_BLOCK_DEPTH + 1))
    message = str(refused.value)
    assert message.startswith("the IR nests deeper than the compiler writes one: blocks "
                              f"nest {limits.MAX_BLOCK_DEPTH + 1} deep; the compiler nests "
                              f"them at most {limits.MAX_BLOCK_DEPTH} deep, at "
                              "/handlers/start/body/1/branches/0/.../")
    # the path to the op one block too deep, its middle left out
    assert message.endswith("/branches/0/body/0; was the IR edited by hand?")
    load_program(_with_value(small_ir, _nots(limits.MAX_EXPR_DEPTH)))
    with pytest.raises(IRError) as refused:
        load_program(_with_value(small_ir, _nots(limits.MAX_EXPR_DEPTH + 1)))
    assert (f"an expression nests {limits.MAX_EXPR_DEPTH + 1} levels deep; the compiler nests "
            f"one at most {limits.MAX_EXPR_DEPTH} levels deep, at /handlers/start/body/1/value/"
            "not/.../not/not/not/not/not; ") in str(refused.value)


def test_ir_far_too_deep_is_refused_before_the_schema_recurses(small_ir: dict) -> None:
    deep_ifs = _ifs(small_ir, CHAIN)
    deep_nots = _with_value(small_ir, _nots(100_000))
    deep_json = json.loads(json.dumps(small_ir))
    deep_json["flow"]["extra"] = []
    node = deep_json["flow"]["extra"]
    for _ in range(100_000):
        node.append([])
        node = node[0]
    for doc, problem in ((deep_ifs, "blocks nest 17 deep"),
                         (deep_nots, "an expression nests 33 levels deep"),
                         (deep_json, "lists and objects nest 257 deep")):
        with pytest.raises(IRError, match=problem):
            load_program(doc)
        [error] = schema_errors(doc)
        assert problem in error


def test_an_ir_file_nested_past_what_json_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"ir_version": "1.0", "flow": ' + "[" * 100_000 + "]" * 100_000 + "}",
                    encoding="utf-8")
    with pytest.raises(IRError, match="too deep to be read as JSON"):
        load_program(path)


def test_the_deepest_compiled_flow_loads_with_stack_to_spare(tmp_path: Path) -> None:
    ir = _compiled(tmp_path, deepest_subs(3))
    # a quarter of Python's limit used by whoever loads it
    program = _stack_used_by(sys.getrecursionlimit() // 4, lambda: load_program(ir))
    assert program.name == "deep"
