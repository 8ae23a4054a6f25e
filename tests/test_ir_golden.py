"""Golden IR: tests/golden/ok/NAME.ccf -> NAME.json, and the IR schema.

Layout (the same as tests/golden/errors):
- Each top-level `tests/golden/ok/NAME.ccf` is one golden; it must compile
  with no diagnostics at all, and its IR must equal NAME.json byte for byte.
- Files a golden imports live in a folder named after it,
  `tests/golden/ok/NAME/`, and are used as `use NAME.other`; they are
  never goldens themselves (only top-level .ccf files are).
- Paths in the IR are relative to the repository root.

Regenerate after an intended change with
`UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_ir_golden.py`, then
read the .json files before committing them.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from ccdsl.compiler.ir_schema import ir_schema, validate_ir
from ccdsl.compiler.lower import IR_VERSION, to_json
from ccdsl.compiler.pipeline import compile_file, find_flow_files

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "ok"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

CASES = sorted(p for p in GOLDEN.glob("*.ccf") if not p.name.endswith(".test.ccf"))


def compile_relative(path: Path):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return compile_file(path.relative_to(ROOT).as_posix())
    finally:
        os.chdir(cwd)


def golden_ir(case: Path) -> dict:
    result = compile_relative(case)
    assert [f"{d.code} {d.span.line}:{d.span.column} {d.message}"
            for d in result.diagnostics] == []
    assert result.ir is not None
    return result.ir


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_ir(case: Path) -> None:
    text = to_json(golden_ir(case))
    expected_file = case.with_suffix(".json")
    if UPDATE:
        expected_file.write_text(text, encoding="utf-8")
    assert expected_file.exists(), f"{expected_file.name} is missing; run with UPDATE_GOLDEN=1"
    assert text == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_ir_validates(case: Path) -> None:
    assert validate_ir(golden_ir(case)) == []


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_compiling_twice_gives_identical_json(case: Path) -> None:
    assert to_json(golden_ir(case)) == to_json(golden_ir(case))


def test_every_json_file_has_its_flow() -> None:
    stale = [p.name for p in GOLDEN.glob("*.json") if not p.with_suffix(".ccf").exists()]
    assert stale == []


def test_shipped_flows_lower_to_valid_ir() -> None:
    files, _ = find_flow_files([str(ROOT / "examples"), str(ROOT / "stdlib_flows")])
    compiled = {}
    for path in files:
        result = compile_relative(Path(path))
        # a module of an example (examples/iws/orders.ccf) is lowered with
        # the flow that uses it; alone it may not be a complete flow
        if result.ir is not None:
            compiled[Path(path).relative_to(ROOT).as_posix()] = validate_ir(result.ir)
    assert "examples/iws/hotline.ccf" in compiled
    assert {path: errors for path, errors in compiled.items() if errors} == {}


# ---- what the goldens must cover, taken together ----------------------------------


def _walk(value):
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _all_golden_irs() -> list[dict]:
    return [golden_ir(case) for case in CASES]


OP_KINDS = [k[3:] for k in ir_schema()["$defs"] if k.startswith("op_")]
EXPR_KINDS = [k[5:] for k in ir_schema()["$defs"] if k.startswith("expr_")
              and k != "expr_method"]


def test_goldens_use_every_op_kind() -> None:
    used = {n["op"] for ir in _all_golden_irs() for n in _walk(ir)
            if isinstance(n, dict) and "loc" in n and isinstance(n.get("op"), str)}
    assert sorted(set(OP_KINDS) - used) == []


def test_goldens_use_every_expression_kind_and_operator() -> None:
    nodes = [n for ir in _all_golden_irs() for n in _walk(ir) if isinstance(n, dict)]
    keys = {k for n in nodes for k in n}
    missing = [k for k in EXPR_KINDS if k not in keys]
    assert missing == []
    operators = set(ir_schema()["$defs"]["expr_op"]["properties"]["op"]["enum"])
    used = {n["op"] for n in nodes if "left" in n and "right" in n}
    assert sorted(operators - used) == []
    literal_types = set(ir_schema()["$defs"]["expr_lit"]["properties"]["type"]["enum"])
    assert sorted(literal_types - {n["type"] for n in nodes if "lit" in n}) == []
    assert any("method" in n for n in nodes)


def test_goldens_use_every_handler_and_menu_path() -> None:
    irs = _all_golden_irs()
    for handler in ("start", "hangup", "error", "answered_by_agent"):
        assert any(ir["handlers"][handler] for ir in irs), handler
    menus = [n for ir in irs for n in _walk(ir) if isinstance(n, dict) and n.get("op") == "menu"]
    for path in ("on_timeout", "on_invalid", "on_exhausted"):
        assert any(m[path] for m in menus), path
    assert any(ir["hours"] and any(h["closed"] and h["open"] for h in ir["hours"].values())
               for ir in irs)
    assert any(ir["tests"] for ir in irs)
    assert any(ir["modules"] for ir in irs)


# ---- the schema is strict ------------------------------------------------------------


def test_schema_rejects_an_op_without_location() -> None:
    ir = golden_ir(CASES[0])
    broken = copy.deepcopy(ir)
    op = next(n for n in _walk(broken) if isinstance(n, dict) and "op" in n and "loc" in n)
    del op["loc"]
    assert validate_ir(broken) != []


def test_schema_rejects_unknown_keys_and_op_kinds() -> None:
    ir = golden_ir(CASES[0])
    extra = copy.deepcopy(ir)
    extra["flow"]["colour"] = "blue"
    assert any("colour" in e for e in validate_ir(extra))
    unknown = copy.deepcopy(ir)
    op = next(n for n in _walk(unknown) if isinstance(n, dict) and n.get("op") == "hangup")
    op["op"] = "explode"
    assert validate_ir(unknown) != []


def test_schema_rejects_source_text_where_an_expression_belongs() -> None:
    ir = golden_ir(CASES[0])
    broken = copy.deepcopy(ir)
    const = next(iter(broken["constants"].values()))
    const["value"] = "1 + 2"
    assert validate_ir(broken) != []


def test_ir_carries_its_version() -> None:
    ir = golden_ir(CASES[0])
    assert ir["ir_version"] == IR_VERSION
    assert json.loads(to_json(ir)) == ir


# ---- the schema and ccdsl/options.py agree ---------------------------------------------

# which construct of ccdsl/options.py gives each op's `options`
OP_OPTIONS = {
    "op_play": "play", "op_say": "say", "op_collect": "collect", "op_route": "route",
    "op_queue": "queue statement", "op_transfer": "transfer", "op_three_way": "three_way",
    "op_record_start": "record", "op_voicemail": "voicemail", "op_wait": "wait",
    "op_menu": "menu", "op_callback": "callback",
}


def _required_options(schema_node: dict) -> set[str]:
    return set(next(part["required"] for part in schema_node["allOf"] if "required" in part))


@pytest.mark.parametrize("op, construct", sorted(OP_OPTIONS.items()))
def test_schema_requires_every_option_of_the_construct(op: str, construct: str) -> None:
    from ccdsl.options import options_for

    options = ir_schema()["$defs"][op]["properties"]["options"]
    assert _required_options(options) == {s.name for s in options_for(construct)}


def test_every_op_with_options_is_checked_against_the_options_table() -> None:
    with_options = {k for k, v in ir_schema()["$defs"].items()
                    if k.startswith("op_") and "options" in v.get("properties", {})}
    assert with_options == set(OP_OPTIONS)
