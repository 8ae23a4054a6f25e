"""The console rig's `console` fixture (tests/console_rig.py)."""

from __future__ import annotations

from tests.console_rig import console  # noqa: F401 - the fixture, for this folder's tests
