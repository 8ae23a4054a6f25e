"""The browser tests' Chromium: Debian's /usr/bin/chromium driven by Playwright for Python,
headless, one browser for the session, a fresh context (cookies, storage) per user.

Missing Chromium fails these tests (it is not a skip): `make test-deps` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.console_rig import console  # noqa: F401 - the console rig's fixture, for the desk's tests

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# package scope, not session: Playwright's sync API keeps an event loop running in the
# main thread while it is open, and every later test's asyncio.run() would refuse to start
@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: the console's browser tests need Debian's "
                    "chromium (run make test-deps, which installs chromium and "
                    "chromium-driver)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: pip install -e '.[dev]'", pytrace=False)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
