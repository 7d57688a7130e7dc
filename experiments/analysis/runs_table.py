"""The runs table of a sweep as the analyses read it: finished runs, counts, runs paired across
policies on their place in the design, goals met per run.

A run is identified in the design by (`design_block`, `sample`, `replicate`). Runs of two
policies with the same key faced the same uncertainty values and the same random seed
(common random numbers), so policies are compared by paired differences over the keys both
have: the difference is the policy's effect in that world, and the model's noise largely
cancels. Runs whose `status` is not "ok" are left out of every statistic and counted
(`run_counts`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from experiments.errors import unknown_name
from experiments.inputs.goals import Goal
from experiments.sweeps.store import OK, RUN_COLUMNS
from simulation.errors import InputError
from simulation.indicators import INDICATORS

__all__ = [
    "ALL_GOALS",
    "KEY",
    "factor_columns",
    "goal_met",
    "goals_met",
    "indexed_by_key",
    "ok_runs",
    "paired",
    "policies_with_baseline_first",
    "run_counts",
    "with_key",
    "worlds",
]

KEY = ["design_block", "sample", "replicate"]  # a run's place in the design, shared across policies
ALL_GOALS = "all goals"  # the goals table's row for meeting every goal at once


def factor_columns(runs: pd.DataFrame) -> list[str]:
    """The design factors of a runs table: every column that is not a fixed column or an indicator."""
    return [c for c in runs.columns if c not in RUN_COLUMNS and c not in INDICATORS]


def with_key(runs: pd.DataFrame) -> pd.DataFrame:
    if "design_block" not in runs:
        runs = runs.assign(design_block="")
    return runs.assign(design_block=runs["design_block"].fillna("").astype(str))


def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished (status "ok"), with `design_block` "" where missing."""
    runs = with_key(runs)
    return runs[runs["status"] == OK]


def run_counts(runs: pd.DataFrame) -> pd.DataFrame:
    """Per policy: runs, ok, errors (excluded from every statistic) and the first error message."""
    rows = []
    for policy, group in runs.groupby("policy", sort=True):
        failed = group[group["status"] != OK]
        first = failed["error"].dropna() if "error" in failed else pd.Series(dtype=object)
        rows.append(
            {
                "policy": policy,
                "runs": len(group),
                "ok": len(group) - len(failed),
                "errors": len(failed),
                "first_error": str(first.iloc[0]) if len(first) else "",
            }
        )
    return pd.DataFrame(rows, columns=["policy", "runs", "ok", "errors", "first_error"])


def policies_with_baseline_first(runs: pd.DataFrame, baseline: str) -> list[str]:
    policies = sorted(runs["policy"].unique())
    if baseline not in policies:
        raise InputError("baseline", unknown_name(baseline, policies, "policy"))
    return [baseline] + [p for p in policies if p != baseline]


def indexed_by_key(runs: pd.DataFrame, policy: str) -> pd.DataFrame:
    rows = runs[runs["policy"] == policy].set_index(KEY)
    if rows.index.has_duplicates:
        dup = rows.index[rows.index.duplicated()][0]
        raise ValueError(f"policy {policy!r} has more than one run at (design_block, sample, replicate) = {dup}")
    return rows


def paired(runs: pd.DataFrame, policy: str, baseline: str, columns: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline's and the policy's values of `columns` on the keys both have, aligned row by row."""
    base, other = indexed_by_key(runs, baseline), indexed_by_key(runs, policy)
    common = base.index.intersection(other.index).sort_values()
    return base.loc[common, list(columns)], other.loc[common, list(columns)]


def worlds(index: pd.MultiIndex) -> list[str]:
    """The world ("<design block>|<sample>") of each key of `paired`: its replicates share the
    uncertainties' values, so their paired differences are not independent."""
    blocks, samples = index.get_level_values("design_block"), index.get_level_values("sample")
    return [f"{block}|{sample}" for block, sample in zip(blocks, samples, strict=True)]


def goal_met(runs: pd.DataFrame, goal: Goal, series: pd.DataFrame | None = None) -> pd.Series:
    """Per run (same index as `runs`): 1.0 if the goal is met, 0.0 if missed, NaN if not checked.

    The runs table holds the indicators at the horizon. Without `series`, every goal is
    checked there (the runs table knows no months). With the series table (`run_id, month`,
    indicators), a goal is checked at its own month: from the runs table at the horizon (the
    series' last month), from the series before it, and not at all after it. A goal on an
    indicator the runs table lacks is not checked.
    """
    if goal.indicator not in runs.columns:
        return pd.Series(math.nan, index=runs.index)
    values = runs[goal.indicator].astype(float)
    if series is not None and goal.month is not None and len(series):
        horizon = int(series["month"].max())
        if goal.month > horizon:
            values = pd.Series(math.nan, index=runs.index)
        elif goal.month < horizon:
            at_month = series[series["month"] == goal.month].drop_duplicates("run_id").set_index("run_id")
            values = (
                runs["run_id"].map(at_month[goal.indicator]).astype(float)
                if goal.indicator in at_month
                else pd.Series(math.nan, index=runs.index)
            )
    v = values.to_numpy(float)
    met = np.isfinite(v)  # as Goal.is_met, vectorised: NaN never meets a goal
    if goal.at_least is not None:
        met &= v >= goal.at_least
    if goal.at_most is not None:
        met &= v <= goal.at_most
    return pd.Series(np.where(np.isnan(v), np.nan, met.astype(float)), index=runs.index)


def goals_met(runs: pd.DataFrame, goals: Mapping[str, Goal], series: pd.DataFrame | None = None) -> pd.DataFrame:
    """One column per goal (1.0 met, 0.0 missed, NaN not checked), and `ALL_GOALS` when there are
    several: met when every goal is met, NaN when any is not checked."""
    met = pd.DataFrame({name: goal_met(runs, goal, series) for name, goal in goals.items()}, index=runs.index)
    if len(goals) > 1:
        met[ALL_GOALS] = met.min(axis=1, skipna=False)
    return met
