"""Policy levers: what the government controls, each with a budget, a targeting rule, a cost
per beneficiary and a mechanism in the model (ODD §7.13).

A policy is a set of lever settings (`Policy`), validated here so that the model refuses bad
input whoever builds it (a scenario file, a sweep, a notebook). `LEVERS` describes every
setting: default, kind, allowed values, unit, meaning and source. Budgets are USD a year;
a month may spend what the budget has accrued so far (budget x months / 12) and not yet
spent, so spending never exceeds the budget (grants: but for one lumpy need committed ahead
of the money, finance._queue). At scale < 1 budgets shrink with the sample
and spending is reported at national scale. What a lever buys costs in proportion to what it
serves: a park upgrade per unit located in the park, a cluster project per active unit in the
cluster, consortium support per member. Clusters, parks and consortia are not sampled (all 310
clusters, 966 parks and the real consortia exist at any scale, with fewer units each in the
sample): park and cluster costs count the sampled units, so they shrink with the sample by
themselves; consortium support counts members at national scale (in the sample and outside it)
and costs `scale` times that in a sampled run. A lever at zero budget (and its switches at
their defaults) changes nothing.

Targeting picks the beneficiaries among the eligible units:
- "all": every eligible unit, in a random order (the policy stream: common random numbers);
- "ranking": the top-N SMEs of the yearly ranking (the `ranking` lever must run);
- "province" / "cluster": eligible units in the listed provinces / sector x province clusters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .destinations import NAMES as DESTINATION_NAMES
from .errors import InputError, is_finite_number
from .geography import PROVINCE_NAMES, PROVINCE_WEIGHTS
from .groups import N_CLUSTERS, N_PROVINCES, cluster_name, improve_infrastructure
from .population import add_construction_projects
from .state import ACTIVE, CLOSED, IDLE, LARGE, FirmState

__all__ = [
    "CLUSTER_NAMES",
    "LEVERS",
    "LEVER_DESCRIPTIONS",
    "LEVER_INDEX",
    "PARAMETERS_SET_BY_LEVERS",
    "PAYEES",
    "RURAL_DISTRICTS",
    "TARGETING",
    "Levers",
    "Policy",
    "Setting",
    "SettingValue",
]

CLUSTER_NAMES = tuple(cluster_name(c) for c in range(N_CLUSTERS))
TARGETING = ("all", "ranking", "province", "cluster")

# A lever setting's value: float ("number"), int ("integer"), str ("choice") or tuple[str, ...]
# ("names"), as its Setting.kind says. The kind is known per key only at run time, so values are
# typed Any at this one boundary (Setting.default, _check, Policy) and callers' arithmetic type-checks.
SettingValue = Any


@dataclass(frozen=True)
class Setting:
    """One setting of a lever. kind: "number" (allowed = (lo, hi), hi None for no bound),
    "integer" (the same), "choice" (allowed = the choices), "names" (a list of allowed names)."""

    default: SettingValue
    kind: str
    allowed: tuple
    unit: str
    doc: str
    source: str = "assumption"


def _budget(doc: str) -> Setting:
    return Setting(0.0, "number", (0.0, None), "USD a year", doc)


def _cost(default: float, what: str, source: str = "assumption") -> Setting:
    return Setting(default, "number", (1.0, None), "USD", f"cost of one beneficiary: {what}", source)


def _targeting(choices: tuple[str, ...] = TARGETING) -> dict[str, Setting]:
    return {
        "targeting": Setting("all", "choice", choices, "", "how beneficiaries are picked among the eligible"),
        "provinces": Setting((), "names", PROVINCE_NAMES, "", 'provinces served (targeting = "province")'),
        "clusters": Setting(
            (),
            "names",
            CLUSTER_NAMES,
            "",
            'clusters served, e.g. "food and beverages in Tehran" (targeting = "cluster")',
        ),
    }


LEVERS: dict[str, dict[str, Setting]] = {
    "training": {
        "budget_usd": _budget("training courses and trade-fair dispatch"),
        "cost_per_beneficiary_usd": _cost(4_000.0, "a manager's export course and one trade-fair trip"),
        **_targeting(),
        "destinations": Setting((), "names", DESTINATION_NAMES, "", "markets whose fairs are visited (empty: all)"),
    },
    "clinics": {
        "budget_usd": _budget("industry clinics diagnosing idle units"),
        "cost_per_beneficiary_usd": _cost(10_000.0, "diagnosis and a revival plan for one idle unit"),
        **_targeting(("all", "province", "cluster")),
    },
    "consortia": {
        "budget_usd": _budget("support of export consortia and export management companies"),
        "cost_per_beneficiary_usd": _cost(5_000.0, "a consortium's coordination costs per member and year"),
        **_targeting(("all", "province", "cluster")),
        "recognition": Setting(
            0.0, "number", (0.0, 1.0), "share", "legal recognition of consortia (0 none, 1 full: the bill passed)"
        ),
    },
    "clusters": {
        "budget_usd": _budget("cluster development projects"),
        "cost_per_beneficiary_usd": _cost(1_100.0, "a cluster development project per active unit and year"),
        **_targeting(("all", "province", "cluster")),
    },
    "sukuk": {
        "budget_usd": _budget("subsidy of sukuk issuance costs"),
        "capacity_usd": Setting(
            10e6, "number", (0.0, None), "USD a month", "sukuk the programme can place (today's pilot: 10 m)"
        ),
        "provinces": Setting(
            29, "integer", (0, 31), "provinces", "provinces in the programme (the pilot: 29 of 31)", "seed 003"
        ),
        "issuance_subsidy_share": Setting(
            0.0, "number", (0.0, 1.0), "share", "share of issuance costs the government pays"
        ),
    },
    "listing": {
        "budget_usd": _budget("support for listing on the SME market"),
        "cost_per_beneficiary_usd": _cost(25_000.0, "one firm's listing costs and preparation of its accounts"),
        **_targeting(),
    },
    "infrastructure": {
        "budget_usd": _budget("building and completing park infrastructure"),
        "cost_per_beneficiary_usd": _cost(40_000.0, "a park's infrastructure upgrade per unit located there"),
        **_targeting(("all", "province")),
    },
    "rural_zones": {
        "budget_usd": _budget("new rural industrial zones (438 districts identified)"),
        "cost_per_beneficiary_usd": _cost(4e6, "one 5-20 ha zone: land, roads, power and water"),
        **_targeting(("all", "province")),
    },
    "matchmaking": {
        "budget_usd": _budget("supply-chain matchmaking between SMEs and large buyers"),
        "cost_per_beneficiary_usd": _cost(3_000.0, "finding and tying one supplier-buyer link"),
        **_targeting(),
    },
    "technology": {
        "budget_usd": _budget("technology adoption and standards upgrades with knowledge-based firms"),
        "cost_per_beneficiary_usd": _cost(20_000.0, "one unit's technology and certification project"),
        **_targeting(),
    },
    "credit": {
        "grants_usd": Setting(0.0, "number", (0.0, None), "USD a year", "grants towards units' finance needs"),
        "subsidised_credit_usd": Setting(
            0.0, "number", (0.0, None), "USD a year", "the government's subsidised credit line (lent, repaid)"
        ),
    },
    "ranking": {
        "budget_usd": _budget("running the yearly top-N ranking of SMEs (the ranking runs if > 0)"),
        "size": Setting(100, "integer", (1, 10_000), "SMEs", "how many SMEs the ranking lists", "seed 004"),
    },
}

LEVER_DESCRIPTIONS = {
    "training": "Training and trade fairs: cheaper market entry where the unit has been",
    "clinics": "Industry clinics: diagnose idle units and restart the revivable ones",
    "consortia": "Export consortia: legal recognition and support of their coordination",
    "clusters": "Cluster development: projects that found consortia in the cluster",
    "sukuk": "Sukuk programme: capacity, provinces and subsidy of issuance costs",
    "listing": "Listing support: pay listing costs, prepare firms for the SME market",
    "infrastructure": "Park infrastructure: upgrade the parks' roads, power and services",
    "rural_zones": "Rural industrial zones: new small parks that attract new units",
    "matchmaking": "Supply-chain matchmaking: tie SMEs to large buyers (locomotives)",
    "technology": "Technology and standards: productivity and certification upgrades",
    "credit": "Grants and subsidised credit lines for units' finance needs",
    "ranking": "Top-N SME ranking: the targeting input for support",
}

# Model parameters that levers set: a scenario sets them through the lever, not as constants.
PARAMETERS_SET_BY_LEVERS = {
    "sukuk_programme_capacity_usd": "sukuk.capacity_usd",
    "sukuk_programme_provinces": "sukuk.provinces",
    "consortium_legal_recognition": "consortia.recognition",
    "grant_budget_usd": "credit.grants_usd",
    "subsidised_credit_usd": "credit.subsidised_credit_usd",
}


def _check(key: str, setting: Setting, value: object) -> SettingValue:
    """The value in canonical form, or an InputError naming the key and what is allowed."""
    if setting.kind in ("number", "integer"):
        lo, hi = setting.allowed
        span = f"[{lo}, {hi if hi is not None else 'inf'})" if hi is None else f"[{lo}, {hi}]"
        if not is_finite_number(value):
            raise InputError(
                key,
                f"must be a {'whole ' if setting.kind == 'integer' else ''}number in {span} ({setting.unit}), got "
                f"{value!r}",
            )
        if setting.kind == "integer" and value != int(value):
            raise InputError(key, f"must be a whole number in {span}, got {value!r}")
        if value < lo or (hi is not None and value > hi):
            raise InputError(key, f"must lie in {span} ({setting.unit}), got {value!r}")
        return int(value) if setting.kind == "integer" else float(value)
    if setting.kind == "choice":
        if value not in setting.allowed:
            raise InputError(key, f"must be one of {list(setting.allowed)}, got {value!r}")
        return value
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InputError(key, f"must be a list of names, got {value!r}")
    unknown = [v for v in value if v not in setting.allowed]
    if unknown:
        shown = (
            list(setting.allowed)
            if len(setting.allowed) <= 40
            else f"{len(setting.allowed)} names such as {list(setting.allowed[:3])}"
        )
        raise InputError(key, f"unknown name(s) {unknown}; allowed: {shown}")
    if len(set(value)) != len(value):
        raise InputError(key, f"lists a name twice: {list(value)}")
    return tuple(value)


class Policy:
    """Validated lever settings: `policy["clinics"]["budget_usd"]`. Build with `Policy.from_dict`."""

    def __init__(self, settings: dict[str, dict[str, SettingValue]]):
        self._settings = settings

    @classmethod
    def from_dict(cls, levers: Mapping | None = None) -> Policy:
        """Settings from a nested mapping {lever: {setting: value}}; missing ones take their
        defaults. Raises InputError (key ``lever.setting``) for unknown levers or settings,
        wrong types, out-of-range values and inconsistent combinations."""
        levers = {} if levers is None else levers
        if not isinstance(levers, Mapping):
            raise InputError("levers", f"must be a table of levers, got {levers!r}")
        settings: dict[str, dict[str, SettingValue]] = {}
        for lever, specs in LEVERS.items():
            given = levers.get(lever, {})
            if not isinstance(given, Mapping):
                raise InputError(lever, f"must be a table of settings {sorted(specs)}, got {given!r}")
            unknown = sorted(set(given) - set(specs))
            if unknown:
                raise InputError(f"{lever}.{unknown[0]}", f"unknown setting; {lever} has {sorted(specs)}")
            settings[lever] = {
                name: _check(f"{lever}.{name}", spec, given.get(name, spec.default)) for name, spec in specs.items()
            }
        unknown = sorted(set(levers) - set(LEVERS))
        if unknown:
            raise InputError(str(unknown[0]), f"unknown lever; levers are {sorted(LEVERS)}")
        _check_consistency(settings)
        return cls(settings)

    def __getitem__(self, lever: str) -> Mapping[str, SettingValue]:
        return self._settings[lever]

    def __eq__(self, other) -> bool:
        return isinstance(other, Policy) and self._settings == other._settings

    def __repr__(self) -> str:
        changed = {
            lever: {k: v for k, v in s.items() if v != LEVERS[lever][k].default} for lever, s in self._settings.items()
        }
        return f"Policy({ {lever: s for lever, s in changed.items() if s} })"

    def to_dict(self) -> dict[str, dict[str, SettingValue]]:
        """Every setting, lists as lists (a TOML- and JSON-friendly copy)."""
        return {
            lever: {k: list(v) if isinstance(v, tuple) else v for k, v in s.items()}
            for lever, s in self._settings.items()
        }

    def parameter_overrides(self) -> dict[str, float]:
        """Values of the model parameters that levers set (PARAMETERS_SET_BY_LEVERS), per month where the
        parameter is monthly."""
        s = self._settings
        return {
            "sukuk_programme_capacity_usd": s["sukuk"]["capacity_usd"],
            "sukuk_programme_provinces": float(s["sukuk"]["provinces"]),
            "consortium_legal_recognition": s["consortia"]["recognition"],
            "grant_budget_usd": s["credit"]["grants_usd"] / 12.0,
            "subsidised_credit_usd": s["credit"]["subsidised_credit_usd"] / 12.0,
        }


def _check_consistency(settings: Mapping[str, Mapping[str, SettingValue]]) -> None:
    ranking_runs = settings["ranking"]["budget_usd"] > 0
    for lever, s in settings.items():
        rule = s.get("targeting")
        if rule is None:
            continue
        if rule == "ranking" and not ranking_runs:
            raise InputError(f"{lever}.targeting", '"ranking" needs the ranking to run: set ranking.budget_usd > 0')
        for listed in ("provinces", "clusters"):
            wanted = rule == listed[:-1]  # "province" uses provinces, "cluster" clusters
            if wanted and not s[listed]:
                raise InputError(f"{lever}.{listed}", f'targeting = "{rule}" needs at least one name here')
            if s[listed] and not wanted:
                raise InputError(
                    f"{lever}.{listed}", f'names are only used with targeting = "{listed[:-1]}", not "{rule}"'
                )


# who the government pays for each lever's purchases (ledger payees)
PAYEES = {
    "training": "trainers and fair organisers",
    "clinics": "industry consultants",
    "consortia": "consortium coordinators",
    "clusters": "cluster brokers",
    "listing": "listing advisers",
    "infrastructure": "builders",
    "rural_zones": "builders",
    "matchmaking": "matchmaking agents",
    "technology": "technology providers",
    "ranking": "the ranking's assessors",
}
RURAL_DISTRICTS = 438  # rural districts identified for new industrial zones (seed 002)
LEVER_INDEX = {name: i for i, name in enumerate(LEVERS)}  # sub-stream of each lever's draws


class Levers:
    """The policy at work in one run: budgets accrued and spent, beneficiaries and effects.

    The model calls `start_month` (before applications), `clinics` (after the lifecycle
    draw), `support_firms` (once this month's active units are known) and `support_listings`
    (after cash flows). Amounts are for the simulated (possibly sampled) population; budgets
    are multiplied by `scale`."""

    def __init__(self, policy: Policy, p, scale: float, streams, finance):
        self.policy, self.p, self.scale, self.streams = policy, p, scale, streams
        self.finance = finance  # its government account pays every purchase
        self.spent_usd = dict.fromkeys(LEVERS, 0.0)
        self.beneficiaries = dict.fromkeys(LEVERS, 0)
        self.ranked = np.zeros(0, np.int64)  # the ranking's SMEs, best first
        self.zones_funded = 0
        self._zones_due: list[tuple[int, int]] = []  # (opening month, province)
        self._order: tuple[int, np.ndarray] | None = None
        self._clinic_capacity = 0.0  # diagnoses the clinics can still make (accrues monthly, national x scale)
        self._clinic_slots = 0  # this month's slots left for active units once the idle ones are seen
        self._upgrades_due: list[tuple[int, np.ndarray]] = []  # (month the gain arrives, units)

    @property
    def total_spent_usd(self) -> float:
        """What the levers' budgets paid (purchases, grants, the issuance subsidy); the fiscal cost,
        the credit line's included, is `finance.government.fiscal_cost_usd`."""
        return sum(self.spent_usd.values())

    # --- budgets ------------------------------------------------------------------------
    def _left(self, lever: str, month: int) -> float:
        """What the budget has accrued by this month (budget x month / 12) and not spent."""
        return max(self.policy[lever]["budget_usd"] * self.scale * month / 12.0 - self.spent_usd[lever], 0.0)

    def _affordable(self, lever: str, month: int, unit_cost: float | None = None) -> int:
        cost = self.policy[lever]["cost_per_beneficiary_usd"] if unit_cost is None else unit_cost
        return int(self._left(lever, month) / cost + 1e-9)  # the tolerance absorbs rounding of the accrual

    def _charge(self, lever: str, count: int, unit_cost: float | None = None) -> None:
        """The government pays the lever's suppliers (PAYEES) for `count` beneficiaries."""
        cost = self.policy[lever]["cost_per_beneficiary_usd"] if unit_cost is None else unit_cost
        self._pay(lever, count * cost)
        self.beneficiaries[lever] += count

    def _pay(self, lever: str, usd: float) -> None:
        finance = self.finance
        self.spent_usd[lever] += usd
        finance.government.pay(lever, PAYEES[lever], f"{lever} programme", usd * finance.rate, finance.rate)
        finance.government.moved_usd[lever] += usd

    # --- targeting ----------------------------------------------------------------------
    def _random_order(self, firms: FirmState, month: int) -> np.ndarray:
        """One uniform per unit and month (common random numbers: a unit's place in the queue
        does not depend on which levers run)."""
        if self._order is None or self._order[0] != month or len(self._order[1]) < firms.n:
            self._order = (month, self.streams.draw("policy", month, len(LEVERS)).random(firms.n))
        return self._order[1]

    def _targets(
        self, lever: str, firms: FirmState, rows: np.ndarray, month: int, priority: np.ndarray | None = None
    ) -> np.ndarray:
        """The eligible `rows` in the order the lever serves them: by `priority` (one value per
        row, highest first) where the lever has one, else at random."""
        s = self.policy[lever]
        if s["targeting"] == "ranking":
            return self.ranked[np.isin(self.ranked, rows)]
        keep = np.ones(len(rows), bool)
        if s["targeting"] == "province":
            keep = _mask(PROVINCE_NAMES, s["provinces"])[firms.province[rows]]
        elif s["targeting"] == "cluster":
            keep = _mask(CLUSTER_NAMES, s["clusters"])[firms.cluster_id[rows]]
        rows = rows[keep]
        key = -priority[keep] if priority is not None else self._random_order(firms, month)[rows]
        return rows[np.argsort(key, kind="stable")]

    # --- each month -------------------------------------------------------------------------
    def start_month(self, model, month: int) -> list[slice]:
        """Levers acting on places and groups; returns the rows of units licensed in rural zones opening now."""
        self._rank(model.firms, month)
        self._fund_sukuk_subsidy(model.finance, month)
        self._upgrade_parks(model, month)
        self._develop_clusters(model, month)
        self._support_consortia(model, month)
        return self._rural_zones(model, month)

    def _rank(self, firms: FirmState, month: int) -> None:
        """The yearly top-N SMEs by sales (the ranking's running cost is its budget)."""
        budget = self.policy["ranking"]["budget_usd"]
        if budget <= 0:
            return
        self._pay("ranking", budget * self.scale / 12.0)
        if month % 12 == 1 or len(self.ranked) == 0:
            smes = np.flatnonzero((firms.status == ACTIVE) & (firms.size_class < LARGE))
            size = max(round(self.policy["ranking"]["size"] * self.scale), 1)
            order = np.lexsort((smes, -firms.output_usd[smes]))  # best first, ties by id
            self.ranked = smes[order[:size]]

    def _fund_sukuk_subsidy(self, finance, month: int) -> None:
        finance.issuance_subsidy_share = self.policy["sukuk"]["issuance_subsidy_share"]
        finance.subsidy_left_rial = self._left("sukuk", month) * finance.rate

    def _upgrade_parks(self, model, month: int) -> None:
        """Upgrade the worst parks the budget affords; a park costs in proportion to the units it hosts."""
        parks, firms, s = model.parks, model.firms, self.policy["infrastructure"]
        left = self._left("infrastructure", month)
        if left <= 0:
            return
        located = (firms.park_id >= 0) & (firms.status != CLOSED)
        hosted = np.bincount(firms.park_id[located], minlength=len(parks))  # sampled units: costs scale by themselves
        candidates = np.flatnonzero((parks.infrastructure < 1.0) & (hosted > 0))
        if s["targeting"] == "province":
            candidates = candidates[_mask(PROVINCE_NAMES, s["provinces"])[parks.province[candidates]]]
        candidates = candidates[np.argsort(parks.infrastructure[candidates], kind="stable")]  # the worst first
        chosen, cost = _within_budget(candidates, s["cost_per_beneficiary_usd"] * hosted[candidates], left)
        if len(chosen):
            improve_infrastructure(firms, parks, self.p, chosen, self.p.infrastructure_upgrade_gain)
            self._pay("infrastructure", cost)
            self.beneficiaries["infrastructure"] += int(hosted[chosen].sum())

    def _develop_clusters(self, model, month: int) -> None:
        """Running projects cost a twelfth of their yearly cost per active unit each month; the
        largest clusters (by employment) first."""
        s, firms = self.policy["clusters"], model.firms
        model.clusters.development[:] = 0.0
        left = self._left("clusters", month)
        if left <= 0:
            return
        candidates = _group_targets(s, np.arange(N_CLUSTERS))
        candidates = candidates[np.argsort(-model.clusters.employment(firms)[candidates], kind="stable")]
        units = np.bincount(firms.cluster_id[firms.status == ACTIVE], minlength=N_CLUSTERS)[candidates]
        chosen, cost = _within_budget(candidates, s["cost_per_beneficiary_usd"] / 12.0 * units, left)
        if len(chosen):
            model.clusters.development[chosen] = self.p.cluster_development_gain
            self._pay("clusters", cost)
        self.beneficiaries["clusters"] += int(units[: len(chosen)].sum())

    def _support_consortia(self, model, month: int) -> None:
        """Supported consortia (the oldest first) cost a twelfth of their yearly cost per member
        each month; members are counted at national scale (consortia are not sampled, module
        docstring), so a sampled run pays `scale` times that."""
        s, consortia = self.policy["consortia"], model.consortia
        consortia.supported = np.zeros(len(consortia.cluster), bool)
        left = self._left("consortia", month)
        if left <= 0:
            return
        live = np.flatnonzero(consortia.active)
        candidates = live[_group_targets(s, consortia.cluster[live])]
        members = consortia.size[candidates] * self.scale
        chosen, cost = _within_budget(candidates, s["cost_per_beneficiary_usd"] / 12.0 * members, left)
        if len(chosen):
            consortia.supported[chosen] = True
            self._pay("consortia", cost)
        self.beneficiaries["consortia"] += len(chosen)

    def _rural_zones(self, model, month: int) -> list[slice]:
        """Fund zones now (in provinces by population, or among the listed ones); open those due."""
        s, p = self.policy["rural_zones"], self.p
        room = max(round(RURAL_DISTRICTS * self.scale), 1) - self.zones_funded
        n = min(self._affordable("rural_zones", month), room)
        rng = self.streams.draw("policy", month, LEVER_INDEX["rural_zones"])
        if n > 0:
            if s["targeting"] == "province":
                provinces = rng.choice([PROVINCE_NAMES.index(name) for name in s["provinces"]], size=n)
            else:
                provinces = rng.choice(N_PROVINCES, size=n, p=PROVINCE_WEIGHTS)
            self._zones_due += [(month + int(p.rural_zone_build_months), int(c)) for c in provinces]
            self.zones_funded += n
            self._charge("rural_zones", n)
        opening = [c for due, c in self._zones_due if due <= month]
        self._zones_due = [(due, c) for due, c in self._zones_due if due > month]
        rows = []
        for province in opening:  # a few zones a month at most
            park = model.parks.add(province, p.rural_zone_infrastructure)
            rows.append(
                add_construction_projects(model.firms, model.parks, p, round(p.rural_zone_units), rng, month, park=park)
            )
        return rows

    def clinics(self, firms: FirmState, month: int, moves) -> None:
        """Diagnose idle units (not seen in the last clinic_repeat_months, not closing or
        restarting anyway), as many as the budget and the clinics' capacity allow; a revivable
        one is ready to restart with clinic_revival_success, joining this month's restarts
        (which still need finance). Slots left go to struggling active SMEs (`_consult`)."""
        self._clinic_slots = 0
        if self.policy["clinics"]["budget_usd"] <= 0:
            return
        # capacity accrues like a budget, so a sampled run keeps its fractional diagnoses
        self._clinic_capacity = self._clinic_capacity % 1.0 + self.p.clinic_capacity_per_month * self.scale
        n = min(self._affordable("clinics", month), int(self._clinic_capacity))
        if n == 0:
            return
        idle = np.flatnonzero(firms.status == IDLE)
        idle = idle[month - firms.diagnosed_month[idle].astype(np.int64) >= self.p.clinic_repeat_months]
        idle = idle[~np.isin(idle, np.concatenate([moves.revived, moves.closed]))]
        seen = self._targets("clinics", firms, idle, month)[:n]
        firms.diagnosed_month[seen] = month
        rng = self.streams.draw("policy", month, LEVER_INDEX["clinics"])
        ready = seen[firms.revivable[seen] & (rng.random(len(seen)) < self.p.clinic_revival_success)]
        moves.revived = np.concatenate([moves.revived, ready])
        self._charge("clinics", len(seen))
        self._clinic_capacity -= len(seen)
        self._clinic_slots = n - len(seen)

    def _consult(self, firms: FirmState, month: int, smes: np.ndarray) -> None:
        """The clinics' slots left after the idle units: struggling active SMEs (the lowest capacity
        use first, not seen in the last clinic_repeat_months) get advice that raises their
        productivity by clinic_productivity_gain (level and long-run mean)."""
        n = min(self._clinic_slots, self._affordable("clinics", month))
        if n <= 0:
            return
        smes = smes[month - firms.diagnosed_month[smes].astype(np.int64) >= self.p.clinic_repeat_months]
        use = firms.employees[smes] / firms.capacity[smes]
        seen = self._targets("clinics", firms, smes, month, priority=-use)[:n]
        firms.diagnosed_month[seen] = month
        firms.log_productivity[seen] += self.p.clinic_productivity_gain
        firms.log_productivity_mean[seen] += self.p.clinic_productivity_gain
        self._charge("clinics", len(seen))
        self._clinic_capacity -= len(seen)
        self._clinic_slots = 0

    def support_firms(self, model, month: int, active: np.ndarray) -> None:
        """Clinics' advice, training, technology upgrades and matchmaking for this month's active SMEs."""
        firms = model.firms
        self._complete_upgrades(firms, month)
        if not self._clinic_slots and not any(
            self._affordable(lever, month) for lever in ("training", "technology", "matchmaking")
        ):
            return
        smes = active[firms.size_class[active] < LARGE]
        self._consult(firms, month, smes)
        self._train(model, month, smes)
        self._upgrade_technology(firms, month, smes)
        self._match(model, month, smes)

    def _train(self, model, month: int, smes: np.ndarray) -> None:
        """One course and one trade fair per beneficiary: the fair of the most promising market
        (access per unit of entry hurdle) among the lever's destinations that the unit neither
        knows nor serves. Units that export nowhere go first (agencies aimed at new exporters
        earn more, ODD 7.13), then exporters; within each the best export prospects (foreign
        appeal x productivity^(sigma-1)). A unit may come back for another market."""
        firms, n = model.firms, self._affordable("training", month)
        if n == 0:
            return
        fairs = self._fair_order(model)
        unvisited = ~firms.market_knowledge[np.ix_(smes, fairs)] & ~firms.exporting[np.ix_(smes, fairs)]
        eligible = smes[unvisited.any(axis=1)]
        prospects = (
            np.log(np.maximum(firms.export_scale[eligible], 1e-300))
            + (self.p.demand_elasticity - 1.0) * firms.log_productivity[eligible]
        )
        new = firms.export_markets[eligible] == 0  # the agency's aim: new exporters first
        chosen = np.concatenate(
            [self._targets("training", firms, eligible[w], month, prospects[w]) for w in (new, ~new)]
        )[:n]
        first = np.argmax(unvisited[np.searchsorted(smes, chosen)], axis=1)  # smes are sorted (np.flatnonzero)
        firms.market_knowledge[chosen, fairs[first]] = True
        firms.trained[chosen] = True
        model.trade.any_trained = model.trade.any_trained or len(chosen) > 0
        self._charge("training", len(chosen))

    def _fair_order(self, model) -> np.ndarray:
        """The lever's destinations, the most promising first: market access over the entry hurdle
        (fixed cost plus the sunk cost spread over export_payback_months)."""
        names = self.policy["training"]["destinations"] or DESTINATION_NAMES
        listed = np.array([DESTINATION_NAMES.index(d) for d in names])
        trade = model.trade
        hurdle = trade.fixed_cost[listed] + trade.sunk_cost[listed] / self.p.export_payback_months
        promise = model.environment.market_access()[listed] / hurdle
        return listed[np.argsort(-promise, kind="stable")]

    def _upgrade_technology(self, firms: FirmState, month: int, smes: np.ndarray) -> None:
        """Projects start now; their productivity gain arrives technology_lag_months later
        (`_complete_upgrades`), the standards gain (certification) with it."""
        n = self._affordable("technology", month)
        if n == 0:
            return
        chosen = self._targets("technology", firms, smes[~firms.upgraded[smes]], month)[:n]
        firms.upgraded[chosen] = True
        self._upgrades_due.append((month + round(self.p.technology_lag_months), chosen))
        self._charge("technology", len(chosen))

    def _complete_upgrades(self, firms: FirmState, month: int) -> None:
        due = [rows for when, rows in self._upgrades_due if when <= month]
        if not due:
            return
        self._upgrades_due = [(when, rows) for when, rows in self._upgrades_due if when > month]
        rows = np.concatenate(due)
        rows = rows[firms.status[rows] != CLOSED]
        firms.log_productivity[rows] += self.p.technology_productivity_gain
        firms.log_productivity_mean[rows] += self.p.technology_productivity_gain
        firms.standards[rows] = np.minimum(firms.standards[rows] + self.p.technology_standards_gain, 1.0)

    def _match(self, model, month: int, smes: np.ndarray) -> None:
        """Introduce unlinked SMEs to large buyers of their province, picked in proportion to their
        output (large firms as locomotives; anywhere when the province has none). Every
        introduction is paid; a share matchmaking_link_success of them becomes a supply link."""
        firms, n = model.firms, self._affordable("matchmaking", month)
        if n == 0:
            return
        chosen = self._targets("matchmaking", firms, smes[~model.supply_chain.has_links(smes)], month)[:n]
        buyers = np.flatnonzero((firms.status == ACTIVE) & (firms.size_class == LARGE) & (firms.output_usd > 0))
        if len(chosen) == 0 or len(buyers) == 0:
            return
        rng = self.streams.draw("policy", month, LEVER_INDEX["matchmaking"])
        picked = _pick_by_output(firms, buyers, firms.province[chosen], rng.random(len(chosen)))
        lasting = rng.random(len(chosen)) < self.p.matchmaking_link_success
        model.supply_chain.add_links(firms, chosen[lasting], picked[lasting])
        self._charge("matchmaking", len(chosen))

    def support_listings(self, model, month: int, active: np.ndarray) -> int:
        """Listing applications prepared and paid for by the lever; returns listings."""
        n = self._affordable("listing", month)
        if n == 0:
            return 0
        firms, finance = model.firms, model.finance
        chosen = self._targets("listing", firms, active[finance.listing_eligible(firms, active, month)], month)[:n]
        self._charge("listing", len(chosen))
        return finance.list_supported(firms, chosen, self.streams.draw("policy", month, LEVER_INDEX["listing"]))

    def end_month(self, finance) -> None:
        """Spending booked by finance: the sukuk issuance subsidy and grants (credit lever)."""
        self.spent_usd["sukuk"] = finance.usd["issuance_subsidy"]
        self.spent_usd["credit"] = finance.usd["grants"]


def _within_budget(candidates: np.ndarray, costs: np.ndarray, left: float) -> tuple[np.ndarray, float]:
    """The leading candidates whose costs add up to at most `left`, and what they cost."""
    cumulative = np.cumsum(costs)
    n = int(np.searchsorted(cumulative, left * (1.0 + 1e-12), side="right"))  # the tolerance absorbs rounding
    return candidates[:n], float(cumulative[n - 1]) if n else 0.0


def _mask(names: tuple[str, ...], chosen) -> np.ndarray:
    mask = np.zeros(len(names), bool)
    mask[[names.index(c) for c in chosen]] = True
    return mask


def _group_targets(settings: Mapping, clusters: np.ndarray) -> np.ndarray:
    """Positions of the clusters (of clusters or consortia) that the lever's targeting admits."""
    if settings["targeting"] == "province":
        return np.flatnonzero(_mask(PROVINCE_NAMES, settings["provinces"])[clusters % N_PROVINCES])
    if settings["targeting"] == "cluster":
        return np.flatnonzero(_mask(CLUSTER_NAMES, settings["clusters"])[clusters])
    return np.arange(len(clusters))


def _pick_by_output(firms: FirmState, buyers: np.ndarray, province: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One buyer per draw, with probability proportional to output within the draw's province
    (over all buyers where the province has none): inverse CDF on province-sorted cumulative output."""
    buyers = buyers[np.argsort(firms.province[buyers], kind="stable")]
    cum = np.cumsum(firms.output_usd[buyers])
    counts = np.bincount(firms.province[buyers], minlength=N_PROVINCES)
    stop = np.cumsum(counts)
    start = stop - counts
    base = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    local = counts[province] > 0
    lo = np.where(local, base[province], 0.0)
    hi = np.where(local, cum[np.maximum(stop[province] - 1, 0)], cum[-1])
    at = np.searchsorted(cum, lo + u * (hi - lo), side="right")
    at = np.clip(at, np.where(local, start[province], 0), np.where(local, stop[province] - 1, len(buyers) - 1))
    return buyers[at]
