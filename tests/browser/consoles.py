"""The console rigs the supervisor's pages are opened over in Chromium, as fixtures named
`console` (a test module imports the one it is over); no page is opened here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ccdsl.runtime.operations.console_settings import ConsoleSettings
from tests.console.flows_rig import flows_console
from tests.console.rig import Console


@pytest.fixture(name="console")
def with_sups_device(tmp_path: Path) -> Iterator[Console]:
    """The console rig with its users in users.json and sup's supervisor device (2001): the
    wallboard offers Listen, Whisper and Barge."""
    rig = Console(tmp_path, settings=ConsoleSettings(users=str(tmp_path / "users.json"),
                                                     supervisor_devices={"sup": "2001"}))
    yield rig
    rig.close()


@pytest.fixture(name="console", scope="module")
def flows_drawn(tmp_path_factory) -> Iterator[Console]:
    """The flows rig's console (tests/console/flows_rig.py): both flows drawn over its calls,
    one for the module (simulating the calls is the slow part)."""
    rig, _ = flows_console(tmp_path_factory.mktemp("flows-drawn"))
    try:
        yield rig
    finally:
        rig.close()
