"""The wallboard in Chromium as the supervisor's tests wait on it: zhang's call
(tests/console/test_wall.on_call, call live-1) shown live, then held; it asserts nothing."""

from __future__ import annotations

ZHANG = "#wall-agents tr[data-agent=zhang]"


def zhang_on_the_wall(page) -> None:
    """Back when the wallboard's stream is live and zhang's row offers Listen."""
    page.wait_for_selector("#wall-link.live")
    page.wait_for_selector(f"{ZHANG} button[data-monitor=listen]")


def zhang_held(console, page) -> None:
    """zhang holds call live-1; back when the wallboard's row says so."""
    console.run(console.desk.hold("zhang", "live-1", True))
    page.wait_for_function(f"() => document.querySelector('{ZHANG}')"
                           ".textContent.includes('on hold (')")
