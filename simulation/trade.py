"""Export markets: entry and exit per destination with sunk costs (heterogeneous-firm trade).

Revenue a unit i could earn in destination d this month (USD):
    R_id = k * opw_s * export_scale_i * phi_i^(sigma-1) * a_i * A_dt
- opw_s * export_scale_i * phi_i^(sigma-1): the unit's home sales at its starting customer
  base, times its foreign appeal (log-normal), moved by its productivity as CES demand is
  (Melitz 2003); a_i = 1 + knowledge gain for consortium members;
- A_dt: the destination's market access (imports x tau^(1-sigma), as shares), times its
  demand index, the real exchange rate to the power of its elasticity, and (1 - cut) during
  a sanctions episode (environment.py);
- k: foreign market size relative to home, calibrated so that month-0 SME exports match
  the seed figure.
Operating profit is R/sigma. Serving d costs c * f_d a month; first entry costs c * F_d once
(c: one cost multiplier, calibrated so that the month-0 number of SME exporters matches the
seed figure). Consortium members pay (1 / members + coordination share) of both.

Decisions (a reduced form of Roberts & Tybout 1997): a unit serving d keeps serving it while
R/sigma >= fixed cost; a unit not serving d enters when R/sigma - fixed cost >= sunk cost /
payback months. The sunk cost is lower for a unit that served d within the re-entry window
(sunk costs depreciate fast) or exports elsewhere already (a general component; sunk costs are
largely destination-specific, McCallum 2015). Hence hysteresis: a band of profits in which
incumbents stay and others stay out. A unit can only sell where its standards level (its
consortium's mean if higher) meets the destination's requirement.

Sanctions deflect rather than only cut (Haidar 2017): a unit that served a sanctioned
destination within the re-entry window redirects `sanctions_deflection` of the sales it
lost there to the unsanctioned destinations it serves, at a price discount.
Learning by exporting: during its first `learning_months` months of exporting a unit's
long-run log productivity rises by `learning_by_exporting` in total.

Only units that could possibly export are evaluated (a bound from the best destination), so
the per-destination work touches a few thousand rows a month, not the population.
"""

from __future__ import annotations

import numpy as np

from . import destinations
from .errors import InputError
from .parameters import Parameters
from .production import MIN_HOME_SHARE
from .state import ACTIVE, NEVER, FirmState

__all__ = ["MAX_EXPERIENCE", "MIN_EXPORTERS_TO_CALIBRATE", "Trade", "deflect", "effective_sunk_cost", "serve"]

MAX_EXPERIENCE = np.iinfo(np.int16).max
MIN_EXPORTERS_TO_CALIBRATE = 50  # below this a sample may not carry the national exports; it falls short instead


def effective_sunk_cost(
    sunk: np.ndarray, last_exported: np.ndarray, exports_elsewhere: np.ndarray, month: int, p: Parameters
) -> np.ndarray:
    """Sunk cost of entering each destination (units x destinations) given each unit's history."""
    share = np.where(exports_elsewhere[:, None], p.export_experience_cost_share, 1.0)
    recent = (month - last_exported.astype(np.int64)) <= p.export_reentry_window_months
    return sunk * np.where(recent, np.minimum(share, p.export_reentry_cost_share), share)


def serve(
    margin: np.ndarray, entry_cost: np.ndarray, serving: np.ndarray, eligible: np.ndarray, p: Parameters
) -> np.ndarray:
    """Which destinations each unit serves this month. `margin` is operating profit minus the
    fixed cost (a month); incumbents stay while it is >= 0, others enter when it repays the
    entry cost within the payback horizon."""
    stay = serving & (margin >= 0.0)
    enter = ~serving & (margin >= entry_cost / p.export_payback_months)
    return (stay | enter) & eligible


