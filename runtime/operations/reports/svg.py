"""Charts as inline SVG text, drawn here: the HTML report needs no script,
no library and no network to show them. Three kinds: stacked bars across (one
row per queue, agent, node), stacked columns over periods, and trend lines of
percentages over periods. Every text is placed from an estimate of its width
so that none overlaps another (tests/reports/test_report_browser.py measures
them in Chromium). Imports nothing of the runtime.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#3366aa", "#ee8833", "#cc3344", "#44aa66", "#8855bb", "#888888")
WIDTH = 500
PAD = 8
FONT, TITLE_FONT = 13, 15
ROW, BAR = 26, 15  # a row of the bars across, and its bar's thickness
PLOT_H = 200  # the height of the columns' and the trends' plot
GAP = 8  # the least room between two texts

Series = tuple[str, Sequence[float | int | None]]
Show = Callable[[float], str]

# widths of characters in em of a sans-serif face, generous: better a label
# left out than two drawn over each other
_NARROW, _WIDE = set("ijlft.,:;|!'()[] "), set("mwMWOQGD@%")


def text_width(text: str, size: float = FONT) -> float:
    """The width `text` takes at `size` px, estimated from above."""
    return size * sum(0.36 if c in _NARROW else 0.95 if c in _WIDE
                      else 0.75 if c.isupper() else 0.64 for c in text)


def fit(text: str, room: float, size: float = FONT) -> str:
    """`text`, cut with an ellipsis to fit `room` px."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def count_text(value: float) -> str:
    return f"{value:,.0f}"


def pct_text(value: float) -> str:
    return f"{value:g}%"


def ticks(top: float, *, integer: bool, most: int = 6,
          steps: Sequence[float] | None = None) -> list[float]:
    """Round steps from 0 up to at least `top`, at most `most` of them (0 included);
    whole numbers only when `integer` (counts), one of `steps` when given (durations)."""
    if top <= 0:
        return [0, 1]
    raw = top / max(1, most - 1)
    if steps is not None:
        step = next((s for s in steps if s >= raw), None)
        if step is None:
            step = steps[-1] * math.ceil(raw / steps[-1])
    else:
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(m * magnitude for m in (1, 2, 2.5, 5, 10)
                    if m * magnitude >= raw and (not integer or m * magnitude == int(
                        m * magnitude)))
        if integer:
            step = max(1, int(step))
    return [i * step for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def _open(title: str, height: float, kind: str, extra: str = "") -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="{WIDTH}" height="{height:.0f}" role="img" aria-label="{escape(title)}" '
            f'class="chart {kind}"{extra} font-family="sans-serif" font-size="{FONT}">',
            f'<text x="{PAD}" y="{PAD + TITLE_FONT}" font-size="{TITLE_FONT}" '
            f'font-weight="bold">{escape(fit(title, WIDTH - 2 * PAD, TITLE_FONT))}</text>']


def _legend(names: Sequence[str], top: float) -> tuple[list[str], float]:
    """The legend's items left to right, a new line when one is full; and where it ends."""
    parts, x, y = [], float(PAD), top
    for index, name in enumerate(names):
        shown = fit(name, WIDTH - 2 * PAD - 14)
        width = 14 + text_width(shown) + 2 * GAP
        if x > PAD and x + width > WIDTH - PAD:
            x, y = float(PAD), y + FONT + 8
        parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="10" height="10" '
                     f'fill="{PALETTE[index % len(PALETTE)]}"/>')
        parts.append(f'<text class="legend" x="{x + 14:.1f}" y="{y:.1f}">{escape(shown)}</text>')
        x += width
    return parts, y + 12


def _value_ticks(top: float, room: float, show: Show, *, integer: bool,
                 steps: Sequence[float] | None, across: bool) -> list[float]:
    """Ticks whose labels fit `room` px: side by side when `across`, else stacked."""
    for most in range(7, 1, -1):
        found = ticks(top, integer=integer, most=most, steps=steps)
        if across:
            widest = max(text_width(show(t)) for t in found)
            if room / max(1, len(found) - 1) >= widest + GAP:
                return found
        elif room / max(1, len(found) - 1) >= FONT + GAP:
            return found
    return [0, found[-1]]


def _rect(x: float, y: float, w: float, h: float, colour: str, label: str, series: str,
          value: float, show: Show) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
            f'fill="{colour}" data-label="{escape(label)}" data-series="{escape(series)}" '
            f'data-value="{value:g}"><title>{escape(label)}, {escape(series)}: '
            f'{escape(show(value))}</title></rect>')


