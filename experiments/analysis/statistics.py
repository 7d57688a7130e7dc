"""Small statistics shared by the analyses: t intervals of means, Wilson intervals of
probabilities, bootstrap resamples as counts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from simulation.errors import InputError

__all__ = [
    "check_confidence",
    "clustered_interval",
    "clustered_wilson_interval",
    "mean_interval",
    "resample_counts",
    "wilson_interval",
]


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


def wilson_interval(met: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a probability from `met` successes in `n` trials (NaN if n = 0;
    both may be effective, non-whole numbers)."""
    if n == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p, z2 = met / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def clustered_wilson_interval(outcomes, clusters, confidence: float = 0.95) -> tuple[float, float, float]:
    """The effective number of trials and the Wilson interval of a probability from 0/1 outcomes
    grouped in clusters (worlds, each seen by several replicates). The effective number is
    p(1 - p) over the cluster-robust variance of the pooled share, W/(W-1) sum_w (k_w - p m_w)^2 / n^2
    (Kish's design effect), kept between the W clusters and the n outcomes; with p 0 or 1 (no
    spread to measure) it is W. With one outcome per cluster, or one cluster, it is n: Wilson."""
    frame = pd.DataFrame({"met": np.asarray(outcomes, dtype=float), "cluster": list(clusters)}).dropna()
    n = len(frame)
    by = frame.groupby("cluster", sort=False)["met"].agg(["sum", "size"])
    clusters_n = len(by)
    if n == 0 or clusters_n < 2 or clusters_n == n:
        return float(n), *wilson_interval(int(frame["met"].sum()), n, confidence)
    p = float(frame["met"].mean())
    variance = clusters_n / (clusters_n - 1) * float(((by["sum"] - p * by["size"]) ** 2).sum()) / n**2
    if p in (0.0, 1.0):
        effective = float(clusters_n)
    elif variance > 0:
        effective = min(max(p * (1 - p) / variance, clusters_n), n)
    else:
        effective = float(n)
    return effective, *wilson_interval(p * effective, effective, confidence)


def check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise InputError("confidence", f"must lie in (0, 1), got {confidence!r}")


def clustered_interval(values, clusters, confidence: float = 0.95) -> tuple[int, int, float, float, float, float]:
    """n values, their clusters, the mean and the t interval of the mean when values of one
    cluster are not independent (paired differences of one world, seen by several replicates):
    the mean of the cluster means, its standard error and interval over the clusters (Student t
    with clusters - 1 degrees of freedom). With one value per cluster, or one cluster (nothing
    to average over: the values are the units), this is `mean_interval`."""
    frame = pd.DataFrame({"value": np.asarray(values, dtype=float), "cluster": list(clusters)})
    frame = frame[np.isfinite(frame["value"])]
    means = frame.groupby("cluster", sort=False)["value"].mean()
    if len(means) < 2 or len(means) == len(frame):
        n, mean, se, low, high = mean_interval(frame["value"], confidence)
        return n, len(means), mean, se, low, high
    _, mean, se, low, high = mean_interval(means, confidence)
    return len(frame), len(means), mean, se, low, high


def resample_counts(
    rng: np.random.Generator, n: int, n_bootstrap: int, rows: int | None = None, budget: int = 2_000_000
):
    """Bootstrap resamples as counts: batches of arrays (b, n), each row how many times each of
    n units is drawn in one resample of n with replacement; b * max(n, rows) <= budget (memory)."""
    batch = max(1, budget // max(rows or n, n, 1))
    for start in range(0, n_bootstrap, batch):
        b = min(batch, n_bootstrap - start)
        picks = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(picks.ravel(), minlength=b * n).reshape(b, n).astype(float)
