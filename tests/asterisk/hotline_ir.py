"""The IWS example's hotline compiled once a module, as the deploy and flow-store tests take
it: fixtures named `hotline` (a test module imports the one it wants); it asserts nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

HOTLINE = Path(__file__).resolve().parents[2] / "examples" / "iws" / "hotline.ccf"


def _compiled() -> dict:
    from ccdsl.compiler.pipeline import compile_file

    return compile_file(str(HOTLINE)).ir


@pytest.fixture(scope="module", name="hotline")
def hotline_ir() -> dict:
    """examples/iws/hotline.ccf's IR, its test blocks in it."""
    return _compiled()


@pytest.fixture(scope="module", name="hotline")
def hotline_deployed() -> dict:
    """examples/iws/hotline.ccf's IR without its test blocks, as `ccf deploy` stores it."""
    return {**_compiled(), "tests": []}


def variant(ir: dict, title: str) -> dict:
    """The flow with another title: a new version to deploy, its logic unchanged."""
    return {**ir, "flow": {**ir["flow"], "title": title}}
