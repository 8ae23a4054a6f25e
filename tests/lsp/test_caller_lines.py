"""The language server reports a caller's line above a test's `call` line as `ccf
validate` does (E303, tests/test_caller_lines_before_call.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ccf_cli import WELCOME_FLOW
from tests.lsp.conftest import open_file

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_press_above_the_call_is_reported_as_you_type(client, workspace: Path) -> None:
    path = workspace / "early_press.ccf"
    text = WELCOME_FLOW + ('\ntest "menu":\n  press "1"\n  call from "+8613900000001"\n'
                           "  expect played welcome\n")
    path.write_text(text, encoding="utf-8")
    found = await open_file(client, path)
    assert [(d.code, d.range.start.line + 1) for d in found] == [("E303", 13)]
    assert found[0].message.startswith(
        "`press` acts during the call: it comes after the `call` line")
