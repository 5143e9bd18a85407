"""Geometry of the bar charts (barriers per year, funding per year), drawn server-side as SVG.

Computed here and drawn by the ``bar_chart`` macro in templates/charts.html: no script, no
remote asset, nothing a Content-Security-Policy of ``default-src 'self'`` would block (no
inline style: classes only). Every chart carries a <title> and <desc>, each bar its own
<title>, and the template puts the same numbers in a table beside it, so the picture is
never the only way to read them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

WIDTH = 720
HEIGHT = 240
PAD_LEFT = 64  # room for the value axis labels
PAD_RIGHT = 12
PAD_TOP = 14
PAD_BOTTOM = 34  # room for the year labels
MAX_LABELS = 12
CHAR_W = 8  # width of a label character at the chart's font size
LABEL_W = 40  # room a year label needs


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the category (a year)
    value: float
    text: str  # the value as a reader would say it
    labelled: bool  # whether the category label is drawn under the bar


@dataclass
class GridLine:
    y: float
    text: str


@dataclass
class BarChart:
    width: int
    height: int
    x0: float
    x1: float
    y0: float  # the baseline (value 0)
    y1: float  # the top of the plot area
    bars: list[Bar] = field(default_factory=list)
    grid: list[GridLine] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(b.value for b in self.bars)


def nice_step(top: float, lines: int = 4) -> float:
    """A round grid step (1, 2 or 5 times a power of ten) giving about ``lines`` grid lines."""
    if top <= 0:
        return 1.0
    raw = top / lines
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def bar_chart(points: list[tuple[str, float]], fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
              width: int = WIDTH, height: int = HEIGHT, integer: bool = True) -> BarChart:
    """Bars for ``points`` (category, value) in order, on a value axis from zero."""
    y0, y1 = height - PAD_BOTTOM, PAD_TOP
    if not points:
        return BarChart(width, height, PAD_LEFT, width - PAD_RIGHT, y0, y1)
    top = max(v for _, v in points)
    step = nice_step(top)
    if integer:
        step = max(1.0, math.ceil(step))
    axis_top = step * max(1, math.ceil(top / step)) if top > 0 else step
    scale = (y0 - y1) / axis_top
    n = int(round(axis_top / step))
    labels = [fmt(i * step) for i in range(n + 1)]
    # The value labels decide the left margin: '£150 billion' needs more room than '4'.
    x0, x1 = max(PAD_LEFT // 2, CHAR_W * max(len(t) for t in labels) + 14), width - PAD_RIGHT
    chart = BarChart(width, height, x0, x1, y0, y1)
    chart.grid = [GridLine(round(y0 - i * step * scale, 1), text) for i, text in enumerate(labels)]
    slot = (x1 - x0) / len(points)
    bar_w = max(2.0, slot * 0.7)
    every = max(1, math.ceil(len(points) / MAX_LABELS), math.ceil(LABEL_W / slot))
    for i, (label, value) in enumerate(points):
        h = round(value * scale, 1)
        chart.bars.append(Bar(x=round(x0 + i * slot + (slot - bar_w) / 2, 1), y=round(y0 - h, 1),
                              width=round(bar_w, 1), height=h, label=label, value=value, text=fmt(value),
                              labelled=i % every == 0 or i == len(points) - 1))
    return chart
