"""Analysis of a sweep's runs: policies against the baseline, goals, cost per job, sensitivity.

The functions here are pure: they take the runs table of a sweep (one row per run, the
schema of the result store: `run_id, policy, sample, design_block, replicate, seed, status,
error, wall_seconds, worker`, one float64 column per design factor named by its key, and one
float64 column per indicator at the horizon) and return DataFrames. `compare_command` and
`sensitivity_command` read a sweep directory, print the tables and write them as CSV files
beside the results (`compare.csv`, `goals.csv`, `costs.csv`, `sensitivity.csv`,
`goal_drivers.csv`).

Conventions:
- Runs whose `status` is not "ok" are left out of every statistic and counted (`run_counts`).
- A run is identified in the design by (`design_block`, `sample`, `replicate`). Runs of two
  policies with the same key faced the same uncertainty values and the same random seed
  (common random numbers), so policies are compared by paired differences over the keys both
  have: the difference is the policy's effect in that world, and the model's noise largely
  cancels.
- Intervals are two-sided at `confidence` (default 95%): t intervals for means of paired
  differences, Wilson score intervals for probabilities, percentile bootstrap intervals for
  ratios and Sobol indices.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy import stats

from experiments.errors import ScenarioError, unknown_name
from experiments.files import write_csv_atomically
from experiments.formatting import format_change, format_table, format_value
from experiments.goals import Goal, load_goals, merge
from simulation.errors import InputError
from simulation.indicators import CONTRACT, INDICATORS

# The runs table's columns that are neither design factors nor indicators.
RUN_COLUMNS = ("run_id", "policy", "sample", "design_block", "replicate", "seed", "status", "error",
               "wall_seconds", "worker")
KEY = ["design_block", "sample", "replicate"]  # a run's place in the design, shared across policies
OK = "ok"
ALL_GOALS = "all goals"  # the goals table's row for meeting every goal at once
SPEND, JOBS, EXPORTS = "policy_spend_usd", "employment", "exports_usd"
RUNS_DIR, SERIES_DIR, MANIFEST = "runs", "series", "manifest.json"
FILES = {"compare": "compare.csv", "goals": "goals.csv", "costs": "costs.csv", "sensitivity": "sensitivity.csv",
         "goal_drivers": "goal_drivers.csv"}


# --- the runs table ------------------------------------------------------------------------------


def factor_columns(runs: pd.DataFrame) -> list[str]:
    """The design factors of a runs table: every column that is not a fixed column or an indicator."""
    return [c for c in runs.columns if c not in RUN_COLUMNS and c not in INDICATORS]


def _with_key(runs: pd.DataFrame) -> pd.DataFrame:
    if "design_block" not in runs:
        runs = runs.assign(design_block="")
    return runs.assign(design_block=runs["design_block"].fillna("").astype(str))


def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished (status "ok"), with `design_block` "" where missing."""
    runs = _with_key(runs)
    return runs[runs["status"] == OK]


def run_counts(runs: pd.DataFrame) -> pd.DataFrame:
    """Per policy: runs, ok, errors (excluded from every statistic) and the first error message."""
    rows = []
    for policy, group in runs.groupby("policy", sort=True):
        failed = group[group["status"] != OK]
        first = failed["error"].dropna() if "error" in failed else pd.Series(dtype=object)
        rows.append({"policy": policy, "runs": len(group), "ok": len(group) - len(failed), "errors": len(failed),
                     "first_error": str(first.iloc[0]) if len(first) else ""})
    return pd.DataFrame(rows, columns=["policy", "runs", "ok", "errors", "first_error"])


def _policies(runs: pd.DataFrame, baseline: str) -> list[str]:
    policies = sorted(runs["policy"].unique())
    if baseline not in policies:
        raise ScenarioError(None, "baseline", unknown_name(baseline, policies, "policy"))
    return [baseline] + [p for p in policies if p != baseline]


def _indexed(runs: pd.DataFrame, policy: str) -> pd.DataFrame:
    rows = runs[runs["policy"] == policy].set_index(KEY)
    if rows.index.has_duplicates:
        dup = rows.index[rows.index.duplicated()][0]
        raise ValueError(f"policy {policy!r} has more than one run at (design_block, sample, replicate) = {dup}")
    return rows


