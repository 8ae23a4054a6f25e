"""The op tables against the IR schema: every op the compiler may emit runs, once."""

from __future__ import annotations

import json
from pathlib import Path

from ccdsl.runtime.core.interpreter import OPS
from ccdsl.runtime.core.ops import agents, control, in_queue, loops, media, pausing

SCHEMA = Path(__file__).resolve().parents[2] / "compiler" / "ir.schema.json"


def schema_ops() -> set[str]:
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            op = (node.get("properties") or {}).get("op") if isinstance(
                node.get("properties"), dict) else None
            if isinstance(op, dict) and "const" in op:
                found.add(op["const"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return found


def test_every_op_of_the_ir_schema_has_an_implementation_and_no_more() -> None:
    ops = schema_ops()
    assert "answer" in ops and "route" in ops  # the schema walk finds ops at all
    assert set(OPS) == ops, (f"no implementation: {sorted(ops - set(OPS))}; "
                             f"not in the IR schema: {sorted(set(OPS) - ops)}")


def test_no_op_is_implemented_in_two_tables() -> None:
    tables = [control.OPS, media.OPS, agents.OPS, loops.OPS, pausing.OPS, in_queue.OPS]
    assert sum(len(t) for t in tables) == len(OPS)
