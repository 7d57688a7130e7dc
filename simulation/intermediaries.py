"""Indirect exports: SMEs that sell abroad through trading companies (intermediaries).

A unit that does not serve destination d itself may sell there through an intermediary, which
bears the market's sunk cost, spreads its fixed cost over its clients and keeps a margin of the
sales (Ahn, Khandelwal & Wei 2011: firms choose the mode by productivity; Bernard, Grazzi &
Tomasi 2015: the most productive export directly, less productive ones through wholesalers).
Through an intermediary in d a unit earns (1 - mu) R_id and pays s c f_d a month, so it sells
there when

    (1 - mu) R_id / sigma >= s c f_d,

where R_id is its foreign sales potential there (trade.py: the same potential, appeal, match,
market access and standards as direct exports), c f_d the direct fixed cost, mu =
`intermediary_margin` and s the client's share of the fixed cost. s is calibrated at month 0 so
that the SMEs' indirect exports, at their foreign value R_id, are `initial_indirect_export_ratio`
times their direct exports (ISIPO's estimate for park SMEs, about USD 6 bn of which 2 bn under
their own customs declarations, is a ratio of 2; that is about all the model's SMEs could sell,
every one in every market it may serve, so the default is 1; where a ratio is beyond what they
can sell with the parameters given, every SME sells everywhere it may and indirect exports fall
short, with a RuntimeWarning saying how far, unless the sample has fewer than
MIN_EXPORTERS_TO_CALIBRATE direct exporters). There is no sunk cost for the unit, so it moves between
indirect markets month by month (intermediaries adjust on the extensive margin, Bernard et al.),
and a unit serving d directly does not also sell there through an intermediary. Only SMEs use
intermediaries. The unit's sales to intermediaries employ its workers like any other sales.

Only units that could pay somewhere are evaluated (a bound from the best destination).
"""

from __future__ import annotations

import warnings

import numpy as np

from . import destinations
from .parameters import Parameters
from .production import MIN_HOME_SHARE
from .state import ACTIVE, FirmState
from .trade import MIN_EXPORTERS_TO_CALIBRATE

__all__ = ["Intermediaries"]


class Intermediaries:
    """The calibrated cost share and this month's indirect sales."""

    def __init__(self, p: Parameters, cost_share: float):
        self.p = p
        self.cost_share = cost_share  # s: a client's share of the intermediary's fixed cost of a market

    @classmethod
    def calibrate(
        cls, firms: FirmState, p: Parameters, trade, access: np.ndarray, consortia, other_labour: np.ndarray
    ) -> tuple[Intermediaries, np.ndarray]:
        """Solve s from the month-0 target; returns the Intermediaries and every row's labour for
        indirect sales at month 0. `other_labour`: labour of direct exports and sales to large
        buyers (indirect sales use at most what they and a minimal home market leave)."""
        active = np.flatnonzero((firms.status == ACTIVE) & firms.is_sme)
        revenue, per_worker = _revenue(firms, p, trade, active, access, consortia)
        target = p.initial_indirect_export_ratio * firms.exports_usd[active].sum()
        room = np.maximum((1.0 - MIN_HOME_SHARE) * firms.employees[active] - other_labour[active], 0.0) * per_worker
        # s at which each (unit, destination) pays: sold wherever s <= its own (at the month-0
        # costs: export_cost_multiplier acts from month 1, here as in Trade)
        fixed = trade.cost_multiplier * destinations.FIXED_COST_USD
        pays_at = (1.0 - p.intermediary_margin) * revenue
        pays_at /= p.demand_elasticity * fixed[None, :]  # in place: month 0's peak memory is here
        cap = room / (1.0 - p.intermediary_margin)  # the room in foreign value
        most = float(np.minimum(revenue.sum(axis=1), cap).sum())
        exporters = int(np.count_nonzero(firms.exports_usd[active] > 0))
        if target > most * (1 + 1e-9) and exporters >= MIN_EXPORTERS_TO_CALIBRATE:
            ratio = p.initial_indirect_export_ratio
            warnings.warn(
                f"initial_indirect_export_ratio: {ratio:g} is more than the SMEs can sell through intermediaries "
                f"at month 0 with these parameters; every SME sells in every market it may serve, "
                f"{most / target * ratio:.2f} times their direct exports",
                RuntimeWarning,
                stacklevel=2,
            )
        cost_share = _solve_cost_share(revenue, pays_at, cap, target)
        unit = cls(p, cost_share)
        labour = np.zeros(firms.n)
        revenue *= pays_at >= cost_share  # the pairs sold (revenue is not needed after this)
        sales = np.minimum(revenue.sum(axis=1) * (1.0 - p.intermediary_margin), room)
        labour[active] = sales / np.where(per_worker > 0, per_worker, 1.0)
        return unit, labour

    def step(
        self, firms: FirmState, trade, active: np.ndarray, share_power: np.ndarray, consortia, access
    ) -> np.ndarray:
        """Labour for this month's indirect sales of each active unit (its order in `active`)."""
        p = self.p
        labour = np.zeros(len(active))
        if not np.isfinite(self.cost_share):
            return labour
        smes = np.flatnonzero(firms.is_sme[active])
        _, appeal = consortia.terms(firms, p, active[smes])
        potential = trade.potential(firms, active[smes], share_power[smes], appeal) * firms.export_match[active[smes]]
        hurdle = self.cost_share * p.demand_elasticity * trade.fixed_cost / (1.0 - p.intermediary_margin)
        with np.errstate(divide="ignore"):
            bound = float(np.min(np.where(access > 0, hurdle / np.where(access > 0, access, 1.0), np.inf)))
        pick = smes[potential >= bound]
        if len(pick) == 0:
            return labour
        rows = active[pick]
        revenue = potential[potential >= bound, None] * access[None, :]
        eligible = consortia.standards(firms, rows)[:, None] >= destinations.STANDARDS[None, :]
        sold = eligible & ~firms.exporting[rows] & (revenue >= hurdle[None, :])
        sales = (1.0 - p.intermediary_margin) * (revenue * sold).sum(axis=1)
        per_worker = trade.output_per_worker[firms.sector[rows]] * np.exp(firms.log_productivity[rows])
        labour[pick] = sales / per_worker
        return labour


