"""Horizontal bar charts laid out for inline SVG: the audit's HTML report draws its own
charts so that it opens offline and fetches nothing.

This module only computes geometry; the template turns it into SVG elements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH = 720
LABEL_WIDTH = 280
BAR_AREA = 330
ROW_HEIGHT = 22
BAR_HEIGHT = 14
TOP = 8


@dataclass
class Bar:
    label: str
    value_text: str
    y: int
    width: float
    css: str


@dataclass
class BarChart:
    chart_id: str
    title: str
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    width: int = WIDTH
    marker_x: float | None = None
    marker_label: str = ""
    empty_text: str = ""
    notes: list[str] = field(default_factory=list)


def bar_chart(
    chart_id: str,
    title: str,
    items: list[tuple[str, float, str]],
    scale_max: float | None = None,
    value_format=lambda v: f"{v:,}",
    marker: float | None = None,
    marker_label: str = "",
    empty_text: str = "nothing to chart",
) -> BarChart:
    """Bars for (label, value, css class) items; values past scale_max fill the bar area."""
    finite = [v for _, v, _ in items if math.isfinite(v)]
    top = scale_max or max(finite + [marker or 0, 0]) or 1.0
    bars = []
    for index, (label, value, css) in enumerate(items):
        share = 1.0 if not math.isfinite(value) else max(0.0, min(value / top, 1.0))
        bars.append(Bar(
            label=label,
            value_text=value_format(value),
            y=TOP + index * ROW_HEIGHT,
            # a zero still gets a sliver, so a reader sees the row was charted
            width=round(max(share * BAR_AREA, 1.0), 1),
            css=css,
        ))
    marker_x = None
    if marker is not None:
        marker_x = round(LABEL_WIDTH + min(marker / top, 1.0) * BAR_AREA, 1)
    return BarChart(
        chart_id=chart_id,
        title=title,
        bars=bars,
        height=TOP * 2 + max(len(bars), 1) * ROW_HEIGHT,
        marker_x=marker_x,
        marker_label=marker_label,
        empty_text=empty_text,
    )
