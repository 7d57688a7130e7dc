"""Search specs: which levers to search over which ranges, the goals to meet with which
probability, over which uncertainty ensemble, at what scale, and how many evaluations; TOML,
validated before anything runs.

    description = "The cheapest mix of levers that activates 25,000 units in four years"
    base = "baseline"        # shipped scenario name or path (relative to this file)
    seed = 1                 # root seed of the search rounds' draws and seeds
    months = 48
    scale = 0.05             # in (0, 1], default 1.0
    seeds = 2                # runs per uncertainty draw (replications), default 1
    probability = 0.8        # p: the required probability of meeting every goal of a goal set
    cost_cap_usd = 2e9       # optional: at most this fiscal cost by the horizon (policy_spend_usd)

    [levers.clinics.budget_usd]   # what the search varies: a numeric lever setting's range...
    low = 0
    high = 100e6
    [levers.listing.targeting]    # ...or a choice setting's choices
    choices = ["all", "ranking"]

    [fixed.ranking]          # lever settings over the base's, the same in every candidate
    budget_usd = 0.5e6

    [goals.activation_25k]   # changes or adds goals, as in scenario files
    indicator = "units_activated_distinct"
    at_least = 25_000
    month = 48
    [goal_sets]              # the goals to meet together, by goal set; one recommendation each
    interim = ["activation_25k"]

    [ensemble]               # the uncertainty ensemble: a Latin hypercube of `draws` joint draws
    draws = 8
    [ensemble.uncertainties."uncertainties.inflation_rate"]   # keys and settings as sweep factors
    low = 0.25
    high = 0.55

    [search]
    initial = 12             # candidates of round 1 (a Latin hypercube over the levers)
    batch = 6                # candidates the surrogates propose per later round
    evaluations = 30         # the budget: candidates evaluated by all rounds together

    [verification]
    shortlist = 3            # candidates per goal set verified on fresh draws and seeds
    draws = 8                # fresh draws per verification batch (default: ensemble.draws)
    batches = 4              # at most this many batches (the verification's budget)
    seed = 1001              # root seed of batch 1 (default seed + 1000); batch k: seed + k - 1
    confidence = 0.95        # of the intervals that decide a claim

The budgets (search.evaluations, verification.batches) may be raised between two runs of a
search into the same directory: they are not part of the spec's fingerprint, so the search
carries on from what it has. The ensemble, seeds, scale and base are validated by building
the sweep spec of the search's first round (experiments.inputs.sweep_spec): the first problem
is one `InputFileError` naming this file, the dotted key and what is allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from experiments.errors import InputFileError, from_file
from experiments.files import canonical_json, find_toml, is_file, parse_toml, read_toml_text, sha256_text
from experiments.inputs import checks
from experiments.inputs.goals import Goal
from experiments.inputs.keys import parse_key
from experiments.inputs.sweep_spec import SweepSpec, parse_sweep_spec
from experiments.search.toml_text import toml_document
from simulation.errors import InputError
from simulation.policy import LEVERS, Policy

__all__ = [
    "SEARCH_DIR",
    "SearchLever",
    "SearchSpec",
    "load_search_spec",
    "parse_search_spec",
    "shipped_searches",
    "sweep_text",
]

SEARCH_DIR = Path(__file__).resolve().parents[1] / "inputs" / "searches"
TOP_LEVEL_KEYS = (
    "description",
    "base",
    "seed",
    "months",
    "scale",
    "seeds",
    "probability",
    "cost_cap_usd",
    "levers",
    "fixed",
    "goals",
    "goal_sets",
    "ensemble",
    "search",
    "verification",
)
REQUIRED_KEYS = ("description", "seed", "months", "probability", "levers", "goal_sets")
ENSEMBLE_KEYS = ("draws", "uncertainties")
SEARCH_KEYS = ("initial", "batch", "evaluations")
VERIFICATION_KEYS = ("shortlist", "draws", "batches", "seed", "confidence")
MAX_CANDIDATES = 10_000
MAX_DRAWS = 10_000
VERIFY_SEED_OFFSET = 1000
DEFAULT_BASE = "baseline"
SPEND = "policy_spend_usd"  # the fiscal cost: what the government actually spends by the horizon


@dataclass(frozen=True)
class SearchLever:
    """A lever setting the search varies: a number range (`low`, `high`; whole numbers if
    `integer`) or `choices`."""

    key: str  # levers.<lever>.<setting>
    lever: str
    setting: str
    low: float | None = None
    high: float | None = None
    integer: bool = False
    choices: tuple[str, ...] = ()

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def to_dict(self) -> dict:
        if self.is_choice:
            return {"choices": list(self.choices)}
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True)
class SearchSpec:
    name: str
    file: str
    text: str
    sha256: str
    description: str
    base_source: str  # the base as a generated sweep spec names it: a shipped name or an absolute path
    seed: int
    months: int
    scale: float
    seeds: int
    probability: float
    cost_cap_usd: float | None
    levers: tuple[SearchLever, ...]
    fixed: dict[str, dict]  # lever -> settings
    goals_table: dict  # the spec's own [goals] table, as written (the generated sweeps carry it)
    goals: dict[str, Goal]  # every goal a goal set names
    goal_sets: dict[str, tuple[str, ...]]
    ensemble: dict[str, dict]  # factor key -> its settings, as sweep factors
    draws: int
    initial: int
    batch: int
    evaluations: int
    shortlist: int
    verify_draws: int
    verify_batches: int
    verify_seed: int
    confidence: float
    probe: SweepSpec = field(compare=False, repr=False)  # the first round's shape, validated
    fingerprint: str = field(default="", compare=False)

    def resolved(self) -> dict:
        """What decides the candidates and their reading, budgets excepted (they may grow)."""
        return {
            "description": self.description,
            "base": {"source": self.base_source, "sha256": self.probe.base.sha256},
            "seed": self.seed,
            "months": self.months,
            "scale": self.scale,
            "seeds": self.seeds,
            "probability": self.probability,
            "cost_cap_usd": self.cost_cap_usd,
            "levers": {lever.key: lever.to_dict() for lever in self.levers},
            "fixed": self.fixed,
            "goals": {name: goal.to_dict() for name, goal in self.goals.items()},
            "goal_sets": {name: list(goals) for name, goals in self.goal_sets.items()},
            "ensemble": {"draws": self.draws, "uncertainties": self.ensemble},
            "search": {"initial": self.initial, "batch": self.batch},
            "verification": {
                "shortlist": self.shortlist,
                "draws": self.verify_draws,
                "seed": self.verify_seed,
                "confidence": self.confidence,
            },
        }

    def base_levers(self) -> dict[str, dict]:
        """The base's complete lever settings with the fixed ones over them."""
        levers = self.probe.base.policy.to_dict()
        for lever, settings in self.fixed.items():
            levers[lever] = {**levers[lever], **settings}
        return levers

    def policy_levers(self, values: Mapping[str, float | str] | None = None) -> dict[str, dict]:
        """The settings a candidate (the search levers' `values` by key; None: the baseline, the
        base with the fixed settings) changes from the base's, as a sweep policy's levers table."""
        levers = {lever: dict(settings) for lever, settings in self.fixed.items()}
        for lever in self.levers:
            if values is not None:
                levers.setdefault(lever.lever, {})[lever.setting] = values[lever.key]
        base = self.probe.base.policy
        changed = {
            lever: {k: v for k, v in settings.items() if base[lever][k] != v} for lever, settings in levers.items()
        }
        return {lever: settings for lever, settings in changed.items() if settings}


