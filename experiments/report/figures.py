"""The report's figures (matplotlib, PNG): each FIGSIZE inches at DPI (1000 x 600 pixels).

Figures hold no words of either language in Persian reports: matplotlib cannot shape Arabic
script, so the PNGs then carry numbers, unit symbols (10⁹ $, %) and data names only, and the
translated titles and axis descriptions are in the HTML captions. English reports have English
axis labels in the figures as well.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import cast

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
from matplotlib.colors import ListedColormap

from experiments.files import atomic_path
from experiments.report.data import QUANTILE_BAND_ABOVE, ReportData, goal_indicators
from experiments.report.words import Words

__all__ = [
    "DPI",
    "FIGSIZE",
    "PIXELS",
    "fig_comparison",
    "fig_goals",
    "fig_sensitivity",
    "fig_trajectories",
    "save_figure",
]

FIGSIZE = (10.0, 6.0)  # inches
DPI = 100  # so every PNG is 1000 x 600 pixels
PIXELS = (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))
_TAB10 = plt.get_cmap("tab10")
assert isinstance(_TAB10, ListedColormap)  # a qualitative map: get_cmap is typed as returning any Colormap
# matplotlib types `colors` as whatever a ListedColormap may be built from; tab10's are 10 RGB tuples
COLOURS = cast(tuple[tuple[float, float, float], ...], _TAB10.colors)
# each group's marker (and the sensitivity bars' hatching): the figures read in black and white too
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
HATCHES = ("", "//")


def _unit(indicator: str, values, words: Words | None, difference: bool = False) -> tuple[float, str]:
    """(divisor, axis unit): USD in bn or m, shares in % (differences in percentage points),
    counts as they are or in thousands. `words` None: symbols only (Persian reports)."""
    top = float(np.nanmax(np.abs(values))) if len(values) and np.isfinite(values).any() else 0.0
    if indicator.endswith("_usd") and not indicator.endswith("_per_usd"):
        for size, key, symbol in ((1e9, "unit_usd_bn", "10⁹ $"), (1e6, "unit_usd_m", "10⁶ $")):
            if top >= size:
                return size, words(key) if words else symbol
        return 1.0, words("unit_usd") if words else "$"
    if indicator.endswith("share"):
        return 0.01, (words("unit_pp") if difference else "%") if words else ("Δ %" if difference else "%")
    if top >= 1e4:
        return 1e3, words("unit_count_k") if words else "10³"
    return 1.0, words("unit_count") if words else "#"


def save_figure(fig, path: Path) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    png = buffer.getvalue()
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)
    return png


def _grid(n: int):
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=FIGSIZE, dpi=DPI, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _panel_title(i: int, text: str, words: Words | None) -> str:
    return f"({i}) {text}" if words else f"({i})"


def fig_trajectories(data: ReportData, words: Words | None) -> tuple[object, list[str]]:
    goals = list(data.goals.values())
    fig, axes = _grid(len(goals))
    units = []
    quantile = data.members > QUANTILE_BAND_ABOVE
    for i, (ax, goal) in enumerate(zip(axes, goals, strict=True), start=1):
        size, unit = _unit(goal.indicator, data.series[goal.indicator].to_numpy(dtype=float), words)
        units.append(unit)
        for j, group in enumerate(data.groups):
            own = data.series[data.series["group"] == group].groupby("month")[goal.indicator]
            low, high = (own.quantile(0.05), own.quantile(0.95)) if quantile else (own.min(), own.max())
            colour = COLOURS[j % len(COLOURS)]
            ax.fill_between(low.index, low / size, high / size, color=colour, alpha=0.2, linewidth=0)
            ax.plot(
                own.mean().index,
                own.mean() / size,
                color=colour,
                label=group,
                marker=MARKERS[j % len(MARKERS)],
                markevery=max(1, data.horizon // 8),
                markersize=5,
            )
        for bound in (goal.at_least, goal.at_most):
            if bound is not None:
                ax.axhline(bound / size, color="black", linestyle="--", linewidth=1)
        if goal.month_for(data.horizon) <= data.horizon:
            ax.axvline(goal.month_for(data.horizon), color="grey", linestyle=":", linewidth=1)
        ax.set_title(_panel_title(i, goal.label, words), fontsize=10)
        ax.set_xlabel(words("axis_month") if words else "t")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig, units


def fig_comparison(data: ReportData, words: Words | None) -> tuple[object, list[str]]:
    indicators = goal_indicators(data.goals)
    fig, axes = _grid(len(indicators))
    units = []
    others = data.groups[1:]
    for i, (ax, indicator) in enumerate(zip(axes, indicators, strict=True), start=1):
        rows = [d for d in data.diffs if d["indicator"] == indicator]
        by_group = {d["group"]: d for d in rows}
        values = np.array(
            [[by_group[g][k] for k in ("difference", "ci_low", "ci_high")] for g in others if g in by_group],
            dtype=float,
        )
        size, unit = _unit(indicator, values.ravel() if values.size else np.array([0.0]), words, difference=True)
        units.append(unit)
        ys = np.arange(len(others))
        for y, g in zip(ys, others, strict=True):
            d = by_group.get(g)
            if d is None or not math.isfinite(d["difference"]):
                continue
            low, high = d["ci_low"], d["ci_high"]
            err = (
                None
                if not (math.isfinite(low) and math.isfinite(high))
                else [[(d["difference"] - low) / size], [(high - d["difference"]) / size]]
            )
            ax.barh(
                y,
                d["difference"] / size,
                xerr=err,
                color=COLOURS[(list(data.groups).index(g)) % 10],
                capsize=4,
                alpha=0.8,
            )
        ax.axvline(0, color="black", linewidth=1)
        ax.set_yticks(ys, others, fontsize=8)
        ax.set_title(_panel_title(i, words.indicator(indicator) if words else "", words), fontsize=10)
        ax.set_xlabel(words("axis_difference", unit=unit) if words else f"Δ {unit}")
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig, units


def fig_goals(data: ReportData, words: Words | None) -> object:
    goals = list(data.goals.values())
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    width = 0.8 / max(1, len(data.groups))
    for j, group in enumerate(data.groups):
        rows = {r["goal"]: r for r in data.goal_rows if r["group"] == group}
        for i, goal in enumerate(goals):
            r = rows.get(goal.name)
            if r is None or not r["n"]:
                continue
            y = i + (j - (len(data.groups) - 1) / 2) * width
            p, low, high = 100 * r["probability"], 100 * r["p_low"], 100 * r["p_high"]
            ax.errorbar(
                p,
                y,
                xerr=[[p - low], [high - p]],
                fmt=MARKERS[j % len(MARKERS)],
                color=COLOURS[j % 10],
                capsize=4,
                label=group if i == 0 or not any(rows.get(g.name, {}).get("n") for g in goals[:i]) else None,
            )
    ax.set_yticks(
        range(len(goals)), [f"({i}) {g.label}" if words else f"({i})" for i, g in enumerate(goals, start=1)], fontsize=9
    )
    ax.invert_yaxis()
    ax.set_xlim(-5, 105)
    ax.set_xlabel(words("axis_probability") if words else "%")
    ax.grid(alpha=0.3, axis="x")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def fig_sensitivity(data: ReportData, words: Words | None) -> object:
    frame = data.sensitivity
    assert frame is not None, "fig_sensitivity needs Sobol indices (html.py draws it only then)"
    outcomes = list(dict.fromkeys(frame["outcome"]))
    fig, axes = _grid(len(outcomes))
    for i, (ax, outcome) in enumerate(zip(axes, outcomes, strict=True), start=1):
        own = frame[(frame["outcome"] == outcome) & (frame["policy"] == data.reference)]
        if own.empty:
            own = frame[frame["outcome"] == outcome].drop_duplicates("factor")
        ys = np.arange(len(own))
        for k, (column, label, shift) in enumerate((("first_order", "S1", -0.2), ("total_order", "ST", 0.2))):
            values = own[column].to_numpy(dtype=float)
            low, high = own[f"{column}_low"].to_numpy(dtype=float), own[f"{column}_high"].to_numpy(dtype=float)
            err = np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
            err = np.where(np.isfinite(err), err, 0.0)
            ax.barh(
                ys + shift, values, height=0.4, xerr=err, color=COLOURS[k], hatch=HATCHES[k], capsize=3, label=label
            )
        ax.set_yticks(ys, [f.split(".")[-1] for f in own["factor"]], fontsize=8)
        ax.axvline(0, color="black", linewidth=1)
        ax.set_title(_panel_title(i, outcome, words), fontsize=10)
        ax.set_xlabel(words("axis_index") if words else "S")
        ax.grid(alpha=0.3, axis="x")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
