"""Lifecycle: under construction -> active -> idle -> closed, revival, new applications.

Each month every unit draws one uniform u and faces its status's competing hazards:
- under construction: once licensed for `min_construction_months`, completes with
  probability c_i (rises with site infrastructure), else is abandoned (closed) with a
  constant probability;
- active: goes idle with probability h_i = min(1, base * f_i + y(age)): f_i is higher for less
  productive and under-used plants (reduced-form selection), y is the young units' excess
  hazard, decaying with age;
- idle: restarts with probability r_i if revivable (more likely if productive and on
  good infrastructure), else closes with a constant probability.
Base rates are normalised at month 0 so that the initial mean of each hazard equals the
documented parameter (for idling, young units' excess included); the relative factors
then move with the firms' state.
New applications arrive as a Poisson count and enter construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .parameters import Parameters
from .state import ACTIVE, CLOSED, IDLE, LARGE, UNDER_CONSTRUCTION, FirmState, size_class_of

__all__ = ["MAX_TABULATED_AGE", "Hazards", "Transitions", "applications", "apply_transitions", "draw_transitions"]

MAX_TABULATED_AGE = 600  # months; the young units' excess hazard is nil long before


def _idling_factor(firms: FirmState, p: Parameters, idx: np.ndarray) -> np.ndarray:
    """Relative idling hazard of a mature unit: higher when less productive or under-used."""
    utilisation = firms.employees[idx] / firms.capacity[idx]
    return np.exp(
        -p.idling_productivity_elasticity * firms.log_productivity[idx] - p.idling_utilisation_elasticity * utilisation
    )


def _young_excess(firms: FirmState, p: Parameters, idx: np.ndarray, month: int) -> np.ndarray:
    """Extra monthly idling probability of young plants, decaying with the months since the unit
    first started operating (for units operating at month 0: since founding). Table lookup, no
    exp per unit. A restart does not make a unit young again: the excess hazard is about new
    plants and their owners learning the business (Knaup 2005's entrants)."""
    age = np.clip(month - firms.first_started[idx], 0, MAX_TABULATED_AGE)
    return (p.young_excess_idling_rate * np.exp(-np.arange(MAX_TABULATED_AGE + 1) / p.young_age_months))[age]


def _revival_factor(firms: FirmState, p: Parameters, idx: np.ndarray) -> np.ndarray:
    return (
        firms.revivable[idx]
        * firms.infrastructure[idx]
        * np.exp(p.idling_productivity_elasticity * firms.log_productivity[idx])
    )


def _completion_factor(firms: FirmState, p: Parameters, idx: np.ndarray, month: int) -> np.ndarray:
    built_long_enough = month - firms.birth_month[idx] >= p.min_construction_months
    return firms.infrastructure[idx] * built_long_enough


def _normaliser(rate: float, factor: np.ndarray) -> float:
    mean = factor.mean() if len(factor) else 0.0
    return rate / mean if mean > 0 else 0.0


@dataclass(frozen=True)
class Hazards:
    """Scale factors turning relative hazard factors into monthly probabilities."""

    idling: float
    revival: float
    completion: float

    @classmethod
    def calibrate(cls, firms: FirmState, p: Parameters) -> Hazards:
        status = firms.status
        active = np.flatnonzero(status == ACTIVE)
        young = _young_excess(firms, p, active, 0).mean() if len(active) else 0.0
        if p.idling_rate < young:
            raise InputError(
                "idling_rate",
                f"is {p.idling_rate}, below the mean excess hazard of young units at month 0 "
                f"({young:.5f} with young_excess_idling_rate={p.young_excess_idling_rate}); raise idling_rate "
                "or lower young_excess_idling_rate",
            )
        return cls(
            idling=_normaliser(p.idling_rate - young, _idling_factor(firms, p, active)),
            revival=_normaliser(
                p.revival_rate, _revival_factor(firms, p, np.flatnonzero((status == IDLE) & firms.revivable))
            ),
            completion=_normaliser(
                p.completion_rate, _completion_factor(firms, p, np.flatnonzero(status == UNDER_CONSTRUCTION), 0)
            ),
        )


@dataclass
class Transitions:
    completed: np.ndarray
    revived: np.ndarray
    idled: np.ndarray
    closed: np.ndarray
    idled_revivable: np.ndarray  # for each idled unit: can it ever restart?


def draw_transitions(firms: FirmState, p: Parameters, hazards: Hazards, month: int, u: np.ndarray) -> Transitions:
    """Decide this month's status changes from one uniform per unit (nothing is changed yet)."""
    status = firms.status
    building = np.flatnonzero(status == UNDER_CONSTRUCTION)
    active = np.flatnonzero(status == ACTIVE)
    idle = np.flatnonzero(status == IDLE)

    completion = np.minimum(hazards.completion * _completion_factor(firms, p, building, month), 1.0)
    idling = np.minimum(hazards.idling * _idling_factor(firms, p, active) + _young_excess(firms, p, active, month), 1.0)
    revival = np.minimum(hazards.revival * _revival_factor(firms, p, idle), 1.0)
    u_b, u_i, u_a = u[building], u[idle], u[active]
    idles = u_a < idling
    return Transitions(
        completed=building[u_b < completion],
        revived=idle[u_i < revival],
        idled=active[idles],
        closed=np.concatenate(
            [
                building[(u_b >= completion) & (u_b < completion + p.abandonment_rate)],
                idle[(u_i >= revival) & (u_i < revival + p.idle_closure_rate)],
            ]
        ),
        # given u < h, u / h is again uniform: the same draw decides revivability (no second draw)
        idled_revivable=u_a[idles] < p.revivable_share * idling[idles],
    )


def apply_transitions(firms: FirmState, p: Parameters, t: Transitions, month: int) -> None:
    """Change statuses. Units that start or restart do so at `restart_utilisation` of capacity."""
    starting = np.concatenate([t.completed, t.revived])
    firms.status[starting] = ACTIVE
    firms.employees[starting] = np.maximum(p.restart_utilisation * firms.capacity[starting], 1.0)
    firms.size_class[starting] = size_class_of(firms.employees[starting])
    firms.status[t.idled] = IDLE
    firms.employees[t.idled] = 0.0
    firms.revivable[t.idled] = t.idled_revivable
    firms.status[t.closed] = CLOSED
    firms.employees[t.closed] = 0.0
    changed = np.concatenate([starting, t.idled, t.closed])
    firms.status_since[changed] = month
    firms.first_started[t.completed] = month  # a restart does not make a unit young again
    firms.sme_cohort[t.completed] = firms.size_class[t.completed] < LARGE
    firms.activated[starting] = True


def applications(p: Parameters, scale: float, rng: np.random.Generator) -> int:
    return int(rng.poisson(p.applications_per_month * scale))
