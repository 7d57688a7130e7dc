"""The model as a plain function, so that other tools can drive it: flat parameters in,
indicators out.

    from experiments.adapter import run_model, simulate

    run_model({"inflation_rate": 0.5, "levers.clinics.budget_usd": 20e6}, seed=3, months=24, scale=0.1)
    # {'active_units': ..., 'exports_usd': ..., ...}: the contract indicators at month 24
    simulate({"uncertainties.inflation_rate": 0.5}, months=24, scale=0.1)   # months 0..24, one row each

Keys of the flat parameter dict (or keyword arguments, which EMA Workbench uses):

- ``levers.<lever>.<setting>``: a setting of `simulation.policy.LEVERS`, e.g. ``levers.clinics.budget_usd``;
- ``uncertainties.<name>``: one of `simulation.parameters.UNCERTAINTIES`;
- ``constants.<name>``: any other field of `simulation.parameters.Parameters`;
- ``<name>``: a parameter by its bare name, uncertainty or constant.

`base` (a `experiments.scenario.Scenario`, a shipped scenario's name or a scenario file) gives
the defaults: its levers, uncertainties, constants and shocks; the keys above change them.
Its seed, months and scale are not used: `seed`, `months` and `scale` are the arguments'.
Every value is checked as in scenario files; a bad key or value raises `ScenarioError`
naming the key and what is allowed. The same inputs and seed give the same outcomes in any
process (the model draws only from its seed).

EMA Workbench (not a dependency; `pip install ema_workbench`)::

    from ema_workbench import Constant, Model, RealParameter, ScalarOutcome, perform_experiments
    from experiments.adapter import run_model

    model = Model("smesim", function=run_model)      # EMA calls run_model(**experiment)
    model.uncertainties = [RealParameter("inflation_rate", 0.3, 0.55),
                           RealParameter("foreign_demand_growth", 0.0, 0.06)]
    model.levers = [RealParameter("clinics", 0, 20e6, variable_name="levers.clinics.budget_usd")]
    model.constants = [Constant("months", 24), Constant("scale", 0.05), Constant("seed", 1)]
    model.outcomes = [ScalarOutcome("exports_usd"), ScalarOutcome("units_activated")]
    experiments, outcomes = perform_experiments(model, scenarios=50, policies=4)

SALib (not a dependency; `pip install SALib`)::

    import numpy as np
    from SALib.analyze import sobol
    from SALib.sample import saltelli
    from experiments.adapter import run_model

    problem = {"num_vars": 2, "names": ["inflation_rate", "levers.clinics.budget_usd"],
               "bounds": [[0.3, 0.55], [0.0, 20e6]]}
    X = saltelli.sample(problem, 64)                 # 64 x (2 d + 2) rows
    Y = np.array([run_model(dict(zip(problem["names"], x)), seed=1, months=24, scale=0.05)["exports_usd"]
                  for x in X])
    indices = sobol.analyze(problem, Y)              # S1, ST with confidence intervals

Each call builds and runs one model; for many runs on many cores use `smesim sweep`
(README, "Sweeps"), which stores every run and resumes after a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.errors import ScenarioError, unknown_name
from experiments.scenario import CHECKS, PARAMETERS_LISTED, Scenario, load_scenario, parameter_value
from simulation import CONTRACT, INDICATORS, SMEModel
from simulation.environment import Shock
from simulation.errors import InputError
from simulation.parameters import UNCERTAINTIES, make_parameters, parameter_metadata
from simulation.policy import LEVERS, PARAMETERS_SET_BY_LEVERS, Policy

KEY_FORMS = "levers.<lever>.<setting>, uncertainties.<name>, constants.<name> or a parameter's bare name"
SECTIONS = ("uncertainties", "constants")


# --- keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlatKey:
    """A parsed flat key: a lever setting (`lever`, `setting`) or a model parameter (`parameter`)."""

    key: str
    lever: str | None = None
    setting: str | None = None
    parameter: str | None = None

    @property
    def is_lever(self) -> bool:
        return self.lever is not None


def parse_key(key) -> FlatKey:
    """The lever setting or parameter a flat key names; InputError naming the key if none."""
    if not isinstance(key, str) or not key:
        raise InputError(str(key), f"a key must be a text: {KEY_FORMS}")
    head, *rest = key.split(".")
    if head == "levers":
        return _lever_key(key, rest)
    if head in SECTIONS:
        if len(rest) != 1:
            raise InputError(key, f"a parameter key is {head}.<name>, e.g. {head}.inflation_rate")
        return FlatKey(key, parameter=_parameter_name(key, rest[0], head))
    if rest:
        raise InputError(key, f"unknown key; keys are {KEY_FORMS}")
    return FlatKey(key, parameter=_parameter_name(key, key, None))


def _lever_key(key: str, parts: list[str]) -> FlatKey:
    if len(parts) != 2:
        raise InputError(key, "a lever setting is levers.<lever>.<setting>, e.g. levers.clinics.budget_usd")
    lever, setting = parts
    if lever not in LEVERS:
        raise InputError(key, unknown_name(lever, LEVERS, "lever"))
    if setting not in LEVERS[lever]:
        raise InputError(key, unknown_name(setting, LEVERS[lever], f"setting of {lever}"))
    return FlatKey(key, lever=lever, setting=setting)


def _parameter_name(key: str, name: str, section: str | None) -> str:
    metadata = parameter_metadata()
    if name in PARAMETERS_SET_BY_LEVERS:
        raise InputError(key, f"is set by the lever setting levers.{PARAMETERS_SET_BY_LEVERS[name]}; set that instead")
    if name not in metadata:
        uncertain = section == "uncertainties"
        raise InputError(key, unknown_name(name, UNCERTAINTIES if uncertain else metadata, "parameter",
                                           None if uncertain else f"keys are {KEY_FORMS}; {PARAMETERS_LISTED}"))
    if section == "uncertainties" and name not in UNCERTAINTIES:
        raise InputError(key, f"is a constant, not an uncertainty: use constants.{name} (or {name})")
    if section == "constants" and name in UNCERTAINTIES:
        raise InputError(key, f"is an uncertainty, not a constant: use uncertainties.{name} (or {name})")
    return name


def plain_value(flat: FlatKey, value):
    """numpy scalars as Python ones, and a whole float as an int where the parameter is an
    integer (samplers such as SALib produce floats)."""
    if isinstance(value, np.generic):
        value = value.item()
    if flat.parameter is not None and isinstance(value, float) and value.is_integer() \
            and isinstance(parameter_metadata()[flat.parameter]["default"], int):
        value = int(value)
    return value


# --- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInputs:
    """Everything a model needs besides its seed and scale, checked."""

    policy: Policy
    parameters: dict[str, float | int]
    shocks: tuple[Shock, ...]

    def build(self, seed, scale: float) -> SMEModel:
        return SMEModel(rng=seed, scale=scale, policy=self.policy, shocks=self.shocks, **self.parameters)


def resolve_base(base: Scenario | str | None) -> Scenario | None:
    return load_scenario(base) if isinstance(base, str) else base


def model_inputs(parameters: Mapping | None, base: Scenario | None) -> ModelInputs:
    """The base scenario's levers, parameters and shocks changed by the flat `parameters`;
    InputError naming the flat key on the first problem."""
    if parameters is not None and not isinstance(parameters, Mapping):
        raise InputError("parameters", f"must be a mapping of flat keys ({KEY_FORMS}) to values, got {parameters!r}")
    levers = base.policy.to_dict() if base else {}
    values = {**base.uncertainties, **base.constants} if base else {}
    given_as: dict[str, str] = {}
    for key, value in (parameters or {}).items():
        flat = parse_key(key)
        value = plain_value(flat, value)
        if flat.is_lever:
            levers[flat.lever] = {**levers.get(flat.lever, {}), flat.setting: value}
            continue
        if flat.parameter in given_as:
            raise InputError(key, f"the parameter is also given as {given_as[flat.parameter]!r}; give it once")
        given_as[flat.parameter] = key
        values[flat.parameter] = parameter_value(key, flat.parameter, value)
    try:
        policy = Policy.from_dict(levers)
    except InputError as error:
        raise error.under("levers") from None
    _check_together(values, given_as)
    return ModelInputs(policy, values, base.shocks if base else ())


def _check_together(values: dict, given_as: dict[str, str]) -> None:
    """The model's cross-parameter rules (e.g. population counts that nest)."""
    try:
        make_parameters(**values)
    except (TypeError, ValueError) as error:
        key = next((k for name, k in given_as.items() if name in str(error)), "parameters")
        raise InputError(key, str(error)) from None


