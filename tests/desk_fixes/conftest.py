from __future__ import annotations

import pytest

from tests.console.rig import Console


@pytest.fixture
def console(tmp_path):
    rig = Console(tmp_path)
    yield rig
    rig.close()
