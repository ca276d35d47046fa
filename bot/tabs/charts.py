"""Pictures drawn on the server as SVG: no chart library in the browser, nothing from a CDN.

Each picture has a text alternative (its title) and the page shows the same figures as a table.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

from bot.ict.progress import WaveProgress

WIDTH = 640
HEIGHT = 220
LEFT = 48
RIGHT = 16
TOP = 16
BOTTOM = 32


def choices_against_window(wave: WaveProgress, today: date, *, title: str, goal: str) -> Markup:
    """Choices made so far, day by day, across the whole window, against the people to choose."""
    days = (wave.closes_on - wave.opens_on).days
    people = max(wave.tally.employees, 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return LEFT + plot_w * ((day - wave.opens_on).days / days if days else 0.5)

    def y(count: int) -> float:
        return TOP + plot_h * (1 - min(count, people) / people)

    parts = [
        *_frame(title),
        _y_axis(),
        f'<line class="goal" x1="{LEFT}" y1="{y(people):.1f}" x2="{WIDTH - RIGHT}" '
        f'y2="{y(people):.1f}"/>',
        f'<text class="label" x="{LEFT + 4}" y="{y(people) - 4:.1f}">{escape(goal)}</text>',
        f'<text class="label" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
        f'<text class="label" x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">'
        f"{wave.tally.employees}</text>",
    ]
    for day in (wave.opens_on, wave.closes_on):
        parts.append(
            f'<text class="label" x="{x(day):.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
            f"{day.day}.{day.month}.</text>"
        )
    if wave.opens_on <= today <= wave.closes_on:
        parts.append(
            f'<line class="today" x1="{x(today):.1f}" y1="{TOP}" x2="{x(today):.1f}" '
            f'y2="{TOP + plot_h}"/>'
        )
    if wave.days:
        points = [f"{x(wave.opens_on):.1f},{y(wave.days[0].so_far - wave.days[0].made):.1f}"]
        points += [
            f"{x(min(count.day + timedelta(days=1), wave.closes_on)):.1f},{y(count.so_far):.1f}"
            for count in wave.days
        ]
        parts.append(f'<polyline class="line" points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(values: list[tuple[str, int]], *, title: str) -> Markup:
    """One labelled bar per value, oldest on the left: tickets per week and the like."""
    largest = max((value for _, value in values), default=0) or 1
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(values), 1)
    parts = [
        *_frame(title),
    ]
    for index, (label, value) in enumerate(values):
        height = plot_h * value / largest
        x = LEFT + index * slot + slot * 0.15
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{height:.1f}"/>'
        )
        parts.append(
            f'<text class="label" x="{x + slot * 0.35:.1f}" y="{TOP + plot_h - height - 4:.1f}" '
            f'text-anchor="middle">{value}</text>'
        )
        parts.append(
            f'<text class="label" x="{x + slot * 0.35:.1f}" y="{HEIGHT - 10}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def delivered_over_time(
    times: list[datetime], total: int, *, title: str, start: str, end: str
) -> Markup:
    """Messages delivered so far against time, from the first delivery to the last (or now)."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    total = max(total, len(times), 1)
    first, last = times[0], times[-1]
    span = (last - first).total_seconds() or 1.0

    def x(moment: datetime) -> float:
        return LEFT + plot_w * (moment - first).total_seconds() / span

    def y(count: int) -> float:
        return TOP + plot_h * (1 - count / total)

    step = max(len(times) // 200, 1)  # at most about 200 points, the last always drawn
    shown = [*range(0, len(times), step), len(times) - 1]
    points = " ".join(f"{x(times[index]):.1f},{y(index + 1):.1f}" for index in shown)
    return Markup(
        "".join(
            [
                *_frame(title),
                _y_axis(),
                f'<line class="goal" x1="{LEFT}" y1="{y(total):.1f}" x2="{WIDTH - RIGHT}" '
                f'y2="{y(total):.1f}"/>',
                f'<text class="label" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
                f'<text class="label" x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">'
                f"{total}</text>",
                f'<text class="label" x="{LEFT}" y="{HEIGHT - 10}">{escape(start)}</text>',
                f'<text class="label" x="{WIDTH - RIGHT}" y="{HEIGHT - 10}" '
                f'text-anchor="end">{escape(end)}</text>',
                f'<polyline class="line" points="{x(first):.1f},{y(0):.1f} {points}"/>',
                "</svg>",
            ]
        )
    )


def _frame(title: str) -> list[str]:
    """The picture's opening, its text alternative and the time (x) axis."""
    bottom = HEIGHT - BOTTOM
    return [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>',
    ]


def _y_axis() -> str:
    return f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}"/>'
