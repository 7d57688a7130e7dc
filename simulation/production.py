"""Production and employment: productivity, demand, hiring and firing, investment, output.

- Log productivity of operating units follows a monthly AR(1) around the firm's own long-run level; shocks
  are smaller for larger plants (sd falls by 2^-beta per doubling of capacity, Amaral et
  al. 1997), applied by octave of capacity through a lookup table (no power per firm).
- Domestic demand of a sector is split among its active units by CES shares
  m_i * phi_i^(sigma-1) (m: customer base). Employment needed to serve that demand is
  revenue / (output per worker), so labour demand ~ m_i * phi_i^(sigma-2).
- What home buyers spend on the sector's domestic products moves with the domestic price
  index P (nested CES, `domestic_spending_factor`): they substitute between domestic goods and
  imports with elasticity eta, and their spending on the sector as a whole follows its
  composite price with elasticity epsilon. More productive or more numerous domestic units
  lower P, so they take share from imports as well as from each other.
- A buyer's purchases redirected to a new SME supplier (supply_chain.py) come out of imports
  and out of the home market of the supplier's sector.
- New plants get the customer base that employs their starting workforce; incumbents feel
  that entry through the shares from the next month on.
- Besides the home market, a unit sells to its large buyers (supply_chain.py) and abroad
  (trade.py); at month 0 customer bases are rebased so the three together employ the
  initial workforce.
- Employment moves towards min(demand, capacity) by partial adjustment, faster up than
  down, with an inaction band (relative gap) (hiring and firing frictions).
- Firms whose demand presses on capacity invest; unneeded capacity depreciates.
- Size class (small < 50, medium 50-99, large >= 100 employees) follows employment.
"""

from __future__ import annotations

import numpy as np

from .parameters import Parameters
from .state import ACTIVE, IDLE, FirmState, size_class_of

__all__ = [
    "MIN_HOME_SHARE",
    "VOLATILITY_OCTAVES",
    "VOLATILITY_REFERENCE_CAPACITY",
    "Market",
    "domestic_spending_factor",
    "home_demand",
    "produce",
    "rebase_customer_base",
    "update_productivity",
]

VOLATILITY_REFERENCE_CAPACITY = 32.0  # capacity near the median unit's; [32, 64) gets the base sd
VOLATILITY_OCTAVES = (-5, 10)  # octaves of capacity / 32: [1, 2) is -5, [32768, 65536) is 10; clipped beyond


MIN_HOME_SHARE = 0.1  # at month 0 a unit's home-market demand is at least this share of its employment


class Market:
    """Home-market demand by sector at month 0, the output per worker that turns demand into jobs,
    and this month's imports displaced by domestic units (USD a month, the sampled population's)."""

    def __init__(self, firms: FirmState, p: Parameters, output_per_worker: np.ndarray, n_sectors: int):
        self.output_per_worker = output_per_worker
        self.n_sectors = n_sectors
        # what active units sell at home at month 0 (exports and sales to large buyers excluded)
        active = np.flatnonzero(firms.status == ACTIVE)
        weights = firms.demand_weight[active] * np.exp((p.demand_elasticity - 1.0) * firms.log_productivity[active])
        self.base_weight = np.bincount(firms.sector[active], weights=weights, minlength=n_sectors)  # W_0
        self.base_demand = output_per_worker * self.base_weight
        self.imports_displaced_usd = 0.0


def domestic_spending_factor(
    weight: np.ndarray, base_weight: np.ndarray, p: Parameters
) -> tuple[np.ndarray, np.ndarray]:
    """(domestic spending, total spending) on each sector relative to month 0, at the same demand index.

    W = sum of m_i phi_i^(sigma-1) over the active units sets the domestic price index:
    (P/P_0)^(1-sigma) = W/W_0. Imports' price is fixed; home buyers split their spending between
    domestic goods and imports with elasticity eta (month-0 import share s_m), so the composite
    price is C = (s_d (P/P_0)^(1-eta) + s_m)^(1/(1-eta)), s_d = 1 - s_m; their spending on the
    sector moves as C^(1-epsilon), and the domestic part of it as (P/(P_0 C))^(1-eta). Computed in
    logs (log1p/expm1), with the Cobb-Douglas limit at eta = 1."""
    sigma, eta, epsilon = p.demand_elasticity, p.import_substitution_elasticity, p.manufactures_price_elasticity
    domestic_share = 1.0 - p.home_import_share
    ratio = np.divide(weight, base_weight, out=np.ones(len(weight)), where=(weight > 0) & (base_weight > 0))
    log_price = -np.log(ratio) / (sigma - 1.0)
    if eta == 1.0:
        log_composite = domestic_share * log_price
    else:
        log_composite = np.log1p(domestic_share * np.expm1((1.0 - eta) * log_price)) / (1.0 - eta)
    log_total = (1.0 - epsilon) * log_composite
    return np.exp(log_total + (1.0 - eta) * (log_price - log_composite)), np.exp(log_total)


