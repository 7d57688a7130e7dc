"""Small line and bar charts as SVG text, drawn by the browser (the dashboard's charts).

The dashboard redraws its charts after every step. A matplotlib figure costs about 0.2 s to
build and encode on a 2-core machine, most of the half-second budget; an SVG string of a few
hundred elements costs about a millisecond, and the browser shapes Persian text, which
matplotlib cannot. The reports keep matplotlib: they need PNG files.

Tick labels have as many decimals as the step between ticks needs; a caller wanting Persian
digits converts the finished markup (experiments.report_text.persian_digits).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape as _escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Series", "Target", "bar_chart", "escape", "line_chart", "nice_ticks", "plain_number", "tick_labels"]

FONT = "font-family='sans-serif'"
TARGET_COLOUR = "#d62728"
TEXT_COLOUR = "#333"
GRID_COLOUR = "#e4e4e4"
# Arabic-script letters (not digits: a number alone needs no isolation)
ARABIC_SCRIPT = re.compile("[\u0600-\u065f\u066a-\u06ef\u06fa-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefe]")
LONG_CATEGORY = 16  # characters; longer names under vertical bars are shortened with an ellipsis


def escape(text: str) -> str:
    """Text for an SVG text node. Persian text is isolated as right to left (U+2067 ... U+2069),
    so a trailing "%" or number stays at its logical end inside the left-to-right chart."""
    text = _escape(text, quote=True)
    return f"\u2067{text}\u2069" if ARABIC_SCRIPT.search(text) else text


@dataclass(frozen=True)
class Series:
    """One line, or one group of bars: its legend label, its values and how it is drawn."""

    label: str
    values: Sequence[float] | np.ndarray  # a list or a 1-d array
    colour: str = "#1f77b4"
    dashed: bool = False


@dataclass(frozen=True)
class Target:
    """A horizontal target line at `value`, labelled at its right end."""

    value: float
    label: str


def plain_number(value: float) -> str:
    """One value as a label: thousands separators, a few significant decimals below 100."""
    if value == 0:
        return "0"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{min(3, max(1, 1 - math.floor(math.log10(abs(value)))))}f}".rstrip("0").rstrip(".")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values (1, 2 or 5 times a power of ten apart) spanning [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"tick range must be finite, got [{low}, {high}]")
    if high <= low:
        low, high = (low - 1, high + 1) if low == 0 else (low - abs(low) * 0.1, high + abs(high) * 0.1)
    raw = (high - low) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.floor(low / step + 1e-9) * step
    ticks = []
    value = first
    while value < high + step * (1 - 1e-9):
        ticks.append(round(value / step) * step)
        value += step
    return ticks


def tick_labels(ticks: list[float]) -> list[str]:
    """Labels of equally spaced ticks: the decimals their step needs (0.05 apart: 2), separators."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    return [f"{t if round(t, decimals) else 0.0:,.{decimals}f}" for t in ticks]  # no "-0.0"


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


class _Frame:
    """A plot area inside an SVG of `width` x `height` pixels, and the value-to-pixel maps."""

    def __init__(self, width: int, height: int, left: int, top: int, right: int = 12, bottom: int = 34):
        self.width, self.height = width, height
        self.x0, self.x1 = left, width - right
        self.y0, self.y1 = top, height - bottom  # y0 top, y1 bottom of the plot area

    def x_map(self, low: float, high: float) -> Callable[[float], float]:
        span = (high - low) or 1.0
        return lambda v: self.x0 + (v - low) / span * (self.x1 - self.x0)

    def y_map(self, low: float, high: float) -> Callable[[float], float]:
        span = (high - low) or 1.0
        return lambda v: self.y1 - (v - low) / span * (self.y1 - self.y0)


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    """The chart as wide as its container (viewBox; `width` x `height` sets the proportions and
    the text size against them), so it grows on a projector and shrinks on a laptop."""
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='100%' style='max-width:100%;height:auto' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{_escape(title, quote=True)}' {FONT}>"
        f"<title>{escape(title)}</title>"
        f"<text x='{width / 2:.1f}' y='15' text-anchor='middle' font-size='12' font-weight='bold' "
        f"fill='{TEXT_COLOUR}'>{escape(title)}</text>" + "".join(body) + "</svg>"
    )


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    parts = []
    for s in series:
        dash = " stroke-dasharray='5 3'" if s.dashed else ""
        parts.append(
            f"<line x1='{x:.1f}' y1='{y - 4:.1f}' x2='{x + 18:.1f}' y2='{y - 4:.1f}' stroke='{s.colour}' "
            f"stroke-width='2'{dash}/><text x='{x + 22:.1f}' y='{y:.1f}' font-size='10' "
            f"fill='{TEXT_COLOUR}'>{escape(s.label)}</text>"
        )
        x += 30 + 6.5 * len(s.label)
    return parts


