"""Model parameters: one frozen dataclass, each field carrying its unit, source and range.

Every value here is documented in docs/ODD.md (a test checks that each name appears
there). Sources: "seed" = SEED_FACTS.md, "context" = CONTEXT.md, "literature" = the
reference named, "assumption" = our choice where nothing better exists, "calibrated" =
chosen so that the model reproduces a documented figure (a seed figure at month 0, or a
benchmark from the literature such as entrants' survival).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


def _p(value, unit: str, source: str, plausible: tuple[float, float], allowed=(0.0, None), doc: str = ""):
    """A parameter field: default value plus metadata used for validation and documentation."""
    return field(
        default=value,
        metadata={"unit": unit, "source": source, "plausible": plausible, "allowed": allowed, "doc": doc},
    )


@dataclass(frozen=True)
class Parameters:
    # --- initial population (seed facts) -----------------------------------------------
    initial_industrial_units: int = _p(85_000, "units", "seed 002", (80_000, 90_000), (1, None), "operating industrial units (active or idle)")
    initial_smes: int = _p(77_000, "units", "seed 001", (70_000, 80_000), (0, None), "SMEs among the industrial units (< 100 employees)")
    initial_smes_in_parks: int = _p(43_000, "units", "seed 001", (40_000, 46_000), (0, None), "SMEs licensed inside industrial parks")
    initial_active_smes_in_parks: int = _p(34_000, "units", "seed 001", (32_000, 36_000), (0, None), "of those, active")
    initial_under_construction: int = _p(50_000, "units", "seed 002", (45_000, 55_000), (0, None), "units licensed and under construction")
    parks: int = _p(966, "parks", "seed 002", (900, 1_000), (1, None), "approved industrial parks and zones")
    active_share_outside_parks: float = _p(0.79, "share", "assumption: same as in parks (34/43)", (0.6, 0.9), (0.0, 1.0), "share of out-of-park SMEs that are active")
    active_share_large: float = _p(0.90, "share", "assumption", (0.8, 0.97), (0.0, 1.0), "share of large units that are active")
    large_in_parks_share: float = _p(0.30, "share", "assumption", (0.2, 0.5), (0.0, 1.0), "share of large units located in parks")
    construction_in_parks_share: float = _p(0.60, "share", "assumption (ISIPO licenses most new units in parks)", (0.4, 0.8), (0.0, 1.0), "share of units under construction located in parks")
    revivable_share: float = _p(0.52, "share", "context: 48% of idle units cannot be revived", (0.4, 0.7), (0.0, 1.0), "share of idle units that can be revived")

    # --- firm size and productivity ------------------------------------------------------
    entrant_large_share: float = _p(0.03, "share", "assumption (entrants are small)", (0.01, 0.08), (0.0, 1.0), "share of new units planned as large")
    existing_age_mean_years: float = _p(15.0, "years", "assumption (most parks date from the 1990s-2000s)", (8.0, 25.0), (0.1, None), "mean age of operating units at month 0 (exponential)")
    initial_sme_employment_share: float = _p(0.50, "share", "seed 003: small industry holds about half of (industrial) employment", (0.4, 0.6), (0.01, 0.99), "SME share of employment in active units at month 0; with the SME share of units it pins the size distribution")
    size_max: float = _p(20_000.0, "employees", "assumption (largest Iranian manufacturers)", (10_000.0, 50_000.0), (100.0, None), "truncation of the size distribution")
    initial_utilisation_mean: float = _p(0.65, "share", "assumption (low capacity use is a stated problem)", (0.5, 0.8), (0.05, 1.0), "mean employment / capacity at month 0")
    productivity_sigma: float = _p(0.5, "log points", "literature: ln TFP dispersion 0.4-0.8 within industries", (0.35, 0.8), (0.0, 3.0), "stationary sd of log productivity")
    productivity_permanent_share: float = _p(0.6, "share of variance", "literature: large persistent firm effects in TFP (Syverson 2011)", (0.3, 0.8), (0.0, 1.0), "share of log productivity variance that is a firm's permanent level")
    size_productivity_corr: float = _p(0.3, "correlation", "literature: exporters/large firms more productive (Bernard et al. 2007)", (0.1, 0.5), (-1.0, 1.0), "correlation of log size and the permanent level of log productivity at month 0")
    productivity_persistence: float = _p(0.9, "per year", "literature: AR(1) rho ~0.9 a year", (0.8, 0.97), (0.0, 1.0), "annual autocorrelation of log productivity")
    volatility_size_elasticity: float = _p(0.2, "elasticity", "literature: sd(g) ~ size^-0.2 (Amaral et al. 1997)", (0.1, 0.3), (0.0, 1.0), "fall of productivity volatility with size")
    entrant_productivity_gap: float = _p(0.1, "log points", "literature: entrants less productive, catch up (Haltiwanger et al. 2013)", (0.0, 0.3), (0.0, 2.0), "entrants' mean log productivity below incumbents'")
    demand_elasticity: float = _p(3.8, "elasticity", "literature: sigma 3.8 (Bernard, Eaton, Jensen & Kortum 2003)", (3.0, 6.0), (1.5, 20.0), "CES elasticity of substitution; demand share ~ productivity^(sigma-1)")
    initial_sme_output_usd: float = _p(57e9, "USD a year", "seed 000: USD 17 bn = 30% of SME output", (25e9, 60e9), (1.0, None), "SME output at month 0 (normalises output per worker)")

    # --- employment, investment ----------------------------------------------------------
    hiring_speed: float = _p(0.25, "per month", "assumption (partial adjustment)", (0.1, 0.5), (0.0, 1.0), "share of the gap between target and current employment closed per month when hiring")
    firing_speed: float = _p(0.10, "per month", "assumption (Iran's labour law makes dismissal costly)", (0.03, 0.25), (0.0, 1.0), "share of the gap between target and current employment closed per month when shedding")
    adjustment_band: float = _p(0.05, "share of employment", "literature: inaction band of lumpy labour adjustment", (0.0, 0.15), (0.0, 1.0), "relative gap (|target - current| / current) below which employment is not changed")
    target_utilisation: float = _p(0.85, "share", "assumption", (0.75, 0.95), (0.05, 1.0), "utilisation above which a firm invests")
    investment_speed: float = _p(0.04, "per month", "assumption (time to build ~2 years)", (0.02, 0.08), (0.0, 1.0), "share of the capacity gap built per month")
    depreciation: float = _p(0.005, "per month", "assumption (6% a year)", (0.003, 0.01), (0.0, 1.0), "capacity lost per month when above need")
    capital_per_worker_usd: float = _p(25_000.0, "USD", "assumption", (10_000.0, 60_000.0), (0.0, None), "installed capital per unit of capacity (investment in USD)")
    domestic_demand_growth: float = _p(0.01, "per year", "assumption (real manufacturing demand under sanctions)", (-0.03, 0.04), (-0.5, 0.5), "trend growth of domestic demand")
    domestic_demand_volatility: float = _p(0.01, "per month", "assumption", (0.0, 0.03), (0.0, 0.5), "sd of monthly aggregate demand shocks")
    sector_demand_volatility: float = _p(0.015, "per month", "assumption", (0.0, 0.04), (0.0, 0.5), "sd of monthly sector demand shocks")
    sector_demand_persistence: float = _p(0.95, "per month", "assumption", (0.8, 0.99), (0.0, 1.0), "AR(1) coefficient of sector demand deviations")

    # --- lifecycle ------------------------------------------------------------------------
    applications_per_month: float = _p(1_600.0, "units/month", "seed 002: 16,000 in 10 months", (1_000.0, 2_000.0), (0.0, None), "new applications, each a unit entering construction")
    completion_rate: float = _p(0.005, "per month", "assumption (~2,900 completions a year in the first years)", (0.002, 0.015), (0.0, 1.0), "mean monthly probability that a unit under construction starts operating, over all units under construction at month 0 (those not yet eligible count as 0)")
    min_construction_months: float = _p(12.0, "months", "assumption (building even a small plant takes about a year)", (6.0, 24.0), (0.0, 120.0), "months from licence before a unit can start operating")
    abandonment_rate: float = _p(0.018, "per month", "assumption (most licences never become plants)", (0.005, 0.03), (0.0, 1.0), "monthly probability that a construction project is abandoned")
    outside_park_infrastructure: float = _p(0.5, "index 0-1", "assumption", (0.3, 0.7), (0.0, 1.0), "infrastructure quality outside parks")
    idling_rate: float = _p(0.0045, "per month", "assumption (steady idle stock with revival and closure)", (0.003, 0.01), (0.0, 1.0), "mean monthly probability that an active unit goes idle, at month 0 (young units' excess included)")
    young_excess_idling_rate: float = _p(0.015, "per month", "calibrated: entrants' 2-year survival ~66% (US, Knaup 2005); the model's 4-year survival (~0.6) exceeds Knaup's 44%", (0.005, 0.025), (0.0, 1.0), "extra monthly idling probability of a unit at age 0")
    young_age_months: float = _p(36.0, "months", "calibrated with young_excess_idling_rate (Knaup 2005)", (18.0, 60.0), (1.0, None), "e-folding age of the young units' extra idling hazard")
    idling_productivity_elasticity: float = _p(1.0, "per log point", "literature: selection on productivity (Melitz 2003)", (0.5, 2.0), (0.0, 10.0), "how much lower productivity raises the idling hazard (and higher productivity the revival hazard)")
    idling_utilisation_elasticity: float = _p(2.0, "per unit of utilisation", "assumption", (0.5, 4.0), (0.0, 10.0), "how much low capacity use raises the idling hazard")
    revival_rate: float = _p(0.0145, "per month", "context: 1,200-2,100 revivals a year", (0.008, 0.02), (0.0, 1.0), "mean monthly probability that a revivable idle unit restarts, at month 0")
    idle_closure_rate: float = _p(0.008, "per month", "assumption", (0.004, 0.02), (0.0, 1.0), "monthly probability that an idle unit closes for good")
    restart_utilisation: float = _p(0.35, "share", "context: 17-22 jobs per revived unit (model: mean ~24, median ~12)", (0.25, 0.6), (0.05, 1.0), "employment / capacity of a unit when it starts or restarts")


def parameter_names() -> list[str]:
    return [f.name for f in dataclasses.fields(Parameters)]


def parameter_metadata() -> dict[str, dict]:
    return {f.name: dict(f.metadata, default=f.default) for f in dataclasses.fields(Parameters)}


def make_parameters(**overrides) -> Parameters:
    """Build parameters from keyword overrides, refusing unknown names and out-of-range values."""
    fields = {f.name: f for f in dataclasses.fields(Parameters)}
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise TypeError(f"unknown model parameter(s) {unknown}; known parameters: {sorted(fields)}")
    for name, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"parameter {name!r} must be a number, got {value!r}")
        lo, hi = fields[name].metadata["allowed"]
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"parameter {name!r} = {value!r} is outside its allowed range [{lo}, {hi if hi is not None else 'inf'}]")
    params = Parameters(**overrides)
    _check_consistency(params)
    return params


def _check_consistency(p: Parameters) -> None:
    if not p.initial_active_smes_in_parks <= p.initial_smes_in_parks <= p.initial_smes <= p.initial_industrial_units:
        raise ValueError(
            "population counts must satisfy initial_active_smes_in_parks <= initial_smes_in_parks <= initial_smes <= initial_industrial_units, "
            f"got {p.initial_active_smes_in_parks}, {p.initial_smes_in_parks}, {p.initial_smes}, {p.initial_industrial_units}"
        )
