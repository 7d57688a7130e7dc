"""The model as a plain function, so that other tools can drive it: flat parameters in,
indicators out.

    from experiments.runs.adapter import run_model, simulate

    run_model({"inflation_rate": 0.5, "levers.clinics.budget_usd": 20e6}, seed=3, months=24, scale=0.1)
    # {'active_units': ..., 'exports_usd': ..., ...}: the contract indicators at month 24
    simulate({"uncertainties.inflation_rate": 0.5}, months=24, scale=0.1)   # months 0..24, one row each

Keys of the flat parameter dict (or keyword arguments, which EMA Workbench uses):

- ``levers.<lever>.<setting>``: a setting of `simulation.policy.LEVERS`, e.g. ``levers.clinics.budget_usd``;
- ``uncertainties.<name>``: one of `simulation.parameters.UNCERTAINTIES`;
- ``constants.<name>``: any other field of `simulation.parameters.Parameters`;
- ``<name>``: a parameter by its bare name, uncertainty or constant.

`base` (a `experiments.inputs.Scenario`, a shipped scenario's name or a scenario file) gives
the defaults: its levers, uncertainties, constants and shocks; the keys above change them.
Its seed, months and scale are not used: `seed`, `months` and `scale` are the arguments'.
Every value is checked as in scenario files; a bad key or value raises
`simulation.errors.InputError` naming the key and what is allowed. The same inputs and seed
give the same outcomes in any process (the model draws only from its seed).

EMA Workbench (not a dependency; `pip install ema_workbench`)::

    from ema_workbench import Constant, Model, RealParameter, ScalarOutcome, perform_experiments
    from experiments.runs.adapter import run_model

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
    from experiments.runs.adapter import run_model

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

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from experiments.inputs.keys import ModelInputs, check_outcomes, check_run_settings, model_inputs, resolve_base
from experiments.inputs.scenario import Scenario
from simulation import CONTRACT, INDICATORS, SMEModel
from simulation.errors import InputError

__all__ = ["ON_ERROR", "monthly_frame", "run_model", "simulate"]

ON_ERROR = ("raise", "nan")  # run_model's answers to a refused or failed run


def _prepared(parameters, keywords, seed, months, scale, base, outcomes) -> tuple[ModelInputs, tuple[str, ...]]:
    """Checked inputs, or an InputError naming the key."""
    if keywords:
        clash = sorted(set(keywords) & set(parameters or {}))
        if clash:
            raise InputError(clash[0], "given both in `parameters` and as a keyword argument; give it once")
        parameters = {**(parameters or {}), **keywords}
    base = resolve_base(base)
    check_run_settings(seed, months, scale, base)
    return model_inputs(parameters, base), check_outcomes(outcomes)


def _stepped(inputs: ModelInputs, seed, months: int, scale: float) -> SMEModel:
    model = inputs.build(seed, scale)
    model.run(months)
    return model


def run_model(
    parameters: Mapping | None = None,
    *,
    seed=0,
    months: int = 48,
    scale: float = 1.0,
    base: Scenario | str | None = None,
    outcomes: Sequence[str] = CONTRACT,
    on_error: str = "raise",
    **keyword_parameters,
) -> dict[str, float]:
    """Run the model once and return `outcomes` (indicator names) at month `months`.

    `parameters` and `keyword_parameters` are flat keys (module doc) with their values; `seed`
    an integer >= 0 or a `numpy.random.SeedSequence`; `scale` in (0, 1]; `base` the scenario
    giving the defaults. Raises `simulation.errors.InputError` (a ValueError) naming the bad key.
    With `on_error="nan"` (for studies: EMA Workbench, a SALib loop, a process pool) a run the
    model refuses or that fails returns NaN for every outcome instead, the reason issued as a
    RuntimeWarning, so that one bad sample never aborts or hangs a study; bad `outcomes` or
    `on_error` still raise."""
    if on_error not in ON_ERROR:
        raise InputError("on_error", f"must be one of {', '.join(map(repr, ON_ERROR))}, got {on_error!r}")
    names = check_outcomes(outcomes)
    try:
        inputs, names = _prepared(parameters, keyword_parameters, seed, months, scale, base, outcomes)
        indicators = _stepped(inputs, seed, months, scale).current_indicators()
    except Exception as error:  # for a study any failure is a missing value, with its reason
        if on_error == "raise":
            raise
        warnings.warn(f"run_model: this run's outcomes are NaN: {error}", RuntimeWarning, stacklevel=2)
        return dict.fromkeys(names, math.nan)
    return {name: float(indicators[name]) for name in names}


def simulate(
    parameters: Mapping | None = None,
    *,
    seed=0,
    months: int = 48,
    scale: float = 1.0,
    base: Scenario | str | None = None,
    outcomes: Sequence[str] = INDICATORS,
    **keyword_parameters,
) -> pd.DataFrame:
    """Like `run_model`, but every month: a frame with `month` (0 = the initial state, to
    `months`) and one float64 column per outcome."""
    inputs, outcomes = _prepared(parameters, keyword_parameters, seed, months, scale, base, outcomes)
    return monthly_frame(_stepped(inputs, seed, months, scale), outcomes)


def monthly_frame(model: SMEModel, outcomes: Sequence[str] = INDICATORS) -> pd.DataFrame:
    """The model's collected indicators, one row per month from 0."""
    frame = model.datacollector.get_model_vars_dataframe()[list(outcomes)].astype("float64").reset_index(drop=True)
    frame.insert(0, "month", np.arange(len(frame), dtype=np.int32))
    return frame
