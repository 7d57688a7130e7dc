"""What the dashboard shows of a run: the goal charts and table (tab "Goals"), and the aggregate
views that suit 85,000 firms (tab "Economy": units by status, exports by destination, the
firm-size histogram, active units by province, consortia), each beside the comparison run and
stamped with its month. The markup is rebuilt only when the run steps (`tick`), so a page
re-render for a control change never reads a run while a Play thread steps it."""

from __future__ import annotations

import itertools
from html import escape

import numpy as np
import pandas as pd
import solara

from experiments.dashboard.svg_charts import Series, Target, bar_chart, line_chart, plain_number
from experiments.dashboard.workshop import WorkshopModel
from simulation.geography import PROVINCE_NAMES
from simulation.state import ACTIVE, STATUS_NAMES

__all__ = [
    "GOALS_MONTH",
    "GOAL_UNITS",
    "PAGE_CSS",
    "RTL_CSS",
    "EconomyView",
    "GoalsView",
    "economy_markup",
    "goal_charts",
    "goals_markup",
]

# indicator -> (divisor, unit key) on the goal charts and in the goal table
GOAL_UNITS = {
    "units_activated": (1e3, "unit_thousand_units"),
    "units_activated_distinct": (1e3, "unit_thousand_units"),
    "exports_usd": (1e9, "unit_usd_bn_year"),
    "export_share": (1e-2, "unit_percent"),
    "sme_employment_share": (1e-2, "unit_percent"),
}
COUNTS = {"units_activated", "units_activated_distinct"}  # goal indicators whose axis starts at 0
RUN_COLOUR, BASELINE_COLOUR = "#1f77b4", "#7f7f7f"
STATUS_COLOURS = ("#ff7f0e", "#1f77b4", "#9467bd", "#7f7f7f")
SIZE_EDGES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)  # employees: 1, 2-4, ..., 1,000+
GOALS_MONTH = 48  # the goals' four years: the charts' time axis reaches it (a goal without a month of its own)

# Charts fill their grid cell (SVG viewBox, width 100%): two goal charts a row, so all four fit
# a 1280x720 projector; the run bar stays on screen while the page scrolls.
PAGE_CSS = """
.run-bar { position: sticky; top: 0; z-index: 5; background: white; padding: 6px 12px;
           border-bottom: 1px solid #ddd; }
.controls { max-height: calc(100vh - 120px); overflow-y: auto; padding: 8px 12px; }
.chart-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 8px; }
.chart-grid svg { width: 100%; height: auto; }
.goal-table td, .goal-table th { padding: 2px 8px; }
.group-title { font-weight: bold; margin: 10px 0 4px; display: block; }
"""
# Persian: the page right to left (the charts keep a left-to-right time axis)
RTL_CSS = """
.workshop, .workshop .v-input, .workshop .v-select__selections, .workshop table { direction: rtl; }
.workshop .chart-grid { direction: ltr; }
"""


def _charts(svgs: list[str], classes: str) -> str:
    return f"<div dir='ltr' class='chart-grid {classes}'>" + "".join(svgs) + "</div>"


