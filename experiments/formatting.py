"""Readable numbers and plain-text tables for the terminal."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import pandas as pd

__all__ = [
    "DIGITS",
    "format_change",
    "format_count",
    "format_interval",
    "format_percent",
    "format_points",
    "format_range",
    "format_ratio",
    "format_table",
    "format_value",
    "format_with_interval",
    "persian_digits",
]


def format_value(indicator: str, value: float, like: float | None = None) -> str:
    """A value as people read it: 17.0 bn, 250.0 m (USD), 30.0% (shares), 31,500 (counts). USD
    take the suffix that `like` (default the value) would: a range's ends in the same unit."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if indicator.endswith("_usd") and not indicator.endswith("_per_usd"):
        magnitude = abs(value if like is None else like)
        for size, suffix in ((1e9, "bn"), (1e6, "m")):
            if magnitude >= size:
                return f"{value / size:,.1f} {suffix}"
        return f"{value:,.0f}"
    if indicator.endswith("share"):
        return f"{value:.1%}"
    if value != round(value) and abs(value) < 100:
        return f"{value:.3g}"
    return f"{value:,.0f}"


def format_count(n: float) -> str:
    """A whole number with thousands separators: 1, 31,500."""
    return f"{round(n):,}"


def format_change(indicator: str, value: float, like: float | None = None) -> str:
    """A signed difference: +392.0 m, -1,200, +0.5 pp (shares change by percentage points)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if indicator.endswith("share"):
        return f"{100 * value:+.1f} pp"
    text = format_value(indicator, value, like)
    return text if text.startswith("-") else "+" + text


def format_range(indicator: str, values: Sequence[float], fmt: Callable[[str, float], str] = format_value) -> str:
    """The mean, and the range when there are several values: "17.0 bn (16.1 bn to 17.9 bn)"."""
    finite = [v for v in values if math.isfinite(v)]
    mean = sum(finite) / len(finite) if finite else math.nan
    text = fmt(indicator, mean)
    if len(values) > 1 and finite:
        text += f" ({fmt(indicator, min(finite))} to {fmt(indicator, max(finite))})"
    return text


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Columns padded to their widest cell; the columns in `right` are right-aligned."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line("-" * w for w in widths), *(line(row) for row in rows)])


def format_percent(p: float) -> str:
    return "n/a" if p is None or not math.isfinite(p) else f"{p:.0%}"


def format_points(change: float) -> str:
    """A change of probability in percentage points, "+12 pp" (never "-0 pp")."""
    return "n/a" if change is None or not math.isfinite(change) else f"{round(100 * change) + 0:+d} pp"


def format_interval(low: float, high: float, fmt=lambda v: f"{v:.2f}") -> str:
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    return f"{fmt(low)} to {fmt(high)}"


def format_with_interval(value: float, low: float, high: float, fmt) -> str:
    text = fmt(value)
    span = format_interval(low, high, fmt)
    return f"{text} ({span})" if span and text != "n/a" else text


def format_ratio(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format_value("cost_usd", value)


# --- digits ---------------------------------------------------------------------------------

DIGITS = ("latin", "persian")

_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_SKIP = re.compile(r"(<style.*?</style>|<code.*?</code>|<[^>]*>)", re.S)


def persian_digits(html: str) -> str:
    """0-9 as ۰-۹ in the text of an HTML document (decimal point ٫, thousands separator ٬,
    a percent sign after a number ٪); tags, <style> and <code> (hashes, versions, file names)
    are left as they are."""
    parts = _SKIP.split(html)
    for i in range(0, len(parts), 2):  # even parts are text
        text = re.sub(r"(?<=\d)\.(?=\d)", "٫", parts[i])
        text = re.sub(r"(?<=\d),(?=\d)", "٬", text)
        text = re.sub(r"(?<=\d) ?%", "٪", text)
        parts[i] = text.translate(_PERSIAN)
    return "".join(parts)
