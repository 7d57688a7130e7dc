"""Scenario files: one complete set of inputs (policy, uncertainties, constants, shocks,
goals, seed, horizon) as TOML, validated before anything runs.

    description = "One line saying what the scenario is"
    seed = 1                  # integer >= 0: the root of every random draw
    months = 48               # horizon, integer in [1, 600]
    scale = 1.0               # share of the real population simulated, in (0, 1]
    replications = 1          # optional, integer in [1, 1000]

    [levers.clinics]          # simulation.policy.LEVERS: any lever, any of its settings
    budget_usd = 20e6
    [uncertainties]           # only names in simulation.parameters.UNCERTAINTIES
    inflation_rate = 0.55
    [constants]               # any other field of simulation.parameters.Parameters
    abandonment_rate = 0.02
    [[shocks]]                # simulation.environment.Shock, at months <= months
    kind = "sanctions"
    month = 6
    destination = "Iraq"
    months = 24
    [goals.exports]           # changes or adds goals (experiments/inputs/goals.py)
    at_least = 20e9

Everything is checked: unknown keys, types, ranges, and combinations (a parameter given
twice, a lever-controlled parameter given as a constant, a shock or a goal of the file
after its horizon). The first problem found is raised as one `InputFileError` naming the
file, the dotted key and what is allowed.

Replication r runs with `numpy.random.SeedSequence(seed, spawn_key=(r,))`: deterministic,
and independent of how many replications there are.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from experiments.errors import FlagError, from_file, unknown_name
from experiments.files import find_toml, parse_toml, read_toml_text, sha256_text
from experiments.inputs import checks
from experiments.inputs.goals import Goal, load_goals, within_horizon
from simulation.environment import Shock
from simulation.errors import InputError
from simulation.parameters import UNCERTAINTIES, make_parameters, parameter_metadata
from simulation.policy import PARAMETERS_SET_BY_LEVERS, Policy

__all__ = [
    "CHECKS",
    "RUN_SETTINGS",
    "SCENARIO_DIR",
    "RunSettings",
    "Scenario",
    "load_scenario",
    "parameter_value",
    "parse_scenario",
    "run_settings",
    "scenario_path",
    "scenario_toml",
    "shipped_scenarios",
    "shock_to_dict",
]

SCENARIO_DIR = Path(__file__).with_name("scenarios")
MAX_MONTHS = 600
MAX_REPLICATIONS = 1000
TOP_LEVEL_KEYS = (
    "description",
    "seed",
    "months",
    "scale",
    "replications",
    "levers",
    "uncertainties",
    "constants",
    "shocks",
    "goals",
)
REQUIRED_KEYS = ("description", "seed", "months")
RUN_SETTINGS = ("seed", "months", "scale", "replications")  # may be overridden on the command line
PARAMETERS_LISTED = "the model's parameters are listed in docs/ODD.md, section 8"


# --- single values ------------------------------------------------------------------------


def _description(key: str, value: object) -> str:
    return checks.one_line(key, value, "saying what it is")


def _seed(key: str, value: object) -> int:
    return checks.whole(key, value, 0)


def _months(key: str, value: object) -> int:
    return checks.whole(key, value, 1, MAX_MONTHS)


def _scale(key: str, value: object) -> float:
    scale = checks.number(key, value, None, 1.0, what="a number in (0, 1] (1.0 = every real unit)")
    if scale <= 0:
        raise InputError(key, f"must be a number in (0, 1] (1.0 = every real unit), got {value!r}")
    return scale


def _replications(key: str, value: object) -> int:
    return checks.whole(key, value, 1, MAX_REPLICATIONS)


# The run settings of scenario files, sweep specs and the command line, by name (each check
# returns its setting's type: `run_settings` below keeps those types).
CHECKS: dict[str, Callable[[str, object], object]] = {
    "description": _description,
    "seed": _seed,
    "months": _months,
    "scale": _scale,
    "replications": _replications,
}
DEFAULTS = {"scale": 1.0, "replications": 1}


class RunSettings(TypedDict):
    description: str
    seed: int
    months: int
    scale: float
    replications: int


def run_settings(data: Mapping) -> RunSettings:
    """The run settings of a scenario file's or a sweep spec's top level, checked in the order of
    CHECKS (scale and replications default to DEFAULTS)."""

    def given(key: str) -> object:
        return data.get(key, DEFAULTS.get(key))

    return {
        "description": _description("description", given("description")),
        "seed": _seed("seed", given("seed")),
        "months": _months("months", given("months")),
        "scale": _scale("scale", given("scale")),
        "replications": _replications("replications", given("replications")),
    }


# --- sections -------------------------------------------------------------------------------


def _policy(levers) -> Policy:
    try:
        return Policy.from_dict(checks.table("levers", levers, "levers, e.g. [levers.clinics]"))
    except InputError as error:
        raise error.under("levers") from None


def parameter_value(key: str, name: str, value) -> float | int:
    """A model parameter's value checked against its type and allowed range (InputError naming `key`)."""
    meta = parameter_metadata()[name]
    lo, hi = meta["allowed"]
    if isinstance(meta["default"], int):
        return checks.whole(key, value, lo, hi)
    return checks.number(key, value, lo, hi, meta["unit"])


