"""The console rig (tests/console/rig.py) as the `console` fixture, one definition for the
console's test folders: each conftest (and a browser test module) imports it."""

from __future__ import annotations

import pytest

from tests.console.rig import Console


@pytest.fixture
def console(tmp_path):
    rig = Console(tmp_path)
    yield rig
    rig.close()