def check_run_settings(seed, months, scale, base: Scenario | None) -> None:
    """Seed, horizon and scale as scenario files check them; the base's shocks within the horizon."""
    if not isinstance(seed, np.random.SeedSequence):
        CHECKS["seed"]("seed", seed.item() if isinstance(seed, np.integer) else seed)
    CHECKS["months"]("months", months)
    CHECKS["scale"]("scale", scale)
    for i, shock in enumerate(base.shocks if base else ()):
        if shock.month > months:
            raise InputError("months", f"the base scenario's shocks[{i}] comes at month {shock.month}, after the "
                                       f"horizon ({months}); use months >= {shock.month} or another base")


def check_outcomes(outcomes: Iterable[str], key: str = "outcomes") -> tuple[str, ...]:
    if isinstance(outcomes, str):
        outcomes = (outcomes,)
    outcomes = tuple(outcomes)
    for name in outcomes:
        if name not in INDICATORS:
            raise InputError(key, unknown_name(name, INDICATORS, "indicator"))
    return outcomes


# --- the functions ----------------------------------------------------------------------


def _prepared(parameters, keywords, seed, months, scale, base, outcomes) -> tuple[ModelInputs, tuple[str, ...]]:
    """Checked inputs, or a ScenarioError naming the key."""
    try:
        if keywords:
            clash = sorted(set(keywords) & set(parameters or {}))
            if clash:
                raise InputError(clash[0], "given both in `parameters` and as a keyword argument; give it once")
            parameters = {**(parameters or {}), **keywords}
        base = resolve_base(base)
        check_run_settings(seed, months, scale, base)
        return model_inputs(parameters, base), check_outcomes(outcomes)
    except InputError as error:
        raise ScenarioError(None, error.key, error.message) from None


