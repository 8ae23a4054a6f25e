"""`ccf graph --format html` in Chromium: the page reads at 1280 and 390 px wide (the
body never scrolls sideways; the graph may, inside its own box), with no console error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from browser.screens import shoot, viewing
from tests.ccf_cli import ccf

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(ROOT / "examples" / "iws" / "hotline.ccf")


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    # in a thread of its own: Playwright's event loop runs in this one, and a
    # simulated call runs its own
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_make_page, tmp_path_factory.mktemp("graph")).result()


def _make_page(folder: Path) -> Path:
    store = folder / "calls.db"
    for press in ("0 5", "1 20261128# 0 5", "2 4"):
        assert ccf("simulate", HOTLINE, "--store", str(store), "--at",
                   "2026-11-30 10:00 Asia/Shanghai", "--press", press).exit_code == 0
    out = folder / "hotline.html"
    assert ccf("graph", HOTLINE, "--store", str(store), "-o", str(out)).exit_code == 0
    return out


@pytest.mark.parametrize("width", [1280, 390])
def test_graph_page_fits_and_has_no_errors(browser, page_file: Path, width: int) -> None:
    with viewing(browser, page_file.as_uri(), width) as (page, watched):
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        box = page.locator("div.graph").bounding_box()
        assert box is not None and box["width"] <= width
        # fitted to the page, the whole flow shows: nothing to scroll inside its box
        assert page.evaluate("(b => b.scrollHeight <= b.clientHeight && "
                             "b.scrollWidth <= b.clientWidth)"
                             "(document.querySelector('div.graph'))")
        assert page.locator("div.graph svg text", has_text="main_menu").count() == 1
        assert "3 calls" in page.locator("p.covers").inner_text()
        assert watched.errors == []


# Graphviz's texts that cover one another by more than 2 px each way (the lines of a box
# sit 12 px apart, a hair less than an 11 px text's box)
OVERLAPS = """() => {
  const found = [];
  const texts = [...document.querySelectorAll('div.graph svg text')].map(
    t => ({text: t.textContent, r: t.getBoundingClientRect()}));
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      const a = texts[i].r, b = texts[j].r;
      if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2 &&
          Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2)
        found.push(`"${texts[i].text}" overlaps "${texts[j].text}"`);
    }
  }
  return found;
}"""
ON_START = """() => {
  const t = [...document.querySelectorAll('div.graph svg text')]
    .find(e => e.textContent === 'on start');
  const r = t.getBoundingClientRect();
  return {left: r.left, right: r.right, width: r.width, height: r.height};
}"""
GRAPH_BOX = """() => {
  const box = document.querySelector('div.graph');
  const svg = box.querySelector('svg').getBoundingClientRect();
  return {box: box.clientWidth, scroll: box.scrollWidth, svg: svg.width,
          high: box.clientHeight, scrollHigh: box.scrollHeight,
          natural: box.querySelector('svg').viewBox.baseVal.width};
}"""


def test_on_a_phone_the_whole_flow_shows_and_a_toggle_shows_it_actual_size(
        browser, page_file: Path) -> None:
    with viewing(browser, page_file.as_uri(), 390, 844) as (page, _):
        # at first the whole flow, fitted to the page's width: where it starts in view
        sizes = page.evaluate(GRAPH_BOX)
        assert sizes["natural"] > 390
        assert sizes["svg"] <= sizes["box"] and sizes["scroll"] <= sizes["box"]
        assert sizes["scrollHigh"] <= sizes["high"]  # nor cut at the bottom
        start = page.evaluate(ON_START)
        assert 0 <= start["left"] and start["right"] <= 390
        shoot(page, "graph-390-fitted")
        # "actual size": the graph at its own size (11 px text), scrolling in its box only
        page.get_by_text("Fit the flow to the page").click()
        sizes = page.evaluate(GRAPH_BOX)
        assert abs(sizes["svg"] - sizes["natural"]) < 1 and sizes["scroll"] > sizes["box"]
        assert page.evaluate(ON_START)["height"] >= 10
        assert page.evaluate(OVERLAPS) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, "graph-390-actual-size")