# --- parts ----------------------------------------------------------------------------------


def _base_source(source, spec_dir: Path) -> str:
    if not isinstance(source, str) or not source.strip():
        raise InputError("base", f"must be a shipped scenario's name or a scenario file's path, got {source!r}")
    local = spec_dir / source
    return str(local.resolve()) if is_file(local) else source


def _lever(lever: str, setting: str, table) -> SearchLever:
    key = f"levers.{lever}.{setting}"
    if lever not in LEVERS:
        raise InputError(f"levers.{lever}", f"unknown lever; allowed: {', '.join(LEVERS)}")
    if setting not in LEVERS[lever]:
        raise InputError(key, f"unknown setting of {lever}; allowed: {', '.join(LEVERS[lever])}")
    meta = LEVERS[lever][setting]
    table = checks.table(key, table, "low and high, or choices")
    if meta.kind == "choice":
        checks.unknown_keys(key, table, ("choices",), "setting of a choice lever")
        choices = table.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise InputError(f"{key}.choices", f"must list at least two of {list(meta.allowed)}, got {choices!r}")
        for i, choice in enumerate(choices):
            if choice not in meta.allowed:
                raise InputError(f"{key}.choices[{i}]", f"must be one of {list(meta.allowed)}, got {choice!r}")
        if len(set(choices)) != len(choices):
            raise InputError(f"{key}.choices", f"lists a choice twice: {choices}")
        return SearchLever(key, lever, setting, choices=tuple(choices))
    if meta.kind not in ("number", "integer"):
        raise InputError(key, "is a list of names: set it in [fixed], the search varies numbers and choices")
    checks.unknown_keys(key, table, ("low", "high"), "setting of a numeric lever")
    lo, hi = meta.allowed
    integer = meta.kind == "integer"
    bounds = {}
    for name in ("low", "high"):
        if name not in table:
            raise InputError(f"{key}.{name}", "missing: a numeric lever is searched between low and high")
        bounds[name] = checks.number(f"{key}.{name}", table[name], lo, hi, meta.unit, integer=integer)
    if bounds["low"] >= bounds["high"]:
        raise InputError(f"{key}.high", f"must be above low ({bounds['low']!r}), got {bounds['high']!r}")
    return SearchLever(key, lever, setting, float(bounds["low"]), float(bounds["high"]), integer)


