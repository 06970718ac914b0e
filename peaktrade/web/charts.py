"""Server-rendered SVG line charts (equity, drawdown, backtest vs run): no JavaScript chart library.

A chart is a few hundred points at most: a long series is reduced to the first, last, lowest and
highest point of each of ``MAX_BUCKETS`` buckets, so a million-event run draws as fast as a short one
and no spike (a drawdown's bottom) is lost to the reduction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

MAX_BUCKETS = 300
WIDTH, HEIGHT = 760, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 70, 12, 12, 24


@dataclass(frozen=True)
class Series:
    name: str
    xs: Sequence[float]  # e.g. timestamps in seconds, or steps
    ys: Sequence[float]
    css: str = "line-a"


def reduce_points(xs: Sequence[float], ys: Sequence[float], buckets: int = MAX_BUCKETS) -> list[tuple[float, float]]:
    """Finite points only; at most ~4 per bucket (first, min, max, last, in x order)."""
    pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=False) if _finite(x) and _finite(y)]
    if len(pts) <= buckets * 4:
        return pts
    size = len(pts) / buckets
    out: list[tuple[float, float]] = []
    for b in range(buckets):
        chunk = pts[int(b * size):int((b + 1) * size)]
        if not chunk:
            continue
        keep = {0, len(chunk) - 1, min(range(len(chunk)), key=lambda i: chunk[i][1]),
                max(range(len(chunk)), key=lambda i: chunk[i][1])}
        out += [chunk[i] for i in sorted(keep)]
    return out


def drawdown(ys: Sequence[float]) -> list[float]:
    """equity / running peak − 1 (≤ 0), the same definition as ``monitor``."""
    out, peak = [], None
    for y in ys:
        if not _finite(y):
            out.append(math.nan)
            continue
        peak = y if peak is None else max(peak, y)
        out.append(y / peak - 1.0 if peak and peak > 0 else 0.0)
    return out


def line_chart(series: Sequence[Series], *, title: str, y_format: str = "{:,.2f}", x_labels: tuple[str, str] = ("", ""),
               chart_id: str = "chart") -> str:
    """An accessible SVG (``role=img`` with a title); every text is escaped. Empty input says so."""
    reduced = [(s, reduce_points(s.xs, s.ys)) for s in series]
    points = [p for _, pts in reduced for p in pts]
    head = (f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>')
    if not points:
        return head + (f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="muted">'
                       'no data yet</text></svg>')
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    if x1 == x0:
        x1 = x0 + 1.0
    if y1 == y0:  # a flat line sits in the middle, not on an edge
        y0, y1 = y0 - (abs(y0) * 0.01 or 1.0), y1 + (abs(y1) * 0.01 or 1.0)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def sx(x: float) -> float:
        return PAD_LEFT + (x - x0) / (x1 - x0) * inner_w

    def sy(y: float) -> float:
        return PAD_TOP + (y1 - y) / (y1 - y0) * inner_h

    parts = [head, f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{inner_w}" height="{inner_h}" class="plot"/>']
    for frac in (0.0, 0.5, 1.0):
        yv = y0 + (y1 - y0) * frac
        parts.append(f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{sy(yv):.1f}" y2="{sy(yv):.1f}" '
                     f'class="grid"/><text x="{PAD_LEFT - 4}" y="{sy(yv) + 4:.1f}" text-anchor="end" class="axis">'
                     f'{escape(y_format.format(yv))}</text>')
    left, right = x_labels
    parts.append(f'<text x="{PAD_LEFT}" y="{HEIGHT - 6}" class="axis">{escape(left)}</text>'
                 f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 6}" text-anchor="end" class="axis">'
                 f'{escape(right)}</text>')
    for s, pts in reduced:
        if not pts:
            continue
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        parts.append(f'<polyline class="{escape(s.css)}" data-series="{escape(s.name)}" data-points="{len(pts)}" '
                     f'fill="none" points="{path}"><title>{escape(s.name)}</title></polyline>')
    parts.append("</svg>")
    return "".join(parts)


def legend(series: Sequence[Series]) -> str:
    return "".join(f'<span class="legend {escape(s.css)}">{escape(s.name)}</span>' for s in series)


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)
