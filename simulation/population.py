"""The synthetic initial population, built from the seed facts (docs/ODD.md, Initialisation).

Counts are taken as given (scaled): industrial units, SMEs, SMEs in parks and their active
share, units under construction. Sizes: one log-normal whose two parameters are solved
from the SME share of units and the SME share of employment; SMEs and large units are
drawn from it truncated below and above 100 employees, so the density is continuous at
the class boundary. Log productivity is normal: a permanent level correlated with log
size plus a transitory part. Each active unit starts in demand equilibrium: its customer base is backed out so
that demand equals its employment at month 0.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from .errors import InputError
from .geography import PARK_INFRA_BETA, PROVINCE_WEIGHTS, SECTOR_OUTPUT_PER_WORKER, SECTOR_SHARES, Parks
from .groups import cluster_of
from .parameters import Parameters
from .state import ACTIVE, IDLE, LARGE, LARGE_FROM, UNDER_CONSTRUCTION, FirmState, size_class_of

__all__ = [
    "MIN_UNITS",
    "UTILISATION_CONCENTRATION",
    "add_construction_projects",
    "build_population",
    "export_appeals",
    "large_sizes",
    "planned_sizes",
    "scaled",
    "size_distribution",
    "sizes_between",
    "sme_sizes",
    "standards_levels",
]

MIN_UNITS = 100  # below this a sample has empty size classes and no meaningful distribution
UTILISATION_CONCENTRATION = 8.0  # Beta(a, b) with a + b = 8: sd of initial utilisation ~0.16


def scaled(count: float, scale: float) -> int:
    return round(count * scale)


def size_distribution(p: Parameters) -> tuple[float, float]:
    """(mu, sigma) of the log-normal unit size, solved from two seed facts.

    With z = Phi^-1(share of units below 100 employees), ln 100 = mu + sigma z. The share of
    employment below 100 in a log-normal is Phi(z - sigma); weighting SMEs and large units
    by their active shares, the SME employment share s requires
    Phi(z - sigma) = s a_L / (s a_L + (1 - s) a_S).
    """
    z = ndtri(p.initial_smes / p.initial_industrial_units)
    active_sme = p.initial_active_smes / p.initial_smes
    s, a_large = p.initial_sme_employment_share, p.active_share_large
    sigma = z - ndtri(s * a_large / (s * a_large + (1 - s) * active_sme))
    if sigma <= 0:
        raise InputError(
            "initial_sme_employment_share",
            f"no log-normal size distribution gives {s} with {p.initial_smes} SMEs of {p.initial_industrial_units} "
            "units",
        )
    return float(np.log(LARGE_FROM) - sigma * z), float(sigma)


def sizes_between(p: Parameters, lo: float, hi: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit sizes (employees) from the log-normal truncated to [lo, hi), by inverse CDF."""
    mu, sd = size_distribution(p)
    a, b = ndtr((np.log(lo) - mu) / sd), ndtr((np.log(hi) - mu) / sd)
    return np.clip(np.exp(mu + sd * ndtri(a + (b - a) * rng.random(n))), lo, np.nextafter(hi, lo))


def sme_sizes(p: Parameters, n: int, rng: np.random.Generator) -> np.ndarray:
    return sizes_between(p, 1.0, LARGE_FROM, n, rng)


def large_sizes(p: Parameters, n: int, rng: np.random.Generator) -> np.ndarray:
    return sizes_between(p, LARGE_FROM, p.size_max, n, rng)


def planned_sizes(p: Parameters, n: int, rng: np.random.Generator) -> np.ndarray:
    large = rng.random(n) < p.entrant_large_share
    sizes = sme_sizes(p, n, rng)
    sizes[large] = large_sizes(p, int(large.sum()), rng)
    return sizes


def _assign_active(n: int, n_active: int, rng: np.random.Generator) -> np.ndarray:
    status = np.full(n, IDLE, np.int8)
    status[rng.choice(n, size=n_active, replace=False)] = ACTIVE
    return status


