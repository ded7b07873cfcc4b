"""Charts drawn on the server as SVG: readable with no JavaScript, each shown beside its table.

Every chart is a picture of the figures in the table beside it, so it is hidden from screen
readers (the table is what they read). It is drawn no wider than a 320px phone's content, with
its width and height set, so it is shown at the size its text was written for (16px) and only
ever shrunk by a narrower screen than that. Series colours are GOV.UK blues and turquoise: each
stands out against white by at least 3:1 (WCAG 1.4.11), and none is the red that means an error.
"""

import textwrap
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

# 320px less the page's two 15px margins.
WIDTH = 288
FONT_SIZE = 16
LINE_HEIGHT = 20
# A bold line of this many characters at 16px fits within WIDTH, in Arial or a wider fallback.
LABEL_CHARACTERS = 26
# Generous for 16px text, so a value written beside the longest bar is never cut off.
CHARACTER_WIDTH = 10.5
TEXT_COLOUR = "#0b0c0c"
# GOV.UK blue, dark blue and turquoise.
COLOURS = ["#1d70b8", "#0f385c", "#28a197"]


@dataclass
class Series:
    name: str
    points: list[tuple[date, int]]
    dashed: bool = False


def _svg_open(title: str, height: float, *, title_id: str | None = None) -> list[str]:
    title_attributes = f' id="{title_id}"' if title_id else ""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
        f'height="{height:.0f}" class="app-chart" aria-hidden="true" focusable="false" '
        f'font-family="arial, sans-serif" font-size="{FONT_SIZE}" fill="{TEXT_COLOUR}">',
        f"<title{title_attributes}>{escape(title)}</title>",
    ]


def _text(x: float, y: float, content: str, *, anchor: str = "start", colour: str = TEXT_COLOUR) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{FONT_SIZE}" fill="{colour}">'
        f"{escape(content)}</text>"
    )


def _text_width(content: str) -> float:
    return len(content) * CHARACTER_WIDTH


def line_chart(title: str, series: list[Series], *, y_label=str, start: date, end: date) -> Markup:
    """Lines over dates, with a key above them. ``y_label`` formats axis values (for example as money)."""
    values = [y for s in series for _, y in s.points] or [0]
    top_value = max(max(values), 1)
    span = max((end - start).days, 1)
    axis_labels = [y_label(round(top_value * fraction)) for fraction in (0, 0.5, 1)]
    left = max(_text_width(label) for label in axis_labels) + 8
    top = LINE_HEIGHT * len(series) + 16
    plot_height = 160
    bottom = top + plot_height
    height = bottom + LINE_HEIGHT + 8

    def x(day: date) -> float:
        return left + (WIDTH - left - 4) * min(max((day - start).days / span, 0), 1)

    def y(value: int) -> float:
        return top + plot_height * (1 - value / top_value)

    parts = _svg_open(title, height, title_id="chart-title")
    for index, line in enumerate(series):
        # The key: a short stretch of the line as drawn, then its name.
        colour = COLOURS[index % len(COLOURS)]
        key_y = LINE_HEIGHT * index + 10
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        parts.append(
            f'<line x1="0" y1="{key_y}" x2="24" y2="{key_y}" stroke="{colour}" stroke-width="3"{dash}/>'
            + _text(30, key_y + 5, line.name)
        )
    parts += [
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH}" y2="{bottom}" stroke="{TEXT_COLOUR}"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{TEXT_COLOUR}"/>',
    ]
    for fraction, label in zip((0, 0.5, 1), axis_labels, strict=True):
        parts.append(_text(left - 6, y(round(top_value * fraction)) + 5, label, anchor="end"))
    # The first date starts at the left edge and the last ends at the right, so neither is cut off.
    parts.append(_text(0, height - 8, f"{start.day} {start:%B %Y}"))
    parts.append(_text(WIDTH, height - 8, f"{end.day} {end:%B %Y}", anchor="end"))
    for index, line in enumerate(series):
        if not line.points:
            continue
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(v):.1f}" for i, (d, v) in enumerate(line.points))
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="3"{dash}/>')
    parts.append("</svg>")
    # Every piece of text above went through escape(); the rest is numbers and fixed markup.
    return Markup("".join(parts))  # noqa: S704


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]], *, value_label=str) -> Markup:
    """Horizontal bars: each label written in full above its group, one bar per series.

    With more than one series each bar's value names its series too, so no bar is told apart
    by its colour alone.
    """
    bar, bar_gap, group_gap = 18, 2, 14
    several = len(series) > 1

    def shown(name: str, value: float) -> str:
        return f"{value_label(value)} {name.lower()}" if several else value_label(value)

    shown_values = [shown(name, v) for name, values in series for v in values] or [""]
    top_value = max([v for _, values in series for v in values] + [1])
    scale = (WIDTH - max(_text_width(text) for text in shown_values) - 10) / top_value
    wrapped = [textwrap.wrap(label, LABEL_CHARACTERS) or [""] for label in labels]
    key_height = LINE_HEIGHT * len(series) + 8 if several else 0
    group_heights = [LINE_HEIGHT * len(lines) + 4 + (bar + bar_gap) * len(series) + group_gap for lines in wrapped]
    height = key_height + sum(group_heights) or LINE_HEIGHT

    parts = _svg_open(title, height)
    if several:
        for index, (name, _) in enumerate(series):
            key_y = LINE_HEIGHT * index
            parts.append(
                f'<rect x="0" y="{key_y + 2}" width="16" height="16" fill="{COLOURS[index % len(COLOURS)]}"/>'
                + _text(22, key_y + 15, name)
            )
    y0 = key_height
    for row, (lines, group_height) in enumerate(zip(wrapped, group_heights, strict=True)):
        parts.append(
            f'<text x="0" y="{y0}" font-size="{FONT_SIZE}" font-weight="bold" fill="{TEXT_COLOUR}">'
            + "".join(
                f'<tspan x="0" y="{y0 + LINE_HEIGHT * (n + 1) - 5}">{escape(line)}</tspan>'
                for n, line in enumerate(lines)
            )
            + "</text>"
        )
        bars_y = y0 + LINE_HEIGHT * len(lines) + 4
        for index, (name, values) in enumerate(series):
            value = values[row]
            width = max(value * scale, 0)
            y = bars_y + index * (bar + bar_gap)
            parts.append(
                f'<rect x="0" y="{y}" width="{width:.1f}" height="{bar}" fill="{COLOURS[index % len(COLOURS)]}"/>'
                + _text(width + 6, y + 14, shown(name, value))
            )
        y0 += group_height
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part above is escaped
