"""The clock the console's pages write (the wallboard's waits and heartbeats, an agent's
state, a call's length) is the one durations.clock_text writes, and never below 0:00, as
console.js's ccf.clock redraws it."""

from __future__ import annotations

import pytest

from ccdsl.runtime.console.templates import ENV


@pytest.mark.parametrize(("seconds", "shown"), [
    (None, "0:00"), (0, "0:00"), (65, "1:05"), (65.9, "1:05"), (3725, "1:02:05"),
    (-5, "0:00"),
])
def test_a_pages_clock(seconds, shown) -> None:
    assert ENV.from_string("{{ clock(s) }}").render(s=seconds) == shown
