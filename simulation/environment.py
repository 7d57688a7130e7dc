"""The environment: what no firm or policy controls, drawn on its own random stream.

Domestic demand by sector: a log random walk with drift common to all sectors (real
growth of manufacturing demand) times a mean-reverting AR(1) sector deviation. The same
seed gives the same path whatever the policy, so policy comparisons are paired.
Later issues add the exchange rate, inflation, destination demand and sanctions here.
"""

from __future__ import annotations

import numpy as np

from .parameters import Parameters
from .randomness import Streams


class Environment:
    def __init__(self, p: Parameters, streams: Streams, n_sectors: int):
        self.p = p
        self.streams = streams
        self.log_aggregate_demand = 0.0
        self.sector_deviation = np.zeros(n_sectors)

    def advance(self, month: int) -> None:
        p = self.p
        shocks = self.streams.draw("environment", month).standard_normal(1 + len(self.sector_deviation))
        self.log_aggregate_demand += p.domestic_demand_growth / 12.0 + p.domestic_demand_volatility * shocks[0]
        self.sector_deviation = p.sector_demand_persistence * self.sector_deviation + p.sector_demand_volatility * shocks[1:]

    @property
    def demand_index(self) -> np.ndarray:
        """Domestic demand by sector relative to month 0."""
        return np.exp(self.log_aggregate_demand + self.sector_deviation)