def _parameters(section: str, table: Mapping, other: Mapping) -> dict[str, float]:
    """Values of [uncertainties] or [constants]; `other` is the other section (no name twice)."""
    metadata = parameter_metadata()
    is_uncertainty = section == "uncertainties"
    values = {}
    for name, value in table.items():
        key = f"{section}.{name}"
        if name in PARAMETERS_SET_BY_LEVERS:
            raise InputError(
                key, f"is set by the lever setting levers.{PARAMETERS_SET_BY_LEVERS[name]}; set that instead"
            )
        if name not in metadata:
            listing = None if is_uncertainty else PARAMETERS_LISTED
            raise InputError(
                key, unknown_name(name, UNCERTAINTIES if is_uncertainty else metadata, "parameter", listing)
            )
        if name in other:
            right = "uncertainties" if name in UNCERTAINTIES else "constants"
            wrong = "constants" if right == "uncertainties" else "uncertainties"
            raise InputError(
                f"{wrong}.{name}", f"is given under both [uncertainties] and [constants]; give it once, under [{right}]"
            )
        if is_uncertainty and name not in UNCERTAINTIES:
            raise InputError(
                key,
                "is a constant, not an uncertainty: give it under [constants] (uncertainties: "
                f"{', '.join(UNCERTAINTIES)})",
            )
        if not is_uncertainty and name in UNCERTAINTIES:
            raise InputError(key, "is an uncertainty, not a constant: give it under [uncertainties]")
        values[name] = parameter_value(key, name, value)
    return values


def _check_parameters_together(uncertainties: dict, constants: dict) -> None:
    """The model's own cross-parameter rules (e.g. population counts that must nest)."""
    try:
        make_parameters(**uncertainties, **constants)
    except InputError as error:
        section = "uncertainties" if error.key in uncertainties else "constants"
        raise InputError(f"{section}.{error.key}", error.message) from None


def _shocks(specs, months: int) -> tuple[Shock, ...]:
    if not isinstance(specs, list):
        raise InputError("shocks", f"must be an array of tables, one [[shocks]] each, got {specs!r}")
    shocks = []
    for i, spec in enumerate(specs):
        try:
            shock = Shock.from_dict(spec)
        except InputError as error:
            raise error.under(f"shocks[{i}]") from None
        shocks.append(shock)
    _check_shocks_within(shocks, months, "months")
    return tuple(shocks)


def _check_shocks_within(shocks, months: int, source: str) -> None:
    for i, shock in enumerate(shocks):
        if shock.month > months:
            raise InputError(
                f"shocks[{i}].month",
                f"month {shock.month} is after the run's last month ({source} = {months}); "
                f"a shock must come in months [1, {months}]",
            )


# --- the scenario ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file: its content, its text and the text's sha256."""

    name: str
    file: str
    text: str
    sha256: str
    description: str
    seed: int
    months: int
    scale: float
    replications: int
    policy: Policy
    uncertainties: dict[str, float]
    constants: dict[str, float]
    shocks: tuple[Shock, ...]
    goals: dict[str, Goal]
    overrides: dict[str, float] = field(default_factory=dict)  # run settings given on the command line

    def with_overrides(self, **settings) -> Scenario:
        """The scenario with command-line values of seed, months, scale or replications (None:
        keep the file's). Each is checked like the file's value; shocks must still fall within
        the horizon (goals after it are reported as not reached, not refused)."""
        given = {name: value for name, value in settings.items() if value is not None}
        checked: dict[str, Any] = {}  # run settings by name (int or float): they feed dataclasses.replace
        for name, value in given.items():
            if name not in RUN_SETTINGS:
                raise FlagError(f"--{name}", f"cannot be set on the command line; allowed: {', '.join(RUN_SETTINGS)}")
            try:
                checked[name] = CHECKS[name](f"--{name}", value)
            except InputError as error:
                raise FlagError(error.key, error.message) from None
        months = checked.get("months", self.months)
        try:
            _check_shocks_within(self.shocks, months, "--months")
        except InputError as error:
            raise from_file(self.file, error) from None
        return dataclasses.replace(self, **checked, overrides={**self.overrides, **checked})

    def file_key(self, key: str) -> str:
        """The file's dotted key for a key the model names (a parameter's name, scale, ...)."""
        if key in self.uncertainties:
            return f"uncertainties.{key}"
        if key in self.constants:
            return f"constants.{key}"
        if key in PARAMETERS_SET_BY_LEVERS:
            return f"levers.{PARAMETERS_SET_BY_LEVERS[key]}"
        return key

    def replication_seed(self, replication: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(replication,))

    def model_kwargs(self, replication: int = 0) -> dict:
        """Keyword arguments of `SMEModel` for one replication."""
        return dict(
            rng=self.replication_seed(replication),
            scale=self.scale,
            policy=self.policy,
            shocks=self.shocks,
            **self.uncertainties,
            **self.constants,
        )

    def to_dict(self) -> dict:
        """The validated content as plain data (every lever setting, defaults included)."""
        return {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "months": self.months,
            "scale": self.scale,
            "replications": self.replications,
            "levers": self.policy.to_dict(),
            "uncertainties": dict(self.uncertainties),
            "constants": dict(self.constants),
            "shocks": [shock_to_dict(s) for s in self.shocks],
            "goals": {name: goal.to_dict() for name, goal in self.goals.items()},
        }


