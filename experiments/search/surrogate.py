"""Surrogates of the search: a Gaussian process (scikit-learn) per goal indicator and for the
fiscal cost, over the levers and the uncertainties, fitted to every run of the search rounds: to the mean of
each candidate's seeds at each draw (a point per candidate and draw keeps the fits fast).

Why a Gaussian process: the runs are few (tens of candidates) and noisy, and the search needs
to know how sure each prediction is, to try mixes the data cannot yet rule out. The kernel is a
constant times an RBF with one length scale per input (what does not matter gets a long one)
plus white noise (what the inputs do not explain); targets are standardised. A single run
spreads around the prediction by that noise plus the seeds' part of it that averaging took
out (the pooled variance between a candidate's seeds at a draw, times 1 - 1/seeds). The fit
is deterministic given the same rows: the rows come sorted, and the optimiser starts from the
kernel's fixed initial values (random_state fixed as well).

A candidate's probability of meeting a goal set is read off the surrogates draw by draw: at
each draw of the ensemble, each goal is met with probability Phi(z), z the predicted margin
over the target in units of the predictive spread (the latent uncertainty and the seeds'
noise); the goals of a set are taken as independent given the draw; the probability is the
mean over the draws. The optimistic variant moves each prediction `kappa` latent standard
deviations towards the target's side: the search's exploration.

Accuracy is measured by cross-validated R^2, grouped by candidate (a fold leaves whole mixes
out, as the search asks about mixes not yet run), with the kernel's fitted hyperparameters:
`cv_r2` over every point (candidate and draw: much of its variance is the draws', which every
candidate shares) and `cv_r2_mixes` over the candidates' means across the draws (what the
levers do, the harder part).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from experiments.inputs.goals import Goal
from experiments.search.spec import SearchLever

__all__ = ["CV_FOLDS", "KAPPA", "Surrogate", "encode_levers", "goal_probability"]

CV_FOLDS = 5
KAPPA = 1.5  # optimistic predictions: this many latent standard deviations towards the target
RANDOM_STATE = 0


def encode_levers(levers: Sequence[SearchLever], values: Sequence[dict]) -> np.ndarray:
    """Candidates' lever values on the unit cube: a number by its range, a choice one-hot."""
    columns = []
    for lever in levers:
        if lever.is_choice:
            columns += [[float(v[lever.key] == choice) for v in values] for choice in lever.choices]
        else:
            assert lever.low is not None and lever.high is not None
            columns.append([(float(v[lever.key]) - lever.low) / (lever.high - lever.low) for v in values])
    return np.array(columns, dtype=float).T.reshape(len(values), -1)


def _kernel(dimensions: int):
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    return ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.ones(dimensions), (1e-2, 1e3)) + WhiteKernel(0.1, (1e-6, 1e1))


@dataclass
class Surrogate:
    """One indicator's Gaussian process over (levers, uncertainties), both on the unit cube."""

    model: object
    white_sd: float  # what the inputs do not explain in the seeds' means, in the indicator's unit
    noise_sd: float  # a single run's spread around the prediction, in the indicator's unit
    cv_r2: float
    cv_r2_mixes: float
    points: int

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, groups: np.ndarray, seeds_variance: float = 0.0, seeds: int = 1):
        """Fit to points `x` (candidate and draw) and their seeds' mean `y`; `groups`: the
        candidate of each point; `seeds_variance`: the pooled variance between seeds."""
        from sklearn.gaussian_process import GaussianProcessRegressor

        model = GaussianProcessRegressor(_kernel(x.shape[1]), normalize_y=True, random_state=RANDOM_STATE)
        with warnings.catch_warnings():  # bounds reached (an input that does not matter): expected
            warnings.simplefilter("ignore")
            model.fit(x, y)
        scale = float(np.std(y)) or 1.0
        white = model.kernel_.k2.noise_level * scale**2
        noise = math.sqrt(white + seeds_variance * (1 - 1 / seeds))
        return cls(model, math.sqrt(white), noise, *_cv_r2(model.kernel_, x, y, groups), len(y))

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and latent standard deviation (without the noise)."""
        mean, sd = self.model.predict(x, return_std=True)  # type: ignore[attr-defined]
        latent = np.sqrt(np.maximum(sd**2 - self.white_sd**2, 0.0))
        return mean, latent


def _r2(y: np.ndarray, predicted: np.ndarray) -> float:
    total = float(np.sum((y - np.mean(y)) ** 2))
    return math.nan if total == 0.0 else 1.0 - float(np.sum((y - predicted) ** 2)) / total


def _cv_r2(kernel, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """R^2 of predictions for candidates left out (GroupKFold, the fitted kernel held fixed), over
    the points and over the candidates' means."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.model_selection import GroupKFold

    folds = min(CV_FOLDS, len(np.unique(groups)))
    if folds < 2:
        return math.nan, math.nan
    predicted = np.empty_like(y, dtype=float)
    for train, test in GroupKFold(folds).split(x, y, groups):
        model = GaussianProcessRegressor(kernel, optimizer=None, normalize_y=True).fit(x[train], y[train])
        predicted[test] = model.predict(x[test])
    means = pd.DataFrame({"y": y, "predicted": predicted, "group": groups}).groupby("group").mean()
    return _r2(y, predicted), _r2(means["y"].to_numpy(), means["predicted"].to_numpy())


def goal_probability(
    surrogates: dict[str, Surrogate], goals: Sequence[Goal], levers: np.ndarray, draws: np.ndarray, kappa: float = 0.0
) -> np.ndarray:
    """Per candidate (rows of `levers`), the predicted probability of meeting every goal over
    the ensemble `draws` (rows: one per draw, the uncertainties on the unit cube); `kappa` > 0:
    optimistic (module doc)."""
    n, d = len(levers), max(len(draws), 1)
    grid = np.hstack([np.repeat(levers, d, axis=0), np.tile(draws, (n, 1)) if len(draws) else np.empty((n, 0))])
    met = np.ones(n * d)
    for goal in goals:
        surrogate = surrogates[goal.name]
        mean, latent = surrogate.predict(grid)
        spread = np.sqrt(latent**2 + surrogate.noise_sd**2) + 1e-12
        p = np.ones(n * d)
        if goal.at_least is not None:
            p *= norm.cdf((mean + kappa * latent - goal.at_least) / spread)
        if goal.at_most is not None:
            p *= norm.cdf((goal.at_most - (mean - kappa * latent)) / spread)
        met *= p
    return met.reshape(n, d).mean(axis=1)
