"""Flat parameter keys: one name for every input a study may vary, and the model inputs
they give over a base scenario.

- ``levers.<lever>.<setting>``: a setting of `simulation.policy.LEVERS`, e.g. ``levers.clinics.budget_usd``;
- ``uncertainties.<name>``: one of `simulation.parameters.UNCERTAINTIES`;
- ``constants.<name>``: any other field of `simulation.parameters.Parameters`;
- ``<name>``: a parameter by its bare name, uncertainty or constant.

Sweep specs name their factors by these keys; `experiments.runs.adapter` takes them as the
arguments of `run_model`. Every value is checked as in scenario files (InputError naming the key).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from experiments.errors import unknown_name
from experiments.inputs.scenario import CHECKS, PARAMETERS_LISTED, Scenario, load_scenario, parameter_value
from simulation import INDICATORS, SMEModel
from simulation.environment import Shock
from simulation.errors import InputError
from simulation.parameters import UNCERTAINTIES, make_parameters, parameter_metadata
from simulation.policy import LEVERS, PARAMETERS_SET_BY_LEVERS, Policy

__all__ = [
    "KEY_FORMS",
    "FlatKey",
    "ModelInputs",
    "check_outcomes",
    "check_run_settings",
    "model_inputs",
    "parse_key",
    "plain_value",
    "resolve_base",
]

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
        raise InputError(
            key,
            unknown_name(
                name,
                UNCERTAINTIES if uncertain else metadata,
                "parameter",
                None if uncertain else f"keys are {KEY_FORMS}; {PARAMETERS_LISTED}",
            ),
        )
    if section == "uncertainties" and name not in UNCERTAINTIES:
        raise InputError(key, f"is a constant, not an uncertainty: use constants.{name} (or {name})")
    if section == "constants" and name in UNCERTAINTIES:
        raise InputError(key, f"is an uncertainty, not a constant: use uncertainties.{name} (or {name})")
    return name


def plain_value(flat: FlatKey, value):
    """numpy scalars as Python ones, and a float rounded to the nearest whole number (halves up)
    where the parameter or lever setting is an integer: samplers such as SALib, EMA Workbench's
    and scipy's draw floats (a factor over 0..29 gives 28.6, which means 29)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isfinite(value) and _is_integer(flat):
        value = math.floor(value + 0.5)
    return value


def _is_integer(flat: FlatKey) -> bool:
    if flat.is_lever:
        assert flat.lever is not None and flat.setting is not None
        return LEVERS[flat.lever][flat.setting].kind == "integer"
    return flat.parameter is not None and isinstance(parameter_metadata()[flat.parameter]["default"], int)


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
            assert flat.lever is not None and flat.setting is not None  # parse_key sets both for a lever key
            levers[flat.lever] = {**levers.get(flat.lever, {}), flat.setting: value}
            continue
        assert flat.parameter is not None  # not a lever key: a parameter's
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
    except InputError as error:
        raise InputError(given_as.get(error.key, error.key), error.message) from None


def check_run_settings(seed, months, scale, base: Scenario | None) -> None:
    """Seed, horizon and scale as scenario files check them; the base's shocks within the horizon."""
    if not isinstance(seed, np.random.SeedSequence):
        CHECKS["seed"]("seed", seed.item() if isinstance(seed, np.integer) else seed)
    CHECKS["months"]("months", months)
    CHECKS["scale"]("scale", scale)
    for i, shock in enumerate(base.shocks if base else ()):
        if shock.month > months:
            raise InputError(
                "months",
                f"the base scenario's shocks[{i}] comes at month {shock.month}, after the "
                f"horizon ({months}); use months >= {shock.month} or another base",
            )


def check_outcomes(outcomes: Iterable[str], key: str = "outcomes") -> tuple[str, ...]:
    if isinstance(outcomes, str):
        outcomes = (outcomes,)
    outcomes = tuple(outcomes)
    for name in outcomes:
        if name not in INDICATORS:
            raise InputError(key, unknown_name(name, INDICATORS, "indicator"))
    return outcomes