def rebase_customer_base(firms: FirmState, rows: np.ndarray, other_labour: np.ndarray) -> None:
    """At month 0, shrink customer bases so that home-market demand plus other demand
    (exports, sales to large buyers) employs exactly the unit's workforce (floor MIN_HOME_SHARE)."""
    employees = firms.employees[rows]
    home = np.maximum(employees - other_labour, MIN_HOME_SHARE * employees)
    firms.demand_weight[rows] *= np.divide(home, employees, out=np.ones(len(rows)), where=employees > 0)


def update_productivity(firms: FirmState, p: Parameters, rng: np.random.Generator) -> None:
    """AR(1) in logs towards each unit's long-run level, for operating (active or idle) units.

    A plant under construction keeps the productivity it is expected to start with; a
    closed unit keeps its last. Shocks are drawn for every row so that firm i always gets
    element i (common random numbers across policies)."""
    rho = p.productivity_persistence ** (1.0 / 12.0)
    transitory_sd = p.productivity_sigma * np.sqrt(1.0 - p.productivity_permanent_share)
    base_sd = transitory_sd * np.sqrt(1.0 - rho**2)  # keeps the stationary transitory sd
    lo, hi = VOLATILITY_OCTAVES
    sd_by_octave = base_sd * 2.0 ** (-p.volatility_size_elasticity * np.arange(lo, hi + 1))

    shock = rng.standard_normal(firms.n)
    live = np.flatnonzero((firms.status == ACTIVE) | (firms.status == IDLE))
    _, exponent = np.frexp(np.maximum(firms.capacity[live], 1.0) * (1.0 / VOLATILITY_REFERENCE_CAPACITY))
    octave = np.clip(exponent - 1, lo, hi)  # frexp: x = m 2^e with m in [0.5, 1), so [1, 2) has e = 1
    x = firms.log_productivity[live]
    x += (1.0 - rho) * (firms.log_productivity_mean[live] - x) + sd_by_octave[octave - lo] * shock[live]
    firms.log_productivity[live] = x


