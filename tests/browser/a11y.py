"""What a keyboard or screen-reader user meets on a console page, checked in Chromium: the
page's rules (one h1, landmarks, every control named, headers with a scope, no clickable
non-control, text contrast of at least 4.5:1) and the Tab order with a focus ring at each stop.

Read from the page itself (page.evaluate runs outside the page's CSP); nothing added to it.
"""

from __future__ import annotations

from pathlib import Path

from .screens import shoot

# each rule's breaches as "rule: what", [] when the page keeps them all
# (the file's opening comment left out: evaluate takes a function's text alone)
RULES = "\n".join(line for line in (Path(__file__).parent / "a11y_rules.js").read_text(
    encoding="utf-8").splitlines() if not line.startswith("//"))

# the element the keyboard is on, and whether it shows a ring (outline or box-shadow)
FOCUSED = """() => {
  const n = document.activeElement;
  if (!n || n === document.body) return null;
  const s = getComputedStyle(n);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
    || s.boxShadow !== 'none';
  // a label's words as read: what is not drawn (the flows' phone-only words) or hidden from
  // screen readers (a required field's star) left out
  const heard = (node) => {
    const walk = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    let words = '';
    while (walk.nextNode()) {
      const at = walk.currentNode.parentElement;
      const read = !at.closest('[aria-hidden=true]') && at.getClientRects().length;
      if (read) words += walk.currentNode.textContent;
    }
    return words;
  };
  const name = (n.getAttribute('aria-label') || (n.labels && n.labels[0] && heard(n.labels[0]))
    || n.textContent || n.getAttribute('title') || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
  return {tag: n.tagName.toLowerCase(), id: n.id, name, ring};
}"""


def breaches(page) -> list[str]:
    """The page's breaches of RULES ([] for a page that keeps them)."""
    return page.evaluate(RULES)


def tab_stops(page, most: int = 80) -> list[dict]:
    """Every stop of Tab on a page just loaded (nothing focused yet), in order, until focus
    comes round again (or leaves the page): each {tag, id, name, ring}."""
    stops: list[dict] = []
    for _ in range(most):
        page.keyboard.press("Tab")
        at = page.evaluate(FOCUSED)
        if at is None or (stops and at == stops[0]):
            break
        stops.append(at)
    return stops


def without_ring(stops: list[dict]) -> list[dict]:
    return [s for s in stops if not s["ring"]]


def kept(page, name: str) -> list[dict]:
    """The page keeps the rules at 1280 px and at a phone's 390 px, and rings every Tab stop,
    the first its skip link; its Tab stops, in order. Screenshot: a11y-NAME.png."""
    shoot(page, f"a11y-{name}")
    assert breaches(page) == [], name
    stops = tab_stops(page)
    assert stops, f"{name}: nothing to Tab to"
    assert without_ring(stops) == [], name
    assert stops[0]["name"] == "Skip to the page", name
    # on a phone the tables become a card a row: still headed, named and readable
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    assert breaches(page) == [], f"{name} at 390 px"
    page.set_viewport_size(size)
    return stops
