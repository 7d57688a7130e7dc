"""Model parameters: one frozen dataclass, each field carrying its unit, source and range.

Every value here is documented in docs/ODD.md (a test checks that each name appears
there). Sources: "seed 000" ... "seed 004" = the source documents and "context" = the
published figures, both in docs/sources.md; "literature" = the reference named;
"assumption" = our choice where nothing better exists; "calibrated" = chosen so that the
model reproduces a documented figure (a seed figure at month 0, or a benchmark from the
literature such as entrants' survival).
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field

from .errors import InputError, is_finite_number

__all__ = [
    "COUNTS_THAT_NEST",
    "MAX_UNITS",
    "UNCERTAINTIES",
    "Parameters",
    "make_parameters",
    "parameter_metadata",
    "parameter_names",
]

# What the model can hold: it allocates one row per unit (and per project), so the counts it
# is given are bounded (the real ones are under a tenth of these).
MAX_UNITS = 1_000_000  # units of the population (and parks), at full scale
MAX_APPLICATIONS_PER_MONTH = 100_000.0  # new projects a month
MAX_ZONE_UNITS = 1_000.0  # units licensed in one new rural zone


def _p(value, unit: str, source: str, plausible: tuple[float, float], allowed=(0.0, None), doc: str = ""):
    """A parameter field: default value plus metadata used for validation and documentation."""
    return field(
        default=value,
        metadata={"unit": unit, "source": source, "plausible": plausible, "allowed": allowed, "doc": doc},
    )


@dataclass(frozen=True)
class Parameters:
    @property
    def initial_active_smes(self) -> float:
        """Active SMEs at month 0, at full scale: those in parks and the active share of those outside."""
        outside = self.initial_smes - self.initial_smes_in_parks
        return self.initial_active_smes_in_parks + self.active_share_outside_parks * outside

    # --- initial population (seed facts) -----------------------------------------------
    initial_industrial_units: int = _p(
        85_000, "units", "seed 002", (80_000, 90_000), (1, MAX_UNITS), "operating industrial units (active or idle)"
    )
    initial_smes: int = _p(
        77_000,
        "units",
        "seed 001",
        (70_000, 80_000),
        (0, MAX_UNITS),
        "SMEs among the industrial units (< 100 employees)",
    )
    initial_smes_in_parks: int = _p(
        43_000, "units", "seed 001", (40_000, 46_000), (0, MAX_UNITS), "SMEs licensed inside industrial parks"
    )
    initial_active_smes_in_parks: int = _p(
        34_000, "units", "seed 001", (32_000, 36_000), (0, MAX_UNITS), "of those, active"
    )
    initial_under_construction: int = _p(
        50_000, "units", "seed 002", (45_000, 55_000), (0, MAX_UNITS), "units licensed and under construction"
    )
    parks: int = _p(966, "parks", "seed 002", (900, 1_000), (1, MAX_UNITS), "approved industrial parks and zones")
    active_share_outside_parks: float = _p(
        0.79,
        "share",
        "assumption: same as in parks (34/43)",
        (0.6, 0.9),
        (0.0, 1.0),
        "share of out-of-park SMEs that are active",
    )
    active_share_large: float = _p(
        0.90, "share", "assumption", (0.8, 0.97), (0.0, 1.0), "share of large units that are active"
    )
    large_in_parks_share: float = _p(
        0.30, "share", "assumption", (0.2, 0.5), (0.0, 1.0), "share of large units located in parks"
    )
    construction_in_parks_share: float = _p(
        0.60,
        "share",
        "assumption (ISIPO licenses most new units in parks)",
        (0.4, 0.8),
        (0.0, 1.0),
        "share of units under construction located in parks",
    )
    revivable_share: float = _p(
        0.52,
        "share",
        "context: 48% of idle units cannot be revived",
        (0.4, 0.7),
        (0.0, 1.0),
        "share of idle units that can be revived",
    )

    # --- firm size and productivity ------------------------------------------------------
    entrant_large_share: float = _p(
        0.03,
        "share",
        "assumption (entrants are small)",
        (0.01, 0.08),
        (0.0, 1.0),
        "share of new units planned as large",
    )
    existing_age_mean_years: float = _p(
        15.0,
        "years",
        "assumption (most parks date from the 1990s-2000s)",
        (8.0, 25.0),
        (0.1, None),
        "mean age of operating units at month 0 (exponential)",
    )
    initial_sme_employment_share: float = _p(
        0.50,
        "share",
        "seed 003: small industry holds about half of (industrial) employment",
        (0.4, 0.6),
        (0.01, 0.99),
        "SME share of employment in active units at month 0; with the SME share of units it pins the size distribution",
    )
    size_max: float = _p(
        20_000.0,
        "employees",
        "assumption (largest Iranian manufacturers)",
        (10_000.0, 50_000.0),
        (100.0, None),
        "truncation of the size distribution",
    )
    initial_utilisation_mean: float = _p(
        0.65,
        "share",
        "assumption (low capacity use is a stated problem)",
        (0.5, 0.8),
        (0.05, 1.0),
        "mean employment / capacity at month 0",
    )
    productivity_sigma: float = _p(
        0.5,
        "log points",
        "literature: ln TFP dispersion 0.4-0.8 within industries",
        (0.35, 0.8),
        (0.0, 3.0),
        "stationary sd of log productivity",
    )
    productivity_permanent_share: float = _p(
        0.6,
        "share of variance",
        "literature: large persistent firm effects in TFP (Syverson 2011)",
        (0.3, 0.8),
        (0.0, 1.0),
        "share of log productivity variance that is a firm's permanent level",
    )
    size_productivity_corr: float = _p(
        0.3,
        "correlation",
        "literature: exporters/large firms more productive (Bernard et al. 2007)",
        (0.1, 0.5),
        (-1.0, 1.0),
        "correlation of log size and the permanent level of log productivity at month 0",
    )
    productivity_persistence: float = _p(
        0.9,
        "per year",
        "literature: AR(1) rho ~0.9 a year",
        (0.8, 0.97),
        (0.0, 1.0),
        "annual autocorrelation of log productivity",
    )
    volatility_size_elasticity: float = _p(
        0.2,
        "elasticity",
        "literature: sd(g) ~ size^-0.2 (Amaral et al. 1997)",
        (0.1, 0.3),
        (0.0, 1.0),
        "fall of productivity volatility with size",
    )
    entrant_productivity_gap: float = _p(
        0.1,
        "log points",
        "literature: entrants less productive, catch up (Haltiwanger et al. 2013)",
        (0.0, 0.3),
        (0.0, 2.0),
        "entrants' mean log productivity below incumbents'",
    )
    demand_elasticity: float = _p(
        3.8,
        "elasticity",
        "literature: sigma 3.8 (Bernard, Eaton, Jensen & Kortum 2003)",
        (3.0, 6.0),
        (1.5, 20.0),
        "CES elasticity of substitution; demand share ~ productivity^(sigma-1)",
    )
    import_substitution_elasticity: float = _p(
        2.0,
        "elasticity",
        "literature: home-import ('macro') elasticities near 1 for half of goods, below the micro ones "
        "(Feenstra, Luck, Obstfeld & Russ 2018); up to about 4-7 with heterogeneity (Imbs & Mejean 2015)",
        (1.0, 3.8),
        (1.0, 20.0),
        "elasticity of substitution between the sector's domestic goods and imports at home",
    )
    home_import_share: float = _p(
        0.15,
        "share",
        "assumption: 85% of Iran's imports are production inputs and over 2,000 consumer items with "
        "domestic makers are banned (docs/sources.md)",
        (0.05, 0.3),
        (0.0, 0.95),
        "imports' share of home buyers' spending on the sectors' products at month 0",
    )
    manufactures_price_elasticity: float = _p(
        1.0,
        "elasticity",
        "assumption: Cobb-Douglas across sectors (fixed spending shares); 0.85 across goods and services "
        "in final expenditure (Herrendorf, Rogerson & Valentinyi 2013, US)",
        (0.5, 1.5),
        (0.0, 10.0),
        "price elasticity of home buyers' total spending on a sector (domestic and imported)",
    )
    initial_sme_output_usd: float = _p(
        57e9,
        "USD a year",
        "seed 000: USD 17 bn = 30% of SME output",
        (25e9, 60e9),
        (1.0, None),
        "SME output at month 0 (normalises output per worker)",
    )

    # --- employment, investment ----------------------------------------------------------
    hiring_speed: float = _p(
        0.25,
        "per month",
        "assumption (partial adjustment)",
        (0.1, 0.5),
        (0.0, 1.0),
        "share of the gap between target and current employment closed per month when hiring",
    )
    firing_speed: float = _p(
        0.10,
        "per month",
        "assumption (Iran's labour law makes dismissal costly)",
        (0.03, 0.25),
        (0.0, 1.0),
        "share of the gap between target and current employment closed per month when shedding",
    )
    adjustment_band: float = _p(
        0.05,
        "share of employment",
        "literature: inaction band of lumpy labour adjustment",
        (0.0, 0.15),
        (0.0, 1.0),
        "relative gap (|target - current| / current) below which employment is not changed",
    )
    target_utilisation: float = _p(
        0.85, "share", "assumption", (0.75, 0.95), (0.05, 1.0), "utilisation above which a firm invests"
    )
    investment_speed: float = _p(
        0.04,
        "per month",
        "assumption (time to build ~2 years)",
        (0.02, 0.08),
        (0.0, 1.0),
        "share of the capacity gap built per month",
    )
    depreciation: float = _p(
        0.005,
        "per month",
        "assumption (6% a year)",
        (0.003, 0.01),
        (0.0, 1.0),
        "capacity lost per month when above need",
    )
    capital_per_worker_usd: float = _p(
        25_000.0,
        "USD",
        "assumption",
        (10_000.0, 60_000.0),
        (0.0, None),
        "installed capital per unit of capacity (investment in USD)",
    )
    domestic_demand_growth: float = _p(
        0.01,
        "per year",
        "assumption (real manufacturing demand under sanctions)",
        (-0.03, 0.04),
        (-0.5, 0.5),
        "trend growth of domestic demand",
    )
    domestic_demand_volatility: float = _p(
        0.01, "per month", "assumption", (0.0, 0.03), (0.0, 0.5), "sd of monthly aggregate demand shocks"
    )
    sector_demand_volatility: float = _p(
        0.015, "per month", "assumption", (0.0, 0.04), (0.0, 0.5), "sd of monthly sector demand shocks"
    )
    sector_demand_persistence: float = _p(
        0.95, "per month", "assumption", (0.8, 0.99), (0.0, 1.0), "AR(1) coefficient of sector demand deviations"
    )

    # --- lifecycle ------------------------------------------------------------------------
    applications_per_month: float = _p(
        1_600.0,
        "units/month",
        "seed 002: 16,000 in 10 months",
        (1_000.0, 2_000.0),
        (0.0, MAX_APPLICATIONS_PER_MONTH),
        "new applications, each a unit entering construction",
    )
    completion_rate: float = _p(
        0.006,
        "per month",
        "assumption (~2,900 ready a year in the first years; with finance about 2,700 complete)",
        (0.002, 0.015),
        (0.0, 1.0),
        "mean monthly probability that a unit under construction is ready to start operating (it then needs "
        "finance), over all units under construction at month 0 (those not yet eligible count as 0)",
    )
    min_construction_months: float = _p(
        12.0,
        "months",
        "assumption (building even a small plant takes about a year)",
        (6.0, 24.0),
        (0.0, 120.0),
        "months from licence before a unit can start operating",
    )
    abandonment_rate: float = _p(
        0.018,
        "per month",
        "assumption (most licences never become plants)",
        (0.005, 0.03),
        (0.0, 1.0),
        "monthly probability that a construction project is abandoned",
    )
    outside_park_infrastructure: float = _p(
        0.5, "index 0-1", "assumption", (0.3, 0.7), (0.0, 1.0), "infrastructure quality outside parks"
    )
    idling_rate: float = _p(
        0.0045,
        "per month",
        "assumption (steady idle stock with revival and closure)",
        (0.003, 0.01),
        (0.0, 1.0),
        "mean monthly probability that an active unit goes idle, at month 0 (young units' excess included)",
    )
    young_excess_idling_rate: float = _p(
        0.015,
        "per month",
        "calibrated: entrants' 2-year survival ~66% (US, Knaup 2005); the model's 4-year survival (~0.6) exceeds "
        "Knaup's 44%",
        (0.005, 0.025),
        (0.0, 1.0),
        "extra monthly idling probability of a unit at age 0",
    )
    young_age_months: float = _p(
        36.0,
        "months",
        "calibrated with young_excess_idling_rate (Knaup 2005)",
        (18.0, 60.0),
        (1.0, None),
        "e-folding age of the young units' extra idling hazard",
    )
    idling_productivity_elasticity: float = _p(
        1.0,
        "per log point",
        "literature: selection on productivity (Melitz 2003)",
        (0.5, 2.0),
        (0.0, 10.0),
        "how much lower productivity raises the idling hazard (and higher productivity the revival hazard)",
    )
    idling_utilisation_elasticity: float = _p(
        2.0,
        "per unit of utilisation",
        "assumption",
        (0.5, 4.0),
        (0.0, 10.0),
        "how much low capacity use raises the idling hazard",
    )
    revival_rate: float = _p(
        0.0145,
        "per month",
        "context: 1,200-2,100 revivals a year",
        (0.008, 0.02),
        (0.0, 1.0),
        "mean monthly probability that a revivable idle unit restarts, at month 0",
    )
    idle_closure_rate: float = _p(
        0.008,
        "per month",
        "assumption",
        (0.004, 0.02),
        (0.0, 1.0),
        "monthly probability that an idle unit closes for good",
    )
    restart_utilisation: float = _p(
        0.35,
        "share",
        "context: 17-22 jobs per revived unit (model: mean ~24, median ~12)",
        (0.25, 0.6),
        (0.05, 1.0),
        "employment / capacity of a unit when it starts or restarts",
    )

    # --- clusters and parks ------------------------------------------------------------------
    cluster_spillover_elasticity: float = _p(
        0.04,
        "elasticity",
        "literature: productivity elasticity to local same-sector scale 0.02-0.10 (Rosenthal & Strange 2004; "
        "Ellison, Glaeser & Kerr 2010)",
        (0.02, 0.10),
        (0.0, 0.5),
        "log productivity gained per log point of growth in the cluster's (sector x province) employment",
    )
    infrastructure_productivity_effect: float = _p(
        0.2,
        "log points per unit of index",
        "assumption (power, water and transport outages cost output)",
        (0.0, 0.4),
        (0.0, 2.0),
        "log productivity gained per unit of site infrastructure quality (0-1), relative to the mean site",
    )

    # --- export markets (heterogeneous-firm trade) ---------------------------------------
    initial_exporters: float = _p(
        1_100.0,
        "SMEs",
        "seed 001: over 1,100 exporting units",
        (1_000.0, 1_300.0),
        (1.0, None),
        "SMEs exporting at month 0 (calibrates the export cost multiplier)",
    )
    initial_exports_usd: float = _p(
        1.03e9,
        "USD a year",
        "seed 001: over USD 1.03 bn",
        (1.0e9, 2.0e9),
        (1.0, None),
        "SME exports at month 0 (calibrates foreign market size); context: other estimates up to USD 4-6 bn, which "
        "1,100 exporters of the model's sizes cannot ship (about USD 2.3 bn at most; refused above)",
    )
    export_appeal_sigma: float = _p(
        1.5,
        "log points",
        "assumption (firm-specific foreign demand; Eaton, Kortum & Kramarz 2011)",
        (0.5, 1.5),
        (0.0, 3.0),
        "sd of the log of foreign buyers' taste for a firm's products",
    )
    export_match_sigma: float = _p(
        1.5,
        "log points",
        "calibrated: most new exporters stop within a year (Eaton, Eslava, Kugler & Tybout 2007); firms learn their "
        "foreign demand by exporting (Albornoz et al. 2012)",
        (0.5, 1.5),
        (0.0, 3.0),
        "sd of the log of the part of foreign demand a firm only learns when it first exports",
    )
    export_payback_months: float = _p(
        36.0,
        "months",
        "assumption (Roberts & Tybout 1997: entry pays when the margin covers the sunk cost over a few years)",
        (18.0, 60.0),
        (1.0, None),
        "months over which an entrant expects to recoup the sunk entry cost: enter when monthly profit >= sunk cost "
        "/ this",
    )
    initial_export_band_position: float = _p(
        0.5,
        "share of the band",
        "calibrated: keeps the baseline's exporter count steady in the first year",
        (0.0, 1.0),
        (0.0, 1.0),
        "month-0 exporters are the units whose profit clears this point between the exit (0) and entry (1) thresholds",
    )
    export_reentry_window_months: float = _p(
        12.0,
        "months",
        "literature: after 2+ years out a firm is like a new entrant (Roberts & Tybout 1997)",
        (6.0, 24.0),
        (0.0, 120.0),
        "a firm that served a destination this recently re-enters at a reduced sunk cost",
    )
    export_reentry_cost_share: float = _p(
        0.3,
        "share",
        "assumption (Roberts & Tybout 1997: sunk costs depreciate fast)",
        (0.1, 0.6),
        (0.0, 1.0),
        "share of the sunk cost paid on re-entry within the window",
    )
    export_experience_cost_share: float = _p(
        0.7,
        "share",
        "literature: sunk costs largely destination-specific (McCallum 2015)",
        (0.5, 0.9),
        (0.0, 1.0),
        "share of a destination's sunk cost paid by a firm that already exports elsewhere",
    )
    export_cost_multiplier: float = _p(
        1.0,
        "multiplier",
        "assumption (1: the costs calibrated at month 0)",
        (0.5, 1.5),
        (0.0, 10.0),
        "multiplier on every destination's fixed and sunk export costs after month 0 (below 1: trade facilitation, "
        "cheaper logistics; above 1: costlier); month 0 is calibrated at 1",
    )
    initial_indirect_export_ratio: float = _p(
        1.0,
        "ratio",
        "context: ISIPO estimated park SMEs' exports at about USD 6 bn, 2 bn of them under their own customs "
        "declarations (a ratio of 2, about the most the model's SMEs can sell: 1.9-2.1 at full scale); "
        "intermediaries ship about 20% of China's exports (Ahn, Khandelwal & Wei 2011)",
        (0.25, 1.5),
        (0.0, 10.0),
        "SMEs' exports through intermediaries at month 0, at their foreign value, over their direct exports "
        "(calibrates the clients' share of an intermediary's fixed cost)",
    )
    intermediary_margin: float = _p(
        0.15,
        "share",
        "assumption (trading companies' commission; no Iranian figure)",
        (0.05, 0.3),
        (0.0, 0.95),
        "share of the foreign value of indirect exports the intermediary keeps",
    )
    learning_by_exporting: float = _p(
        0.04,
        "log points",
        "literature: small, disputed (De Loecker 2007, 2013; Bernard & Jensen 1999)",
        (0.0, 0.10),
        (0.0, 0.5),
        "rise of long-run log productivity over a firm's first learning_months months of exporting (spells added up)",
    )
    learning_months: float = _p(
        24.0,
        "months",
        "assumption (gains accrue in the first years)",
        (12.0, 48.0),
        (1.0, 600.0),
        "months of exporting over which the learning gain accrues",
    )
    standards_productivity_corr: float = _p(
        0.5,
        "correlation",
        "assumption (certified firms are more productive)",
        (0.2, 0.8),
        (-1.0, 1.0),
        "correlation (normal copula) of a firm's standards level with its long-run productivity level",
    )
    foreign_demand_growth: float = _p(
        0.03,
        "per year",
        "literature: world import volume growth ~3% a year (WTO)",
        (0.0, 0.06),
        (-0.5, 0.5),
        "trend growth of destinations' import demand",
    )
    foreign_demand_volatility: float = _p(
        0.015,
        "per month",
        "assumption",
        (0.005, 0.03),
        (0.0, 0.5),
        "sd of monthly shocks to each destination's import demand",
    )
    real_exchange_rate_drift: float = _p(
        0.0,
        "per year",
        "assumption (nominal depreciation offsets the inflation gap on average)",
        (-0.1, 0.1),
        (-1.0, 1.0),
        "trend of the rial's real depreciation (positive: cheaper Iranian goods)",
    )
    real_exchange_rate_volatility: float = _p(
        0.03,
        "per month",
        "context: free-market rial moves several % a month",
        (0.01, 0.06),
        (0.0, 0.5),
        "sd of monthly real exchange rate shocks",
    )
    exchange_rate_elasticity: float = _p(
        1.0,
        "elasticity",
        "literature: export elasticity to the real exchange rate ~0.5-1.5",
        (0.3, 1.5),
        (0.0, 5.0),
        "elasticity of export revenue to the real exchange rate",
    )
    sanctions_risk_multiplier: float = _p(
        1.0,
        "multiplier",
        "assumption (scales the destinations' yearly risks)",
        (0.0, 3.0),
        (0.0, 20.0),
        "multiplier on each destination's yearly probability of a sanctions episode",
    )
    sanctions_access_cut: float = _p(
        0.5,
        "share",
        "assumption",
        (0.2, 0.8),
        (0.0, 1.0),
        "share of a destination's market access lost during a sanctions episode",
    )
    sanctions_duration_months: float = _p(
        12.0, "months", "assumption", (6.0, 36.0), (1.0, 600.0), "mean length of a sanctions episode (geometric)"
    )
    sanctions_deflection: float = _p(
        0.67,
        "share",
        "context: about two-thirds of sanctioned exports deflected (Haidar 2017)",
        (0.4, 0.8),
        (0.0, 1.0),
        "share of sales lost to a sanctioned destination that a firm redirects to its other destinations",
    )
    deflection_price_discount: float = _p(
        0.07,
        "share",
        "context: deflected at lower prices (Haidar 2017); size assumed",
        (0.0, 0.2),
        (0.0, 1.0),
        "price cut on redirected sales",
    )

    # --- export consortia and export management companies -------------------------------
    initial_consortia: float = _p(
        130.0,
        "consortia",
        "seed 001: over 130",
        (120.0, 150.0),
        (0.0, None),
        "consortia and export management companies at month 0",
    )
    consortium_size_mean: float = _p(
        6.0,
        "members",
        "literature: UNIDO (2003, 2009) consortia of a handful to 20 members",
        (4.0, 12.0),
        (3.0, 50.0),
        "mean members of a consortium at formation (3 + Poisson)",
    )
    consortium_min_members: float = _p(
        3.0, "members", "assumption", (2.0, 5.0), (1.0, 50.0), "a consortium with fewer active members dissolves"
    )
    consortium_coordination_cost_share: float = _p(
        0.15,
        "share",
        "assumption (management fee and meetings)",
        (0.05, 0.3),
        (0.0, 1.0),
        "each member pays (1 / members + this) of a destination's sunk and fixed costs",
    )
    consortium_knowledge_gain: float = _p(
        0.2,
        "share",
        "assumption (pooled market knowledge, UNIDO 2009)",
        (0.0, 0.5),
        (0.0, 2.0),
        "rise of a member's foreign sales potential",
    )
    consortium_legal_recognition: float = _p(
        0.0,
        "index 0-1",
        "seed 001: a bill is pending (a lever)",
        (0.0, 1.0),
        (0.0, 1.0),
        "how far consortia are recognised in law (0 today)",
    )
    consortium_trust: float = _p(
        0.4,
        "index 0-1",
        "assumption (SMEs distrust unrecognised consortia, seed 001)",
        (0.2, 0.6),
        (0.0, 1.0),
        "SMEs' trust in consortia without legal recognition",
    )
    recognition_trust_gain: float = _p(
        0.2,
        "index 0-1",
        "assumption: seed 001 expects trust once consortia are recognised in law; no study measures it",
        (0.0, 0.4),
        (0.0, 1.0),
        "trust added by full legal recognition",
    )
    consortium_formation_rate: float = _p(
        0.022,
        "per cluster-month",
        "calibrated: keeps about 130 consortia over 48 months against failures and dissolutions for lack of members "
        "(rng=1)",
        (0.005, 0.05),
        (0.0, 1.0),
        "monthly probability that a cluster forms a consortium, at trust 1",
    )
    consortium_failure_rate: float = _p(
        0.028,
        "per month",
        "literature: many consortia fail without support (UNIDO 2003); mean life ~5 years at trust 0.4",
        (0.01, 0.05),
        (0.0, 1.0),
        "monthly probability that a consortium dissolves, at trust 0 (scaled by 1 - trust)",
    )
    consortium_join_rate: float = _p(
        0.02,
        "per month",
        "assumption",
        (0.005, 0.05),
        (0.0, 1.0),
        "monthly probability that an interested SME joins its cluster's consortium, at trust 1",
    )
    consortium_leave_rate: float = _p(
        0.01,
        "per month",
        "assumption",
        (0.002, 0.03),
        (0.0, 1.0),
        "monthly probability that a member leaves, at trust 0 (scaled by 1 - trust)",
    )

    # --- supply-chain links ----------------------------------------------------------------
    supplier_links_per_large_firm: float = _p(
        3.0,
        "links",
        "assumption (weak SME-large firm linkages, seed 000/002)",
        (1.0, 8.0),
        (0.0, 100.0),
        "SME suppliers per active large firm at month 0",
    )
    supplier_sales_share: float = _p(
        0.3,
        "share",
        "assumption; size check: new suppliers of multinationals employ 26% more workers after four "
        "years (Alfaro-Urena, Manelici & Vasquez 2022, Costa Rica)",
        (0.1, 0.5),
        (0.0, 0.9),
        "share of a linked SME's sales bought by its large buyers",
    )
    buyer_sme_purchase_share: float = _p(
        0.5,
        "share",
        "assumption: intermediate inputs are about 60-70% of manufacturing gross output; the part SMEs "
        "can supply is not measured",
        (0.3, 0.7),
        (0.0, 1.0),
        "most a large buyer buys from its SME suppliers, as a share of its output",
    )
    link_import_substitution_share: float = _p(
        0.5,
        "share",
        "assumption: nothing measures where a large buyer's redirected purchases came from; 85% of "
        "Iran's imports are production inputs (docs/sources.md)",
        (0.2, 0.85),
        (0.0, 1.0),
        "share of what a new supplier sells to its buyer that replaces imports (the rest: other domestic sales)",
    )
    missing_link_utilisation_gap: float = _p(
        0.1,
        "share",
        "assumption (seed 000/002: missing links idle capacity)",
        (0.0, 0.2),
        (0.0, 0.9),
        "lower capacity use of SMEs without a large buyer, at month 0",
    )
    link_formation_rate: float = _p(
        0.001,
        "per month",
        "assumption",
        (0.0, 0.005),
        (0.0, 1.0),
        "monthly probability that an unlinked active SME finds a large buyer",
    )
    link_same_province_share: float = _p(
        0.7,
        "share",
        "assumption (proximity)",
        (0.5, 0.9),
        (0.0, 1.0),
        "share of links formed inside the supplier's province",
    )

    # --- money and finance ---------------------------------------------------------------
    inflation_rate: float = _p(
        0.40,
        "per year",
        "context: CPI inflation 36% (2020/21), 40% (2021/22), 46% (2022/23)",
        (0.25, 0.55),
        (-0.5, 5.0),
        "mean consumer-price inflation in Iran",
    )
    inflation_volatility: float = _p(
        0.01, "per month", "assumption", (0.0, 0.03), (0.0, 0.5), "sd of monthly log inflation shocks"
    )
    foreign_inflation: float = _p(
        0.03,
        "per year",
        "assumption (US dollar inflation)",
        (0.0, 0.06),
        (-0.5, 1.0),
        "inflation of the dollar, for the nominal exchange rate",
    )
    initial_rial_per_usd: float = _p(
        600_000.0,
        "rials per USD",
        "context: free market 570,000-600,000 (early 2024)",
        (500_000.0, 1_000_000.0),
        (1.0, None),
        "free-market exchange rate at month 0; nominal rate = real rate x price ratio",
    )
    operating_margin: float = _p(
        0.12,
        "share of sales",
        "assumption (after wages and inputs)",
        (0.06, 0.2),
        (0.0, 1.0),
        "operating cash surplus of an active unit, as a share of its sales",
    )
    cash_buffer_months: float = _p(
        2.0,
        "months of sales",
        "assumption",
        (1.0, 6.0),
        (0.0, 120.0),
        "cash a unit keeps; surplus above it is paid out to owners",
    )
    completion_cost_share: float = _p(
        0.4,
        "share of plant capital",
        "assumption (equipment and commissioning are paid at the end)",
        (0.2, 0.6),
        (0.0, 5.0),
        "finance a unit under construction needs to start operating",
    )
    revival_cost_share: float = _p(
        0.15,
        "share of plant capital",
        "assumption (repairs and working capital)",
        (0.05, 0.3),
        (0.0, 5.0),
        "finance an idle unit needs to restart",
    )
    bank_lending_capacity_usd: float = _p(
        200e6,
        "USD a month",
        "calibrated: keeps completions and revivals near their documented pace at month 0",
        (50e6, 300e6),
        (0.0, None),
        "new bank credit the banks can lend to industrial units a month (at the month-0 exchange rate, indexed to "
        "prices)",
    )
    collateral_ratio: float = _p(
        0.7,
        "loan / collateral",
        "literature: loans bounded by a collateral multiple (Stiglitz & Weiss 1981)",
        (0.5, 1.0),
        (0.0, 10.0),
        "bank debt a unit may owe per rial of fixed assets",
    )
    bank_loan_rate: float = _p(
        0.23,
        "per year, nominal",
        "context: loan-rate cap about 23%",
        (0.18, 0.3),
        (0.0, 5.0),
        "interest rate on bank loans",
    )
    bank_tenor_months: float = _p(
        36.0, "months", "assumption", (12.0, 60.0), (1.0, 600.0), "repayment period of bank loans (declining balance)"
    )
    bank_recovery_rate: float = _p(
        0.4,
        "share of collateral",
        "assumption",
        (0.2, 0.6),
        (0.0, 1.0),
        "what a bank recovers from a closed debtor's assets",
    )
    sukuk_programme_capacity_usd: float = _p(
        10e6,
        "USD a month",
        "seed 003: a pilot sukuk system in 29 provinces (size assumed)",
        (0.0, 100e6),
        (0.0, None),
        "sukuk the programme can place a month (indexed to prices)",
    )
    sukuk_programme_provinces: float = _p(
        29.0,
        "provinces",
        "seed 003: piloted in 29 of 31 provinces",
        (0.0, 31.0),
        (0.0, 31.0),
        "provinces in the programme (the most populous first)",
    )
    sukuk_profit_rate: float = _p(
        0.18,
        "per year, nominal",
        "context: profit rates 16-21%, mostly 18%",
        (0.16, 0.21),
        (0.0, 5.0),
        "profit or rental rate paid to sukuk holders",
    )
    sukuk_tenor_months: float = _p(
        36.0,
        "months",
        "context: ijara and istisna 3-4 years",
        (36.0, 48.0),
        (3.0, 600.0),
        "tenor of ijara and istisna sukuk (quarterly payments)",
    )
    murabaha_tenor_months: float = _p(
        12.0,
        "months",
        "context: short-term sukuk under a year",
        (6.0, 12.0),
        (3.0, 600.0),
        "tenor of murabaha (working-capital) sukuk",
    )
    sukuk_issuance_cost_share: float = _p(
        0.015,
        "share of issue",
        "context: issuance costs about 1-2% plus fees",
        (0.01, 0.02),
        (0.0, 0.5),
        "proportional issuance cost",
    )
    sukuk_fixed_issuance_cost_usd: float = _p(
        150_000.0,
        "USD per issue",
        "assumption (rating, legal and Shariah review, guarantor, audit)",
        (50_000.0, 300_000.0),
        (0.0, None),
        "fixed cost of one issue",
    )
    sukuk_max_cost_share: float = _p(
        0.05,
        "share of issue",
        "assumption",
        (0.02, 0.1),
        (0.001, 1.0),
        "an issue goes ahead only if its fixed cost is at most this share of it (pooling makes SME issues reach the "
        "size)",
    )
    sukuk_government_guarantee_share: float = _p(
        0.0,
        "share of the holders' losses",
        "assumption: the programme's guarantee terms are not documented; 0 = the holders bear their losses",
        (0.0, 1.0),
        (0.0, 1.0),
        "share of written-off sukuk the government makes good to the holders (a fiscal cost of the sukuk lever)",
    )
    sukuk_recovery_rate: float = _p(
        0.6,
        "share of the assets behind",
        "assumption (asset-backed)",
        (0.4, 0.8),
        (0.0, 1.0),
        "what holders recover from a closed issuer",
    )
    grant_deadweight_share: float = _p(
        0.5,
        "share",
        "assumption: counterfactual evaluations find grants additional for small firms but not for large "
        "ones (Criscuolo, Martin, Overman & Van Reenen 2019, UK) and high deadweight in self-assessed "
        "Irish grant schemes (Lenihan 2004); no estimate for Iran",
        (0.2, 0.8),
        (0.0, 1.0),
        "share of grant applicants paid before credit is tried (deadweight: credit might have funded them)",
    )
    grant_budget_usd: float = _p(
        0.0,
        "USD a month",
        "assumption: none in the baseline (a lever)",
        (0.0, 50e6),
        (0.0, None),
        "government grants towards units' finance needs",
    )
    subsidised_credit_usd: float = _p(
        0.0,
        "USD a month",
        "assumption: none in the baseline (a lever)",
        (0.0, 100e6),
        (0.0, None),
        "government-subsidised credit line, lent like bank credit",
    )
    subsidised_loan_rate: float = _p(
        0.12, "per year, nominal", "assumption", (0.04, 0.18), (0.0, 5.0), "interest rate of the subsidised credit line"
    )
    listing_applications_per_year: float = _p(
        250.0,
        "units a year",
        "seed 003: 250 SMEs filed to list",
        (100.0, 500.0),
        (0.0, float(MAX_UNITS)),
        "eligible units applying to list on the SME market",
    )
    listing_admission_share: float = _p(
        0.2, "share", "assumption", (0.1, 0.5), (0.0, 1.0), "share of applicants admitted"
    )
    equity_market_capacity_rial: float = _p(
        100e9,
        "rials a year",
        "seed 003: over 33 bn rials raised in a four-day fair",
        (33e9, 300e9),
        (0.0, None),
        "equity the SME market can absorb in a year (nominal)",
    )
    listing_cost_usd: float = _p(
        20_000.0,
        "USD",
        "assumption (advisers, audit, fees)",
        (5_000.0, 50_000.0),
        (0.0, None),
        "one-off cost of listing",
    )
    listing_min_employees: float = _p(
        20.0,
        "employees",
        "assumption (audited accounts, track record)",
        (10.0, 50.0),
        (0.0, None),
        "smallest unit eligible to list",
    )

    # --- Policy lever effects (the budgets and targeting are in simulation/policy.py) ------
    training_sunk_cost_cut: float = _p(
        0.4,
        "share",
        "assumption (information is a large part of entry costs: Das, Roberts & Tybout 2007; trade-fair evaluations)",
        (0.1, 0.6),
        (0.0, 1.0),
        "cut of the sunk entry cost in a market a trained unit has visited",
    )
    matchmaking_link_success: float = _p(
        0.3,
        "share",
        "assumption: supplier-development programmes raise suppliers' sales and employment (Chile: "
        "Arraiz, Henriquez & Stucchi 2013) but no study reports how many brokered introductions last",
        (0.1, 0.6),
        (0.0, 1.0),
        "chance that a brokered supplier-buyer introduction becomes a lasting supply link",
    )
    clinic_revival_success: float = _p(
        0.5,
        "share",
        "assumption (a diagnosis finds the way back for half the revivable units it sees)",
        (0.25, 0.75),
        (0.0, 1.0),
        "chance that a diagnosed revivable idle unit is ready to restart that month (finance permitting)",
    )
    clinic_capacity_per_month: float = _p(
        450.0,
        "units a month",
        "assumption: 900 private consultants and knowledge-based firms were selected as industry clinics "
        "(ISIPO 2021, docs/sources.md), at about six cases a consultant a year",
        (150.0, 900.0),
        (0.0, None),
        "diagnoses the industry clinics can make in a month, nationally",
    )
    clinic_productivity_gain: float = _p(
        0.1,
        "log points",
        "literature: a year of consulting raised Mexican SMEs' TFP by about 0.2 sd and employment by about "
        "50% five years on (Bruhn, Karlan & Schoar 2018)",
        (0.0, 0.2),
        (0.0, 1.0),
        "rise of an advised active SME's productivity (level and long-run mean)",
    )
    clinic_repeat_months: float = _p(
        12.0, "months", "assumption", (6.0, 24.0), (1.0, None), "months before a clinic sees the same unit again"
    )
    consortium_support_failure_cut: float = _p(
        0.5,
        "share",
        "assumption (UNIDO 2003: consortia fail without outside support)",
        (0.25, 0.75),
        (0.0, 1.0),
        "cut of a supported consortium's failure rate (its coordination cost is also paid)",
    )
    cluster_development_gain: float = _p(
        1.0,
        "factor",
        "assumption (UNIDO cluster programmes: networks and consortia form where a broker works)",
        (0.5, 2.0),
        (0.0, None),
        "rise of a developed cluster's consortium formation rate (1 = doubled)",
    )
    listing_supported_admission_share: float = _p(
        0.6,
        "share",
        "assumption (prepared accounts pass the market's review)",
        (0.4, 0.8),
        (0.0, 1.0),
        "admission chance of a supported listing application",
    )
    infrastructure_upgrade_gain: float = _p(
        0.2,
        "quality points",
        "assumption",
        (0.1, 0.3),
        (0.0, 1.0),
        "rise of a park's infrastructure quality (0-1) per upgrade",
    )
    rural_zone_build_months: float = _p(
        12.0, "months", "assumption", (6.0, 24.0), (0.0, None), "months from funding a rural zone to its opening"
    )
    rural_zone_units: float = _p(
        15.0,
        "units",
        "assumption (5-20 ha at about one unit per hectare: seed 002)",
        (5.0, 20.0),
        (0.0, MAX_ZONE_UNITS),
        "units licensed in a new rural zone when it opens",
    )
    rural_zone_infrastructure: float = _p(
        0.8,
        "quality 0-1",
        "assumption (a new, fully serviced zone)",
        (0.6, 1.0),
        (0.0, 1.0),
        "infrastructure quality of a new rural zone",
    )
    technology_productivity_gain: float = _p(
        0.05,
        "log points",
        "assumption (technology-upgrading programmes: a few percent)",
        (0.02, 0.1),
        (0.0, None),
        "rise of an upgraded unit's productivity (level and long-run mean)",
    )
    technology_lag_months: float = _p(
        12.0,
        "months",
        "assumption: extension services' productivity effects show over several years (Jarmin 1999, US MEP)",
        (6.0, 24.0),
        (0.0, 120.0),
        "months from a technology project's start to its productivity and standards gains",
    )
    technology_standards_gain: float = _p(
        0.2,
        "standards rank points",
        "assumption",
        (0.1, 0.3),
        (0.0, 1.0),
        "rise of an upgraded unit's standards level (0-1, capped at 1)",
    )


# What nobody controls (the "uncertainties" of scenario files): the world's paths and the behavioural
# parameters whose values the literature leaves open. Scenario files set them under
# [uncertainties]; every other field is a constant.
UNCERTAINTIES = (
    "domestic_demand_growth",
    "domestic_demand_volatility",
    "foreign_demand_growth",
    "foreign_demand_volatility",
    "real_exchange_rate_drift",
    "real_exchange_rate_volatility",
    "exchange_rate_elasticity",
    "sanctions_risk_multiplier",
    "sanctions_access_cut",
    "sanctions_duration_months",
    "sanctions_deflection",
    "inflation_rate",
    "inflation_volatility",
    "applications_per_month",
    "completion_rate",
    "idling_rate",
    "revival_rate",
    "cluster_spillover_elasticity",
    "import_substitution_elasticity",
    "home_import_share",
    "manufactures_price_elasticity",
    "buyer_sme_purchase_share",
    "link_import_substitution_share",
    "learning_by_exporting",
    "export_cost_multiplier",
    "initial_indirect_export_ratio",
    "intermediary_margin",
    "consortium_trust",
    "recognition_trust_gain",
    "bank_lending_capacity_usd",
    "sukuk_government_guarantee_share",
    "grant_deadweight_share",
    "collateral_ratio",
    "operating_margin",
    "training_sunk_cost_cut",
    "matchmaking_link_success",
    "clinic_revival_success",
    "clinic_capacity_per_month",
    "clinic_productivity_gain",
    "technology_lag_months",
    "equity_market_capacity_rial",
    "consortium_support_failure_cut",
    "cluster_development_gain",
    "listing_supported_admission_share",
    "infrastructure_upgrade_gain",
    "technology_productivity_gain",
)


def parameter_names() -> list[str]:
    return [f.name for f in dataclasses.fields(Parameters)]


def parameter_metadata() -> dict[str, dict]:
    return {f.name: dict(f.metadata, default=f.default) for f in dataclasses.fields(Parameters)}


def make_parameters(**overrides) -> Parameters:
    """Build parameters from keyword overrides; InputError (key: the parameter's name) for unknown
    names, values that are not finite numbers, values outside the allowed range and counts that
    do not nest."""
    fields = {f.name: f for f in dataclasses.fields(Parameters)}
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        close = difflib.get_close_matches(unknown[0], fields, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(unknown[0], f"unknown model parameter{hint}; docs/ODD.md, section 8, lists them")
    for name, value in overrides.items():
        if not is_finite_number(value):
            raise InputError(name, f"must be a finite number, got {value!r}")
        lo, hi = fields[name].metadata["allowed"]
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise InputError(
                name, f"must lie in its allowed range [{lo}, {hi if hi is not None else 'inf'}], got {value!r}"
            )
    params = Parameters(**overrides)
    _check_consistency(params)
    return params


COUNTS_THAT_NEST = ("initial_active_smes_in_parks", "initial_smes_in_parks", "initial_smes", "initial_industrial_units")


def _check_consistency(p: Parameters) -> None:
    counts = [getattr(p, name) for name in COUNTS_THAT_NEST]
    for i in range(len(counts) - 1):
        if counts[i] > counts[i + 1]:
            raise InputError(
                COUNTS_THAT_NEST[i],
                f"population counts must satisfy {' <= '.join(COUNTS_THAT_NEST)}, got {', '.join(map(str, counts))}",
            )
    _check_within_active_smes(p)


def _check_within_active_smes(p: Parameters) -> None:
    """Month-0 exporters and consortia are drawn among the active SMEs (full-scale counts)."""
    active = p.initial_active_smes
    described = "the active SMEs at month 0: initial_active_smes_in_parks + active_share_outside_parks x SMEs outside"
    if p.initial_exporters > active:
        raise InputError(
            "initial_exporters", f"must be at most {active:,.0f} ({described}), got {p.initial_exporters!r}"
        )
    if p.initial_consortia * p.consortium_min_members > active:
        raise InputError(
            "initial_consortia",
            f"must be at most {active / p.consortium_min_members:,.0f} ({described}, over consortium_min_members), "
            f"got {p.initial_consortia!r}",
        )