def _stepped(inputs: ModelInputs, seed, months: int, scale: float) -> SMEModel:
    try:
        model = inputs.build(seed, scale)
    except (TypeError, ValueError) as error:  # a combination the model itself refuses
        raise ScenarioError(None, None, f"the model refused the inputs: {error}") from None
    for _ in range(months):
        model.step()
    return model


def run_model(parameters: Mapping | None = None, *, seed=0, months: int = 48, scale: float = 1.0,
              base: Scenario | str | None = None, outcomes: Sequence[str] = CONTRACT,
              **keyword_parameters) -> dict[str, float]:
    """Run the model once and return `outcomes` (indicator names) at month `months`.

    `parameters` and `keyword_parameters` are flat keys (module doc) with their values; `seed`
    an integer >= 0 or a `numpy.random.SeedSequence`; `scale` in (0, 1]; `base` the scenario
    giving the defaults. Raises ScenarioError (a ValueError) naming the bad key."""
    inputs, outcomes = _prepared(parameters, keyword_parameters, seed, months, scale, base, outcomes)
    indicators = _stepped(inputs, seed, months, scale).current_indicators()
    return {name: float(indicators[name]) for name in outcomes}


def simulate(parameters: Mapping | None = None, *, seed=0, months: int = 48, scale: float = 1.0,
             base: Scenario | str | None = None, outcomes: Sequence[str] = INDICATORS,
             **keyword_parameters) -> pd.DataFrame:
    """Like `run_model`, but every month: a frame with `month` (0 = the initial state, to
    `months`) and one float64 column per outcome."""
    inputs, outcomes = _prepared(parameters, keyword_parameters, seed, months, scale, base, outcomes)
    return monthly_frame(_stepped(inputs, seed, months, scale), outcomes)


def monthly_frame(model: SMEModel, outcomes: Sequence[str] = INDICATORS) -> pd.DataFrame:
    """The model's collected indicators, one row per month from 0."""
    frame = model.datacollector.get_model_vars_dataframe()[list(outcomes)].astype("float64").reset_index(drop=True)
    frame.insert(0, "month", np.arange(len(frame), dtype=np.int32))
    return frame
