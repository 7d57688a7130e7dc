"""Policies against the baseline: paired differences, goals, cost per job and per export dollar.

The functions here are pure: they take the runs table of a sweep (one row per run, the
schema of the result store, experiments.sweeps.store) and return DataFrames. Intervals are
two-sided at `confidence` (default 95%): t intervals for means of paired differences, Wilson
score intervals for probabilities, percentile bootstrap intervals for ratios.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from experiments.analysis.runs_table import (
    goals_met,
    ok_runs,
    paired,
    policies_with_baseline_first,
    run_counts,
    with_key,
    worlds,
)
from experiments.analysis.statistics import (
    check_confidence,
    clustered_interval,
    clustered_wilson_interval,
    resample_counts,
)
from experiments.formatting import (
    format_change,
    format_interval,
    format_percent,
    format_points,
    format_ratio,
    format_table,
    format_value,
    format_with_interval,
)
from experiments.inputs.goals import Goal
from simulation.indicators import CONTRACT

__all__ = ["COST_COLUMNS", "compare", "format_compare", "format_run_counts"]

SPEND, JOBS, EXPORTS = "policy_spend_usd", "employment", "exports_usd"


def compare(
    runs: pd.DataFrame,
    goals: Mapping[str, Goal],
    baseline: str = "baseline",
    confidence: float = 0.95,
    *,
    series: pd.DataFrame | None = None,
    indicators: Sequence[str] = CONTRACT,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Each policy against the baseline. Returns four tables:

    - "runs" (`run_counts`): runs, ok and errors per policy, and `pairs`, the keys (design
      block, sample, replicate) where both the policy and the baseline finished.
    - "compare": per policy other than the baseline and indicator (the contract's, those in
      the table): the means of both over the pairs, the mean paired difference policy -
      baseline, its standard error and t interval, `relative` (difference / baseline mean).
    - "goals": per policy (baseline included) and goal: runs checked, runs meeting it, the
      probability of meeting it (share of runs) with its Wilson interval, and for the other
      policies `change`, the mean paired difference of met (1) / missed (0) against the
      baseline with its t interval. The row `ALL_GOALS` is meeting every goal at once.
    - "costs": per policy, the paired mean differences of cumulative policy spending by the
      horizon (`policy_spend_usd`), of employment at the horizon and of SME exports at the
      horizon (USD a year), and two ratios of means:
        cost_per_job = extra spending / extra jobs (USD spent in total per job added at
            the horizon, jobs being all industrial employment, so jobs moved from large
            firms or lost elsewhere count against the policy);
        cost_per_export_usd = extra spending / extra exports (USD spent in total per extra
            USD a year of SME exports at the horizon).
      A ratio is NaN when its denominator's mean difference is not positive (the policy did
      not add jobs or exports: there is no cost per unit gained; `note` says so). Its interval
      is a percentile bootstrap over the pairs, where a resample whose denominator is not
      positive counts as an infinite cost; an infinite upper bound means the data do not
      exclude that the policy adds nothing.
    """
    check_confidence(confidence)
    good = ok_runs(runs)
    policies = policies_with_baseline_first(with_key(runs), baseline)
    indicators = [name for name in indicators if name in runs.columns]
    met = goals_met(good, goals, series)
    good = pd.concat([good, met.add_prefix("met:")], axis=1)
    met_columns = [f"met:{name}" for name in met.columns]

    counts = run_counts(runs).set_index("policy").loc[policies]
    counts["pairs"] = [len(paired(good, p, baseline, [])[0]) if p != baseline else math.nan for p in policies]
    counts = counts.reset_index()

    diff_rows, cost_rows = [], []
    for policy in policies[1:]:
        base, other = paired(good, policy, baseline, indicators)
        world = np.array(worlds(base.index))
        for name in indicators:
            both = (base[name].notna() & other[name].notna()).to_numpy()
            difference = other.loc[both, name] - base.loc[both, name]
            n, n_worlds, mean, se, low, high = clustered_interval(difference, world[both], confidence)
            base_mean = float(base.loc[both, name].mean()) if n else math.nan
            diff_rows.append(
                {
                    "policy": policy,
                    "indicator": name,
                    "pairs": n,
                    "worlds": n_worlds,
                    "baseline": base_mean,
                    "value": float(other.loc[both, name].mean()) if n else math.nan,
                    "difference": mean,
                    "std_error": se,
                    "ci_low": low,
                    "ci_high": high,
                    "relative": mean / base_mean if base_mean else math.nan,
                }
            )
        cost_rows.append(_costs(good, policy, baseline, confidence, n_bootstrap, seed))

    goal_rows = []
    for policy in policies:
        rows = good[good["policy"] == policy]
        if policy != baseline:
            base_met, other_met = paired(good, policy, baseline, met_columns)
        for name, column in zip(met.columns, met_columns, strict=True):
            checked = rows[column].dropna()
            n, k = len(checked), int(checked.sum())
            effective, low, high = clustered_wilson_interval(checked, world_labels(checked.index, rows), confidence)
            goal = goals.get(name)
            row = {
                "policy": policy,
                "goal": name,
                "label": goal.label if goal else "every goal met",
                "indicator": goal.indicator if goal else "",
                "month": goal.month if goal else None,
                "target": goal.target_text() if goal else "",
                "runs": n,
                "met": k,
                "probability": k / n if n else math.nan,
                "effective_runs": effective,
                "ci_low": low,
                "ci_high": high,
            }
            if policy != baseline:
                _, _, change, _, c_low, c_high = clustered_interval(
                    other_met[column] - base_met[column], worlds(base_met.index), confidence
                )
                row.update(change=change, change_low=c_low, change_high=c_high)
            goal_rows.append(row)

    goal_columns = [
        "policy",
        "goal",
        "label",
        "indicator",
        "month",
        "target",
        "runs",
        "met",
        "probability",
        "effective_runs",
        "ci_low",
        "ci_high",
        "change",
        "change_low",
        "change_high",
    ]
    return {
        "runs": counts,
        "compare": pd.DataFrame(
            diff_rows,
            columns=[
                "policy",
                "indicator",
                "pairs",
                "worlds",
                "baseline",
                "value",
                "difference",
                "std_error",
                "ci_low",
                "ci_high",
                "relative",
            ],
        ),
        "goals": pd.DataFrame(goal_rows).reindex(columns=goal_columns),
        "costs": pd.DataFrame(cost_rows, columns=COST_COLUMNS),
    }


