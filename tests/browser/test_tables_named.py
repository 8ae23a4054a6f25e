"""Every table has a name of its own, as a screen reader's list of tables reads it, and every
header cell a scope: the HTML report (`ccf report -f html`) and the console's Reports page,
checked with a11y_rules.js's "table without a name" and "th without scope" rules and by the
accessible names get_by_role computes."""

from __future__ import annotations

import re

import pytest
from ccf_cli import ccf
from reports import busy

from tests.console.flows_rig import DAY
from tests.console.rig import PASSWORD

from .a11y import breaches
from .consoles import flows_drawn  # noqa: F401 - the `console` of this module
from .screens import logged_in, viewing

UNNAMED = "table without a name"
UNSCOPED = "th without scope"
NODES = "Per node: steps, waits in queues, handlers"  # the nodes section's heading


def names(page) -> list[str]:
    """Each table's accessible name as Chromium computes it, in page order."""
    tables = page.get_by_role("table")
    return [tables.nth(i).evaluate("t => t.getAttribute('aria-labelledby').split(' ').map("
                                   "i => document.getElementById(i).textContent).join(' ')")
            for i in range(tables.count())]


def test_the_rule_finds_a_table_without_a_name(browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.set_content("<main><h1>t</h1><h2 id='x'>Queues</h2><table id='bare'><thead><tr>"
                         "<th scope='col'>a</th></tr></thead></table><table aria-labelledby="
                         "'x'><thead><tr><th scope='col'>a</th></tr></thead></table>"
                         "<table><caption>Captioned</caption><tr><td>1</td></tr></table></main>")
        found = [f for f in breaches(page) if f.startswith(UNNAMED)]
        assert found == ['table without a name: table#bare "a"'], found
    finally:
        context.close()


def test_the_rule_finds_a_header_without_a_scope(browser) -> None:
    """A <th> heads its column or its row only with scope="col" or "row" (or a spanning
    heading's "colgroup"): one without, a heading row spanning the table among them, fails."""
    context = browser.new_context()
    page = context.new_page()
    try:
        page.set_content("<main><h1>t</h1><h2 id='x'>Queues</h2><table aria-labelledby='x'>"
                         "<thead><tr><th>bare</th><th scope='col'>a</th></tr></thead><tbody>"
                         "<tr><th colspan='2'>spanning</th></tr><tr><th colspan='2' "
                         "scope='colgroup'>group</th></tr><tr><th scope='row'>r</th><td>1</td>"
                         "</tr></tbody></table></main>")
        found = [f for f in breaches(page) if f.startswith(UNSCOPED)]
        assert found == ['th without scope: th "bare"', 'th without scope: th "spanning"'], found
    finally:
        context.close()


def test_every_table_of_the_html_report_is_named(browser, tmp_path) -> None:
    store = busy.write_busy_store(tmp_path / "calls.db")
    out = tmp_path / "report.html"
    result = ccf("report", "--store", store, "-f", "html", "-o", str(out),
                 "--from", busy.DAY, "--to", busy.DAY)
    assert result.exit_code == 0, result.output
    with viewing(browser, out.as_uri(), 1280) as (page, watched):
        assert page.locator("table").count() >= 7
        assert [f for f in breaches(page) if f.startswith((UNNAMED, UNSCOPED))] == []
        assert page.get_by_role("table", name="Per queue", exact=True).count() == 1
        for part in ("Steps and menus", "Waits in queues", r"Handlers \(.*\)"):
            # a part of the nodes section: the section's heading, then the part's own
            named = re.compile(rf"^{NODES} {part}$")
            assert page.get_by_role("table", name=named).count() == 1, (part, names(page))
        assert watched.errors == []


@pytest.mark.parametrize("path", ["/reports", "/agents"])
def test_every_table_of_the_consoles_pages_is_named(browser, console, path: str) -> None:
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        page.goto(f"{path}?since={DAY}&until={DAY}" if path == "/reports" else path)
        assert page.locator("table").count() >= 1
        assert [f for f in breaches(page) if f.startswith(UNNAMED)] == []
        if path == "/reports":
            assert page.get_by_role("table", name="Per queue", exact=True).count() == 1
            named = re.compile(rf"^{NODES} Waits in queues$")
            assert page.get_by_role("table", name=named).count() == 1
        else:
            assert page.get_by_role("table", name="Agents", exact=True).count() == 1
        assert not watched.errors, watched.errors