def _y_axis(frame: _Frame, ticks: list[float], y: Callable[[float], float], label: str) -> list[str]:
    parts = [
        f"<text x='{frame.x0 - 5}' y='{y(t) + 3.5:.1f}' text-anchor='end' font-size='10' fill='{TEXT_COLOUR}'>"
        f"{escape(text)}</text><line x1='{frame.x0}' x2='{frame.x1}' y1='{y(t):.1f}' y2='{y(t):.1f}' "
        f"stroke='{GRID_COLOUR}'/>"
        for t, text in zip(ticks, tick_labels(ticks), strict=True)
    ]
    if label:
        middle = (frame.y0 + frame.y1) / 2
        parts.append(
            f"<text transform='translate(11 {middle:.1f}) rotate(-90)' text-anchor='middle' font-size='10' "
            f"fill='{TEXT_COLOUR}'>{escape(label)}</text>"
        )
    return parts


def line_chart(
    title: str,
    x: Sequence[float],
    series: Sequence[Series],
    *,
    targets: Sequence[Target] = (),
    marker_x: float | None = None,
    x_label: str = "",
    y_label: str = "",
    from_zero: bool = False,
    width: int = 460,
    height: int = 230,
) -> str:
    """Lines over a shared x, with optional horizontal target lines and a dotted vertical
    marker (a goal's month; the x range extends to include it). NaN values leave gaps.

    The y axis fits the data (from 0 with `from_zero`, for counts), so differences between the
    lines show; a target far outside the data (OFF_SCALE) is not drawn as a line that would
    squash them flat but named at the chart's edge with an arrow towards it."""
    frame = _Frame(width, height, left=58, top=44)
    xs = _finite(x)
    x_low, x_high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if marker_x is not None:
        x_low, x_high = min(x_low, marker_x), max(x_high, marker_x)
    ys = [v for s in series for v in _finite(s.values)] + ([0.0] if from_zero else [])
    y_low, y_high = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if from_zero and y_high <= y_low == 0:  # a count still at 0: an axis from 0 up, not around 0
        y_high = 1.0
    on_scale = [t for t in targets if not _off_scale(t.value, y_low, y_high)]
    y_low, y_high = min([y_low, *(t.value for t in on_scale)]), max([y_high, *(t.value for t in on_scale)])
    y_ticks = nice_ticks(y_low, y_high)
    x_ticks = [t for t in nice_ticks(x_low, x_high, 6) if x_low <= t <= x_high]
    if all(v.is_integer() for v in xs):  # months: no tick between two of them
        x_ticks = [t for t in x_ticks if float(t).is_integer()]
    X, Y = frame.x_map(x_low, x_high), frame.y_map(y_ticks[0], y_ticks[-1])
    body = _y_axis(frame, y_ticks, Y, y_label)
    body += [
        f"<text x='{X(t):.1f}' y='{frame.y1 + 13}' text-anchor='middle' font-size='10' fill='{TEXT_COLOUR}'>"
        f"{escape(text)}</text>"
        for t, text in zip(x_ticks, tick_labels(x_ticks), strict=True)
    ]
    if x_label:
        body.append(
            f"<text x='{(frame.x0 + frame.x1) / 2:.1f}' y='{height - 5}' text-anchor='middle' "
            f"font-size='10' fill='{TEXT_COLOUR}'>{escape(x_label)}</text>"
        )
    body.append(f"<line x1='{frame.x0}' x2='{frame.x1}' y1='{frame.y1}' y2='{frame.y1}' stroke='#999'/>")
    for t in on_scale:
        body.append(
            f"<line class='target' x1='{frame.x0}' x2='{frame.x1}' y1='{Y(t.value):.1f}' y2='{Y(t.value):.1f}' "
            f"stroke='{TARGET_COLOUR}' stroke-width='1.2'/><text x='{frame.x1 - 2}' y='{Y(t.value) - 3:.1f}' "
            f"text-anchor='end' font-size='9' fill='{TARGET_COLOUR}'>{escape(t.label)}</text>"
        )
    for t in targets:
        if t not in on_scale:
            above = t.value > y_ticks[-1]
            y = frame.y0 + 10 if above else frame.y1 - 4
            body.append(
                f"<text class='target-off-scale' x='{frame.x1 - 2}' y='{y}' text-anchor='end' font-size='9' "
                f"fill='{TARGET_COLOUR}'>{'↑' if above else '↓'} {escape(t.label)}</text>"
            )
    if marker_x is not None:
        body.append(
            f"<line class='marker' x1='{X(marker_x):.1f}' x2='{X(marker_x):.1f}' y1='{frame.y0}' "
            f"y2='{frame.y1}' stroke='{TARGET_COLOUR}' stroke-dasharray='1 3'/>"
        )
    for s in series:
        body += _polylines(x, s, X, Y)
    body += _legend(series, frame.x0, 32)
    return _svg(width, height, title, body)


