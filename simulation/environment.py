"""The environment: what no firm or policy controls, drawn on its own random streams.

- Domestic demand by sector: a log random walk with drift common to all sectors (real
  growth of manufacturing demand) times a mean-reverting AR(1) sector deviation.
- Abroad (the "foreign" stream): each destination's import demand is a log random walk with
  drift; the rial's real exchange rate is a log random walk (up = real depreciation, cheaper
  Iranian goods); sanctions are destination-specific episodes that start with the
  destination's yearly risk and last a geometric number of months, cutting its market access.
The same seed gives the same paths whatever the policy, so policy comparisons are paired.
- Money (the "macro" stream): the log price level rises by inflation (mean `inflation_rate`,
  shocks `inflation_volatility`); the free-market rials per dollar follow purchasing-power
  parity around the real exchange rate: E = E0 x RER x P / P*, with dollar prices P* rising
  by `foreign_inflation`. Finance contracts are nominal (rials); the real side is in dollars.
Scenario shocks (a sanctions tightening, a fall of the rial) are `Shock`s applied at the start
of their month, before the month's draws; they use `impose_sanctions` and `shift_exchange_rate`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import destinations
from .errors import InputError, is_finite_number
from .parameters import Parameters
from .randomness import Streams

__all__ = ["MAX_SHOCK_MONTHS", "SHOCK_KINDS", "Environment", "Shock"]

MAX_SHOCK_MONTHS = 1200  # a shock's month and a sanctions shock's length: a century, far beyond any horizon


class Environment:
    def __init__(self, p: Parameters, streams: Streams, n_sectors: int):
        self.p = p
        self.streams = streams
        self.log_aggregate_demand = 0.0
        self.sector_deviation = np.zeros(n_sectors)
        n = destinations.N_DESTINATIONS
        self.log_foreign_demand = np.zeros(n)
        self.log_real_exchange_rate = 0.0
        self.month = 0
        self.sanctioned_until = np.zeros(n, np.int64)  # an episode is in force in months < this
        self.sanction_cut = np.zeros(n)
        self.base_access = destinations.market_access(p.demand_elasticity)
        self.log_price_level = 0.0  # Iran's consumer prices relative to month 0

    def advance(self, month: int) -> None:
        p = self.p
        self.month = month
        shocks = self.streams.draw("environment", month).standard_normal(1 + len(self.sector_deviation))
        self.log_aggregate_demand += p.domestic_demand_growth / 12.0 + p.domestic_demand_volatility * shocks[0]
        self.sector_deviation = (
            p.sector_demand_persistence * self.sector_deviation + p.sector_demand_volatility * shocks[1:]
        )
        self._advance_abroad(month)
        shock = self.streams.draw("macro", month).standard_normal()
        self.log_price_level += np.log1p(p.inflation_rate) / 12.0 + p.inflation_volatility * shock

    def _advance_abroad(self, month: int) -> None:
        p, n = self.p, len(self.log_foreign_demand)
        rng = self.streams.draw("foreign", month)
        demand_shock, rate_shock = rng.standard_normal(n), rng.standard_normal()
        start_u, length_u = rng.random(n), rng.random(n)
        self.log_foreign_demand += p.foreign_demand_growth / 12.0 + p.foreign_demand_volatility * demand_shock
        self.log_real_exchange_rate += p.real_exchange_rate_drift / 12.0 + p.real_exchange_rate_volatility * rate_shock

        yearly = np.minimum(destinations.SANCTIONS_RISK * p.sanctions_risk_multiplier, 1.0)
        starts = ~self.sanctioned & (start_u < 1.0 - (1.0 - yearly) ** (1.0 / 12.0))
        # geometric length with mean sanctions_duration_months, by inversion of the uniform
        stay = 1.0 - 1.0 / p.sanctions_duration_months
        length = 1 if stay <= 0 else 1 + np.floor(np.log(length_u) / np.log(stay)).astype(np.int64)
        self.sanctioned_until = np.where(starts, month + length, self.sanctioned_until)
        self.sanction_cut = np.where(starts, p.sanctions_access_cut, self.sanction_cut)

    def impose_sanctions(self, destination: int | str, months: int, cut: float | None = None) -> None:
        """A scenario shock: the destination loses `cut` of its market access for the next
        `months` months (the months of the next `months` steps)."""
        d = destinations.index(destination) if isinstance(destination, str) else int(destination)
        if months < 1:
            raise InputError("months", f"sanctions must last at least a month, got {months}")
        cut = self.p.sanctions_access_cut if cut is None else cut
        if not 0.0 <= cut <= 1.0:
            raise InputError("cut", f"sanctions cut must be a share in [0, 1], got {cut}")
        self.sanctioned_until[d] = self.month + 1 + months
        self.sanction_cut[d] = cut

    def shift_exchange_rate(self, log_change: float) -> None:
        """A scenario shock: the rial depreciates (positive) or appreciates in real terms at once."""
        self.log_real_exchange_rate += log_change

    @property
    def destination_imports_usd(self) -> float:
        """The destinations' goods imports this month, USD a year (their documented size times
        their demand index; sanctions cut Iran's access, not their imports)."""
        return float((destinations.IMPORTS_USD * np.exp(self.log_foreign_demand)).sum())

    @property
    def demand_index(self) -> np.ndarray:
        """Domestic demand by sector relative to month 0."""
        return np.exp(self.log_aggregate_demand + self.sector_deviation)

    @property
    def rial_per_usd(self) -> float:
        """Free-market rials per dollar this month."""
        p = self.p
        log_foreign_prices = np.log1p(p.foreign_inflation) * self.month / 12.0
        return p.initial_rial_per_usd * float(
            np.exp(self.log_real_exchange_rate + self.log_price_level - log_foreign_prices)
        )

    @property
    def price_level(self) -> float:
        return float(np.exp(self.log_price_level))

    @property
    def sanctioned(self) -> np.ndarray:
        return self.month < self.sanctioned_until

    def market_access(self, with_sanctions: bool = True) -> np.ndarray:
        """Each destination's market access this month, relative shares at month 0 times demand,
        exchange-rate and (optionally) sanctions factors."""
        access = self.base_access * np.exp(
            self.log_foreign_demand + self.p.exchange_rate_elasticity * self.log_real_exchange_rate
        )
        if with_sanctions:
            access = access * (1.0 - self.sanction_cut * self.sanctioned)
        return access


