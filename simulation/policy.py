"""Policy levers: what the government controls, each with a budget, a targeting rule, a cost
per beneficiary and a mechanism in the model (ODD §7.13).

A policy is a set of lever settings (`Policy`), validated here so that the model refuses bad
input whoever builds it (a scenario file, a sweep, a notebook). `LEVERS` describes every
setting: default, kind, allowed values, unit, meaning and source. Budgets are USD a year;
a month may spend what the budget has accrued so far (budget x months / 12) and not yet
spent, so spending never exceeds the budget. At scale < 1 budgets shrink with the sample
and spending is reported at national scale. A lever at zero budget (and its switches at
their defaults) changes nothing.

Targeting picks the beneficiaries among the eligible units:
- "all": every eligible unit, in a random order (the policy stream: common random numbers);
- "ranking": the top-N SMEs of the yearly ranking (the `ranking` lever must run);
- "province" / "cluster": eligible units in the listed provinces / sector x province clusters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .destinations import NAMES as DESTINATION_NAMES
from .errors import InputError
from .geography import PROVINCE_NAMES
from .groups import N_CLUSTERS, cluster_name

CLUSTER_NAMES = tuple(cluster_name(c) for c in range(N_CLUSTERS))
TARGETING = ("all", "ranking", "province", "cluster")


@dataclass(frozen=True)
class Setting:
    """One setting of a lever. kind: "number" (allowed = (lo, hi), hi None for no bound),
    "integer" (the same), "choice" (allowed = the choices), "names" (a list of allowed names)."""

    default: object
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
        "clusters": Setting((), "names", CLUSTER_NAMES, "", 'clusters served, e.g. "food and beverages in Tehran" (targeting = "cluster")'),
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
        "cost_per_beneficiary_usd": _cost(30_000.0, "one consortium's coordination costs for a year"),
        **_targeting(("all", "province", "cluster")),
        "recognition": Setting(0.0, "number", (0.0, 1.0), "share", "legal recognition of consortia (0 none, 1 full: the bill passed)"),
    },
    "clusters": {
        "budget_usd": _budget("cluster development projects"),
        "cost_per_beneficiary_usd": _cost(250_000.0, "one cluster's development project for a year"),
        **_targeting(("all", "province", "cluster")),
    },
    "sukuk": {
        "budget_usd": _budget("subsidy of sukuk issuance costs"),
        "capacity_usd": Setting(10e6, "number", (0.0, None), "USD a month", "sukuk the programme can place (today's pilot: 10 m)"),
        "provinces": Setting(29, "integer", (0, 31), "provinces", "provinces in the programme (the pilot: 29 of 31)", "seed 003"),
        "issuance_subsidy_share": Setting(0.0, "number", (0.0, 1.0), "share", "share of issuance costs the government pays"),
    },
    "listing": {
        "budget_usd": _budget("support for listing on the SME market"),
        "cost_per_beneficiary_usd": _cost(25_000.0, "one firm's listing costs and preparation of its accounts"),
        **_targeting(),
    },
    "infrastructure": {
        "budget_usd": _budget("building and completing park infrastructure"),
        "cost_per_beneficiary_usd": _cost(3e6, "one park's infrastructure upgrade"),
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
        "subsidised_credit_usd": Setting(0.0, "number", (0.0, None), "USD a year", "the government's subsidised credit line (lent, repaid)"),
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


def _check(key: str, setting: Setting, value) -> object:
    """The value in canonical form, or an InputError naming the key and what is allowed."""
    if setting.kind in ("number", "integer"):
        lo, hi = setting.allowed
        span = f"[{lo}, {hi if hi is not None else 'inf'})" if hi is None else f"[{lo}, {hi}]"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(key, f"must be a {'whole ' if setting.kind == 'integer' else ''}number in {span} ({setting.unit}), got {value!r}")
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
        shown = list(setting.allowed) if len(setting.allowed) <= 40 else f"{len(setting.allowed)} names such as {list(setting.allowed[:3])}"
        raise InputError(key, f"unknown name(s) {unknown}; allowed: {shown}")
    if len(set(value)) != len(value):
        raise InputError(key, f"lists a name twice: {list(value)}")
    return tuple(value)


class Policy:
    """Validated lever settings: `policy["clinics"]["budget_usd"]`. Build with `Policy.from_dict`."""

    def __init__(self, settings: dict[str, dict[str, object]]):
        self._settings = settings

    @classmethod
    def from_dict(cls, levers: Mapping | None = None) -> "Policy":
        """Settings from a nested mapping {lever: {setting: value}}; missing ones take their
        defaults. Raises InputError (key ``lever.setting``) for unknown levers or settings,
        wrong types, out-of-range values and inconsistent combinations."""
        levers = {} if levers is None else levers
        if not isinstance(levers, Mapping):
            raise InputError("levers", f"must be a table of levers, got {levers!r}")
        settings = {}
        for lever, specs in LEVERS.items():
            given = levers.get(lever, {})
            if not isinstance(given, Mapping):
                raise InputError(lever, f"must be a table of settings {sorted(specs)}, got {given!r}")
            unknown = sorted(set(given) - set(specs))
            if unknown:
                raise InputError(f"{lever}.{unknown[0]}", f"unknown setting; {lever} has {sorted(specs)}")
            settings[lever] = {name: _check(f"{lever}.{name}", spec, given.get(name, spec.default))
                               for name, spec in specs.items()}
        unknown = sorted(set(levers) - set(LEVERS))
        if unknown:
            raise InputError(str(unknown[0]), f"unknown lever; levers are {sorted(LEVERS)}")
        _check_consistency(settings)
        return cls(settings)

    def __getitem__(self, lever: str) -> Mapping[str, object]:
        return self._settings[lever]

    def __eq__(self, other) -> bool:
        return isinstance(other, Policy) and self._settings == other._settings

    def __repr__(self) -> str:
        changed = {lever: {k: v for k, v in s.items() if v != LEVERS[lever][k].default} for lever, s in self._settings.items()}
        return f"Policy({ {lever: s for lever, s in changed.items() if s} })"

    def to_dict(self) -> dict[str, dict[str, object]]:
        """Every setting, lists as lists (a TOML- and JSON-friendly copy)."""
        return {lever: {k: list(v) if isinstance(v, tuple) else v for k, v in s.items()} for lever, s in self._settings.items()}

    def parameter_overrides(self) -> dict[str, float]:
        """Values of the model parameters that levers set (PARAMETERS_SET_BY_LEVERS), per month where the parameter is monthly."""
        s = self._settings
        return {
            "sukuk_programme_capacity_usd": s["sukuk"]["capacity_usd"],
            "sukuk_programme_provinces": float(s["sukuk"]["provinces"]),
            "consortium_legal_recognition": s["consortia"]["recognition"],
            "grant_budget_usd": s["credit"]["grants_usd"] / 12.0,
            "subsidised_credit_usd": s["credit"]["subsidised_credit_usd"] / 12.0,
        }


def _check_consistency(settings: dict[str, dict[str, object]]) -> None:
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
                raise InputError(f"{lever}.{listed}", f'names are only used with targeting = "{listed[:-1]}", not "{rule}"')
