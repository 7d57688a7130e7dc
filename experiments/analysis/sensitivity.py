"""Variance-based sensitivity of a Sobol sweep: first-order and total indices with bootstrap
intervals, and the share of the variance that is replication noise."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from experiments.analysis.runs_table import factor_columns, ok_runs, with_key
from experiments.analysis.statistics import check_confidence, resample_counts
from experiments.errors import unknown_name
from experiments.formatting import format_percent, format_table, format_with_interval
from simulation.errors import InputError
from simulation.indicators import INDICATORS

__all__ = [
    "SENSITIVITY_COLUMNS",
    "format_sensitivity",
    "paired_effects",
    "replication_noise",
    "sensitivity",
    "sobol_design",
]

DESIGN_KEY = ["design_block", "sample", "replicate"]  # a run's place in the design: the same world across policies


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
    return float((deviations**2).sum() / within_df / total)


def paired_effects(runs: pd.DataFrame, baseline: str, outcomes: Sequence[str]) -> pd.DataFrame:
    """Each other policy's runs with `outcomes` replaced by their paired effect: the difference
    from the baseline's run at the same design point and replicate (the same factor values and
    seed), under the policy name "POLICY - BASELINE". A Sobol analysis of these says which
    factors decide what a policy changes, not what the world does anyway. Outcomes are NaN
    where the baseline's run is missing or failed (the analysis leaves them out)."""
    keyed = with_key(runs)
    outcomes = list(outcomes)
    base = ok_runs(keyed)
    base = base[base["policy"] == baseline].set_index(DESIGN_KEY)[outcomes]
    if base.index.has_duplicates:
        raise InputError("design", f"the baseline {baseline!r} has more than one run at a design point")
    parts = []
    for policy in sorted(set(keyed["policy"]) - {baseline}):
        own = keyed[keyed["policy"] == policy].set_index(DESIGN_KEY)
        own = own.assign(**{name: own[name] - base[name].reindex(own.index) for name in outcomes})
        parts.append(own.assign(policy=f"{policy} - {baseline}").reset_index())
    return pd.concat(parts, ignore_index=True) if parts else keyed.iloc[:0]