def _table(header: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table class='goal-table' style='border-collapse:collapse'><tr>{cells}</tr>{body}</table>"


def _comparison(model: WorkshopModel) -> str:
    return model.words.say(f"compare_short_{model.compare}")


def goal_charts(model: WorkshopModel, charts: bool = True) -> tuple[list[str], list[list[str]]]:
    """The goal charts (SVG; none with charts=False) and the goal table's rows at the current month."""
    w, run, base = model.words, model.history(), model.baseline_history()
    svgs, rows = [], []
    for goal in model.goals.values():
        unit, unit_key = GOAL_UNITS.get(goal.indicator, (1.0, None))
        unit_label = w.say(unit_key) if unit_key else ""
        series = [Series(w.say("this_run"), run[goal.indicator] / unit, RUN_COLOUR)]
        if base is not None:
            series.append(Series(_comparison(model), base[goal.indicator] / unit, BASELINE_COLOUR, dashed=True))
        targets = [
            Target(bound / unit, w.say("target", value=plain_number(bound / unit)))
            for bound in (goal.at_least, goal.at_most)
            if bound is not None
        ]
        if charts:
            svgs.append(
                line_chart(
                    w.goal(goal),
                    run.index,
                    series,
                    targets=targets,
                    marker_x=goal.month_for(GOALS_MONTH),
                    x_label=w.say("axis_month"),
                    y_label=unit_label,
                    from_zero=goal.indicator in COUNTS,
                    width=410,
                    height=230,
                )
            )
        month = min(model.steps, goal.month_for(GOALS_MONTH))  # past its month, a goal is judged there
        value = float(run[goal.indicator].iloc[month])
        base_value = float(base[goal.indicator].iloc[month]) if base is not None else float("nan")
        spaced_unit = unit_label if unit_label in ("%", "") else " " + unit_label
        rows.append(
            [
                w.goal(goal),
                w.isolate(f"{value / unit:,.2f}{spaced_unit}"),
                w.isolate(f"{base_value / unit:,.2f}"),
                w.say(_goal_status(goal, value, model.steps >= goal.month_for(GOALS_MONTH))),
            ]
        )
    return svgs, rows


def _goal_status(goal, value: float, judged: bool) -> str:
    """The goal table's word: "met" or "missed" at the goal's month, "met" or "not yet" before it."""
    if goal.is_met(value):
        return "met"
    return "missed" if judged else "not_yet"


def goals_markup(model: WorkshopModel) -> str:
    """Tab "Goals": the goal charts, then the month's goal table and what it is compared with."""
    w = model.words
    svgs, rows = goal_charts(model)
    header = [w.say("col_goal"), w.say("col_run"), _comparison(model), w.say("col_met")]
    status = w.say(
        "status",
        scenario=w.scenario_name(model.scenario_name),
        scale=model.scale,
        seed=model.run_scenario.seed,
        ms=f"{model.step_seconds * 1000:.0f}",
    )
    return w.html(
        _charts(svgs, "goal-charts")
        + f"<p class='goal-status'><b>{escape(w.say('month', month=model.steps))}</b>: "
        + f"{escape(w.say('compared_with', comparison=w.say(f'compare_{model.compare}')))} ({escape(status)})</p>"
        + _table(header, rows)
    )


def _titled(model: WorkshopModel, key: str) -> str:
    """A view's title with the month it shows."""
    w = model.words
    return f"{w.say(key)}, {w.say('month', month=model.steps)}"


def _units_chart(model: WorkshopModel) -> str:
    w, run, base = model.words, model.history(), model.baseline_history()
    series = [
        Series(w.names[name], run[f"{name}_units"] / 1e3, colour)
        for name, colour in zip(STATUS_NAMES, STATUS_COLOURS, strict=True)
    ]
    if base is not None:  # the comparison's active units: what the plan adds to the active stock
        series.append(Series(f"{w.names['active']}: {_comparison(model)}", base["active_units"] / 1e3, "#1f77b4", True))
    return line_chart(
        _titled(model, "units_title"),
        run.index,
        series,
        x_label=w.say("axis_month"),
        from_zero=True,
        width=600,  # room for five legend entries
        height=300,
    )


def _exports_chart(model: WorkshopModel) -> str:
    w = model.words
    run = model.exports_by_destination() / 1e9
    columns = [(w.say("this_run"), run, RUN_COLOUR)]  # (label, USD bn by destination, colour)
    if model.baseline is not None:
        columns.append(
            (_comparison(model), model.baseline.exports_by_destination().reindex(run.index) / 1e9, BASELINE_COLOUR)
        )
    largest = pd.concat([values for _, values, _ in columns], axis=1).max(axis=1).sort_values(ascending=False)
    shown = largest.index[largest > 0][:12]
    groups = [Series(label, values.reindex(shown).to_numpy(), colour) for label, values, colour in columns]
    return bar_chart(
        _titled(model, "exports_title"),
        [w.place(name) for name in shown],
        groups,
        horizontal=True,
        value_label=w.say("unit_usd_bn_year"),
        height=320,
    )


def _active(model) -> tuple[np.ndarray, np.ndarray]:
    """Active units now by size class and by province (national scale)."""
    f = model.firms
    active = f.status == ACTIVE
    sizes, _ = np.histogram(np.maximum(f.employees[active], 1), bins=[*SIZE_EDGES, np.inf])
    provinces = np.bincount(f.province[active], minlength=len(PROVINCE_NAMES))
    return sizes / model.scale, provinces / model.scale


def _firm_charts(model: WorkshopModel) -> list[str]:
    w = model.words
    runs = [(w.say("this_run"), _active(model), RUN_COLOUR)]
    if model.baseline is not None:
        runs.append((_comparison(model), _active(model.baseline), BASELINE_COLOUR))
    sizes = [f"{a:,}" if b - a == 1 else f"{a:,}–{b - 1:,}" for a, b in itertools.pairwise(SIZE_EDGES)]
    sizes.append(f"{SIZE_EDGES[-1]:,}+")
    top = np.argsort(runs[0][1][1], kind="stable")[::-1][:15]
    size_chart = bar_chart(
        _titled(model, "size_title"),
        sizes,
        [Series(label, counts[0], colour) for label, counts, colour in runs],
        value_label=w.say("size_axis"),
        height=260,
    )
    province_chart = bar_chart(
        _titled(model, "province_title"),
        [w.place(PROVINCE_NAMES[i]) for i in top],
        [Series(label, counts[1][top], colour) for label, counts, colour in runs],
        horizontal=True,
        value_label=w.say("size_axis"),
        height=380,
    )
    return [size_chart, province_chart]


def _consortia_chart(model: WorkshopModel) -> str:
    w, run, base = model.words, model.history(), model.baseline_history()
    series = [Series(w.say("this_run"), run["consortia"], RUN_COLOUR)]
    if base is not None:
        series.append(Series(_comparison(model), base["consortia"], BASELINE_COLOUR, dashed=True))
    return line_chart(
        _titled(model, "consortia_title"),
        run.index,
        series,
        x_label=w.say("axis_month"),
        y_label=w.say("consortia_axis"),
        from_zero=True,
        height=240,
    )


def economy_markup(model: WorkshopModel) -> str:
    """Tab "Economy": the aggregate views and the units by status now."""
    w = model.words
    counts = np.bincount(model.firms.status, minlength=len(STATUS_NAMES)) / model.scale
    now = ", ".join(f"{w.names[name]} {w.isolate(f'{n:,.0f}')}" for name, n in zip(STATUS_NAMES, counts, strict=True))
    charts = [_units_chart(model), _exports_chart(model), *_firm_charts(model), _consortia_chart(model)]
    return w.html(
        _charts(charts, "economy-charts")
        + f"<p class='units-now'>{escape(_titled(model, 'units_now'))}: {escape(now)}</p>"
    )


@solara.component
def GoalsView(model: WorkshopModel, tick: solara.Reactive[int]):
    markup = solara.use_memo(lambda: goals_markup(model), [model, tick.value])
    solara.HTML(tag="div", unsafe_innerHTML=markup, classes=["goals-view"])


@solara.component
def EconomyView(model: WorkshopModel, tick: solara.Reactive[int]):
    markup = solara.use_memo(lambda: economy_markup(model), [model, tick.value])
    solara.HTML(tag="div", unsafe_innerHTML=markup, classes=["economy-view"])