def _levers(table) -> tuple[SearchLever, ...]:
    table = checks.table("levers", table, "levers, e.g. [levers.clinics.budget_usd] with low and high")
    found = []
    for lever, settings in table.items():
        settings = checks.table(f"levers.{lever}", settings, "lever settings, each with low and high or choices")
        found += [_lever(lever, setting, spec) for setting, spec in settings.items()]
    if not found:
        raise InputError(
            "levers", "is empty: name at least one lever setting to search, e.g. [levers.clinics.budget_usd]"
        )
    return tuple(found)


def _fixed(table, levers: tuple[SearchLever, ...]) -> dict[str, dict]:
    table = checks.table("fixed", table, "lever settings, e.g. [fixed.ranking] budget_usd = 0.5e6")
    searched = {lever.key for lever in levers}
    fixed = {}
    for lever, settings in table.items():
        settings = checks.table(f"fixed.{lever}", settings, "lever settings")
        for setting in settings:
            if f"levers.{lever}.{setting}" in searched:
                raise InputError(
                    f"fixed.{lever}.{setting}", f"is also searched ([levers.{lever}.{setting}]); give it once"
                )
        fixed[lever] = dict(settings)
    try:
        Policy.from_dict(fixed)
    except InputError as error:
        raise error.under("fixed") from None
    return fixed


def _check_extremes(levers: tuple[SearchLever, ...], fixed: dict[str, dict]) -> None:
    """Every candidate must be a policy the model accepts: each lever at its ends, the others fixed."""
    for lever in levers:
        ends: tuple = lever.choices or (lever.low, lever.high)
        for value in ends:
            settings = {k: dict(v) for k, v in fixed.items()}
            settings.setdefault(lever.lever, {})[lever.setting] = int(value) if lever.integer else value
            try:
                Policy.from_dict(settings)
            except InputError as error:
                raise InputError(lever.key, f"at {value!r}: levers.{error.key}: {error.message}") from None


def _goal_sets(table, goals: Mapping[str, Goal]) -> dict[str, tuple[str, ...]]:
    table = checks.table("goal_sets", table, 'goal sets, e.g. activation = ["activation"]')
    if not table:
        raise InputError("goal_sets", 'is empty: name at least one goal set, e.g. activation = ["activation"]')
    sets = {}
    for name, names in table.items():
        checks.name(f"goal_sets.{name}", name, "a goal set's name")
        if not isinstance(names, list) or not names:
            raise InputError(f"goal_sets.{name}", f'must list goal names, e.g. ["activation"], got {names!r}')
        for i, goal in enumerate(names):
            if goal not in goals:
                raise InputError(
                    f"goal_sets.{name}[{i}]",
                    f"unknown goal {goal!r}; goals (experiments/inputs/goals.toml and [goals]): {', '.join(goals)}",
                )
        if len(set(names)) != len(names):
            raise InputError(f"goal_sets.{name}", f"lists a goal twice: {names}")
        sets[name] = tuple(names)
    return sets