def _revenue(firms, p, trade, active, access, consortia) -> tuple[np.ndarray, np.ndarray]:
    """Foreign sales potential by destination where the unit may sell (standards) and does not
    serve the market itself (units x destinations, USD a month), and sales per worker."""
    share_power = np.exp((p.demand_elasticity - 1.0) * firms.log_productivity[active])
    _, appeal = consortia.terms(firms, p, active)
    potential = trade.potential(firms, active, share_power, appeal) * firms.export_match[active]
    eligible = consortia.standards(firms, active)[:, None] >= destinations.STANDARDS[None, :]
    revenue = potential[:, None] * access[None, :]
    revenue *= eligible & ~firms.exporting[active]
    per_worker = trade.output_per_worker[firms.sector[active]] * np.exp(firms.log_productivity[active])
    return revenue, per_worker


def _solve_cost_share(revenue: np.ndarray, pays_at: np.ndarray, room: np.ndarray, target: float) -> float:
    """The largest s at which sum_i min(sum_d revenue_id [pays_at_id >= s], room_i) reaches
    `target` (a pair's s_id: the function falls with s in steps); inf when there is no target
    (nobody sells indirectly), 0 when even s = 0 falls short.

    The pairs that pay most are taken in order of s (a partial sort: the answer lies among
    the first few percent), each unit's running sales capped at its room, until they reach the
    target; that boundary is confirmed with the direct sum (rounding can only move it between
    pairs of almost equal s, and then a bisection over all pairs decides)."""
    if target <= 0 or not (revenue > 0).any():
        return np.inf

    def sold(s: float) -> float:
        return float(np.minimum((revenue * (pays_at >= s)).sum(axis=1), room).sum())

    if sold(0.0) <= target:  # even free intermediation cannot make the target: everyone sells
        return 0.0
    paying = np.flatnonzero(revenue > 0).astype(np.int32)  # flat (unit, destination) indices
    pays = pays_at.ravel()[paying]
    size = min(len(pays), 4096)
    while True:
        top = np.argpartition(pays, len(pays) - size)[len(pays) - size :] if size < len(pays) else np.arange(len(pays))
        top = top[np.argsort(-pays[top])]
        k = _first_reaching(paying[top] // revenue.shape[1], revenue.ravel()[paying[top]], room, target)
        if k is not None or size == len(pays):
            break
        size = min(4 * size, len(pays))
    ranked = pays[top]
    del paying, pays  # before the direct sums: month 0's peak memory is here
    if k is not None:
        higher = ranked[:k][ranked[:k] > ranked[k]]
        if sold(float(ranked[k])) >= target and (len(higher) == 0 or sold(float(higher[-1])) < target):
            return float(ranked[k])
    low, high = 0, len(ranked) - 1  # a bisection over all pairs; sold(ranked[high]) = sold(0) > target
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if sold(float(ranked[middle])) >= target else (middle + 1, high)
    return float(ranked[low])


def _first_reaching(units: np.ndarray, gains: np.ndarray, room: np.ndarray, target: float) -> int | None:
    """The first pair (in the given order) at which the units' sales, each capped at its room,
    reach `target`; None if they never do."""
    grouped = np.argsort(units, kind="stable")  # each unit's pairs in the given order
    running = np.cumsum(gains[grouped])
    starts = np.flatnonzero(np.r_[True, units[grouped][1:] != units[grouped][:-1]])
    running -= np.repeat(running[starts] - gains[grouped][starts], np.diff(np.r_[starts, len(grouped)]))
    cap = room[units[grouped]]
    added = np.empty(len(units))
    added[grouped] = np.minimum(running, cap) - np.minimum(running - gains[grouped], cap)
    total = np.cumsum(added)
    return int(np.searchsorted(total, target)) if len(total) and total[-1] >= target else None
