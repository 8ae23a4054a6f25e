"""Golden DOT and Mermaid of `ccf graph`: tests/golden/graph/NAME.dot and NAME.mmd for
examples/iws/hotline.ccf and tests/golden/graph/every_kind.ccf (every kind of node and
arrow). Regenerate after an intended change with
`UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/graph/test_graph_golden.py`, then read
the files (and draw the .dot with `dot -Tsvg`) before committing them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ccf_cli import ccf

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "graph"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
FLOWS = {"hotline": "examples/iws/hotline.ccf", "every_kind": "tests/golden/graph/every_kind.ccf"}


@pytest.mark.parametrize("fmt, suffix", [("dot", ".dot"), ("mermaid", ".mmd")])
@pytest.mark.parametrize("name", sorted(FLOWS))
def test_golden(name: str, fmt: str, suffix: str, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the paths in the labels are as given, relative to the root
    result = ccf("graph", FLOWS[name], "--format", fmt)
    assert result.exit_code == 0, result.output
    expected = GOLDEN / f"{name}{suffix}"
    if UPDATE:
        expected.write_text(result.stdout, encoding="utf-8")
    assert expected.exists(), f"{expected.name} is missing; run with UPDATE_GOLDEN=1"
    assert result.stdout == expected.read_text(encoding="utf-8")