def _ensemble(table, levers: tuple[SearchLever, ...]) -> tuple[int, dict[str, dict]]:
    table = checks.table("ensemble", table, 'draws and [ensemble.uncertainties."<key>"] tables')
    checks.unknown_keys("ensemble", table, ENSEMBLE_KEYS, "ensemble setting")
    factors = dict(checks.table("ensemble.uncertainties", table.get("uncertainties", {}), "uncertainties"))
    for key in factors:
        try:
            flat = parse_key(key)
        except InputError as error:
            raise InputError(f'ensemble.uncertainties."{key}"', error.message) from None
        if flat.is_lever:
            raise InputError(f'ensemble.uncertainties."{key}"', "is a lever setting: search it under [levers]")
    if not factors:
        if "draws" in table:
            raise InputError("ensemble.draws", "with no [ensemble.uncertainties] there is one world: leave draws out")
        return 1, {}
    if "draws" not in table:
        raise InputError("ensemble.draws", "missing: how many joint draws of the uncertainties every candidate meets")
    return checks.whole("ensemble.draws", table["draws"], 2, MAX_DRAWS), factors


def _budgets(data: Mapping, levers: int, draws: int, seed: int) -> dict:
    search = checks.table("search", data.get("search", {}), "search settings (initial, batch, evaluations)")
    checks.unknown_keys("search", search, SEARCH_KEYS, "search setting")
    initial = checks.whole("search.initial", search.get("initial", max(8, 4 * levers)), 2, MAX_CANDIDATES)
    batch = checks.whole("search.batch", search.get("batch", 4), 1, MAX_CANDIDATES)
    evaluations = checks.whole(
        "search.evaluations",
        search.get("evaluations", initial + 3 * batch),
        initial,
        MAX_CANDIDATES,
        f" (at least search.initial = {initial})",
    )
    verify = checks.table("verification", data.get("verification", {}), "verification settings")
    checks.unknown_keys("verification", verify, VERIFICATION_KEYS, "verification setting")
    batches = checks.whole("verification.batches", verify.get("batches", 4), 1, 100)
    verify_seed = checks.whole("verification.seed", verify.get("seed", seed + VERIFY_SEED_OFFSET), 0)
    if verify_seed <= seed < verify_seed + batches:
        raise InputError(
            "verification.seed",
            f"batches use root seeds {verify_seed} to {verify_seed + batches - 1}, which include the search's "
            f"seed {seed}: verification needs fresh seeds (e.g. seed = {seed + VERIFY_SEED_OFFSET})",
        )
    confidence = checks.number("verification.confidence", verify.get("confidence", 0.95), 0.5, 0.999)
    return {
        "initial": initial,
        "batch": batch,
        "evaluations": evaluations,
        "shortlist": checks.whole("verification.shortlist", verify.get("shortlist", 3), 1, 20),
        "verify_draws": checks.whole("verification.draws", verify.get("draws", draws), 1, MAX_DRAWS),
        "verify_batches": batches,
        "verify_seed": verify_seed,
        "confidence": confidence,
    }


# --- the generated sweeps -------------------------------------------------------------------


def sweep_text(
    spec: SearchSpec | Mapping,
    description: str,
    seed: int,
    draws: int,
    policies: Mapping[str, Mapping[str, dict]],
    header: str = "",
) -> str:
    """The TOML text of a sweep spec that runs `policies` (name -> complete lever settings) on
    `draws` joint draws of the ensemble from root `seed`: every policy meets the same draws and
    seeds (experiments.sweeps.design), which is what makes candidates' comparisons paired."""
    get = spec.get if isinstance(spec, Mapping) else lambda key: getattr(spec, key)
    ensemble = get("ensemble")
    data: dict = {
        "description": description,
        "base": get("base_source"),
        "seed": seed,
        "months": get("months"),
        "scale": get("scale"),
        "replications": get("seeds"),
        "design": {"kind": "latin_hypercube", "samples": draws} if ensemble else {"kind": "factorial"},
        "factors": dict(ensemble or {}),
        "goals": get("goals_table"),
    }
    if policies:  # (none: the base's levers alone)
        data["policies"] = {name: {"levers": levers} for name, levers in policies.items()}
    return toml_document(data, header)


PROBE_KEYS = {"replications": "seeds", "design.samples": "ensemble.draws", "design.kind": "ensemble"}