def _saltelli(
    weights: np.ndarray, f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First-order (Saltelli et al. 2010, table 2 b) and total (Jansen 1999, table 2 f) indices,
    the estimators of scipy.stats.sobol_indices, and the variance V they divide by, with the
    rows weighted (weights (m, n): m resamples; ones for the estimate itself). f_a, f_b: (n,),
    f_ab: (n, k)."""
    total = weights.sum(axis=1, keepdims=True)
    mean = (weights @ f_a + weights @ f_b)[:, None] / (2 * total)
    var = (weights @ (f_a**2) + weights @ (f_b**2))[:, None] / (2 * total) - mean**2
    first = (weights @ (f_b[:, None] * (f_ab - f_a[:, None]))) / total
    jansen = 0.5 * (weights @ ((f_a[:, None] - f_ab) ** 2)) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, first / var, 0.0), np.where(var > 0, jansen / var, 0.0), var[:, 0]


def _within_sample(f_a: np.ndarray, f_b: np.ndarray, which: np.ndarray, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: the sum of squared deviations of its replicates' f(A) and f(B) from their
    sample's means, and its degrees of freedom (the replication noise, sample by sample)."""
    squares, dof = np.zeros(samples), np.zeros(samples)
    for f in (f_a, f_b):
        sums, counts = np.bincount(which, f, samples), np.bincount(which, minlength=samples).astype(float)
        means = np.divide(sums, counts, out=np.zeros(samples), where=counts > 0)
        squares += np.bincount(which, (f - means[which]) ** 2, samples)
        dof += np.maximum(counts - 1, 0)
    return squares, dof


def _net_of_noise(indices: np.ndarray, var: np.ndarray, counts: np.ndarray, squares, dof) -> np.ndarray:
    """Indices as shares of the variance that is not replication noise: S / (1 - noise / V),
    with the noise variance pooled over the (resampled) samples; NaN without replicates."""
    noise_var = (counts @ squares) / np.where(counts @ dof > 0, counts @ dof, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        signal = 1.0 - noise_var / var
        return np.where(signal[:, None] > 0, indices / signal[:, None], np.nan)


def _estimates(counts: np.ndarray, which: np.ndarray, f_a, f_b, f_ab, squares, dof) -> tuple[np.ndarray, ...]:
    """First and total indices, and both net of noise, for sample weights `counts` (m, samples)."""
    first, total, var = _saltelli(counts[:, which], f_a, f_b, f_ab)
    return (
        first,
        total,
        _net_of_noise(first, var, counts, squares, dof),
        _net_of_noise(total, var, counts, squares, dof),
    )


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
            if (
                factor not in found
                and np.array_equal(x_ab, x_b, equal_nan=True)
                and not np.array_equal(x_a, x_b, equal_nan=True)
            ):
                found[factor] = label
    missing = [f for f in factors if f not in found]
    if missing:
        raise InputError(
            "factors",
            f"no AB block of the Sobol design moves {', '.join(missing)} "
            "(not a factor of the design, or A and B agree on it)",
        )
    return found


def sobol_design(runs: pd.DataFrame, outcome: str, factors: Sequence[str]) -> dict:
    """The Saltelli design of one policy's runs, matched on (sample, replicate): arrays f_A, f_B
    (n,) and f_AB (n, k) with k = len(factors), the sample of each row, and how many keys were
    dropped because a block's run is missing or failed or its outcome is not finite."""
    good = ok_runs(runs)
    good = good[np.isfinite(good[outcome].astype(float))]
    labels = set(good["design_block"])
    if not {"A", "B"} <= labels or not any(str(label).startswith("AB:") for label in labels):
        raise InputError(
            "design",
            "Sobol indices need a Sobol design (runs in blocks A, B and AB:i); "
            f"this sweep's blocks are {sorted(labels) or 'none'}",
        )
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
        raise InputError(
            "design",
            f"Sobol indices need at least 2 (sample, replicate) with finished runs "
            f"in blocks A, B and every AB block used; this one has {len(common)}",
        )
    sobol = with_key(runs)
    sobol = sobol[sobol["design_block"].isin(["A", "B"]) | sobol["design_block"].str.startswith("AB:")]
    designed = len(sobol[["sample", "replicate"]].drop_duplicates())
    return {
        "f_A": blocks["A"].loc[common, outcome].to_numpy(float),
        "f_B": blocks["B"].loc[common, outcome].to_numpy(float),
        "f_AB": np.column_stack([blocks[mapping[f]].loc[common, outcome].to_numpy(float) for f in factors])
        if factors
        else np.empty((len(common), 0)),
        "sample": common.get_level_values("sample").to_numpy(),
        "dropped": designed - len(common),
        "blocks": mapping,
    }


SENSITIVITY_COLUMNS = [
    "policy",
    "outcome",
    "factor",
    "first_order",
    "first_order_low",
    "first_order_high",
    "total_order",
    "total_order_low",
    "total_order_high",
    "rows",
    "samples",
    "dropped",
    "replication_noise_share",
    "first_order_net",
    "first_order_net_low",
    "first_order_net_high",
    "total_order_net",
    "total_order_net_low",
    "total_order_net_high",
]


def sensitivity(
    runs: pd.DataFrame,
    factors: Sequence[str],
    outcome: str,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """First-order and total Sobol indices of `outcome` for each factor, per policy, from the
    Saltelli design stored in the runs (blocks A, B and AB:i, matched on sample and replicate;
    the AB block of each factor is found from the factor values).

    Estimators (those of scipy.stats.sobol_indices, Saltelli et al. 2010 table 2): with the
    outputs centred on the mean of f(A) and f(B) and V their variance,
        S_i  = mean(f(B) (f(AB_i) - f(A))) / V               (first order)
        ST_i = mean((f(A) - f(AB_i))^2) / (2 V)              (total, Jansen)
    over the rows (sample, replicate). Replicates are extra rows: V includes the replication
    noise, so the indices share the variance with `replication_noise_share` (see
    `replication_noise`); 1 - sum of S_i is interactions plus noise. The `_net` columns are the
    indices as shares of the variance that is not noise, S / (1 - noise / V), the noise variance
    pooled within samples (over the replicates of A and B) and re-estimated in every resample;
    NaN without replicates. Intervals are percentile
    bootstrap intervals resampling samples (each with all its replicates), `n_bootstrap`
    resamples drawn from `seed`. `dropped` counts the keys left out because a block's run
    failed or is missing.
    """
    check_confidence(confidence)
    factors = list(factors)
    unknown = [f for f in factors if f not in runs.columns]
    if unknown:
        raise InputError("factors", unknown_name(unknown[0], factor_columns(runs), "factor"))
    if outcome not in runs.columns:
        raise InputError("outcome", unknown_name(outcome, [c for c in INDICATORS if c in runs.columns], "outcome"))
    rows = []
    alpha = 1 - confidence
    for policy in sorted(runs["policy"].unique()):
        own = runs[runs["policy"] == policy]
        design = sobol_design(own, outcome, factors)
        f_a, f_b, f_ab = design["f_A"], design["f_B"], design["f_AB"]
        mean = np.concatenate([f_a, f_b]).mean()
        f_a, f_b, f_ab = f_a - mean, f_b - mean, f_ab - mean
        samples, which = np.unique(design["sample"], return_inverse=True)
        squares, dof = _within_sample(f_a, f_b, which, len(samples))
        estimates = _estimates(np.ones((1, len(samples))), which, f_a, f_b, f_ab, squares, dof)
        first, total, first_net, total_net = (x[0] for x in estimates)
        if n_bootstrap > 0 and len(samples) > 1:
            rng = np.random.default_rng(seed)
            boot = [
                _estimates(counts, which, f_a, f_b, f_ab, squares, dof)
                for counts in resample_counts(rng, len(samples), n_bootstrap, rows=len(which))
            ]
            with warnings.catch_warnings():  # without replicates the net indices are NaN: so are their bounds
                warnings.simplefilter("ignore", RuntimeWarning)
                first_ci, total_ci, first_net_ci, total_net_ci = (
                    np.nanquantile(np.concatenate(parts), [alpha / 2, 1 - alpha / 2], axis=0)
                    for parts in zip(*boot, strict=True)
                )
        else:
            first_ci = total_ci = first_net_ci = total_net_ci = np.full((2, len(factors)), np.nan)
        noise = replication_noise(own, outcome)
        for i, factor in enumerate(factors):
            rows.append(
                {
                    "policy": policy,
                    "outcome": outcome,
                    "factor": factor,
                    "first_order": first[i],
                    "first_order_low": first_ci[0, i],
                    "first_order_high": first_ci[1, i],
                    "total_order": total[i],
                    "total_order_low": total_ci[0, i],
                    "total_order_high": total_ci[1, i],
                    "rows": len(f_a),
                    "samples": len(samples),
                    "dropped": design["dropped"],
                    "replication_noise_share": noise,
                    "first_order_net": first_net[i],
                    "first_order_net_low": first_net_ci[0, i],
                    "first_order_net_high": first_net_ci[1, i],
                    "total_order_net": total_net[i],
                    "total_order_net_low": total_net_ci[0, i],
                    "total_order_net_high": total_net_ci[1, i],
                }
            )
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


def format_sensitivity(frame: pd.DataFrame, confidence: float = 0.95) -> str:
    """Per policy and outcome: the factors by total index, first-order and total with intervals."""
    level = f"{confidence:.0%}"
    parts = []
    fmt = lambda v: "n/a" if not math.isfinite(v) else f"{v:.2f}"  # noqa: E731
    for (outcome, policy), group in frame.groupby(["outcome", "policy"], sort=False):
        first = group.iloc[0]
        group = group.sort_values("total_order", ascending=False)
        rows = [
            (
                r.factor,
                format_with_interval(r.first_order, r.first_order_low, r.first_order_high, fmt),
                format_with_interval(r.total_order, r.total_order_low, r.total_order_high, fmt),
                format_with_interval(r.total_order_net, r.total_order_net_low, r.total_order_net_high, fmt),
            )
            for r in group.itertuples(index=False)
        ]
        noise = first["replication_noise_share"]
        rest = 1 - group["first_order"].sum()
        parts += [
            f"{outcome}, policy {policy}: {int(first['rows']):,} rows ({int(first['samples']):,} samples"
            + (f", {int(first['dropped'])} left out: a run failed" if first["dropped"] else "")
            + ")",
            "",
            format_table(
                ("factor", f"first order ({level})", f"total ({level})", f"total net of noise ({level})"),
                rows,
                right=(1, 2, 3),
            ),
            "",
            f"replication noise: {format_percent(noise)} of the variance (net of noise: as shares of the rest); "
            "1 - sum of first order = "
            f"{round(rest, 2) + 0:.2f} "
            "(interactions and noise)",
            "",
        ]
    return "\n".join(parts).rstrip()