def _productivity_sds(p: Parameters) -> tuple[float, float]:
    """sd of the permanent level and of the transitory part of log productivity."""
    share = p.productivity_permanent_share
    return p.productivity_sigma * np.sqrt(share), p.productivity_sigma * np.sqrt(1.0 - share)


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
    n_units = scaled(p.initial_industrial_units, scale)
    if n_units < MIN_UNITS:
        raise InputError(
            "scale",
            f"{scale} samples only {n_units} industrial units; use scale >= "
            f"{MIN_UNITS / p.initial_industrial_units:.2g} (at least {MIN_UNITS} units)",
        )
    n_sme = scaled(p.initial_smes, scale)
    n_large = n_units - n_sme
    n_sme_park, n_sme_park_active = (
        scaled(p.initial_smes_in_parks, scale),
        scaled(p.initial_active_smes_in_parks, scale),
    )
    n_sme_out = n_sme - n_sme_park
    n_building = scaled(p.initial_under_construction, scale)
    parks = Parks(p.parks, rng)

    # existing units: SMEs in parks, SMEs outside, large units
    sizes = np.concatenate([sme_sizes(p, n_sme, rng), large_sizes(p, n_large, rng)])
    status = np.concatenate(
        [
            _assign_active(n_sme_park, n_sme_park_active, rng),
            _assign_active(n_sme_out, scaled(p.active_share_outside_parks * n_sme_out, 1.0), rng),
            _assign_active(n_large, scaled(p.active_share_large * n_large, 1.0), rng),
        ]
    )
    large_in_park = np.zeros(n_large, bool)
    large_in_park[rng.choice(n_large, size=scaled(p.large_in_parks_share * n_large, 1.0), replace=False)] = True
    sme_in_park = np.arange(n_sme) < n_sme_park  # SMEs are ordered park-first, like `status`
    park_id, province, infrastructure = _locate(np.concatenate([sme_in_park, large_in_park]), parks, p, rng)

    z = np.log(sizes)
    z = (z - z.mean()) / z.std()
    # permanent level correlated with size, plus a transitory part at its stationary spread
    rho = p.size_productivity_corr
    permanent_sd, transitory_sd = _productivity_sds(p)
    log_phi_mean = permanent_sd * (rho * z + np.sqrt(1 - rho**2) * rng.standard_normal(n_units))
    log_phi_mean += _infrastructure_effect(p, infrastructure)
    log_phi = log_phi_mean + transitory_sd * rng.standard_normal(n_units)
    util = rng.beta(
        UTILISATION_CONCENTRATION * p.initial_utilisation_mean,
        UTILISATION_CONCENTRATION * (1 - p.initial_utilisation_mean),
        n_units,
    )
    active = status == ACTIVE
    sector = rng.choice(len(SECTOR_SHARES), size=n_units, p=SECTOR_SHARES).astype(np.int16)

    birth_month = -np.ceil(rng.exponential(12 * p.existing_age_mean_years, n_units)).astype(np.int32)
    demand_weight = sizes * np.exp((2.0 - p.demand_elasticity) * log_phi)
    appeal = export_appeals(p, n_units, rng)
    firms = FirmState(int((n_units + n_building) * (1 + spare)) + 1)
    firms.append(
        status=status,
        size_class=size_class_of(sizes),
        sme_cohort=size_class_of(sizes) < LARGE,
        employees=np.where(active, sizes, 0.0),
        capacity=sizes / util,
        log_productivity=log_phi,
        log_productivity_mean=log_phi_mean,
        # equilibrium at month 0: demand share ~ m * phi^(sigma-1) gives employment = size
        demand_weight=demand_weight,
        sector=sector,
        province=province,
        park_id=park_id,
        cluster_id=cluster_of(sector, province),
        standards=standards_levels(p, log_phi_mean, rng),
        export_appeal=appeal,
        export_scale=demand_weight * appeal,
        export_match=export_appeals(p, n_units, rng, p.export_match_sigma),
        infrastructure=infrastructure,
        revivable=np.where(active, True, rng.random(n_units) < p.revivable_share),
        birth_month=birth_month,
        status_since=birth_month,  # operating since founding; for idle units the idling date is unknown
        first_started=birth_month,
    )
    add_construction_projects(firms, parks, p, n_building, rng, month=0, backlog=True)

    output_per_worker = _calibrate_output_per_worker(firms, p, scale)
    firms.output_usd[:] = output_per_worker[firms.sector] * firms.productivity * firms.employees  # zero unless active
    return firms, parks, output_per_worker


