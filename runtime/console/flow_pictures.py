"""What the console's Flows page draws with: the flows in service and each one's picture with
its traffic, handed in by the cli (the console must not compile). Plain data and a guard
that lets only Graphviz's drawing elements into a page."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger("ccdsl.console")


@dataclass(frozen=True)
class FlowPicture:
    """A flow drawn: `svg` the markup to put in the page as is (None when
    it cannot be drawn), `note` what its numbers cover or why there is no
    drawing, `source` the flow's file."""

    svg: str | None
    note: str
    source: str = ""


@dataclass(frozen=True)
class FlowDrawings:
    """`names()`: the flows running now; `draw(flow, since, until)`: its
    picture with the traffic of its calls that started from `since` up to
    `until` (excluded), None for a flow not running. `draw` may compile and
    run Graphviz: the page calls it off the event loop."""

    names: Callable[[], Sequence[str]]
    draw: Callable[[str, datetime | None, datetime | None], FlowPicture | None]


SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
# what Graphviz's SVG is made of; anything else (a script, a foreignObject, an image)
# keeps the drawing out of the page
ELEMENTS = frozenset(SVG + name for name in (
    "svg", "g", "title", "a", "path", "polygon", "polyline", "ellipse", "text", "defs"))
NO_ATTRIBUTES = ("on", "href", XLINK + "href", "style", "src")


class UnsafeDrawing(ValueError):
    """SVG markup with something a drawing of a flow never holds."""


def checked_svg(markup: str) -> str:
    """The markup when it is one <svg> of drawing elements only, no event
    handlers, links or inline styles (the page's CSP refuses those); else
    UnsafeDrawing. Text from the flow reaches the page escaped by Graphviz:
    this makes sure nothing else does."""
    try:
        root = ET.fromstring(markup)
    except ET.ParseError as exc:
        raise UnsafeDrawing(f"not well-formed SVG ({exc})") from None
    for element in root.iter():
        if element.tag not in ELEMENTS:
            raise UnsafeDrawing(f"an element {element.tag.removeprefix(SVG)!r}")
        for name in element.attrib:
            if name.lower().startswith(NO_ATTRIBUTES):
                raise UnsafeDrawing(f"an attribute {name!r}")
    return markup