def deflect(
    revenue: np.ndarray,
    unsanctioned_revenue: np.ndarray,
    serving: np.ndarray,
    cut_off: np.ndarray,
    sanctioned: np.ndarray,
    p: Parameters,
) -> np.ndarray:
    """Revenue after redirecting part of the sales lost to sanctioned destinations.

    `cut_off` flags (unit, destination) pairs served recently; what they would sell without the
    sanctions minus what they do sell is lost, and `sanctions_deflection` of it goes to the
    unit's unsanctioned destinations in proportion to their sales, at a price discount."""
    realised = revenue * serving
    lost = ((unsanctioned_revenue - realised) * (cut_off & sanctioned[None, :])).sum(axis=1)
    open_markets = serving & ~sanctioned[None, :]
    base = (realised * open_markets).sum(axis=1)
    extra = p.sanctions_deflection * (1.0 - p.deflection_price_discount) * lost
    factor = 1.0 + np.divide(extra, base, out=np.zeros(len(base)), where=base > 0)
    return np.where(open_markets, realised * factor[:, None], realised)


class Trade:
    """The calibrated scales and this month's exports by (unit, destination)."""

    def __init__(self, p: Parameters, output_per_worker: np.ndarray, revenue_scale: float, cost_multiplier: float):
        self.p = p
        self.output_per_worker = output_per_worker
        self.revenue_scale = revenue_scale  # k
        self.cost_multiplier = cost_multiplier  # c
        # from month 1 on: the month-0 calibration (Trade.calibrate) does not use these
        self.fixed_cost = cost_multiplier * p.export_cost_multiplier * destinations.FIXED_COST_USD
        self.sunk_cost = cost_multiplier * p.export_cost_multiplier * destinations.SUNK_COST_USD
        self.rows = np.zeros(0, np.int64)  # units evaluated this month
        self.revenue = np.zeros((0, destinations.N_DESTINATIONS))  # their export sales wanted, USD a month
        self.flows = {"export_entries": 0, "export_exits": 0, "export_sunk_costs_usd": 0.0}
        self.any_trained = False  # set by the training lever: some units know markets from fairs

    # --- month 0 -------------------------------------------------------------------------
    @classmethod
    def calibrate(
        cls,
        firms: FirmState,
        p: Parameters,
        output_per_worker: np.ndarray,
        scale: float,
        access: np.ndarray,
        consortia,
        buyer_labour: np.ndarray,
    ) -> tuple[Trade, np.ndarray]:
        """Solve the cost multiplier and foreign market size from the seed's exporters and exports.

        A unit exports to d at month 0 when its profit clears the point
        `initial_export_band_position` of the way from the exit to the entry threshold. Whether
        it does depends only on rho = k / c, so rho is the value that makes the number of SME
        exporters equal the target (an order statistic), and k then scales revenue to the
        target. A unit's month-0 exports are capped at what its large buyers and a minimal
        home market leave of its output (its `export_match` is lowered to fit, then folded into
        its scale). Units that would enter on their believed potential but do not export at
        the calibrated rho are taken to have tried before month 0: they know their match. Returns
        the Trade and the export labour of every row at month 0."""
        active = np.flatnonzero(firms.status == ACTIVE)
        share_power = np.exp((p.demand_elasticity - 1.0) * firms.log_productivity[active])
        cost, appeal = consortia.terms(firms, p, active)
        standards = consortia.standards(firms, active)
        unit = cls(p, output_per_worker, 1.0, 1.0)
        believed = unit.potential(firms, active, share_power, appeal)
        # established exporters know their foreign demand: select on the true potential
        potential = believed * firms.export_match[active]
        eligible = standards[:, None] >= destinations.STANDARDS[None, :]

        def rho_needed(position: float, potential: np.ndarray) -> np.ndarray:
            """rho = k / c at which each (unit, destination) clears `position` of the band."""
            hurdle = destinations.FIXED_COST_USD + position * destinations.SUNK_COST_USD / p.export_payback_months
            needed = cost[:, None] * hurdle[None, :]
            needed *= p.demand_elasticity
            with np.errstate(divide="ignore"):  # in place: two (unit, destination) arrays at most, not five
                needed /= potential[:, None] * access[None, :]
            needed[~eligible] = np.inf
            return needed

        needed = rho_needed(p.initial_export_band_position, potential)
        sme = firms.is_sme[active]
        sme_needed = needed.min(axis=1)[sme]
        _check_exporters(sme_needed, p.initial_exporters, scale)
        rho = _order_statistic(sme_needed, p.initial_exporters * scale)
        serving = needed <= rho
        # units that would enter on what they believe have tried before month 0 and know better
        informed = serving.any(axis=1) | (rho_needed(1.0, believed) <= rho).any(axis=1)
        # exports may use at most what home demand (floor) and large buyers leave of output
        sales_per_worker = output_per_worker[firms.sector[active]] * np.exp(firms.log_productivity[active])
        room = (
            np.maximum((1.0 - MIN_HOME_SHARE) * firms.employees[active] - buyer_labour[active], 0.0) * sales_per_worker
        )
        wanted = potential * (serving * access[None, :]).sum(axis=1)
        k = _revenue_scale(wanted[sme], room[sme], p.initial_exports_usd * scale / 12.0)
        capped = k * wanted > room
        firms.export_match[active[capped]] *= room[capped] / (k * wanted[capped])
        potential[capped] *= room[capped] / (k * wanted[capped])
        trade = cls(p, output_per_worker, k, k / rho if rho > 0 and k > 0 else np.inf)  # inf: nobody can export

        _reveal_match(firms, active[informed])
        firms.exporting[active] = serving
        firms.last_exported[active] = np.where(serving, 0, NEVER)
        firms.export_markets[active] = serving.sum(axis=1)
        # they exported before month 0 and have learnt what there is to learn
        firms.export_experience[active] = np.where(informed, int(np.ceil(p.learning_months)), 0)
        trade.rows = active
        trade.revenue = k * potential[:, None] * access[None, :] * serving
        labour = np.zeros(firms.n)
        labour[active] = trade.revenue.sum(axis=1) / (
            output_per_worker[firms.sector[active]] * np.exp(firms.log_productivity[active])
        )
        return trade, labour

    # --- each month ----------------------------------------------------------------------
    def potential(self, firms: FirmState, rows: np.ndarray, share_power: np.ndarray, appeal: np.ndarray) -> np.ndarray:
        """Foreign sales per unit of market access (USD a month)."""
        return (
            self.revenue_scale
            * self.output_per_worker[firms.sector[rows]]
            * firms.export_scale[rows]
            * share_power
            * appeal
        )

    def step(
        self,
        firms: FirmState,
        month: int,
        active: np.ndarray,
        share_power: np.ndarray,
        consortia,
        environment,
        finance=None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Decide who serves which destination; returns (export labour of the active units,
        flags of units that would export only with a consortium's pooled costs). With `finance`
        (finance.Finance), a unit enters new markets only if it can fund their sunk costs."""
        p = self.p
        _stop_non_operating(firms)
        access, free_access = environment.market_access(), environment.market_access(with_sanctions=False)
        cost, appeal = consortia.terms(firms, p, active)
        potential = self.potential(firms, active, share_power, appeal)
        bound = self._entry_bound(access)
        # a unit that never exported has no discount on the sunk cost: a tighter bound
        never = firms.export_experience[active] == 0
        needed = np.where(never, self._entry_bound(access, sunk_share=1.0), bound)
        knows = 1.0 - p.training_sunk_cost_cut  # sunk cost left where a trained unit visited the fair
        if self.any_trained:
            cheapest = min(p.export_reentry_cost_share, p.export_experience_cost_share, 1.0)
            needed = np.where(firms.trained[active], self._entry_bound(access, sunk_share=cheapest * knows), needed)
        pick = np.flatnonzero((potential >= cost * needed) | (firms.export_markets[active] > 0))
        rows, share = active[pick], cost[pick, None]

        revenue = potential[pick, None] * access[None, :]
        serving = firms.exporting[rows]
        last = firms.last_exported[rows]
        elsewhere = firms.export_markets[rows] > 0
        entry_cost = effective_sunk_cost(self.sunk_cost[None, :] * share, last, elsewhere, month, p)
        if self.any_trained:
            entry_cost *= np.where(firms.market_knowledge[rows], knows, 1.0)
        margin = revenue / p.demand_elasticity - self.fixed_cost[None, :] * share
        eligible = consortia.standards(firms, rows)[:, None] >= destinations.STANDARDS[None, :]
        new = serve(margin, entry_cost, serving, eligible, p)
        if finance is not None:
            entering = new & ~serving
            who = np.flatnonzero(entering.any(axis=1))
            funded = finance.fund(firms, rows[who], (entry_cost[who] * entering[who]).sum(axis=1), "export") > 0
            new[who[~funded]] &= serving[who[~funded]]
        first = np.flatnonzero(new.any(axis=1) & (firms.export_experience[rows] == 0))
        revenue[first] *= firms.export_match[rows[first], None]  # sales show what buyers really think
        _reveal_match(firms, rows[first])
        revenue = self._sell(revenue, potential[pick], free_access, new, last, month, environment.sanctioned)

        entries = new & ~serving
        self.flows = {
            "export_entries": int(entries.sum()),
            "export_exits": int((serving & ~new).sum()),
            "export_sunk_costs_usd": float(entry_cost[entries].sum()),
        }
        self._record(firms, rows, new, last, month)
        self.rows, self.revenue = rows, revenue

        labour = np.zeros(len(active))
        phi = np.exp(firms.log_productivity[rows])
        labour[pick] = revenue.sum(axis=1) / (self.output_per_worker[firms.sector[rows]] * phi)
        return labour, self._pooling_would_open(firms, active, potential, cost, bound)

    def _sell(self, revenue, potential, free_access, serving, last, month, sanctioned) -> np.ndarray:
        """Sales by destination: what is served, plus deflection where sanctions cut recent markets
        (`free_access`: market access without the sanctions)."""
        realised = revenue * serving
        if sanctioned.any():
            recent = (month - last.astype(np.int64)) <= max(self.p.export_reentry_window_months, 1)
            hit = np.flatnonzero(recent[:, sanctioned].any(axis=1))
            unsanctioned = potential[hit, None] * free_access[None, :]
            realised[hit] = deflect(revenue[hit], unsanctioned, serving[hit], recent[hit], sanctioned, self.p)
        return realised

    def _entry_bound(self, access: np.ndarray, sunk_share: float | None = None) -> float:
        """Least foreign-sales potential at which a unit paying full costs could enter anywhere,
        with the cheapest possible entry, or with `sunk_share` of the sunk cost (a lower bound:
        units below it cannot export)."""
        p = self.p
        cheapest = (
            min(p.export_reentry_cost_share, p.export_experience_cost_share, 1.0) if sunk_share is None else sunk_share
        )
        hurdle = (self.fixed_cost + cheapest * self.sunk_cost / p.export_payback_months) * p.demand_elasticity
        with np.errstate(divide="ignore"):
            return float(np.min(np.where(access > 0, hurdle / np.where(access > 0, access, 1.0), np.inf)))

    def _pooling_would_open(self, firms, active, potential, cost, bound) -> np.ndarray:
        """Non-member, non-exporting active SMEs whose potential clears the bound at the cost
        share of an average consortium (they are interested in joining one)."""
        p = self.p
        pooled = 1.0 / p.consortium_size_mean + p.consortium_coordination_cost_share
        flags = np.zeros(firms.n, bool)
        rows = active[(potential >= pooled * bound) & (cost == 1.0)]
        flags[rows] = (firms.export_markets[rows] == 0) & firms.is_sme[rows]
        return flags

    def _record(self, firms: FirmState, rows: np.ndarray, new: np.ndarray, last: np.ndarray, month: int) -> None:
        p = self.p
        firms.exporting[rows] = new
        firms.last_exported[rows] = np.where(new, month, last)
        markets = new.sum(axis=1)
        firms.export_markets[rows] = markets
        experience = firms.export_experience[rows].astype(np.int64)
        learning = rows[(markets > 0) & (experience < p.learning_months)]
        # the long-run level rises; realised productivity follows through the AR(1)
        firms.log_productivity_mean[learning] += p.learning_by_exporting / p.learning_months
        firms.export_experience[rows] = np.minimum(experience + (markets > 0), MAX_EXPERIENCE)

    def exports_by_destination(self, firms: FirmState, smes_only: bool = True) -> np.ndarray:
        """This month's realised exports by destination (USD a month, sampled population):
        wanted sales scaled by each unit's realised / wanted exports (capacity may bind)."""
        wanted = self.revenue.sum(axis=1)
        realised = firms.exports_usd[self.rows]
        ratio = np.divide(realised, wanted, out=np.zeros(len(wanted)), where=wanted > 0)
        if smes_only:
            ratio = ratio * firms.is_sme[self.rows]
        return ratio @ self.revenue


def _reveal_match(firms: FirmState, rows: np.ndarray) -> None:
    """A first export spell reveals the unit's true foreign demand: fold it into its scale."""
    firms.export_scale[rows] *= firms.export_match[rows]
    firms.export_match[rows] = 1.0


def _stop_non_operating(firms: FirmState) -> None:
    """Units that went idle or closed stop exporting (their history is kept)."""
    exporters = np.flatnonzero(firms.export_markets)  # few rows: filter them, not the population
    stopped = exporters[firms.status[exporters] != ACTIVE]
    firms.exporting[stopped] = False
    firms.export_markets[stopped] = 0


def _revenue_scale(wanted: np.ndarray, room: np.ndarray, target: float) -> float:
    """k such that sum(min(k * wanted, room)) equals target (bisection on a monotone function).

    If the exporters cannot make the target even at full use of their room, that is an error,
    except in a tiny sampled population (fewer than MIN_EXPORTERS_TO_CALIBRATE exporters):
    there k fills every exporter's room and month-0 exports fall short."""
    exporting = wanted > 0
    wanted, room = wanted[exporting], room[exporting]
    if target <= 0 or len(wanted) == 0:
        return 0.0
    if target >= room.sum():
        if len(wanted) >= MIN_EXPORTERS_TO_CALIBRATE:
            raise InputError(
                "initial_exports_usd",
                "cannot be met: the month-0 exporters can ship at most "
                f"{room.sum() * 12:.3g} USD a year at this scale ({target * 12:.3g} asked); "
                "lower initial_exports_usd or raise initial_exporters",
            )
        return float(np.max(room / wanted))
    lo, hi = 0.0, float(np.max(room / wanted))  # at hi every exporter is capped
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.minimum(mid * wanted, room).sum() < target else (lo, mid)
    return 0.5 * (lo + hi)


def _check_exporters(needed: np.ndarray, exporters: float, scale: float) -> None:
    """`exporters` x `scale` SMEs must be able to export (a finite rho `needed`: they meet some
    destination's standards); else an InputError naming the most there can be at this scale."""
    able = int(np.isfinite(needed).sum())
    if round(exporters * scale) > able:
        raise InputError(
            "initial_exporters",
            f"at most {able / scale:,.0f} SMEs can export at month 0 at scale {scale:g} (the active SMEs that "
            f"meet a destination's standards), got {exporters!r}",
        )


def _order_statistic(values: np.ndarray, target: float) -> float:
    """A threshold with `target` values at or below it (geometric midpoint between neighbours)."""
    finite = np.sort(values[np.isfinite(values)])
    n = round(target)
    if n <= 0 or len(finite) == 0:
        return 0.0
    if n >= len(finite):
        return float(finite[-1])
    return float(np.sqrt(finite[n - 1] * finite[n]))
