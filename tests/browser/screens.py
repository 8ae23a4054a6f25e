"""What the browser tests keep of each page: screenshots under build/screenshots/, console
errors, uncaught errors and failed requests; logging in through the /login form; the
charts' texts that overlap or leave their chart."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
TIMEOUT_MS = 10_000


def shoot(page, name: str) -> Path:
    """A full-page screenshot, build/screenshots/NAME.png (build/ is not committed)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Watched:
    """Every console message of type error (a CSP violation is one), every
    uncaught exception and every failed request of the pages watched."""

    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # answers of 400 and above

    def attach(self, page) -> None:
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: uncaught: {e}"))
        page.on("response", lambda r: self.refused.append(f"{r.request.method} {r.url}: "
                                                          f"{r.status}")
                if r.status >= 400 else None)
        page.on("requestfailed", lambda r: self.failed.append(f"{r.method} {r.url}: "
                                                              f"{r.failure}"))


def at_login(browser, url: str, watched: Watched):
    """A fresh context (its own cookies) at 1280 x 900, its page watched and on the log-in
    form."""
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watched.attach(page)
    page.goto("/login")
    return context, page


def log_in(browser, url: str, user: str, password: str, watched: Watched,
           shot: str | None = None):
    """A fresh context (its own cookies) logged in as `user` through the form."""
    context, page = at_login(browser, url, watched)
    if shot:
        shoot(page, shot)
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("#login")
    return context, page


@contextmanager
def logged_in(browser, url: str, user: str, password: str) -> Iterator[tuple[Any, Watched]]:
    """log_in's page and what it watched; its context closed when the block ends, failing
    or not."""
    watched = Watched()
    context, page = log_in(browser, url, user, password, watched)
    try:
        yield page, watched
    finally:
        context.close()


@contextmanager
def viewing(browser, url: str, width: int, height: int = 900) -> Iterator[tuple[Any, Watched]]:
    """A page (no log-in: a file the CLI wrote) opened at `url` in a fresh context of that
    size, and what it watched; the context closed when the block ends, failing or not."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        watched = Watched()
        watched.attach(page)
        page.goto(url)
        yield page, watched
    finally:
        context.close()


# every text of every chart against every other of the same chart, and against the chart's
# own box; a pair is reported with the chart's title
MEASURE = """() => {
  const found = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const chart = svg.getAttribute('aria-label');
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].map(
      t => ({text: t.childNodes[0].textContent, r: t.getBoundingClientRect()}));
    for (const a of texts) {
      if (a.r.left < box.left - 0.5 || a.r.right > box.right + 0.5 ||
          a.r.top < box.top - 0.5 || a.r.bottom > box.bottom + 0.5)
        found.push(`${chart}: "${a.text}" leaves the chart`);
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].r, b = texts[j].r;
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
          found.push(`${chart}: "${texts[i].text}" overlaps "${texts[j].text}"`);
      }
    }
  }
  return found;
}"""
