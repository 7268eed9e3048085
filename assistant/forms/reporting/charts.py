"""Server-rendered SVG charts: no chart script to download, readable on a 360 px phone.

Each chart is ``role="img"`` with a ``<title>`` and ``<desc>`` (named by ``aria-labelledby``);
each bar or point has its own ``<title>`` for a tooltip. The page shows the same numbers in a
table, which is what screen readers should use. Text is escaped; sizes are in a viewBox so
the chart scales to its container. For right-to-left pages horizontal bars grow from the right.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_FILL = "#0b5c7a"
LINE_STROKE = "#0b5c7a"
GRID = "#c9d1d9"
INK = "#1b1f24"
MUTED = "#4a5560"
FONT = "system-ui, sans-serif"


@dataclass(frozen=True)
class Datum:
    label: str
    value: int | float


def nice_max(value: float, ticks: int = 4) -> tuple[float, float]:
    """A round axis maximum at or above ``value`` and its tick step."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw:
            break
    if step < 1 and float(value).is_integer():
        step = 1.0
    return step * math.ceil(value / step), step


def _open_svg(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    t_id, d_id = f"{chart_id}-title", f"{chart_id}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(t_id)} {escape(d_id)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'direction="ltr" font-family="{FONT}" font-size="14">',
        f'<title id="{escape(t_id)}">{escape(title)}</title>',
        f'<desc id="{escape(d_id)}">{escape(desc)}</desc>',
    ]


def _direction(rtl: bool) -> str:
    return ' direction="rtl"' if rtl else ""


def _fmt(value: float, formatter: Callable[[float], str] | None) -> str:
    if formatter is not None:
        return formatter(value)
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def bar_chart(
    data: Sequence[Datum],
    *,
    chart_id: str,
    title: str,
    desc: str,
    rtl: bool = False,
    width: int = 360,
    formatter: Callable[[float], str] | None = None,
    empty_text: str = "",
) -> Markup:
    """Horizontal bars, one per datum, each with its label above it and its value beside it."""
    row_h, bar_h, top, pad = 40, 16, 4, 8
    height = top + max(1, len(data)) * row_h + pad
    parts = _open_svg(chart_id, title, desc, width, height)
    if not data:
        parts.append(
            f'<text x="{width / 2:g}" y="{height / 2 + 4:g}" text-anchor="middle" '
            f'fill="{MUTED}">{escape(empty_text)}</text>'
        )
        parts.append("</svg>")
        return Markup("".join(parts))
    top_value = max((d.value for d in data), default=0)
    axis_max, _step = nice_max(float(top_value))
    value_space = 48  # room for the number after the longest bar
    usable = width - value_space - 2
    for i, d in enumerate(data):
        y = top + i * row_h
        length = 0.0 if axis_max == 0 else usable * float(d.value) / axis_max
        label_y = y + 13
        bar_y = y + 18
        shown = _fmt(d.value, formatter)
        # Text runs in the page's direction, so "start" is where reading starts.
        if rtl:
            x_label, x_bar, x_value = width - 1, width - 1 - length, width - 1 - length - 6
        else:
            x_label, x_bar, x_value = 1, 1, 1 + length + 6
        text_dir = _direction(rtl)
        parts.append(f'<g class="bar"><title>{escape(d.label)}: {escape(shown)}</title>')
        parts.append(
            f'<text x="{x_label}" y="{label_y}" text-anchor="start"{text_dir} fill="{INK}">'
            f"{escape(d.label)}</text>"
        )
        parts.append(
            f'<rect x="{x_bar:.1f}" y="{bar_y}" width="{max(length, 1.5):.1f}" '
            f'height="{bar_h}" rx="2" fill="{BAR_FILL}"/>'
        )
        parts.append(
            f'<text x="{x_value:.1f}" y="{bar_y + 12.5:g}" text-anchor="start"{text_dir} '
            f'fill="{INK}" font-weight="600">{escape(shown)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    data: Sequence[Datum],
    *,
    chart_id: str,
    title: str,
    desc: str,
    rtl: bool = False,
    width: int = 360,
    height: int = 220,
    formatter: Callable[[float], str] | None = None,
    max_x_labels: int = 4,
    empty_text: str = "",
) -> Markup:
    """A line with a dot per datum (e.g. per week), y gridlines and sparse x labels."""
    left, right, top, bottom = 34, 12, 12, 34
    parts = _open_svg(chart_id, title, desc, width, height)
    if not data:
        parts.append(
            f'<text x="{width / 2:g}" y="{height / 2:g}" text-anchor="middle" '
            f'fill="{MUTED}">{escape(empty_text)}</text></svg>'
        )
        return Markup("".join(parts))
    plot_w = width - left - right
    plot_h = height - top - bottom
    axis_max, step = nice_max(float(max(d.value for d in data)))
    n = len(data)

    def x_at(i: int) -> float:
        pos = plot_w / 2 if n == 1 else plot_w * i / (n - 1)
        return left + (plot_w - pos if rtl else pos)

    def y_at(v: float) -> float:
        return top + plot_h - (plot_h * v / axis_max if axis_max else 0)

    tick = 0.0
    while tick <= axis_max + 1e-9:
        y = y_at(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{escape(_fmt(tick, formatter))}</text>"
        )
        tick += step
    every = max(1, math.ceil(n / max_x_labels))
    for i, d in enumerate(data):
        if i % every == 0 or i == n - 1:
            if i != n - 1 and n - 1 - i < every:
                continue  # keep the last label clear of its neighbour
            anchor = "middle"
            if n > 1 and i == 0:
                anchor = "start"
            elif n > 1 and i == n - 1:
                anchor = "end"
            parts.append(
                f'<text x="{x_at(i):.1f}" y="{height - bottom + 18}" text-anchor="{anchor}"'
                f'{_direction(rtl)} fill="{MUTED}" font-size="12">{escape(d.label)}</text>'
            )
    points = " ".join(f"{x_at(i):.1f},{y_at(float(d.value)):.1f}" for i, d in enumerate(data))
    parts.append(
        f'<polyline points="{points}" fill="none" stroke="{LINE_STROKE}" stroke-width="2.5" '
        f'stroke-linejoin="round" stroke-linecap="round"/>'
    )
    for i, d in enumerate(data):
        shown = _fmt(d.value, formatter)
        parts.append(
            f'<g class="point"><title>{escape(d.label)}: {escape(shown)}</title>'
            f'<circle cx="{x_at(i):.1f}" cy="{y_at(float(d.value)):.1f}" r="4" '
            f'fill="#ffffff" stroke="{LINE_STROKE}" stroke-width="2"/></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
