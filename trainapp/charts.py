"""Charts drawn on the server as SVG: readable with no JavaScript, each shown beside its table."""

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 20, 40
COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#f47738"]


@dataclass
class Series:
    name: str
    points: list[tuple[date, int]]
    dashed: bool = False


def line_chart(title: str, series: list[Series], *, y_label=str, start: date, end: date) -> Markup:
    """Lines over dates. ``y_label`` formats axis values (for example as money)."""
    values = [y for s in series for _, y in s.points] or [0]
    top_value = max(max(values), 1)
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * min(max((day - start).days / span, 0), 1)

    def y(value: int) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top_value)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title" class="app-chart" font-family="arial, sans-serif">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#0b0c0c"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#0b0c0c"/>',
    ]
    for fraction in (0, 0.5, 1):
        value = round(top_value * fraction)
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(y_label(value))}</text>"
        )
    for day, anchor in ((start, "start"), (end, "end")):
        parts.append(
            f'<text x="{x(day):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="{anchor}" font-size="11">'
            f"{day:%d %b %Y}</text>"
        )
    for index, line in enumerate(series):
        if not line.points:
            continue
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(v):.1f}" for i, (d, v) in enumerate(line.points))
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        legend_y = TOP + 14 * index
        parts.append(
            f'<text x="{WIDTH - RIGHT - 4}" y="{legend_y + 10}" text-anchor="end" font-size="12" '
            f'fill="{colour}">{escape(line.name)}</text>'
        )
    parts.append("</svg>")
    # Every piece of text above went through escape(); the rest is numbers and fixed markup.
    return Markup("".join(parts))  # noqa: S704


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]], *, value_label=str) -> Markup:
    """Horizontal bars, one group per label and one bar per series."""
    label_width, bar, gap = 220, 14, 10
    group = bar * len(series) + gap
    height = TOP + group * max(len(labels), 1) + 30
    top_value = max([v for _, values in series for v in values] + [1])
    scale = (WIDTH - label_width - 70) / top_value
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" class="app-chart" font-family="arial, sans-serif">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (name, _) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        parts.append(
            f'<rect x="{label_width + 120 * index}" y="4" width="10" height="10" fill="{colour}"/>'
            f'<text x="{label_width + 14 + 120 * index}" y="13" font-size="11">{escape(name)}</text>'
        )
    for row, label in enumerate(labels):
        y0 = TOP + row * group
        parts.append(
            f'<text x="{label_width - 6}" y="{y0 + bar}" text-anchor="end" font-size="11">{escape(label[:34])}</text>'
        )
        for index, (_, values) in enumerate(series):
            value = values[row]
            width = max(value * scale, 0)
            y = y0 + index * bar
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="{bar - 2}" '
                f'fill="{COLOURS[index % len(COLOURS)]}"/>'
                f'<text x="{label_width + width + 4:.1f}" y="{y + bar - 4}" font-size="10">'
                f"{escape(value_label(value))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part above is escaped