def home_demand(
    firms: FirmState,
    p: Parameters,
    market: Market,
    demand_index: np.ndarray,
    active: np.ndarray,
    entrants: np.ndarray,
    redirected: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labour that each active unit's home-market sales need this month; also returns
    (phi, phi^(sigma-1)) of the active units for the later phases. `redirected`: USD a month
    of buyers' purchases redirected to new SME suppliers, by sector (supply_chain.py)."""
    sector = firms.sector[active]
    log_phi = firms.log_productivity[active]
    phi = np.exp(log_phi)
    share_power = np.exp((p.demand_elasticity - 1.0) * log_phi)  # phi^(sigma-1)

    # demand: entrants (customer base 0 so far) do not weigh in this month's shares
    weights = firms.demand_weight[active] * share_power
    total = np.bincount(sector, weights=weights, minlength=market.n_sectors)
    domestic, spending = domestic_spending_factor(total, market.base_weight, p)
    at_base_prices = market.base_demand * demand_index
    from_home = (1.0 - p.link_import_substitution_share) * redirected
    demand = np.maximum(at_base_prices * domestic - from_home, 0.0)
    imports_then = at_base_prices * p.home_import_share / (1.0 - p.home_import_share)
    imports_now = at_base_prices / (1.0 - p.home_import_share) * spending - at_base_prices * domestic
    market.imports_displaced_usd = float(np.sum(imports_then - imports_now + redirected - from_home))
    jobs_per_weight = np.divide(
        demand, total * market.output_per_worker, out=np.zeros(market.n_sectors), where=total > 0
    )
    _give_customer_base(firms, entrants, jobs_per_weight, p)
    return jobs_per_weight[sector] * firms.demand_weight[active] * share_power / phi, phi, share_power


def produce(
    firms: FirmState,
    p: Parameters,
    market: Market,
    active: np.ndarray,
    phi: np.ndarray,
    home_labour: np.ndarray,
    buyer_labour: np.ndarray,
    export_labour: np.ndarray,
    finance=None,
    indirect_labour: np.ndarray | float = 0.0,
) -> tuple[float, int]:
    """Employment, investment and output of the active units; returns (capacity added, graduations).

    Labour demand is home sales + sales to large buyers + exports + sales to intermediaries for
    export. When capacity binds, every market gets the same share of what can be made; exports
    and indirect sales are output times their shares. Investment is built as far as `finance`
    (finance.Finance) funds it."""
    labour_demand = home_labour + buyer_labour + export_labour + indirect_labour
    employees = _adjust_employment(firms.employees[active], firms.capacity[active], labour_demand, p)
    capacity, growth = _invest(firms.capacity[active], employees, labour_demand, p)
    if finance is not None:
        investing = np.flatnonzero(growth > 0)
        share = finance.fund(
            firms, active[investing], growth[investing] * p.capital_per_worker_usd, "investment", divisible=True
        )
        capacity[investing] -= growth[investing] * (1.0 - share)
        growth[investing] *= share
    added = float(growth.sum())
    firms.employees[active] = employees
    firms.capacity[active] = capacity
    output = market.output_per_worker[firms.sector[active]] * phi * employees
    firms.output_usd[:] = 0.0
    firms.output_usd[active] = output
    firms.exports_usd[:] = 0.0
    firms.exports_usd[active] = output * np.divide(
        export_labour, labour_demand, out=np.zeros(len(active)), where=labour_demand > 0
    )
    firms.indirect_sales_usd[:] = 0.0
    firms.indirect_sales_usd[active] = output * np.divide(
        indirect_labour, labour_demand, out=np.zeros(len(active)), where=labour_demand > 0
    )
    return added, _update_size_class(firms, active, employees)


def _give_customer_base(firms: FirmState, idx: np.ndarray, jobs_per_weight: np.ndarray, p: Parameters) -> None:
    """New plants start with the customer base that employs their starting workforce at today's market."""
    per_weight = np.maximum(jobs_per_weight[firms.sector[idx]], 1e-12)
    firms.demand_weight[idx] = (
        firms.employees[idx] / per_weight * np.exp((2.0 - p.demand_elasticity) * firms.log_productivity[idx])
    )
    firms.export_scale[idx] = firms.demand_weight[idx] * firms.export_appeal[idx]  # foreign potential: see trade.py


def _adjust_employment(
    employees: np.ndarray, capacity: np.ndarray, labour_demand: np.ndarray, p: Parameters
) -> np.ndarray:
    """Partial adjustment towards min(demand, capacity), at least one person; no move inside the band."""
    target = np.maximum(np.minimum(labour_demand, capacity), 1.0)
    gap = target - employees
    speed = np.where(gap > 0, p.hiring_speed, p.firing_speed)
    speed[np.abs(gap) <= p.adjustment_band * employees] = 0.0
    return employees + speed * gap


def _invest(
    capacity: np.ndarray, employees: np.ndarray, labour_demand: np.ndarray, p: Parameters
) -> tuple[np.ndarray, np.ndarray]:
    """Grow capacity where demand presses on it, let unneeded capacity depreciate; returns (capacity, growth)."""
    wanted = labour_demand / p.target_utilisation
    growth = np.maximum(p.investment_speed * (wanted - capacity), 0.0)
    floor = np.maximum(wanted, employees)
    depreciated = np.minimum(capacity, np.maximum(capacity * (1.0 - p.depreciation), floor))
    return np.where(growth > 0, capacity + growth, depreciated), growth


def _update_size_class(firms: FirmState, idx: np.ndarray, employees: np.ndarray) -> int:
    """Reclassify active units by employment; returns the number that moved up a class."""
    new = size_class_of(employees)
    graduated = int(np.count_nonzero(new > firms.size_class[idx]))
    firms.size_class[idx] = new
    return graduated
