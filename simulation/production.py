"""Production and employment: productivity, demand, hiring and firing, investment, output.

- Log productivity follows a monthly AR(1) towards the common mean 0; its shocks are
  smaller for larger plants (sd ~ capacity^-0.2, Amaral et al. 1997).
- Domestic demand of a sector is split among its active units by CES shares
  m_i * phi_i^(sigma-1) (m: customer base). Employment needed to serve that demand is
  revenue / (output per worker), so demand for labour ~ m_i * phi_i^(sigma-2).
- Employment moves towards min(demand, capacity) by partial adjustment, faster up than
  down, with an inaction band (hiring and firing frictions).
- Firms whose demand presses on capacity invest; idle capacity depreciates.
- Size class (small < 50, medium 50-99, large >= 100 employees) follows employment.
"""

from __future__ import annotations

import numpy as np

from .parameters import Parameters
from .state import ACTIVE, CLOSED, FirmState, size_class_of

VOLATILITY_REFERENCE_CAPACITY = 20.0  # employees; shocks have the base sd at this size
VOLATILITY_FACTOR_BOUNDS = (0.4, 2.0)  # keep the size scaling sane for 1-person and 20,000-person units


class Market:
    """Sector demand at month 0 and the output per worker that turns demand into jobs."""

    def __init__(self, firms: FirmState, output_per_worker: np.ndarray, n_sectors: int):
        self.output_per_worker = output_per_worker
        self.n_sectors = n_sectors
        active = firms.status == ACTIVE
        self.base_demand = np.bincount(
            firms.sector[active], weights=output_per_worker[firms.sector[active]] * firms.productivity[active] * firms.employees[active],
            minlength=n_sectors,
        )

    def jobs_per_weight(self, firms: FirmState, p: Parameters, demand_index: np.ndarray) -> np.ndarray:
        """Per sector c_s such that unit i's labour demand is c_s * m_i * phi_i^(sigma-2)."""
        active = firms.status == ACTIVE
        shares = firms.demand_weight[active] * np.exp((p.demand_elasticity - 1.0) * firms.log_productivity[active])
        total_weight = np.bincount(firms.sector[active], weights=shares, minlength=self.n_sectors)
        demand = self.base_demand * demand_index
        return np.divide(demand, total_weight * self.output_per_worker, out=np.zeros(self.n_sectors), where=total_weight > 0)

    def labour_demand(self, firms: FirmState, p: Parameters, idx: np.ndarray, jobs_per_weight: np.ndarray) -> np.ndarray:
        return jobs_per_weight[firms.sector[idx]] * firms.demand_weight[idx] * np.exp((p.demand_elasticity - 2.0) * firms.log_productivity[idx])

    def give_customer_base(self, firms: FirmState, p: Parameters, idx: np.ndarray, jobs_per_weight: np.ndarray) -> None:
        """New plants start with the customer base that employs their starting workforce at today's market."""
        per_weight = np.maximum(jobs_per_weight[firms.sector[idx]], 1e-12)
        firms.demand_weight[idx] = firms.employees[idx] / per_weight * np.exp((2.0 - p.demand_elasticity) * firms.log_productivity[idx])


def update_productivity(firms: FirmState, p: Parameters, rng: np.random.Generator) -> None:
    """AR(1) in logs for every unit not closed (idle units keep a latent productivity)."""
    rho = p.productivity_persistence ** (1.0 / 12.0)
    base_sd = p.productivity_sigma * np.sqrt(1.0 - rho**2)  # keeps the stationary sd at productivity_sigma
    shocks = rng.standard_normal(firms.n)
    size_factor = np.clip((np.maximum(firms.capacity, 1.0) / VOLATILITY_REFERENCE_CAPACITY) ** -p.volatility_size_elasticity, *VOLATILITY_FACTOR_BOUNDS)
    live = firms.status != CLOSED
    firms.log_productivity[live] = rho * firms.log_productivity[live] + base_sd * size_factor[live] * shocks[live]


def adjust_employment(firms: FirmState, p: Parameters, idx: np.ndarray, labour_demand: np.ndarray) -> None:
    """Partial adjustment of log employment towards min(demand, capacity), at least one person."""
    current = firms.employees[idx]
    target = np.maximum(np.minimum(labour_demand, firms.capacity[idx]), 1.0)
    gap = np.log(target / current)
    speed = np.where(gap > 0, p.hiring_speed, p.firing_speed)
    moved = np.abs(gap) > p.adjustment_band
    firms.employees[idx] = np.where(moved, current * np.exp(speed * gap), current)


def invest(firms: FirmState, p: Parameters, idx: np.ndarray, labour_demand: np.ndarray) -> float:
    """Grow capacity where demand presses on it, let unneeded capacity depreciate; returns investment (capacity units)."""
    capacity = firms.capacity[idx]
    wanted = labour_demand / p.target_utilisation
    growth = np.where(wanted > capacity, p.investment_speed * (wanted - capacity), 0.0)
    shrunk = np.maximum(capacity * (1.0 - p.depreciation), np.maximum(wanted, firms.employees[idx]))
    firms.capacity[idx] = np.where(wanted > capacity, capacity + growth, np.minimum(capacity, shrunk))
    return float(growth.sum())


def produce(firms: FirmState, market: Market, idx: np.ndarray) -> None:
    """Monthly output (USD) of active units; every other unit produces nothing."""
    firms.output_usd[:] = 0.0
    firms.output_usd[idx] = market.output_per_worker[firms.sector[idx]] * firms.productivity[idx] * firms.employees[idx]


def update_size_class(firms: FirmState, idx: np.ndarray) -> int:
    """Reclassify active units by employment; returns the number that moved up a class."""
    new = size_class_of(firms.employees[idx])
    graduated = int((new > firms.size_class[idx]).sum())
    firms.size_class[idx] = new
    return graduated