def shock_to_dict(shock: Shock) -> dict:
    if shock.kind == "sanctions":
        spec = {"kind": shock.kind, "month": shock.month, "destination": shock.destination, "months": shock.months}
        return spec if shock.cut is None else {**spec, "cut": shock.cut}
    return {"kind": shock.kind, "month": shock.month, "depreciation": shock.depreciation}


def scenario_toml(scenario: Scenario, comment: str = "") -> str:
    """The scenario as a scenario file's TOML text (every lever setting; the goals that differ
    from experiments/goals.toml), which `parse_scenario` reads back to the same content; `comment`
    lines open the file."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"{key} = {_toml_value(getattr(scenario, key))}" for key in ("description", *RUN_SETTINGS)]
    tables = {f"levers.{lever}": spec for lever, spec in scenario.policy.to_dict().items()}
    tables |= {"uncertainties": scenario.uncertainties, "constants": scenario.constants}
    defaults = load_goals()
    tables |= {f"goals.{n}": g.to_dict() for n, g in scenario.goals.items() if defaults.get(n) != g}
    for name, table in tables.items():
        if table:
            lines += ["", f"[{name}]", *(f"{key} = {_toml_value(value)}" for key, value in table.items())]
    for shock in scenario.shocks:
        lines += ["", "[[shocks]]", *(f"{k} = {_toml_value(v)}" for k, v in shock_to_dict(shock).items())]
    return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    """A TOML value: JSON's strings and arrays are TOML's; floats keep their exact repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def parse_scenario(text: str, file: str, name: str) -> Scenario:
    """Validate a scenario's TOML text; InputFileError (naming `file`) on the first problem."""
    data = parse_toml(text, file)
    try:
        content = _content(data)
    except InputError as error:
        raise from_file(file, error) from None
    return Scenario(name=name, file=file, text=text, sha256=sha256_text(text), **content)


def _content(data: dict) -> dict:
    checks.unknown_keys("", data, TOP_LEVEL_KEYS, "top-level key")
    for key in REQUIRED_KEYS:
        if key not in data:
            raise InputError(key, f"missing; a scenario needs {', '.join(REQUIRED_KEYS)}")
    settings = run_settings(data)
    uncertain = checks.table("uncertainties", data.get("uncertainties", {}), "uncertainties (model parameters)")
    fixed = checks.table("constants", data.get("constants", {}), "constants (model parameters)")
    uncertainties = _parameters("uncertainties", uncertain, fixed)
    constants = _parameters("constants", fixed, uncertain)
    _check_parameters_together(uncertainties, constants)
    return dict(
        **settings,
        policy=_policy(data.get("levers", {})),
        uncertainties=uncertainties,
        constants=constants,
        shocks=_shocks(data.get("shocks", []), settings["months"]),
        goals=within_horizon(
            data.get("goals", {}), load_goals(), settings["months"], "the scenario's", "the default goals"
        ),
    )


# --- finding scenario files ----------------------------------------------------------------


def shipped_scenarios() -> dict[str, Path]:
    """The scenarios shipped in experiments/inputs/scenarios/, by name."""
    return {path.stem: path for path in sorted(SCENARIO_DIR.glob("*.toml"))}


def scenario_path(source: str | Path) -> Path:
    """A scenario file: `source` itself if it is a file, else the shipped scenario of that name."""
    return find_toml(source, shipped_scenarios(), "scenario")


def load_scenario(source: str | Path) -> Scenario:
    """Read and validate a scenario file (a path, or the name of a shipped scenario)."""
    path = scenario_path(source)
    text = read_toml_text(path)
    return parse_scenario(text, str(path), path.stem)