COST_COLUMNS = [
    "policy",
    "pairs",
    "extra_spend_usd",
    "extra_jobs",
    "extra_exports_usd",
    "cost_per_job",
    "cost_per_job_low",
    "cost_per_job_high",
    "cost_per_export_usd",
    "cost_per_export_usd_low",
    "cost_per_export_usd_high",
    "note",
]


def _costs(good: pd.DataFrame, policy: str, baseline: str, confidence: float, n_bootstrap: int, seed: int) -> dict:
    row = {"policy": policy, "pairs": 0}
    needed = [SPEND, JOBS, EXPORTS]
    if any(c not in good.columns for c in needed):
        return row | {"note": f"n/a: the runs table lacks {', '.join(c for c in needed if c not in good.columns)}"}
    base, other = paired(good, policy, baseline, needed)
    d = (other - base).dropna()
    row["pairs"] = n = len(d)
    if n == 0:
        return row | {"note": "n/a: no pair of finished runs"}
    values = d[needed].to_numpy(float)  # (n, 3): extra spending, jobs, exports per pair
    spend, jobs, exports = values.mean(axis=0)
    row.update(extra_spend_usd=spend, extra_jobs=jobs, extra_exports_usd=exports)
    if n >= 2 and n_bootstrap >= 1:  # one set of resamples of the worlds (else pairs) for both ratios
        sums, sizes = _by_world(d[needed], values)
        means = np.concatenate(
            [
                (counts @ sums) / (counts @ sizes)[:, None]
                for counts in resample_counts(np.random.default_rng(seed), len(sizes), n_bootstrap)
            ]
        )
    else:
        means = np.full((0, 3), np.nan)
    alpha = 1 - confidence
    notes = []
    for column, i, what in (("cost_per_job", 1, "employment"), ("cost_per_export_usd", 2, "exports")):
        if values[:, i].mean() > 0:
            low = high = math.nan
            if len(means):
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(means[:, i] > 0, means[:, 0] / means[:, i], np.inf)
                low, high = np.quantile(ratio, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
            row.update(
                {column: spend / values[:, i].mean(), f"{column}_low": float(low), f"{column}_high": float(high)}
            )
            if np.isinf(high):
                notes.append(f"{what} gain uncertain (upper bound infinite)")
        else:
            row.update({column: math.nan, f"{column}_low": math.nan, f"{column}_high": math.nan})
            notes.append(
                f"{what} did not rise ({format_change(needed[i], values[:, i].mean())}): no cost per unit gained"
            )
    row["note"] = "; ".join(notes)
    return row


def world_labels(index, rows: pd.DataFrame) -> list[str]:
    """The worlds of the runs `rows.loc[index]` (as `worlds` names them)."""
    return worlds(pd.MultiIndex.from_frame(rows.loc[index, ["design_block", "sample"]]))


def _by_world(differences: pd.DataFrame, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The units a bootstrap resamples: each world's sums of the paired differences and its
    number of pairs (the pairs themselves when each world has one, or there is one world)."""
    frame = differences.assign(world=worlds(differences.index))
    by_world = frame.groupby("world", sort=False)
    if not 1 < by_world.ngroups < len(frame):
        return values, np.ones(len(values))
    return by_world[list(differences.columns)].sum().to_numpy(float), by_world.size().to_numpy(float)


def format_run_counts(counts: pd.DataFrame) -> str:
    rows = []
    for r in counts.itertuples(index=False):
        pairs = "" if pd.isna(getattr(r, "pairs", math.nan)) else f"{int(r.pairs):,}"
        error = (r.first_error[:70] + "...") if len(r.first_error) > 70 else r.first_error
        rows.append((r.policy, f"{int(r.runs):,}", f"{int(r.ok):,}", f"{int(r.errors):,}", pairs, error))
    return format_table(
        ("policy", "runs", "ok", "errors (excluded)", "pairs with baseline", "first error"), rows, right=(1, 2, 3, 4)
    )


def format_compare(result: Mapping[str, pd.DataFrame], baseline: str = "baseline", confidence: float = 0.95) -> str:
    """The tables of `compare` as text: runs, paired differences, goals, costs."""
    level = f"{confidence:.0%}"
    parts = ["Runs (failed runs are excluded from every figure):", "", format_run_counts(result["runs"])]
    diffs = result["compare"]
    for policy, group in diffs.groupby("policy", sort=False):
        pairs = int(group["pairs"].max()) if len(group) else 0
        n_worlds = int(group["worlds"].max()) if len(group) else 0
        over = f" (intervals over their {n_worlds} worlds)" if 1 < n_worlds < pairs else ""
        rows = [
            (
                r.indicator,
                format_value(r.indicator, r.baseline),
                format_value(r.indicator, r.value),
                format_change(r.indicator, r.difference),
                format_interval(r.ci_low, r.ci_high, lambda v, name=r.indicator: format_change(name, v)),
            )
            for r in group.itertuples(index=False)
        ]
        parts += [
            "",
            f"{policy} - {baseline}: paired over {pairs} runs with the same uncertainties and seed{over}; "
            f"means at the horizon, {level} t interval of the difference",
            "",
            format_table(("indicator", baseline, policy, "difference", f"{level} interval"), rows, right=(1, 2, 3, 4)),
        ]

    goals = result["goals"]
    if len(goals):
        policies = list(dict.fromkeys(goals["policy"]))
        others = policies[1:]
        header = ["goal", "target", "month", *(f"P({p})" for p in policies), *(f"{p} - {baseline}" for p in others)]
        goal_rows = []
        for _, group in goals.groupby("goal", sort=False):
            by = group.set_index("policy")
            first = by.iloc[0]
            month = "" if pd.isna(first["month"]) else str(int(first["month"]))
            cells = [first["label"], first["target"], month]
            cells += [
                format_with_interval(by.at[p, "probability"], by.at[p, "ci_low"], by.at[p, "ci_high"], format_percent)
                if by.at[p, "runs"]
                else "not checked"
                for p in policies
            ]
            cells += [
                format_with_interval(by.at[p, "change"], by.at[p, "change_low"], by.at[p, "change_high"], format_points)
                for p in others
            ]
            goal_rows.append(cells)
        parts += [
            "",
            f"Probability of meeting each goal (share of runs, {level} Wilson interval); change: paired "
            f"difference in points with its {level} t interval",
            "",
            format_table(header, goal_rows, right=tuple(range(1, len(header)))),
        ]

    costs = result["costs"]
    if len(costs):
        cost_rows = [
            (
                r.policy,
                format_change(SPEND, r.extra_spend_usd),
                format_change(JOBS, r.extra_jobs),
                format_with_interval(r.cost_per_job, r.cost_per_job_low, r.cost_per_job_high, format_ratio),
                format_change(EXPORTS, r.extra_exports_usd),
                format_with_interval(
                    r.cost_per_export_usd,
                    r.cost_per_export_usd_low,
                    r.cost_per_export_usd_high,
                    lambda v: "n/a" if math.isnan(v) else "inf" if math.isinf(v) else f"{v:.2f}",
                ),
                r.note if isinstance(r.note, str) else "",
            )
            for r in costs.itertuples(index=False)
        ]
        parts += [
            "",
            f"Cost against {baseline}: extra cumulative spending by the horizon per extra job at the horizon, "
            f"and per extra USD a year of SME exports ({level} bootstrap interval over the pairs)",
            "",
            format_table(
                (
                    "policy",
                    "extra spending (USD)",
                    "extra jobs",
                    "USD per job",
                    "extra exports (USD/yr)",
                    "USD per export USD/yr",
                    "note",
                ),
                cost_rows,
                right=(1, 2, 3, 4, 5),
            ),
        ]
    return "\n".join(parts)