OFF_SCALE = 1.0  # a target further from the data than this many times the data's range (or size)


def _off_scale(value: float, low: float, high: float) -> bool:
    reach = OFF_SCALE * max(high - low, abs(high), abs(low), 1e-12)
    return value > high + reach or value < low - reach


def _polylines(x: Sequence[float], s: Series, X, Y) -> list[str]:
    """One polyline per run of finite points (a NaN breaks the line)."""
    runs, current = [], []
    for xv, yv in zip(x, s.values, strict=True):
        if yv is not None and math.isfinite(float(yv)) and math.isfinite(float(xv)):
            current.append(f"{X(float(xv)):.1f},{Y(float(yv)):.1f}")
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    dash = " stroke-dasharray='5 3'" if s.dashed else ""
    return [
        f"<polyline class='series' points='{' '.join(points)}' fill='none' stroke='{s.colour}' stroke-width='2'{dash}/>"
        for points in runs
    ]


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    horizontal: bool = False,
    value_label: str = "",
    width: int = 460,
    height: int = 230,
) -> str:
    """Grouped bars: one group per category, one bar per series. Values must be finite and
    >= 0 (counts and amounts). Horizontal bars suit long category names."""
    values = [v for s in series for v in s.values]
    if any(not math.isfinite(float(v)) or v < 0 for v in values):
        raise ValueError(f"bar values must be finite and >= 0 ({title})")
    ticks = nice_ticks(0.0, max(values, default=0.0) or 1.0)
    if horizontal:
        frame = _Frame(
            width,
            height,
            left=min(int(width * 0.45), 12 + 6 * max((len(c) for c in categories), default=4)),  # whole names
            top=44,
            bottom=30,
        )
        band = (frame.y1 - frame.y0) / max(len(categories), 1)
        V = frame.x_map(0.0, ticks[-1])
        body = [
            f"<text x='{V(t):.1f}' y='{frame.y1 + 13}' text-anchor='middle' font-size='10' fill='{TEXT_COLOUR}'>"
            f"{escape(text)}</text><line x1='{V(t):.1f}' x2='{V(t):.1f}' y1='{frame.y0}' y2='{frame.y1}' "
            f"stroke='{GRID_COLOUR}'/>"
            for t, text in zip(ticks, tick_labels(ticks), strict=True)
        ]
        if value_label:
            body.append(
                f"<text x='{(frame.x0 + frame.x1) / 2:.1f}' y='{height - 3}' text-anchor='middle' "
                f"font-size='10' fill='{TEXT_COLOUR}'>{escape(value_label)}</text>"
            )
        thickness = 0.8 * band / max(len(series), 1)
        for i, name in enumerate(categories):
            top = frame.y0 + i * band + 0.1 * band
            body.append(
                f"<text x='{frame.x0 - 5}' y='{top + 0.4 * band + 3.5:.1f}' text-anchor='end' font-size='10' "
                f"fill='{TEXT_COLOUR}'>{escape(name)}</text>"
            )
            for j, s in enumerate(series):
                length = V(float(s.values[i])) - frame.x0
                body.append(
                    f"<rect class='bar' x='{frame.x0}' y='{top + j * thickness:.1f}' width='{length:.1f}' "
                    f"height='{thickness:.1f}' fill='{s.colour}'/>"
                )
    else:
        frame = _Frame(width, height, left=58, top=44, bottom=56)
        band = (frame.x1 - frame.x0) / max(len(categories), 1)
        V = frame.y_map(0.0, ticks[-1])
        body = _y_axis(frame, ticks, V, value_label)
        thickness = 0.8 * band / max(len(series), 1)
        for i, name in enumerate(categories):
            left = frame.x0 + i * band + 0.1 * band
            centre = frame.x0 + (i + 0.5) * band
            short = name if len(name) <= LONG_CATEGORY else name[: LONG_CATEGORY - 1] + "…"
            body.append(
                f"<text transform='translate({centre:.1f} {frame.y1 + 8}) rotate(-45)' text-anchor='end' "
                f"font-size='9' fill='{TEXT_COLOUR}'>{escape(short)}</text>"
            )
            for j, s in enumerate(series):
                top = V(float(s.values[i]))
                body.append(
                    f"<rect class='bar' x='{left + j * thickness:.1f}' y='{top:.1f}' width='{thickness:.1f}' "
                    f"height='{frame.y1 - top:.1f}' fill='{s.colour}'/>"
                )
    if len(series) > 1:
        body += _legend(series, frame.x0, 32)
    return _svg(width, height, title, body)
