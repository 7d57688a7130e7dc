"""Morris screening: the elementary effects of each factor from a Morris design's trajectories
(experiments.sweeps.design), a cheap first look at which of many factors matter.

On each trajectory (and replicate: the points of a trajectory share a seed) step k moves one
factor i by half the unit interval of its quantiles (block "M<k>:<i>"), so its elementary
effect is EE = (y_k - y_(k-1)) / (+-1/2): the change of the outcome per unit of the factor's
quantile scale, signed by the direction of the move. Per factor: mu (mean EE: the direction),
mu_star (mean |EE|, Campolongo et al. 2007: the importance) with a percentile bootstrap
interval over trajectories, and sigma (sd of EE: interactions or non-linearity)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from experiments.analysis.runs_table import ok_runs
from experiments.analysis.statistics import check_confidence, resample_counts
from experiments.formatting import format_table, format_with_interval
from experiments.sweeps.design import MORRIS_STEP
from simulation.errors import InputError

__all__ = ["MORRIS_COLUMNS", "elementary_effects", "format_morris", "is_morris", "morris"]

MORRIS_COLUMNS = [
    "policy",
    "outcome",
    "factor",
    "mu",
    "mu_star",
    "mu_star_low",
    "mu_star_high",
    "sigma",
    "effects",
    "trajectories",
]


def is_morris(runs: pd.DataFrame) -> bool:
    return bool(runs["design_block"].fillna("").astype(str).str.match(r"M\d+(:\d+)?$").any())


def elementary_effects(runs: pd.DataFrame, factors: Sequence[str], outcome: str) -> pd.DataFrame:
    """One row per step of a trajectory whose two points finished: trajectory (sample),
    replicate, factor and its elementary effect."""
    good = ok_runs(runs)
    good = good[good["design_block"].str.match(r"M\d+(:\d+)?$") & np.isfinite(good[outcome].astype(float))]
    parts = good["design_block"].str.extract(r"M(?P<step>\d+)(?::(?P<factor>\d+))?")
    good = good.assign(step=parts["step"].astype(int), moved=pd.to_numeric(parts["factor"]))
    previous = good.assign(step=good["step"] + 1).set_index(["sample", "replicate", "step"])
    current = good[good["step"] > 0].set_index(["sample", "replicate", "step"])
    both = current.index.intersection(previous.index)
    now, before = current.loc[both], previous.loc[both]
    rows = []
    for key, moved in now["moved"].items():
        factor = factors[int(moved)]
        sign = np.sign(float(now.at[key, factor]) - float(before.at[key, factor])) or 1.0
        effect = (float(now.at[key, outcome]) - float(before.at[key, outcome])) / (sign * MORRIS_STEP)
        rows.append({"sample": key[0], "replicate": key[1], "factor": factor, "effect": effect})
    return pd.DataFrame(rows, columns=["sample", "replicate", "factor", "effect"])


def morris(
    runs: pd.DataFrame,
    factors: Sequence[str],
    outcome: str,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """mu, mu_star (with its bootstrap interval over trajectories), sigma of each factor's
    elementary effects on `outcome`, per policy (module doc)."""
    check_confidence(confidence)
    if not is_morris(runs):
        raise InputError("design", "Morris effects need a Morris design (blocks M0, M<k>:<i>)")
    alpha, rows = 1 - confidence, []
    for policy in sorted(runs["policy"].unique()):
        effects = elementary_effects(runs[runs["policy"] == policy], list(factors), outcome)
        for factor in factors:
            mine = effects[effects["factor"] == factor]
            rows.append(_summary(policy, outcome, factor, mine, n_bootstrap, alpha, seed))
    return pd.DataFrame(rows, columns=MORRIS_COLUMNS)


def _summary(policy: str, outcome: str, factor: str, effects: pd.DataFrame, n_bootstrap, alpha, seed) -> dict:
    values = effects["effect"].to_numpy(float)
    trajectories, which = np.unique(effects["sample"].to_numpy(), return_inverse=True)
    low = high = math.nan
    if len(trajectories) > 1 and n_bootstrap > 0:
        sums, counts = np.bincount(which, np.abs(values)), np.bincount(which).astype(float)
        rng = np.random.default_rng(seed)
        boot = np.concatenate([(c @ sums) / (c @ counts) for c in resample_counts(rng, len(trajectories), n_bootstrap)])
        low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return {
        "policy": policy,
        "outcome": outcome,
        "factor": factor,
        "mu": float(values.mean()) if len(values) else math.nan,
        "mu_star": float(np.abs(values).mean()) if len(values) else math.nan,
        "mu_star_low": float(low),
        "mu_star_high": float(high),
        "sigma": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
        "effects": len(values),
        "trajectories": len(trajectories),
    }


def format_morris(frame: pd.DataFrame, confidence: float = 0.95) -> str:
    """Per policy and outcome: the factors by mu_star, with mu and sigma."""
    level, parts = f"{confidence:.0%}", []
    fmt = lambda v: "n/a" if not math.isfinite(v) else f"{v:.4g}"  # noqa: E731
    for (outcome, policy), group in frame.groupby(["outcome", "policy"], sort=False):
        group = group.sort_values("mu_star", ascending=False)
        rows = [
            (r.factor, format_with_interval(r.mu_star, r.mu_star_low, r.mu_star_high, fmt), fmt(r.mu), fmt(r.sigma))
            for r in group.itertuples(index=False)
        ]
        first = group.iloc[0]
        parts += [
            f"{outcome}, policy {policy}: Morris elementary effects over {int(first['trajectories'])} trajectories "
            "(per unit of each factor's quantile scale)",
            "",
            format_table(("factor", f"mu* ({level})", "mu", "sigma"), rows, right=(1, 2, 3)),
            "",
        ]
    return "\n".join(parts).rstrip()
