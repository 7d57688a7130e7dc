"""The synthetic initial population, built from the seed facts (docs/ODD.md, Initialisation).

Counts are taken as given (scaled): industrial units, SMEs, SMEs in parks and their active
share, units under construction. Sizes: a log-normal body for SMEs (< 100 employees) and a
truncated Pareto tail for large units. Log productivity is normal, correlated with log
size. Each active unit starts in demand equilibrium: its customer base is backed out so
that demand equals its employment at month 0.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from .geography import PROVINCE_WEIGHTS, SECTOR_OUTPUT_PER_WORKER, SECTOR_SHARES, Parks
from .parameters import Parameters
from .state import ACTIVE, IDLE, LARGE_FROM, UNDER_CONSTRUCTION, FirmState, size_class_of

UTILISATION_CONCENTRATION = 8.0  # Beta(a, b) with a + b = 8: sd of initial utilisation ~0.16


def scaled(count: float, scale: float) -> int:
    return int(round(count * scale))


def sme_sizes(p: Parameters, n: int, rng: np.random.Generator) -> np.ndarray:
    """Log-normal truncated to [1, 100) employees, by inverse CDF."""
    mu, sd = np.log(p.sme_size_median), p.sme_size_sigma
    lo, hi = ndtr((np.log(1.0) - mu) / sd), ndtr((np.log(LARGE_FROM) - mu) / sd)
    u = lo + (hi - lo) * rng.random(n)
    return np.minimum(np.exp(mu + sd * ndtri(u)), LARGE_FROM - 1e-6)


def large_sizes(p: Parameters, n: int, rng: np.random.Generator) -> np.ndarray:
    """Pareto(alpha) truncated to [100, max] employees, by inverse CDF."""
    a, lo, hi = p.large_size_tail, float(LARGE_FROM), p.large_size_max
    u = rng.random(n)
    return lo * (1.0 - u * (1.0 - (lo / hi) ** a)) ** (-1.0 / a)


def planned_sizes(p: Parameters, n: int, rng: np.random.Generator) -> np.ndarray:
    large = rng.random(n) < p.entrant_large_share
    sizes = sme_sizes(p, n, rng)
    sizes[large] = large_sizes(p, int(large.sum()), rng)
    return sizes


def _assign_active(n: int, n_active: int, rng: np.random.Generator) -> np.ndarray:
    status = np.full(n, IDLE, np.int8)
    status[rng.choice(n, size=n_active, replace=False)] = ACTIVE
    return status


def _locate(in_park: np.ndarray, parks: Parks, p: Parameters, rng: np.random.Generator):
    """Park (or -1), province and infrastructure quality for units flagged in_park or not."""
    n, k = len(in_park), int(in_park.sum())
    park_id = np.full(n, -1, np.int32)
    park_id[in_park] = parks.sample(k, rng)
    province = rng.choice(len(PROVINCE_WEIGHTS), size=n, p=PROVINCE_WEIGHTS).astype(np.int16)
    province[in_park] = parks.province[park_id[in_park]]
    infrastructure = np.full(n, p.outside_park_infrastructure)
    infrastructure[in_park] = parks.infrastructure[park_id[in_park]]
    return park_id, province, infrastructure


def build_population(p: Parameters, scale: float, rng: np.random.Generator, spare: float = 0.6):
    """Return (firms, parks, output_per_worker) for a population sampled at `scale`."""
    n_units = scaled(p.industrial_units, scale)
    n_sme = scaled(p.smes, scale)
    n_large = n_units - n_sme
    n_sme_park, n_sme_park_active = scaled(p.smes_in_parks, scale), scaled(p.active_smes_in_parks, scale)
    n_sme_out = n_sme - n_sme_park
    n_building = scaled(p.under_construction, scale)
    parks = Parks(p.parks, rng)

    # existing units: SMEs in parks, SMEs outside, large units
    sizes = np.concatenate([sme_sizes(p, n_sme, rng), large_sizes(p, n_large, rng)])
    status = np.concatenate([
        _assign_active(n_sme_park, n_sme_park_active, rng),
        _assign_active(n_sme_out, scaled(p.active_share_outside_parks * n_sme_out, 1.0), rng),
        _assign_active(n_large, scaled(p.active_share_large * n_large, 1.0), rng),
    ])
    large_in_park = np.zeros(n_large, bool)
    large_in_park[rng.choice(n_large, size=scaled(p.large_in_parks_share * n_large, 1.0), replace=False)] = True
    sme_in_park = np.arange(n_sme) < n_sme_park  # SMEs are ordered park-first, like `status`
    park_id, province, infrastructure = _locate(np.concatenate([sme_in_park, large_in_park]), parks, p, rng)

    z = np.log(sizes)
    z = (z - z.mean()) / z.std()
    rho = p.size_productivity_corr
    log_phi = p.productivity_sigma * (rho * z + np.sqrt(1 - rho**2) * rng.standard_normal(n_units))
    util = rng.beta(UTILISATION_CONCENTRATION * p.initial_utilisation_mean,
                    UTILISATION_CONCENTRATION * (1 - p.initial_utilisation_mean), n_units)
    active = status == ACTIVE
    sector = rng.choice(len(SECTOR_SHARES), size=n_units, p=SECTOR_SHARES).astype(np.int16)

    firms = FirmState(int((n_units + n_building) * (1 + spare)) + 1)
    firms.append(
        status=status,
        size_class=size_class_of(sizes),
        employees=np.where(active, sizes, 0.0),
        capacity=sizes / util,
        log_productivity=log_phi,
        # equilibrium at month 0: demand share ~ m * phi^(sigma-1) gives employment = size
        demand_weight=sizes * np.exp((2.0 - p.demand_elasticity) * log_phi),
        sector=sector,
        province=province,
        park_id=park_id,
        infrastructure=infrastructure,
        revivable=np.where(active, True, rng.random(n_units) < p.revivable_share),
        birth_month=-np.ceil(rng.exponential(12 * p.existing_age_mean_years, n_units)).astype(np.int32),
    )
    add_construction_projects(firms, parks, p, n_building, rng, month=0, backlog=True)

    output_per_worker = _calibrate_output_per_worker(firms, p, scale)
    return firms, parks, output_per_worker


def add_construction_projects(firms: FirmState, parks: Parks, p: Parameters, n: int,
                              rng: np.random.Generator, month: int, backlog: bool = False) -> slice:
    """Append n licensed units under construction (the month-0 backlog or new applications)."""
    park_id, province, infrastructure = _locate(rng.random(n) < p.construction_in_parks_share, parks, p, rng)
    planned = planned_sizes(p, n, rng)
    age = rng.integers(0, 60, n) if backlog else np.zeros(n, np.int64)  # backlog: licensed up to 5 years ago
    return firms.append(
        status=np.full(n, UNDER_CONSTRUCTION, np.int8),
        size_class=size_class_of(planned),
        capacity=planned / p.restart_utilisation,
        log_productivity=p.productivity_sigma * rng.standard_normal(n) - p.entrant_productivity_gap,
        sector=rng.choice(len(SECTOR_SHARES), size=n, p=SECTOR_SHARES).astype(np.int16),
        province=province,
        park_id=park_id,
        infrastructure=infrastructure,
        birth_month=(month - age).astype(np.int32),
        status_since=np.full(n, month, np.int32),
    )


def _calibrate_output_per_worker(firms: FirmState, p: Parameters, scale: float) -> np.ndarray:
    """USD per worker-month at productivity 1, by sector, so that SME output matches the seed figure."""
    sme_active = (firms.status == ACTIVE) & firms.is_sme
    relative = SECTOR_OUTPUT_PER_WORKER[firms.sector[sme_active]]
    base = (relative * firms.productivity[sme_active] * firms.employees[sme_active]).sum()
    level = p.sme_output_usd * scale / 12.0 / base
    return level * SECTOR_OUTPUT_PER_WORKER
