"""Export destinations: the 15 neighbours, China, India and Africa, as documented data.

One row per destination (sources and caveats in docs/ODD.md, section 6.4):

- imports_usd_bn: the destination's goods imports, USD bn a year, about 2021 (UN Comtrade /
  WTO, rounded, recalled). The 15 neighbours sum to about USD 1.36 trillion, slightly above
  the published USD 1.0-1.3 trillion (2021-22 prices; the UAE's imports include re-exports);
  the seed's "USD 13,000 billion" is about ten times too high and is not used.
- trade_cost: iceberg trade cost tau >= 1 of an Iranian SME shipping there (assumption:
  distance, land or sea border, language and business networks, payment frictions under
  sanctions). Market access is imports * tau^(1 - sigma): with sigma = 3.8 the implied
  month-0 destination mix is reported in docs/ODD.md beside Iran's non-oil export mix.
- sunk_cost_usd: one-off cost of first entry (finding buyers, registration, certification,
  logistics set-up), USD; fixed_cost_usd: per-month cost of serving the market, USD. Both
  are relative priors (assumption; order of magnitude from Das, Roberts & Tybout 2007, about
  USD 400,000 per new exporter); the model rescales them with one calibrated multiplier.
- standards: the product-standards requirement, as the share of Iranian SMEs that do NOT
  meet it (0 = anyone can sell there; assumption from the destinations' conformity regimes:
  GCC, EAEU, Turkish and Chinese certification stricter than Iraq's or Afghanistan's).
- sanctions_risk: yearly probability of an episode that cuts access (banking, shipping or
  political disruption; assumption from 2012-2023 history).
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

__all__ = [
    "DESTINATIONS",
    "FIXED_COST_USD",
    "IMPORTS_USD",
    "NAMES",
    "NEIGHBOURS",
    "N_DESTINATIONS",
    "REGION",
    "SANCTIONS_RISK",
    "STANDARDS",
    "SUNK_COST_USD",
    "TRADE_COST",
    "index",
    "market_access",
]

# name, region, imports_usd_bn, trade_cost, sunk_cost_usd, fixed_cost_usd (a month), standards, sanctions_risk (a year)
DESTINATIONS = (
    ("Iraq", "neighbour", 50.0, 1.10, 60_000, 2_000, 0.15, 0.10),
    ("Turkey", "neighbour", 271.0, 1.90, 150_000, 4_000, 0.55, 0.10),
    ("Afghanistan", "neighbour", 6.0, 1.05, 40_000, 1_500, 0.10, 0.15),
    ("Pakistan", "neighbour", 72.0, 2.20, 100_000, 3_000, 0.30, 0.15),
    ("Armenia", "neighbour", 5.3, 1.80, 80_000, 2_500, 0.45, 0.05),
    ("Azerbaijan", "neighbour", 11.7, 1.80, 90_000, 2_500, 0.35, 0.10),
    ("Turkmenistan", "neighbour", 4.5, 1.70, 80_000, 2_500, 0.25, 0.05),
    ("Russia", "neighbour", 294.0, 2.30, 180_000, 4_500, 0.45, 0.05),
    ("Kazakhstan", "neighbour", 41.0, 2.30, 150_000, 4_000, 0.40, 0.05),
    ("UAE", "neighbour", 347.0, 1.95, 100_000, 3_500, 0.50, 0.20),
    ("Oman", "neighbour", 29.0, 1.90, 100_000, 3_000, 0.50, 0.10),
    ("Qatar", "neighbour", 28.0, 1.90, 110_000, 3_500, 0.55, 0.10),
    ("Kuwait", "neighbour", 30.0, 1.90, 110_000, 3_500, 0.55, 0.15),
    ("Saudi Arabia", "neighbour", 152.0, 2.30, 180_000, 4_500, 0.60, 0.30),
    ("Bahrain", "neighbour", 14.0, 2.10, 120_000, 3_500, 0.55, 0.30),
    ("China", "far", 2_690.0, 3.40, 250_000, 6_000, 0.55, 0.10),
    ("India", "far", 570.0, 3.00, 200_000, 5_000, 0.45, 0.25),
    ("Africa", "far", 600.0, 3.40, 250_000, 6_000, 0.25, 0.10),
)

NAMES = tuple(row[0] for row in DESTINATIONS)
N_DESTINATIONS = len(DESTINATIONS)
REGION = tuple(row[1] for row in DESTINATIONS)
IMPORTS_USD = np.array([row[2] for row in DESTINATIONS]) * 1e9
TRADE_COST = np.array([row[3] for row in DESTINATIONS])
SUNK_COST_USD = np.array([row[4] for row in DESTINATIONS], dtype=float)
FIXED_COST_USD = np.array([row[5] for row in DESTINATIONS], dtype=float)
STANDARDS = np.array([row[6] for row in DESTINATIONS])
SANCTIONS_RISK = np.array([row[7] for row in DESTINATIONS])
NEIGHBOURS = np.array([region == "neighbour" for region in REGION])


def index(name: str) -> int:
    """Row of a destination by name (case-insensitive), with the valid names in the error."""
    for i, known in enumerate(NAMES):
        if known.lower() == name.lower():
            return i
    raise InputError("destination", f"unknown destination {name!r}; destinations are {', '.join(NAMES)}")


def market_access(demand_elasticity: float) -> np.ndarray:
    """Relative market access imports * tau^(1 - sigma), normalised to sum to one."""
    access = IMPORTS_USD * TRADE_COST ** (1.0 - demand_elasticity)
    return access / access.sum()
