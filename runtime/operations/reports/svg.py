"""Charts as inline SVG text, drawn here: the HTML report needs no script,
no library and no network to show them. Two kinds, both over labelled
series of numbers: grouped bars (few labels) and lines (many).
Imports nothing of the runtime.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#3366aa", "#ee8833", "#cc3344", "#44aa66", "#8855bb", "#888888")
WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 34, 78

Series = tuple[str, Sequence[float | int | None]]


def _ticks(top: float) -> list[float]:
    """Round steps from 0 up to at least `top` (about five of them)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(int(math.ceil(top / step)) + 1)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _frame(title: str, series: Sequence[Series], ticks: list[float]) -> list[str]:
    """The SVG's opening, title, grid, y axis and legend."""
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" '
             'font-family="sans-serif" font-size="11">',
             f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / ticks[-1]
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     'stroke="#dddddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{_number(tick)}</text>')
    x = WIDTH - RIGHT
    for index, (name, _) in reversed(list(enumerate(series))):
        x -= 8 * len(name) + 24
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" '
                     f'fill="{PALETTE[index % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="15">{escape(name)}</text>')
    return parts


def _label(x: float, text: str, count: int) -> str:
    """An x-axis label, turned when there are many."""
    y = HEIGHT - BOTTOM + 14
    if count <= 8:
        return f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{escape(text)}</text>'
    return (f'<text x="{x:.1f}" y="{y}" text-anchor="end" '
            f'transform="rotate(-45 {x:.1f} {y})">{escape(text)}</text>')


def bars(title: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """Grouped bars: one group per label, one bar per series."""
    values = [v or 0 for _, vs in series for v in vs]
    ticks = _ticks(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(title, series, ticks)
    group = plot_w / max(1, len(labels))
    bar = group * 0.8 / max(1, len(series))
    for i, label in enumerate(labels):
        x0 = LEFT + i * group + group * 0.1
        for s, (name, vs) in enumerate(series):
            value = vs[i] or 0
            h = plot_h * value / ticks[-1]
            parts.append(f'<rect x="{x0 + s * bar:.1f}" y="{TOP + plot_h - h:.1f}" '
                         f'width="{max(bar - 1, 1):.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)}, '
                         f'{escape(name)}: {_number(value)}</title></rect>')
        parts.append(_label(LEFT + i * group + group / 2, label, len(labels)))
    parts.append("</svg>")
    return "\n".join(parts)


def lines(title: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """One line per series over the labels (in order); about 12 labels shown."""
    values = [v or 0 for _, vs in series for v in vs]
    ticks = _ticks(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(title, series, ticks)
    step = plot_w / max(1, len(labels) - 1)
    for s, (_, vs) in enumerate(series):
        scale = plot_h / ticks[-1]
        points = " ".join(f"{LEFT + i * step:.1f},{TOP + plot_h - scale * (v or 0):.1f}"
                          for i, v in enumerate(vs))
        parts.append(f'<polyline points="{points}" fill="none" stroke-width="2" '
                     f'stroke="{PALETTE[s % len(PALETTE)]}"/>')
    every = max(1, math.ceil(len(labels) / 12))
    for i in range(0, len(labels), every):
        parts.append(_label(LEFT + i * step, labels[i], len(labels)))
    parts.append("</svg>")
    return "\n".join(parts)