def paired(runs: pd.DataFrame, policy: str, baseline: str, columns: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline's and the policy's values of `columns` on the keys both have, aligned row by row."""
    base, other = _indexed(runs, baseline), _indexed(runs, policy)
    common = base.index.intersection(other.index).sort_values()
    return base.loc[common, list(columns)], other.loc[common, list(columns)]


# --- small statistics ----------------------------------------------------------------------------


def mean_interval(values, confidence: float = 0.95) -> tuple[int, float, float, float, float]:
    """n, mean, standard error and the t interval of the mean of the finite values (NaN where
    undefined: no value for the mean, fewer than two for the rest)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return n, mean, math.nan, math.nan, math.nan
    se = float(x.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    return n, mean, se, mean - half, mean + half


def wilson_interval(met: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a probability from `met` successes in `n` trials (NaN if n = 0)."""
    if n == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p, z2 = met / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ScenarioError(None, "confidence", f"must lie in (0, 1), got {confidence!r}")


# --- goals on runs -------------------------------------------------------------------------------


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
            values = runs["run_id"].map(at_month[goal.indicator]).astype(float) if goal.indicator in at_month \
                else pd.Series(math.nan, index=runs.index)
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


# --- compare ---------------------------------------------------------------------------------


def compare(runs: pd.DataFrame, goals: Mapping[str, Goal], baseline: str = "baseline", confidence: float = 0.95, *,
            series: pd.DataFrame | None = None, indicators: Sequence[str] = CONTRACT, n_bootstrap: int = 1000,
            seed: int = 0) -> dict[str, pd.DataFrame]:
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
    _check_confidence(confidence)
    good = ok_runs(runs)
    policies = _policies(_with_key(runs), baseline)
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
        for name in indicators:
            both = base[name].notna() & other[name].notna()
            n, mean, se, low, high = mean_interval(other.loc[both, name] - base.loc[both, name], confidence)
            base_mean = float(base.loc[both, name].mean()) if n else math.nan
            diff_rows.append({"policy": policy, "indicator": name, "pairs": n, "baseline": base_mean,
                              "value": float(other.loc[both, name].mean()) if n else math.nan, "difference": mean,
                              "std_error": se, "ci_low": low, "ci_high": high,
                              "relative": mean / base_mean if base_mean else math.nan})
        cost_rows.append(_costs(good, policy, baseline, confidence, n_bootstrap, seed))

    goal_rows = []
    for policy in policies:
        rows = good[good["policy"] == policy]
        if policy != baseline:
            base_met, other_met = paired(good, policy, baseline, met_columns)
        for name, column in zip(met.columns, met_columns):
            checked = rows[column].dropna()
            n, k = len(checked), int(checked.sum())
            low, high = wilson_interval(k, n, confidence)
            goal = goals.get(name)
            row = {"policy": policy, "goal": name, "label": goal.label if goal else "every goal met",
                   "indicator": goal.indicator if goal else "", "month": goal.month if goal else None,
                   "target": goal.target_text() if goal else "", "runs": n, "met": k,
                   "probability": k / n if n else math.nan, "ci_low": low, "ci_high": high}
            if policy != baseline:
                _, change, _, c_low, c_high = mean_interval(other_met[column] - base_met[column], confidence)
                row.update(change=change, change_low=c_low, change_high=c_high)
            goal_rows.append(row)

    goal_columns = ["policy", "goal", "label", "indicator", "month", "target", "runs", "met", "probability", "ci_low",
                    "ci_high", "change", "change_low", "change_high"]
    return {
        "runs": counts,
        "compare": pd.DataFrame(diff_rows, columns=["policy", "indicator", "pairs", "baseline", "value", "difference",
                                                    "std_error", "ci_low", "ci_high", "relative"]),
        "goals": pd.DataFrame(goal_rows).reindex(columns=goal_columns),
        "costs": pd.DataFrame(cost_rows, columns=COST_COLUMNS),
    }


COST_COLUMNS = ["policy", "pairs", "extra_spend_usd", "extra_jobs", "extra_exports_usd", "cost_per_job",
                "cost_per_job_low", "cost_per_job_high", "cost_per_export_usd", "cost_per_export_usd_low",
                "cost_per_export_usd_high", "note"]


def _resample_counts(rng: np.random.Generator, n: int, n_bootstrap: int, rows: int | None = None,
                     budget: int = 2_000_000):
    """Bootstrap resamples as counts: batches of arrays (b, n), each row how many times each of
    n units is drawn in one resample of n with replacement; b * max(n, rows) <= budget (memory)."""
    batch = max(1, budget // max(rows or n, n, 1))
    for start in range(0, n_bootstrap, batch):
        b = min(batch, n_bootstrap - start)
        picks = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(picks.ravel(), minlength=b * n).reshape(b, n).astype(float)


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
    if n >= 2 and n_bootstrap >= 1:  # one set of resamples of the pairs for both ratios
        means = np.concatenate([counts @ values / n for counts in
                                _resample_counts(np.random.default_rng(seed), n, n_bootstrap)])
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
            row.update({column: spend / values[:, i].mean(), f"{column}_low": float(low), f"{column}_high": float(high)})
            if np.isinf(high):
                notes.append(f"{what} gain uncertain (upper bound infinite)")
        else:
            row.update({column: math.nan, f"{column}_low": math.nan, f"{column}_high": math.nan})
            notes.append(f"{what} did not rise ({format_change(needed[i], values[:, i].mean())}): "
                         "no cost per unit gained")
    row["note"] = "; ".join(notes)
    return row


# --- replication noise and Sobol indices ------------------------------------------------------


def replication_noise(runs: pd.DataFrame, outcome: str) -> float:
    """Share of the outcome's variance that is replication noise: the pooled within-sample
    variance (across the replicates of each design point) over the total variance of the
    outcome across all runs. Uses the Sobol blocks A and B only when the design has them (AB
    blocks repeat A's and B's points in part). NaN when no design point has two replicates or
    the outcome does not vary."""
    good = ok_runs(runs)
    blocks = good["design_block"]
    if blocks.isin(["A", "B"]).any():
        good = good[blocks.isin(["A", "B"])]
    y = good[outcome].astype(float)
    good = good[np.isfinite(y)]
    y = good[outcome].astype(float)
    groups = y.groupby([good["design_block"], good["sample"]])
    sizes = groups.transform("size")
    within_df = int((groups.size() - 1).clip(lower=0).sum())
    total = float(y.var(ddof=1)) if len(y) > 1 else math.nan
    if within_df == 0 or not total > 0:
        return math.nan
    deviations = (y - groups.transform("mean"))[sizes > 1]
    return float((deviations ** 2).sum() / within_df / total)


def _saltelli(weights: np.ndarray, f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-order (Saltelli et al. 2010, table 2 b) and total (Jansen 1999, table 2 f) indices,
    the estimators of scipy.stats.sobol_indices, with the rows weighted (weights (m, n): m
    resamples; ones for the estimate itself). f_a, f_b: (n,), f_ab: (n, k)."""
    total = weights.sum(axis=1, keepdims=True)
    mean = (weights @ f_a + weights @ f_b)[:, None] / (2 * total)
    var = (weights @ (f_a ** 2) + weights @ (f_b ** 2))[:, None] / (2 * total) - mean ** 2
    first = (weights @ (f_b[:, None] * (f_ab - f_a[:, None]))) / total
    jansen = 0.5 * (weights @ ((f_a[:, None] - f_ab) ** 2)) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, first / var, 0.0), np.where(var > 0, jansen / var, 0.0)


def _ab_factor(blocks: Mapping[str, pd.DataFrame], factors: Sequence[str]) -> dict[str, str]:
    """Which AB block moves each factor: in AB:i, one factor takes B's values and the others A's.
    Read from the factor values (on the keys an AB block shares with A and B), so `factors` may
    be any subset of the design's factors, in any order."""
    a, b = blocks["A"], blocks["B"]
    found = {}
    for label, ab in sorted(blocks.items()):
        if not label.startswith("AB:"):
            continue
        keys = ab.index.intersection(a.index).intersection(b.index)
        if len(keys) == 0:
            continue
        for factor in factors:
            x_a, x_b, x_ab = (frame.loc[keys, factor].to_numpy(float) for frame in (a, b, ab))
            if factor not in found and np.array_equal(x_ab, x_b, equal_nan=True) and not np.array_equal(x_a, x_b, equal_nan=True):
                found[factor] = label
    missing = [f for f in factors if f not in found]
    if missing:
        raise ScenarioError(None, "factors", f"no AB block of the Sobol design moves {', '.join(missing)} "
                                             "(not a factor of the design, or A and B agree on it)")
    return found


def sobol_design(runs: pd.DataFrame, outcome: str, factors: Sequence[str]) -> dict:
    """The Saltelli design of one policy's runs, matched on (sample, replicate): arrays f_A, f_B
    (n,) and f_AB (n, k) with k = len(factors), the sample of each row, and how many keys were
    dropped because a block's run is missing or failed or its outcome is not finite."""
    good = ok_runs(runs)
    good = good[np.isfinite(good[outcome].astype(float))]
    labels = set(good["design_block"])
    if not {"A", "B"} <= labels or not any(str(label).startswith("AB:") for label in labels):
        raise ScenarioError(None, "design", "Sobol indices need a Sobol design (runs in blocks A, B and AB:i); "
                                            f"this sweep's blocks are {sorted(labels) or 'none'}")
    blocks = {}
    for label, group in good.groupby("design_block"):
        indexed = group.set_index(["sample", "replicate"])
        if indexed.index.has_duplicates:
            raise ValueError(f"block {label!r} has more than one run at a (sample, replicate)")
        blocks[label] = indexed
    mapping = _ab_factor(blocks, factors)
    common = blocks["A"].index.intersection(blocks["B"].index)
    for factor in factors:
        common = common.intersection(blocks[mapping[factor]].index)
    common = common.sort_values()
    if len(common) < 2:
        raise ScenarioError(None, "design", f"Sobol indices need at least 2 (sample, replicate) with finished runs "
                                            f"in blocks A, B and every AB block used; this one has {len(common)}")
    sobol = _with_key(runs)
    sobol = sobol[sobol["design_block"].isin(["A", "B"]) | sobol["design_block"].str.startswith("AB:")]
    designed = len(sobol[["sample", "replicate"]].drop_duplicates())
    return {
        "f_A": blocks["A"].loc[common, outcome].to_numpy(float),
        "f_B": blocks["B"].loc[common, outcome].to_numpy(float),
        "f_AB": np.column_stack([blocks[mapping[f]].loc[common, outcome].to_numpy(float) for f in factors])
        if factors else np.empty((len(common), 0)),
        "sample": common.get_level_values("sample").to_numpy(),
        "dropped": designed - len(common),
        "blocks": mapping,
    }


SENSITIVITY_COLUMNS = ["policy", "outcome", "factor", "first_order", "first_order_low", "first_order_high",
                       "total_order", "total_order_low", "total_order_high", "rows", "samples", "dropped",
                       "replication_noise_share"]


def sensitivity(runs: pd.DataFrame, factors: Sequence[str], outcome: str, n_bootstrap: int = 500,
                confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices of `outcome` for each factor, per policy, from the
    Saltelli design stored in the runs (blocks A, B and AB:i, matched on sample and replicate;
    the AB block of each factor is found from the factor values).

    Estimators (those of scipy.stats.sobol_indices, Saltelli et al. 2010 table 2): with the
    outputs centred on the mean of f(A) and f(B) and V their variance,
        S_i  = mean(f(B) (f(AB_i) - f(A))) / V               (first order)
        ST_i = mean((f(A) - f(AB_i))^2) / (2 V)              (total, Jansen)
    over the rows (sample, replicate). Replicates are extra rows: V includes the replication
    noise, so the indices share the variance with `replication_noise_share` (see
    `replication_noise`); 1 - sum of S_i is interactions plus noise. Intervals are percentile
    bootstrap intervals resampling samples (each with all its replicates), `n_bootstrap`
    resamples drawn from `seed`. `dropped` counts the keys left out because a block's run
    failed or is missing.
    """
    _check_confidence(confidence)
    factors = list(factors)
    unknown = [f for f in factors if f not in runs.columns]
    if unknown:
        raise ScenarioError(None, "factors", unknown_name(unknown[0], factor_columns(runs), "factor"))
    if outcome not in runs.columns:
        raise ScenarioError(None, "outcome", unknown_name(outcome, [c for c in INDICATORS if c in runs.columns], "outcome"))
    rows = []
    alpha = 1 - confidence
    for policy in sorted(runs["policy"].unique()):
        own = runs[runs["policy"] == policy]
        design = sobol_design(own, outcome, factors)
        f_a, f_b, f_ab = design["f_A"], design["f_B"], design["f_AB"]
        mean = np.concatenate([f_a, f_b]).mean()
        f_a, f_b, f_ab = f_a - mean, f_b - mean, f_ab - mean
        first, total = (x[0] for x in _saltelli(np.ones((1, len(f_a))), f_a, f_b, f_ab))
        samples, which = np.unique(design["sample"], return_inverse=True)
        if n_bootstrap > 0 and len(samples) > 1:
            rng = np.random.default_rng(seed)
            boot = [_saltelli(counts[:, which], f_a, f_b, f_ab)
                    for counts in _resample_counts(rng, len(samples), n_bootstrap, rows=len(which))]
            boot_first, boot_total = (np.concatenate(parts) for parts in zip(*boot))
            first_ci = np.quantile(boot_first, [alpha / 2, 1 - alpha / 2], axis=0)
            total_ci = np.quantile(boot_total, [alpha / 2, 1 - alpha / 2], axis=0)
        else:
            first_ci = total_ci = np.full((2, len(factors)), np.nan)
        noise = replication_noise(own, outcome)
        for i, factor in enumerate(factors):
            rows.append({"policy": policy, "outcome": outcome, "factor": factor, "first_order": first[i],
                         "first_order_low": first_ci[0, i], "first_order_high": first_ci[1, i],
                         "total_order": total[i], "total_order_low": total_ci[0, i],
                         "total_order_high": total_ci[1, i], "rows": len(f_a), "samples": len(samples),
                         "dropped": design["dropped"], "replication_noise_share": noise})
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


# --- goal drivers --------------------------------------------------------------------------------


DRIVER_COLUMNS = ["policy", "goal", "factor", "runs", "probability", "low_upper", "runs_low", "probability_low",
                  "high_lower", "runs_high", "probability_high", "difference", "importance"]


def goal_drivers(runs: pd.DataFrame, factors: Sequence[str], goals: Mapping[str, Goal],
                 series: pd.DataFrame | None = None, parts: int = 3) -> pd.DataFrame:
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
        raise ScenarioError(None, "parts", f"must be an integer >= 2, got {parts!r}")
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
                row = {"policy": policy, "goal": goal, "factor": factor, "runs": len(y),
                       "probability": float(y.mean()) if len(y) else math.nan}
                if len(y) and x.nunique() > 1:
                    low_upper, high_lower = np.quantile(x, [1 / parts, 1 - 1 / parts])
                    low, high = y[x <= low_upper], y[x >= high_lower]
                    difference = float(high.mean() - low.mean())
                    row.update(low_upper=low_upper, runs_low=len(low), probability_low=float(low.mean()),
                               high_lower=high_lower, runs_high=len(high), probability_high=float(high.mean()),
                               difference=difference, importance=abs(difference))
                rows.append(row)
    frame = pd.DataFrame(rows).reindex(columns=DRIVER_COLUMNS)
    if frame.empty:
        return frame
    order = frame.assign(_goal=pd.Categorical(frame["goal"], categories=list(dict.fromkeys(frame["goal"]))))
    order = order.sort_values(["policy", "_goal", "importance"], ascending=[True, True, False], na_position="last",
                              kind="stable")
    return order.drop(columns="_goal").reset_index(drop=True)


# --- text ----------------------------------------------------------------------------------------


def _percent(p: float) -> str:
    return "n/a" if p is None or not math.isfinite(p) else f"{p:.0%}"


def _points(change: float) -> str:
    """A change of probability in percentage points, "+12 pp" (never "-0 pp")."""
    return "n/a" if change is None or not math.isfinite(change) else f"{round(100 * change) + 0:+d} pp"


def _interval(low: float, high: float, fmt=lambda v: f"{v:.2f}") -> str:
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    return f"{fmt(low)} to {fmt(high)}"


def _with_interval(value: float, low: float, high: float, fmt) -> str:
    text = fmt(value)
    span = _interval(low, high, fmt)
    return f"{text} ({span})" if span and text != "n/a" else text


def _ratio_text(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format_value("cost_usd", value)


def format_run_counts(counts: pd.DataFrame) -> str:
    rows = []
    for r in counts.itertuples(index=False):
        pairs = "" if pd.isna(getattr(r, "pairs", math.nan)) else f"{int(r.pairs):,}"
        error = (r.first_error[:70] + "...") if len(r.first_error) > 70 else r.first_error
        rows.append((r.policy, f"{int(r.runs):,}", f"{int(r.ok):,}", f"{int(r.errors):,}", pairs, error))
    return format_table(("policy", "runs", "ok", "errors (excluded)", "pairs with baseline", "first error"), rows,
                        right=(1, 2, 3, 4))


def format_compare(result: Mapping[str, pd.DataFrame], baseline: str = "baseline", confidence: float = 0.95) -> str:
    """The tables of `compare` as text: runs, paired differences, goals, costs."""
    level = f"{confidence:.0%}"
    parts = ["Runs (failed runs are excluded from every figure):", "", format_run_counts(result["runs"])]
    diffs = result["compare"]
    for policy, group in diffs.groupby("policy", sort=False):
        pairs = int(group["pairs"].max()) if len(group) else 0
        rows = [(r.indicator, format_value(r.indicator, r.baseline), format_value(r.indicator, r.value),
                 format_change(r.indicator, r.difference),
                 _interval(r.ci_low, r.ci_high, lambda v, name=r.indicator: format_change(name, v)))
                for r in group.itertuples(index=False)]
        parts += ["", f"{policy} - {baseline}: paired over {pairs} runs with the same uncertainties and seed; "
                      f"means at the horizon, {level} t interval of the difference", "",
                  format_table(("indicator", baseline, policy, "difference", f"{level} interval"), rows, right=(1, 2, 3, 4))]

    goals = result["goals"]
    if len(goals):
        policies = list(dict.fromkeys(goals["policy"]))
        others = policies[1:]
        header = ["goal", "target", "month", *(f"P({p})" for p in policies), *(f"{p} - {baseline}" for p in others)]
        rows = []
        for name, group in goals.groupby("goal", sort=False):
            by = group.set_index("policy")
            first = by.iloc[0]
            month = "" if pd.isna(first["month"]) else str(int(first["month"]))
            cells = [first["label"], first["target"], month]
            cells += [_with_interval(by.at[p, "probability"], by.at[p, "ci_low"], by.at[p, "ci_high"], _percent)
                      if by.at[p, "runs"] else "not checked" for p in policies]
            cells += [_with_interval(by.at[p, "change"], by.at[p, "change_low"], by.at[p, "change_high"],
                                     _points) for p in others]
            rows.append(cells)
        parts += ["", f"Probability of meeting each goal (share of runs, {level} Wilson interval); change: paired "
                      f"difference in points with its {level} t interval", "",
                  format_table(header, rows, right=tuple(range(1, len(header))))]

    costs = result["costs"]
    if len(costs):
        rows = [(r.policy, format_change(SPEND, r.extra_spend_usd), format_change(JOBS, r.extra_jobs),
                 _with_interval(r.cost_per_job, r.cost_per_job_low, r.cost_per_job_high, _ratio_text),
                 format_change(EXPORTS, r.extra_exports_usd),
                 _with_interval(r.cost_per_export_usd, r.cost_per_export_usd_low, r.cost_per_export_usd_high,
                                lambda v: "n/a" if math.isnan(v) else "inf" if math.isinf(v) else f"{v:.2f}"),
                 r.note if isinstance(r.note, str) else "") for r in costs.itertuples(index=False)]
        parts += ["", f"Cost against {baseline}: extra cumulative spending by the horizon per extra job at the horizon, "
                      f"and per extra USD a year of SME exports ({level} bootstrap interval over the pairs)", "",
                  format_table(("policy", "extra spending (USD)", "extra jobs", "USD per job", "extra exports (USD/yr)",
                                "USD per export USD/yr", "note"), rows, right=(1, 2, 3, 4, 5))]
    return "\n".join(parts)


def format_sensitivity(frame: pd.DataFrame, confidence: float = 0.95) -> str:
    """Per policy and outcome: the factors by total index, first-order and total with intervals."""
    level = f"{confidence:.0%}"
    parts = []
    fmt = lambda v: "n/a" if not math.isfinite(v) else f"{v:.2f}"  # noqa: E731
    for (outcome, policy), group in frame.groupby(["outcome", "policy"], sort=False):
        first = group.iloc[0]
        group = group.sort_values("total_order", ascending=False)
        rows = [(r.factor, _with_interval(r.first_order, r.first_order_low, r.first_order_high, fmt),
                 _with_interval(r.total_order, r.total_order_low, r.total_order_high, fmt))
                for r in group.itertuples(index=False)]
        noise = first["replication_noise_share"]
        rest = 1 - group["first_order"].sum()
        parts += [f"{outcome}, policy {policy}: {int(first['rows']):,} rows ({int(first['samples']):,} samples"
                  + (f", {int(first['dropped'])} left out: a run failed" if first["dropped"] else "") + ")", "",
                  format_table(("factor", f"first order ({level})", f"total ({level})"), rows, right=(1, 2)), "",
                  f"replication noise: {_percent(noise)} of the variance; 1 - sum of first order = {round(rest, 2) + 0:.2f} "
                  "(interactions and noise)", ""]
    return "\n".join(parts).rstrip()


def format_goal_drivers(frame: pd.DataFrame, goals: Mapping[str, Goal], top: int = 5) -> str:
    """Per policy and goal, the `top` factors by importance: the goal's probability in the lower
    and upper thirds of each factor's range."""
    parts = []
    for (policy, goal), group in frame.groupby(["policy", "goal"], sort=False):
        label = goals[goal].label if goal in goals else "every goal met"
        probability = group["probability"].iloc[0]
        rows = [(r.factor, f"<= {format_value(r.factor, r.low_upper)}", _percent(r.probability_low),
                 f">= {format_value(r.factor, r.high_lower)}", _percent(r.probability_high),
                 _points(r.difference))
                for r in group.head(top).itertuples(index=False) if math.isfinite(r.importance)]
        runs = int(group["runs"].iloc[0])
        if runs == 0:
            parts += [f"{label} (policy {policy}): not checked (no run reaches its month, or the runs lack "
                      f"{goals[goal].indicator if goal in goals else 'a goal indicator'})", ""]
            continue
        parts.append(f"{label} (policy {policy}): met in {_percent(probability)} of {runs:,} runs")
        if probability in (0.0, 1.0):
            parts += ["  (the same in every run: no factor range decides it)", ""]
            continue
        if rows:
            parts += ["", format_table(("factor", "lower third", "P(met)", "upper third", "P(met)", "difference"), rows,
                                       right=(1, 2, 3, 4, 5))]
        parts.append("")
    return "\n".join(parts).rstrip()


# --- commands: read a sweep directory, print, write CSV files -------------------------------------


def read_manifest(sweep_dir: Path) -> dict:
    """The sweep's manifest.json as data ({} when there is none yet)."""
    path = Path(sweep_dir) / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ScenarioError(str(path), None, f"cannot read the manifest: {error}") from None


def read_runs(sweep_dir: Path) -> pd.DataFrame:
    """The runs table of a sweep directory (runs/part-*.parquet; hidden files are skipped)."""
    directory = Path(sweep_dir) / RUNS_DIR
    if not directory.is_dir() or not any(p.suffix == ".parquet" and not p.name.startswith(".")
                                         for p in directory.iterdir()):
        raise ScenarioError(str(sweep_dir), None, f"no runs table ({RUNS_DIR}/*.parquet): not a sweep directory, "
                                                  "or the sweep has not finished a chunk yet")
    return pd.read_parquet(directory)


def read_series_at(sweep_dir: Path, goals: Mapping[str, Goal]) -> pd.DataFrame | None:
    """The series rows at the goals' months and at the last month (the horizon), or None when the
    goals need no other month than the horizon or the sweep has no series table."""
    directory = Path(sweep_dir) / SERIES_DIR
    months = {g.month for g in goals.values() if g.month is not None}
    if not months or not directory.is_dir():
        return None
    horizon = int(pd.read_parquet(directory, columns=["month"])["month"].max())
    if months == {horizon}:
        return None
    present = set(pq.read_schema(next(iter(sorted(directory.glob("[!.]*.parquet"))))).names)
    indicators = sorted({g.indicator for g in goals.values()} & present)
    return pd.read_parquet(directory, columns=["run_id", "month", *indicators],
                           filters=[("month", "in", sorted(months | {horizon}))])


def sweep_goals(manifest: Mapping, source: str = MANIFEST) -> dict[str, Goal]:
    """The default goals (experiments/goals.toml) changed by the spec's goals table, if any."""
    spec = manifest.get("spec") if isinstance(manifest, Mapping) else None
    table = spec.get("goals") if isinstance(spec, Mapping) else None
    try:
        return merge(table or {}, load_goals())
    except InputError as error:
        raise ScenarioError(source, f"spec.goals.{error.key}" if error.key else "spec.goals", error.message) from None


def sweep_factors(runs: pd.DataFrame, manifest: Mapping) -> list[str]:
    """The design's factors in the spec's order (manifest spec.factors), else the runs table's."""
    spec = manifest.get("spec") if isinstance(manifest, Mapping) else None
    declared = spec.get("factors") if isinstance(spec, Mapping) else None
    if isinstance(declared, Mapping) and declared and all(k in runs.columns for k in declared):
        return list(declared)
    return factor_columns(runs)


def _write(frames: Mapping[str, pd.DataFrame], out: Path) -> list[Path]:
    written = []
    for name, frame in frames.items():
        path = Path(out) / FILES[name]
        write_csv_atomically(frame, path, index=False)
        written.append(path)
    return written


def default_baseline(runs: pd.DataFrame, manifest: Mapping) -> str:
    """"baseline" if the sweep has a policy of that name, else the spec's first policy (else the
    first by name)."""
    policies = sorted(runs["policy"].unique())
    spec = manifest.get("spec") if isinstance(manifest, Mapping) else None
    declared = spec.get("policies") if isinstance(spec, Mapping) else None
    if "baseline" in policies or not policies:
        return "baseline"
    return next((p for p in (declared or ()) if p in policies), policies[0])


def compare_command(sweep_dir: Path | str, baseline: str | None = None, confidence: float = 0.95,
                    n_bootstrap: int = 1000, out: Path | str | None = None) -> int:
    """`smesim compare DIR [--baseline NAME]`: print the comparison of every policy with the
    baseline (default: `default_baseline`) and write compare.csv, goals.csv and costs.csv to
    `out` (default: DIR)."""
    sweep_dir = Path(sweep_dir)
    runs = read_runs(sweep_dir)
    manifest = read_manifest(sweep_dir)
    baseline = default_baseline(runs, manifest) if baseline is None else baseline
    goals = sweep_goals(manifest, str(sweep_dir / MANIFEST))
    series = read_series_at(sweep_dir, goals)
    try:
        result = compare(runs, goals, baseline, confidence, series=series, n_bootstrap=n_bootstrap)
    except ScenarioError as error:
        raise ScenarioError(str(sweep_dir), error.key, error.message) from None
    print(f"{sweep_dir}: {len(runs):,} runs of {runs['policy'].nunique()} policies; baseline {baseline!r}\n")
    print(format_compare(result, baseline, confidence))
    written = _write({k: result[k] for k in ("compare", "goals", "costs")}, Path(out) if out else sweep_dir)
    print("\nwritten: " + ", ".join(str(p) for p in written))
    return 0


def sensitivity_command(sweep_dir: Path | str, outcome: str | Sequence[str] | None = None, n_bootstrap: int = 500,
                        confidence: float = 0.95, seed: int = 0, out: Path | str | None = None) -> int:
    """`smesim sensitivity DIR [--outcome NAME] [--bootstrap N]`: Sobol indices of the outcome
    (default: each goal's indicator) when the sweep's design is Sobol, the share of replication
    noise, and which factors decide each goal; writes sensitivity.csv (Sobol designs) and
    goal_drivers.csv to `out` (default: DIR)."""
    sweep_dir = Path(sweep_dir)
    runs = read_runs(sweep_dir)
    manifest = read_manifest(sweep_dir)
    goals = sweep_goals(manifest, str(sweep_dir / MANIFEST))
    factors = sweep_factors(runs, manifest)
    if outcome is None:
        outcomes = list(dict.fromkeys(g.indicator for g in goals.values() if g.indicator in runs.columns))
    else:
        outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
    for name in outcomes:
        if name not in runs.columns:
            raise ScenarioError(str(sweep_dir), "outcome",
                                unknown_name(name, [c for c in INDICATORS if c in runs.columns], "indicator"))
    if not factors:
        raise ScenarioError(str(sweep_dir), "factors", "the runs table has no design factor columns: nothing varies")
    frames = {}
    blocks = _with_key(runs)["design_block"]
    try:
        if blocks.isin(["A", "B"]).any():
            frames["sensitivity"] = pd.concat([sensitivity(runs, factors, name, n_bootstrap, confidence, seed)
                                               for name in outcomes], ignore_index=True)
            print(format_sensitivity(frames["sensitivity"], confidence))
        else:
            print("Sobol indices need a Sobol design (blocks A, B and AB:i); this sweep has none. Replication noise:")
            for name in outcomes:
                noise = {p: replication_noise(runs[runs["policy"] == p], name) for p in sorted(runs["policy"].unique())}
                print(f"  {name}: " + ", ".join(f"{p} {_percent(v)}" for p, v in noise.items()) + " of the variance")
        series = read_series_at(sweep_dir, goals)
        frames["goal_drivers"] = goal_drivers(runs, factors, goals, series)
    except ScenarioError as error:
        raise ScenarioError(str(sweep_dir), error.key, error.message) from None
    print("\nWhich factors decide each goal (probability of meeting it in the lower and upper thirds of each "
          "factor's range in the runs; the top 5 by the difference):\n")
    print(format_goal_drivers(frames["goal_drivers"], goals))
    written = _write(frames, Path(out) if out else sweep_dir)
    print("\nwritten: " + ", ".join(str(p) for p in written))
    return 0
