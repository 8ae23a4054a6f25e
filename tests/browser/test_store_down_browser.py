"""The console's page for a call store that cannot be read now (a PostgreSQL server down, a
file locked past its wait), in Chromium at 1280 and 390 px: its heading, the reason, try
again, the way back. tests/console/test_store_down.py has the real outage on a cluster;
here the store's reads fail as a locked file's do. Screenshots: pages-store-down-*.png."""

from __future__ import annotations

import sqlite3

from tests.console.rig import PASSWORD

from .consoles import with_sups_device  # noqa: F401 - the `console` of this module
from .screens import logged_in
from .test_pages_live import both_widths, fits, text_of


def test_the_store_down_page_says_why_and_how_back(browser, console, monkeypatch) -> None:
    def locked(*_args, **_kw):
        raise sqlite3.OperationalError("database is locked")

    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        monkeypatch.setattr(console.store, "query", locked)
        answer = page.goto("/history")
        assert answer.status == 503
        assert text_of(page, "h1") == "The call store cannot be read"
        said = text_of(page, "section.refused p:first-of-type")
        assert said.startswith("The call store cannot be read now (database is locked)")
        assert said.endswith("try again shortly.")
        both_widths(page, "store-down")
        assert fits(page)
        monkeypatch.undo()
        with page.expect_navigation():
            page.click("a.back")
        assert page.url.endswith("/wall")


def test_the_store_to_mend_page_says_what_is_wrong_without_try_again(browser, console,
                                                                     monkeypatch) -> None:
    def broken(*_args, **_kw):
        raise sqlite3.OperationalError("no such table: calls")

    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        monkeypatch.setattr(console.store, "query", broken)
        answer = page.goto("/history")
        assert answer.status == 503
        assert text_of(page, "h1") == "The call store cannot be read"
        said = text_of(page, "section.refused p:first-of-type")
        assert "no such table: calls" in said and "must be mended first" in said, said
        assert "try again" not in said
        both_widths(page, "store-to-mend")
        assert fits(page)