def add_construction_projects(
    firms: FirmState,
    parks: Parks,
    p: Parameters,
    n: int,
    rng: np.random.Generator,
    month: int,
    backlog: bool = False,
    park: int | None = None,
) -> slice:
    """Append n licensed units under construction (the month-0 backlog or new applications;
    with `park`, all in that park: a new rural zone)."""
    if park is None:
        park_id, province, infrastructure = _locate(rng.random(n) < p.construction_in_parks_share, parks, p, rng)
    else:
        park_id, province = np.full(n, park, np.int32), np.full(n, parks.province[park], np.int16)
        infrastructure = np.full(n, parks.infrastructure[park])
    planned = planned_sizes(p, n, rng)
    permanent_sd, transitory_sd = _productivity_sds(p)
    log_phi_mean = permanent_sd * rng.standard_normal(n) + _infrastructure_effect(p, infrastructure)
    age = rng.integers(0, 60, n) if backlog else np.zeros(n, np.int64)  # backlog: licensed up to 5 years ago
    sector = rng.choice(len(SECTOR_SHARES), size=n, p=SECTOR_SHARES).astype(np.int16)
    return firms.append(
        status=np.full(n, UNDER_CONSTRUCTION, np.int8),
        size_class=size_class_of(planned),
        capacity=planned / p.restart_utilisation,
        # entrants start below their long-run level and catch up
        log_productivity=log_phi_mean + transitory_sd * rng.standard_normal(n) - p.entrant_productivity_gap,
        log_productivity_mean=log_phi_mean,
        sector=sector,
        province=province,
        park_id=park_id,
        cluster_id=cluster_of(sector, province),
        infrastructure=infrastructure,
        standards=standards_levels(p, log_phi_mean, rng),
        export_appeal=export_appeals(p, n, rng),
        export_match=export_appeals(p, n, rng, p.export_match_sigma),
        birth_month=(month - age).astype(np.int32),
        status_since=np.full(n, month, np.int32),
    )


def _infrastructure_effect(p: Parameters, infrastructure: np.ndarray) -> np.ndarray:
    """Log productivity from the site's infrastructure, relative to the mean park (Beta(4, 2) mean)."""
    a, b = PARK_INFRA_BETA
    return p.infrastructure_productivity_effect * (infrastructure - a / (a + b))


def standards_levels(p: Parameters, log_phi_mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Product-standards level in [0, 1], uniform across units, rank-correlated with productivity."""
    sd = _productivity_sds(p)[0] or 1.0  # the permanent level's sd (mean 0)
    r = p.standards_productivity_corr
    latent = r * log_phi_mean / sd + np.sqrt(1.0 - r**2) * rng.standard_normal(len(log_phi_mean))
    return ndtr(latent)


def export_appeals(p: Parameters, n: int, rng: np.random.Generator, sigma: float | None = None) -> np.ndarray:
    """Foreign buyers' taste for a unit's products (known part, or with `sigma` the part learnt by
    exporting): log-normal with mean one."""
    s = p.export_appeal_sigma if sigma is None else sigma
    return np.exp(s * rng.standard_normal(n) - 0.5 * s * s)


def _calibrate_output_per_worker(firms: FirmState, p: Parameters, scale: float) -> np.ndarray:
    """USD per worker-month at productivity 1, by sector, so that SME output matches the seed figure."""
    sme_active = (firms.status == ACTIVE) & firms.is_sme
    relative = SECTOR_OUTPUT_PER_WORKER[firms.sector[sme_active]]
    base = (relative * firms.productivity[sme_active] * firms.employees[sme_active]).sum()
    level = p.initial_sme_output_usd * scale / 12.0 / base
    return level * SECTOR_OUTPUT_PER_WORKER