def _probe(fields: dict, file: str) -> SweepSpec:
    """The search's ensemble, scale, seeds and goals as a sweep spec of the base alone: validated
    as sweep specs are, its problems named by this file's keys."""
    text = sweep_text(fields, fields["description"], fields["seed"], fields["draws"], {})
    try:
        return parse_sweep_spec(text, file, "probe")
    except InputFileError as error:
        key = error.key or ""
        if key.startswith("factors."):
            key = "ensemble.uncertainties." + key[len("factors.") :]
        for probe, ours in PROBE_KEYS.items():
            if key == probe or key.startswith(probe + "."):
                key = ours + key[len(probe) :]
        raise InputFileError(file, key or None, error.message) from None


# --- the whole file -------------------------------------------------------------------------


def parse_search_spec(text: str, file: str, name: str) -> SearchSpec:
    """Validate a search spec's TOML text; InputFileError naming `file` on the first problem."""
    data = parse_toml(text, file)
    try:
        fields = _content(data, Path(file).parent)
    except InputError as error:
        raise from_file(file, error) from None
    probe = _probe(fields, file)
    try:
        goal_sets = _goal_sets(data["goal_sets"], probe.goals)
    except InputError as error:
        raise from_file(file, error) from None
    goals = {name: probe.goals[name] for names in goal_sets.values() for name in names}
    for set_name, names in goal_sets.items():
        for i, goal in enumerate(names):
            if goals[goal].month_for(fields["months"]) > fields["months"]:
                raise InputFileError(
                    file,
                    f"goal_sets.{set_name}[{i}]",
                    f"goal {goal!r} is checked at month {goals[goal].month}, after the search's last month "
                    f"(months = {fields['months']}): change its month in [goals.{goal}] or search longer",
                )
    fields["scale"] = probe.scale
    spec = SearchSpec(
        name=name,
        file=file,
        text=text,
        sha256=sha256_text(text),
        goals=goals,
        goal_sets=goal_sets,
        probe=probe,
        **fields,
    )
    return dataclasses.replace(spec, fingerprint=sha256_text(canonical_json(spec.resolved())))


def _content(data: dict, spec_dir: Path) -> dict:
    checks.unknown_keys("", data, TOP_LEVEL_KEYS, "top-level key")
    for key in REQUIRED_KEYS:
        if key not in data:
            raise InputError(key, f"missing; a search spec needs {', '.join(REQUIRED_KEYS)}")
    description = checks.one_line("description", data["description"], "saying what the search is for")
    seed = checks.whole("seed", data["seed"], 0)
    months = checks.whole("months", data["months"], 1, 600)
    seeds = checks.whole("seeds", data.get("seeds", 1), 1, 1000)
    probability = checks.number("probability", data["probability"], 0.0, 1.0)
    if not 0 < probability < 1:
        raise InputError("probability", f"must lie strictly between 0 and 1, got {data['probability']!r}")
    cap = data.get("cost_cap_usd")
    if cap is not None:
        cap = checks.number("cost_cap_usd", cap, 0.0, None, "USD")
    levers = _levers(data["levers"])
    fixed = _fixed(data.get("fixed", {}), levers)
    _check_extremes(levers, fixed)
    draws, ensemble = _ensemble(data.get("ensemble", {}), levers)
    goals_table = dict(checks.table("goals", data.get("goals", {}), "goals, one [goals.<name>] each"))
    return {
        "description": description,
        "base_source": _base_source(data.get("base", DEFAULT_BASE), spec_dir),
        "seed": seed,
        "months": months,
        "scale": data.get("scale", 1.0),  # checked by the probe
        "seeds": seeds,
        "probability": probability,
        "cost_cap_usd": cap,
        "levers": levers,
        "fixed": fixed,
        "goals_table": goals_table,
        "ensemble": ensemble,
        "draws": draws,
        **_budgets(data, len(levers), draws, seed),
    }


# --- finding spec files ---------------------------------------------------------------------


def shipped_searches() -> dict[str, Path]:
    """The search specs shipped in experiments/inputs/searches/, by name."""
    return {path.stem: path for path in sorted(SEARCH_DIR.glob("*.toml"))}


def load_search_spec(source: str | Path) -> SearchSpec:
    """Read and validate a search spec (a path, or the name of a shipped one)."""
    path = find_toml(source, shipped_searches(), "search spec")
    return parse_search_spec(read_toml_text(path), str(path), path.stem)
