"""SMEModel: Iran's industrial units as Mesa agents over vectorised numpy state.

The model only wires the mechanisms in order; each lives in its own module:
environment (and the month's finance conditions) -> applications -> productivity ->
lifecycle (starts and restarts only if financed; closures settled with creditors) ->
cluster spillovers -> supply-chain links -> home demand -> exports (entry financed) ->
employment, investment (as far as financed), output -> cash flow and listings ->
consortia -> indicators. One step is one month.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import mesa
import numpy as np
import pandas as pd

from . import indicators, lifecycle, production
from .agent_sets import OnDemandAgents
from .agents import Firm
from .destinations import NAMES as DESTINATION_NAMES
from .environment import Environment, Shock
from .errors import InputError
from .finance import Finance
from .geography import PROVINCE_NAMES, SECTOR_NAMES
from .groups import Clusters, Consortia
from .intermediaries import Intermediaries
from .parameters import make_parameters
from .policy import PARAMETERS_SET_BY_LEVERS, Levers, Policy
from .population import add_construction_projects, build_population
from .randomness import Streams, root_entropy
from .state import ACTIVE, SIZE_CLASS_NAMES, STATUS_NAMES
from .supply_chain import SupplyChain
from .trade import Trade

__all__ = ["COUNTERS", "Flows", "SMEModel"]

Flows = dict[str, float]  # a mechanism's flows of the month, by counter name
OTHER_AGENT_IDS_FROM = 10**9  # unique ids of agents of other kinds (a Firm's is its firm_id + 1)

COUNTERS = (
    "units_completed",
    "units_revived",
    "units_idled",
    "new_applications",
    "graduations",
    "investment_usd",
    "export_entries",
    "export_exits",
    "export_sunk_costs_usd",
    "consortia_formed",
    "consortia_dissolved",
    "consortium_joins",
    "consortium_leaves",
    "links_formed",
    "links_dropped",
    "listings",
    "unfunded_completions",
    "unfunded_revivals",
    "rural_zone_units",
)


def _shock(spec: Shock | Mapping, i: int) -> Shock:
    try:
        return spec if isinstance(spec, Shock) else Shock.from_dict(spec)
    except InputError as error:
        raise error.under(f"shocks[{i}]") from None


def _with_levers(policy: Policy, parameters: dict, explicit: bool) -> dict:
    """The parameters with those that levers set (policy.PARAMETERS_SET_BY_LEVERS). Without an
    explicit policy, parameters given directly win (Mesa's batch_run sets them so); with one,
    giving both a lever and its parameter is refused unless they agree."""
    merged = dict(parameters)
    for name, value in policy.parameter_overrides().items():
        if name in parameters and explicit and parameters[name] != value:
            raise InputError(name, f"is set by the lever setting {PARAMETERS_SET_BY_LEVERS[name]}; set that instead")
        merged.setdefault(name, value)
    return merged


class SMEModel(mesa.Model):
    """Agent-based model of Iran's small and medium industry.

    Keyword arguments only: `rng` (the seed, Mesa's convention), `scale` (share of the
    real population simulated, 1.0 = one agent per real unit), `policy` (a
    `simulation.policy.Policy` or a mapping {lever: {setting: value}}), `shocks` (scheduled
    `simulation.environment.Shock`s or mappings) and any field of
    `simulation.parameters.Parameters` to override its default.
    """

    def __init__(
        self,
        *,
        rng=None,
        scale: float = 1.0,
        policy: Policy | Mapping | None = None,
        shocks: Sequence[Shock | Mapping] = (),
        **parameters,
    ):
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0.0 < scale <= 1.0:
            raise InputError("scale", f"must be a number in (0, 1], got {scale!r}")
        self.policy = policy if isinstance(policy, Policy) else Policy.from_dict(policy)
        self.shocks = tuple(_shock(s, i) for i, s in enumerate(shocks))
        self.params = make_parameters(**_with_levers(self.policy, parameters, explicit=policy is not None))
        self.seed = root_entropy(rng)
        super().__init__(rng=self.seed)
        self.agent_id_counter = OTHER_AGENT_IDS_FROM
        self.scale = float(scale)
        self.streams = Streams(self.seed)

        p = self.params
        self.firms, self.parks, output_per_worker = build_population(p, self.scale, self.streams.draw("population"))
        self.environment = Environment(p, self.streams, len(SECTOR_NAMES))
        self._build_groups_and_markets(output_per_worker)
        self.hazards = lifecycle.Hazards.calibrate(self.firms, p)
        self.finance = Finance(self.firms, p, self.scale, self.environment, self.streams, self.consortia)
        self.levers = Levers(self.policy, p, self.scale, self.streams, self.finance)
        self.counters = dict.fromkeys(COUNTERS, 0.0)
        self.initial_active_units = float(np.count_nonzero(self.firms.status == ACTIVE)) / self.scale
        self._agent_set = OnDemandAgents(self)

        self.link_labour = self.supply_chain.link_labour(self.firms)  # the month's B2B demand, per link
        self._indicator_cache: tuple[int, dict] | None = None
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(indicators.report, name=name) for name in indicators.INDICATORS}
        )
        self.datacollector.collect(self)

    def _build_groups_and_markets(self, output_per_worker: np.ndarray) -> None:
        """Month 0: clusters, supply links, consortia, exporters, then the home market that
        employs what buyers and exports leave of each unit's workforce."""
        p, firms = self.params, self.firms
        self.clusters = Clusters(firms)
        self.supply_chain = SupplyChain.build(firms, p, self.streams.draw("supply_chain"))
        self.consortia = Consortia.build(
            firms, p, self.scale, self.streams.draw("groups"), self.streams.draw("groups_outside_sample")
        )
        buyer_labour = self.supply_chain.labour_demand(firms)
        access = self.environment.market_access()
        self.trade, export_labour = Trade.calibrate(
            firms, p, output_per_worker, self.scale, access, self.consortia, buyer_labour
        )
        active = np.flatnonzero(firms.status == ACTIVE)
        firms.exports_usd[active] = firms.output_usd[active] * export_labour[active] / firms.employees[active]
        self.intermediaries, indirect_labour = Intermediaries.calibrate(
            firms, p, self.trade, access, self.consortia, buyer_labour + export_labour
        )
        foreign = export_labour + indirect_labour
        production.rebase_customer_base(firms, active, buyer_labour[active] + foreign[active])
        self.market = production.Market(firms, p, output_per_worker, len(SECTOR_NAMES))
        firms.indirect_sales_usd[active] = firms.output_usd[active] * indirect_labour[active] / firms.employees[active]

    @property
    def month(self) -> int:
        return self.steps

    def run(self, months: int, each_month: Callable[[int], None] | None = None) -> SMEModel:
        """Step `months` months (as Mesa's `run_model`, with a horizon); `each_month(month)` is
        called after each. Returns the model."""
        for _ in range(months):
            self.step()
            if each_month is not None:
                each_month(self.steps)
        return self

    def _license(self, rows: slice) -> None:
        """New units under construction get their cluster's spillover (their agents exist at once:
        `agents` covers every row)."""
        self.clusters.welcome(self.firms, rows)

    # --- Mesa's agents, made on demand (simulation.agent_sets) -----------------------------

    @property
    def agents(self) -> OnDemandAgents:
        """Every unit's Firm agent (made when asked for), then the agents of other kinds."""
        return self._agent_set

    @property
    def agents_by_type(self) -> dict:
        return {Firm: self._agent_set.firms_alone(), **super().agents_by_type}

    @property
    def agent_types(self) -> list[type]:
        return list(self.agents_by_type)

    def registered_agents(self):
        """The agents of other kinds than Firm, registered with Mesa as usual."""
        return super().agents

    def firm(self, firm_id: int) -> Firm:
        """The Firm agent of unit (row) `firm_id`."""
        return self._agent_set.firm(firm_id)

    # --- the month (ODD section 3) ---------------------------------------------------------

    def step(self) -> None:
        month = self.steps
        flows: Counter[str] = Counter()
        flows.update(self._open_month(month))
        flows.update(self._applications(month))
        production.update_productivity(self.firms, self.params, self.streams.draw("productivity", month))
        lifecycle_flows, completed = self._lifecycle(month)
        flows.update(lifecycle_flows)
        self.clusters.apply_spillovers(self.firms, self.params)
        flows.update(self._supply_links(month))
        consortium_interest, market_flows = self._markets(month, completed)
        flows.update(market_flows)
        flows.update(
            self.consortia.step(
                self.firms,
                self.params,
                self.scale,
                month,
                self.streams.draw("groups", month),
                consortium_interest,
                self.clusters.development,
                self.streams.draw("groups_outside_sample", month),
            )
        )
        for name, value in flows.items():
            self.counters[name] += value
        self.datacollector.collect(self)

    def _open_month(self, month: int) -> Flows:
        """Shocks due, the environment, the month's finance conditions, the levers on places and
        groups; units licensed in rural zones opening now (ODD section 3, steps 0-1)."""
        for shock in self.shocks:
            if shock.month == month:
                shock.apply(self.environment)
        self.environment.advance(month)
        self.finance.start_month(self.environment, month)
        zone_units = 0
        for rows in self.levers.start_month(self, month):
            self._license(rows)
            zone_units += rows.stop - rows.start
        return {"rural_zone_units": zone_units}

    def _applications(self, month: int) -> Flows:
        arrivals = self.streams.draw("applications", month)
        new = lifecycle.applications(self.params, self.scale, arrivals)
        if new:
            self._license(add_construction_projects(self.firms, self.parks, self.params, new, arrivals, month))
        return {"new_applications": new}

    def _lifecycle(self, month: int) -> tuple[Flows, np.ndarray]:
        """Status changes: drawn, clinics' restarts added, starts funded, applied, closures settled.
        Returns the flows and this month's completions."""
        firms = self.firms
        u = self.streams.draw("lifecycle", month).random(firms.n)
        moves = lifecycle.draw_transitions(firms, self.params, self.hazards, month, u)
        self.levers.clinics(firms, month, moves)
        unfunded = self._finance_starts(moves)
        lifecycle.apply_transitions(firms, self.params, moves, month)
        self.finance.settle_closures(firms, moves.closed)
        return {
            "units_completed": len(moves.completed),
            "units_revived": len(moves.revived),
            "units_idled": len(moves.idled),
            **unfunded,
        }, moves.completed

    def _finance_starts(self, moves: lifecycle.Transitions) -> Flows:
        """Units ready to start or restart do so only if they can fund it (restarts first: lenders
        prefer plants that already exist). Returns the unfunded counts."""
        p, firms = self.params, self.firms
        unfunded: Flows = {}
        for name, share, purpose in (
            ("revived", p.revival_cost_share, "revival"),
            ("completed", p.completion_cost_share, "completion"),
        ):
            rows = getattr(moves, name)
            funded = (
                self.finance.fund(firms, rows, share * p.capital_per_worker_usd * firms.capacity[rows], purpose) > 0
            )
            setattr(moves, name, rows[funded])
            unfunded[f"unfunded_{purpose}s"] = int((~funded).sum())
        return unfunded

    def _supply_links(self, month: int) -> Flows:
        formed, dropped = self.supply_chain.update(
            self.firms, self.params, self.scale, month, self.streams.draw("supply_chain", month)
        )
        return {"links_formed": formed, "links_dropped": dropped}

    def _markets(self, month: int, completed: np.ndarray) -> tuple[np.ndarray, Flows]:
        """Levers serving active SMEs, home demand, exports, B2B demand, production, cash flow and
        listings (ODD section 3, steps 7-11). Returns the SMEs that would export only with a
        consortium's pooled costs, and the flows."""
        p, firms = self.params, self.firms
        active = np.flatnonzero(firms.status == ACTIVE)
        self.levers.support_firms(self, month, active)
        # B2B demand at last month's output (once a month; kept for the indicators)
        self.link_labour = links = self.supply_chain.link_labour(firms)
        suppliers, redirected = self.supply_chain.redirected_sales(firms, links)
        home_labour, phi, share_power = production.home_demand(
            firms,
            p,
            self.market,
            self.environment.demand_index,
            active,
            completed,
            np.bincount(firms.sector[suppliers], weights=redirected, minlength=self.market.n_sectors),
        )
        export_labour, interested = self.trade.step(
            firms, month, active, share_power, self.consortia, self.environment, self.finance
        )
        indirect_labour = self.intermediaries.step(
            firms, self.trade, active, share_power, self.consortia, self.environment.market_access()
        )
        buyer_labour = self.supply_chain.labour_demand(firms, links)[active]
        added_capacity, graduations = production.produce(
            firms, p, self.market, active, phi, home_labour, buyer_labour, export_labour, self.finance, indirect_labour
        )
        self.finance.operate(firms, active)
        listings = self.finance.list_firms(firms, active, month, self.streams.draw("finance", month))
        listings += self.levers.support_listings(self, month, active)
        self.levers.end_month(self.finance)
        return interested, {
            "listings": listings,
            "investment_usd": added_capacity * p.capital_per_worker_usd,
            "graduations": graduations,
            **self.trade.flows,
        }

    def indicators(self) -> dict[str, float]:
        """The monthly indicators at national scale (the contract of ODD section 7.11 plus extras)."""
        return dict(self.current_indicators())

    def current_indicators(self) -> dict[str, float]:
        """The indicators of the current month, computed once per month (not a copy: do not modify)."""
        if self._indicator_cache is None or self._indicator_cache[0] != self.steps:
            self._indicator_cache = (self.steps, indicators.compute(self))
        return self._indicator_cache[1]

    def exports_by_destination(self, smes_only: bool = True) -> pd.Series:
        """This month's exports by destination, USD a year at national scale."""
        values = 12.0 * self.trade.exports_by_destination(self.firms, smes_only) / self.scale
        return pd.Series(values, index=pd.Index(DESTINATION_NAMES, name="destination"), name="exports_usd")

    def firm_frame(self) -> pd.DataFrame:
        """One row per unit ever licensed, with its current state."""
        f = self.firms
        return pd.DataFrame(
            {
                "firm_id": np.arange(f.n),
                "status": pd.Categorical.from_codes(f.status, STATUS_NAMES),
                "is_sme": f.is_sme,
                "size_class": pd.Categorical.from_codes(f.size_class, SIZE_CLASS_NAMES),
                "employees": f.employees,
                "capacity": f.capacity,
                "productivity": f.productivity,
                "output_usd": f.output_usd,
                "exports_usd": f.exports_usd,
                "in_park": f.in_park,
                "park_id": f.park_id,
                "cluster_id": f.cluster_id,
                "consortium_id": f.consortium_id,
                "export_markets": f.export_markets,
                "standards": f.standards,
                "province": pd.Categorical.from_codes(f.province, PROVINCE_NAMES),
                "sector": pd.Categorical.from_codes(f.sector, SECTOR_NAMES),
                "revivable": f.revivable,
                "age_months": self.steps - f.birth_month,
            }
        )
