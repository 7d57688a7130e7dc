"""Which factor ranges decide whether a goal is met: a one-factor-at-a-time contrast over the runs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from experiments.analysis.runs_table import goals_met, ok_runs
from experiments.formatting import format_percent, format_points, format_table, format_value
from experiments.inputs.goals import Goal
from simulation.errors import InputError

__all__ = ["DRIVER_COLUMNS", "format_goal_drivers", "goal_drivers"]


DRIVER_COLUMNS = [
    "policy",
    "goal",
    "factor",
    "runs",
    "probability",
    "low_upper",
    "runs_low",
    "probability_low",
    "high_lower",
    "runs_high",
    "probability_high",
    "difference",
    "importance",
]


def goal_drivers(
    runs: pd.DataFrame,
    factors: Sequence[str],
    goals: Mapping[str, Goal],
    series: pd.DataFrame | None = None,
    parts: int = 3,
) -> pd.DataFrame:
    """Which factor ranges decide whether a goal is met, per policy: a one-factor-at-a-time
    contrast in the spirit of scenario discovery, without fitting anything.

    For each policy, goal and factor, the runs (all finished runs of the policy; each run is
    one point of the design) are split at the factor's empirical terciles (`parts` = 3): the
    lower part holds the runs with the factor at or below its 1/3 quantile (`low_upper`), the
    upper part those at or above its 2/3 quantile (`high_lower`). `probability_low` and
    `probability_high` are the shares of runs meeting the goal in each part, `difference` =
    high - low (positive: the goal is more likely with high values of the factor), and
    `importance` = |difference|, by which the rows of a goal are sorted. A factor that does
    not matter has importance near 0 (within the sampling noise of two shares of about
    runs/3 runs each); a factor that decides the goal alone approaches 1. A factor that does
    not vary, or a goal never checked, gives NaN.
    """
    if parts < 2:
        raise InputError("parts", f"must be an integer >= 2, got {parts!r}")
    good = ok_runs(runs)
    rows = []
    for policy in sorted(good["policy"].unique()):
        own = good[good["policy"] == policy]
        met = goals_met(own, goals, series)
        for goal in met.columns:
            checked = met[goal].notna()
            y = met.loc[checked, goal]
            for factor in factors:
                x = own.loc[checked, factor].astype(float)
                row = {
                    "policy": policy,
                    "goal": goal,
                    "factor": factor,
                    "runs": len(y),
                    "probability": float(y.mean()) if len(y) else math.nan,
                }
                if len(y) and x.nunique() > 1:
                    low_upper, high_lower = np.quantile(x, [1 / parts, 1 - 1 / parts])
                    low, high = y[x <= low_upper], y[x >= high_lower]
                    difference = float(high.mean() - low.mean())
                    row.update(
                        low_upper=low_upper,
                        runs_low=len(low),
                        probability_low=float(low.mean()),
                        high_lower=high_lower,
                        runs_high=len(high),
                        probability_high=float(high.mean()),
                        difference=difference,
                        importance=abs(difference),
                    )
                rows.append(row)
    frame = pd.DataFrame(rows).reindex(columns=DRIVER_COLUMNS)
    if frame.empty:
        return frame
    order = frame.assign(_goal=pd.Categorical(frame["goal"], categories=list(dict.fromkeys(frame["goal"]))))
    order = order.sort_values(
        ["policy", "_goal", "importance"], ascending=[True, True, False], na_position="last", kind="stable"
    )
    return order.drop(columns="_goal").reset_index(drop=True)


def format_goal_drivers(frame: pd.DataFrame, goals: Mapping[str, Goal], top: int = 5) -> str:
    """Per policy and goal, the `top` factors by importance: the goal's probability in the lower
    and upper thirds of each factor's range."""
    parts = []
    for (policy, goal), group in frame.groupby(["policy", "goal"], sort=False):
        label = goals[goal].label if goal in goals else "every goal met"
        probability = group["probability"].iloc[0]
        rows = [
            (
                r.factor,
                f"<= {format_value(r.factor, r.low_upper)}",
                format_percent(r.probability_low),
                f">= {format_value(r.factor, r.high_lower)}",
                format_percent(r.probability_high),
                format_points(r.difference),
            )
            for r in group.head(top).itertuples(index=False)
            if math.isfinite(r.importance)
        ]
        runs = int(group["runs"].iloc[0])
        if runs == 0:
            parts += [
                f"{label} (policy {policy}): not checked (no run reaches its month, or the runs lack "
                f"{goals[goal].indicator if goal in goals else 'a goal indicator'})",
                "",
            ]
            continue
        parts.append(f"{label} (policy {policy}): met in {format_percent(probability)} of {runs:,} runs")
        if probability in (0.0, 1.0):
            parts += ["  (the same in every run: no factor range decides it)", ""]
            continue
        if rows:
            parts += [
                "",
                format_table(
                    ("factor", "lower third", "P(met)", "upper third", "P(met)", "difference"),
                    rows,
                    right=(1, 2, 3, 4, 5),
                ),
            ]
        parts.append("")
    return "\n".join(parts).rstrip()