SHOCK_KINDS = {
    "sanctions": {
        "month": f"first month it bites, a whole number in [1, {MAX_SHOCK_MONTHS}]",
        "destination": f"one of {list(destinations.NAMES)}",
        "months": f"how long it lasts, a whole number of months in [1, {MAX_SHOCK_MONTHS}]",
        "cut": "share of market access lost, in [0, 1] (optional)",
    },
    "exchange_rate": {
        "month": f"the month the rial falls, a whole number in [1, {MAX_SHOCK_MONTHS}]",
        "depreciation": "real rise of rials per dollar at once, in (-0.9, 10]: 0.5 = +50%",
    },
}


@dataclass(frozen=True)
class Shock:
    """A scheduled shock of a scenario: sanctions on one destination, or a jump of the rial."""

    kind: str
    month: int
    destination: str | None = None
    months: int = 0
    cut: float | None = None  # sanctions: None takes the parameter sanctions_access_cut
    depreciation: float = 0.0

    @classmethod
    def from_dict(cls, spec: Mapping) -> Shock:
        """Validate {kind, month, ...}; InputError keys are the setting names."""
        if not isinstance(spec, Mapping):
            raise InputError("kind", f"a shock must be a table with a kind in {list(SHOCK_KINDS)}, got {spec!r}")
        kind = spec.get("kind")
        if not isinstance(kind, str) or kind not in SHOCK_KINDS:
            raise InputError("kind", f"must be one of {list(SHOCK_KINDS)}, got {kind!r}")
        allowed = SHOCK_KINDS[kind]
        unknown = sorted(set(spec) - set(allowed) - {"kind"})
        if unknown:
            raise InputError(unknown[0], f"unknown setting of a {kind} shock; allowed: {sorted(allowed)}")
        missing = [k for k in allowed if k not in spec and k != "cut"]
        if missing:
            raise InputError(missing[0], f"missing: {allowed[missing[0]]}")

        def number(key, lo, hi, whole=False, open_lo=False):
            v = spec[key]
            ok = is_finite_number(v) and (v > lo if open_lo else v >= lo) and v <= hi
            ok = ok and (not whole or v == int(v))
            if not ok:
                raise InputError(key, f"{allowed[key]}; got {v!r}")
            return int(v) if whole else float(v)

        if kind == "sanctions":
            if spec["destination"] not in destinations.NAMES:
                raise InputError("destination", f"must be {allowed['destination']}, got {spec['destination']!r}")
            return cls(
                kind,
                number("month", 1, MAX_SHOCK_MONTHS, whole=True),
                spec["destination"],
                number("months", 1, MAX_SHOCK_MONTHS, whole=True),
                number("cut", 0.0, 1.0) if "cut" in spec else None,
            )
        return cls(
            kind,
            number("month", 1, MAX_SHOCK_MONTHS, whole=True),
            depreciation=number("depreciation", -0.9, 10.0, open_lo=True),
        )

    def apply(self, environment: Environment) -> None:
        if self.kind == "sanctions":
            assert self.destination is not None  # from_dict requires a destination for sanctions
            environment.impose_sanctions(self.destination, self.months, self.cut)
        else:
            environment.shift_exchange_rate(math.log1p(self.depreciation))