def bars_across(title: str, labels: Sequence[str], series: Sequence[Series], *,
                show: Show = count_text, integer: bool = True,
                steps: Sequence[float] | None = None,
                totals: Sequence[str] | None = None, tick: Show | None = None) -> str:
    """Stacked bars across, one row per label: the series of a row add up to its bar,
    whose total (or `totals`' text) is written at its end. `show` writes a value,
    `tick` (default: show) a tick of the axis."""
    tick_text = tick or show
    sums = [sum(vs[i] or 0 for _, vs in series) for i in range(len(labels))]
    notes = list(totals) if totals is not None else [show(s) for s in sums]
    parts, top = _legend([name for name, _ in series], PAD + TITLE_FONT + 22)
    label_w = min(max((text_width(label) for label in labels), default=0), WIDTH * 0.36)
    left = PAD + label_w + GAP
    right = WIDTH - PAD - max((text_width(n) for n in notes), default=0) - GAP
    found = _value_ticks(max(sums, default=0), right - left, tick_text, integer=integer,
                         steps=steps, across=True)
    top_value = found[-1] if found[-1] > 0 else 1
    plot_w = right - left
    bottom = top + 6 + ROW * len(labels)
    height = bottom + FONT + 2 * PAD + 4
    out = _open(title, height, "across")
    out += parts
    for value in found:
        x = left + plot_w * value / top_value
        out.append(f'<line x1="{x:.1f}" y1="{top + 2:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
                   'stroke="#dddddd"/>')
        out.append(f'<text class="tick" x="{x:.1f}" y="{bottom + FONT + 4:.1f}" '
                   f'text-anchor="middle">{escape(tick_text(value))}</text>')
    for i, label in enumerate(labels):
        y = top + 6 + ROW * i
        out.append(f'<text class="label" x="{left - GAP:.1f}" y="{y + ROW / 2 + 4:.1f}" '
                   f'text-anchor="end">{escape(fit(label, label_w))}<title>{escape(label)}'
                   '</title></text>')
        x = left
        for s, (name, vs) in enumerate(series):
            value = vs[i] or 0
            w = plot_w * value / top_value
            out.append(_rect(x, y + (ROW - BAR) / 2, w, BAR, PALETTE[s % len(PALETTE)],
                             label, name, value, show))
            x += w
        out.append(f'<text class="total" x="{x + 4:.1f}" y="{y + ROW / 2 + 4:.1f}">'
                   f'{escape(notes[i])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _x_labels(labels: Sequence[str], left: float, slot: float, y: float) -> list[str]:
    """Every k-th period's label under its column, k such that none touches the next."""
    widest = max((text_width(label) for label in labels), default=0)
    every = max(1, math.ceil((widest + GAP) / max(slot, 1e-9)))
    out, last_right = [], -math.inf
    for i in range(0, len(labels), every):
        w = text_width(labels[i])
        # never left of the plot, where the side's ticks are, nor beyond the right edge
        x = min(max(left + slot * (i + 0.5) - w / 2, left), WIDTH - PAD - w)
        if x < last_right + GAP:
            continue
        out.append(f'<text class="period" x="{x:.1f}" y="{y:.1f}">{escape(labels[i])}</text>')
        last_right = x + w
    return out


def _y_axis(found: list[float], left: float, top: float, show: Show) -> list[str]:
    out = []
    for tick in found:
        y = top + PLOT_H - PLOT_H * tick / (found[-1] or 1)
        out.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{WIDTH - PAD:.1f}" y2="{y:.1f}" '
                   'stroke="#dddddd"/>')
        out.append(f'<text class="tick" x="{left - 6:.1f}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{escape(show(tick))}</text>')
    return out


def columns(title: str, labels: Sequence[str], series: Sequence[Series], *,
            show: Show = count_text) -> str:
    """Stacked columns, one per period (every one, empty ones too), counts up the side."""
    sums = [sum(vs[i] or 0 for _, vs in series) for i in range(len(labels))]
    parts, top = _legend([name for name, _ in series], PAD + TITLE_FONT + 22)
    found = _value_ticks(max(sums, default=0), PLOT_H, show, integer=True, steps=None,
                         across=False)
    left = PAD + max(text_width(show(t)) for t in found) + 10
    slot = (WIDTH - PAD - left) / max(1, len(labels))
    height = top + PLOT_H + FONT + 4 * PAD
    out = _open(title, height, "columns", f' data-periods="{len(labels)}"') + parts
    out += _y_axis(found, left, top, show)
    for i, label in enumerate(labels):
        y = top + PLOT_H
        for s, (name, vs) in enumerate(series):
            value = vs[i] or 0
            h = PLOT_H * value / found[-1]
            y -= h
            out.append(_rect(left + slot * i + slot * 0.1, y, slot * 0.8, h,
                             PALETTE[s % len(PALETTE)], label, name, value, show))
    out += _x_labels(labels, left, slot, top + PLOT_H + FONT + 8)
    out.append("</svg>")
    return "\n".join(out)


def trend(title: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """Percentages over every period, one line per series, broken where a period has
    no value (nothing to take a share of); a dot on each value."""
    parts, top = _legend([name for name, _ in series], PAD + TITLE_FONT + 22)
    found = [0, 25, 50, 75, 100]
    left = PAD + text_width(pct_text(100)) + 10
    slot = (WIDTH - PAD - left) / max(1, len(labels))
    height = top + PLOT_H + FONT + 4 * PAD
    out = _open(title, height, "trend", f' data-periods="{len(labels)}"') + parts
    out += _y_axis(found, left, top, pct_text)
    for s, (name, vs) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        points: list[str] = []
        runs: list[list[str]] = [points]
        for i, value in enumerate(vs):
            if value is None:
                points = []
                runs.append(points)
                continue
            x, y = left + slot * (i + 0.5), top + PLOT_H - PLOT_H * value / 100
            points.append(f"{x:.1f},{y:.1f}")
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}" '
                       f'data-label="{escape(labels[i])}" data-series="{escape(name)}" '
                       f'data-value="{value:g}"><title>{escape(labels[i])}, {escape(name)}: '
                       f'{value:g}%</title></circle>')
        for run in runs:
            if len(run) > 1:
                out.append(f'<polyline points="{" ".join(run)}" fill="none" stroke-width="2" '
                           f'stroke="{colour}"/>')
    out += _x_labels(labels, left, slot, top + PLOT_H + FONT + 8)
    out.append("</svg>")
    return "\n".join(out)
