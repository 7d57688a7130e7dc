"""The adapter: flat parameters in, indicators out, equal to running the model directly."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from experiments.inputs.keys import parse_key
from experiments.inputs.scenario import load_scenario
from experiments.runs.adapter import run_model, simulate
from simulation import CONTRACT, INDICATORS, SMEModel
from simulation.errors import InputError

SMALL = {"seed": 5, "months": 4, "scale": 0.02}


def direct(months: int, **kwargs) -> SMEModel:
    model = SMEModel(**kwargs)
    for _ in range(months):
        model.step()
    return model


def test_run_model_equals_the_model_run_directly():
    outcomes = run_model({"inflation_rate": 0.5, "levers.clinics.budget_usd": 20e6}, **SMALL)
    model = direct(4, rng=5, scale=0.02, policy={"clinics": {"budget_usd": 20e6}}, inflation_rate=0.5)
    assert list(outcomes) == list(CONTRACT)
    assert outcomes == {name: model.indicators()[name] for name in CONTRACT}


def test_run_model_is_deterministic_and_the_seed_matters():
    first = run_model({"uncertainties.completion_rate": 0.01}, **SMALL)
    assert run_model({"uncertainties.completion_rate": 0.01}, **SMALL) == first
    assert run_model({"uncertainties.completion_rate": 0.01}, **{**SMALL, "seed": 6}) != first


def test_keyword_parameters_equal_the_dict_and_numpy_values_are_accepted():
    by_dict = run_model({"inflation_rate": 0.45, "constants.revivable_share": 0.6}, **SMALL)
    by_keywords = run_model(**{"inflation_rate": np.float64(0.45), "constants.revivable_share": 0.6}, **SMALL)
    assert by_dict == by_keywords


def test_a_base_scenario_gives_the_defaults_and_keys_change_them():
    plan = load_scenario("ministry_plan")
    outcomes = run_model({"levers.clinics.budget_usd": 0}, base="ministry_plan", outcomes=["exports_usd"], **SMALL)
    levers = plan.policy.to_dict()
    levers["clinics"]["budget_usd"] = 0.0
    model = direct(4, rng=5, scale=0.02, policy=levers, shocks=plan.shocks)
    assert outcomes == {"exports_usd": model.indicators()["exports_usd"]}


def test_the_base_scenarios_shocks_are_applied():
    fall = simulate(base="rial_fall", outcomes=["rial_per_usd"], **SMALL)
    calm = simulate(base="baseline", outcomes=["rial_per_usd"], **SMALL)
    assert fall.rial_per_usd.iloc[3] > 1.5 * calm.rial_per_usd.iloc[3]  # +100% in month 3


def test_simulate_gives_every_month_and_ends_where_run_model_does():
    frame = simulate({"inflation_rate": 0.5}, **SMALL)
    assert list(frame.columns) == ["month", *INDICATORS]
    assert frame.month.tolist() == [0, 1, 2, 3, 4]
    assert frame.dtypes.drop("month").eq("float64").all()
    last = run_model({"inflation_rate": 0.5}, outcomes=INDICATORS, **SMALL)
    assert frame.iloc[-1].drop("month").to_dict() == pytest.approx(last)


def test_a_sampler_float_is_rounded_for_an_integer_parameter_or_lever_setting():
    """Samplers (SALib, EMA Workbench, scipy.stats.qmc) draw floats: the nearest whole number, halves up."""
    whole = run_model({"constants.parks": 900}, outcomes=["active_units"], **SMALL)
    for value in (900.0, 899.6, 900.4, np.float64(899.5)):
        assert run_model({"constants.parks": value}, outcomes=["active_units"], **SMALL) == whole
    provinces = {"levers.sukuk.capacity_usd": 5e6, "levers.sukuk.provinces": 29}
    sampled = {**provinces, "levers.sukuk.provinces": 28.6}
    assert run_model(sampled, outcomes=["units_activated"], **SMALL) == run_model(
        provinces, outcomes=["units_activated"], **SMALL
    )


@pytest.mark.parametrize(
    "parameters, key, words",
    [
        ({"levers.clinic.budget_usd": 1}, "levers.clinic.budget_usd", "did you mean 'clinics'"),
        ({"levers.clinics.budget": 1}, "levers.clinics.budget", "setting of clinics"),
        ({"levers.clinics": 1}, "levers.clinics", "levers.<lever>.<setting>"),
        ({"levers.clinics.budget_usd": -1}, "levers.clinics.budget_usd", "[0.0, inf)"),
        ({"inflation_rat": 0.4}, "inflation_rat", "did you mean 'inflation_rate'"),
        ({"uncertainties.parks": 900}, "uncertainties.parks", "is a constant"),
        ({"constants.inflation_rate": 0.4}, "constants.inflation_rate", "is an uncertainty"),
        ({"inflation_rate": 9.0}, "inflation_rate", "[-0.5, 5.0]"),
        ({"inflation_rate": "high"}, "inflation_rate", "must be a number"),
        ({"sukuk_programme_capacity_usd": 1e6}, "sukuk_programme_capacity_usd", "levers.sukuk.capacity_usd"),
        ({"inflation_rate": 0.4, "uncertainties.inflation_rate": 0.5}, "uncertainties.inflation_rate", "give it once"),
        ({"constants.initial_smes": 99_999}, "constants.initial_smes", "population counts"),
        ({"levers.technology.targeting": "ranking"}, "levers.technology.targeting", "ranking.budget_usd > 0"),
        ({"other.x": 1}, "other.x", "unknown key"),
    ],
)
def test_bad_keys_and_values_are_refused_naming_the_key(parameters, key, words):
    with pytest.raises(InputError) as caught:
        run_model(parameters, **SMALL)
    assert caught.value.key == key
    assert words in caught.value.message


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"months": 0}, "months"),
        ({"scale": 0.0}, "scale"),
        ({"seed": -1}, "seed"),
        ({"outcomes": ["exports"]}, "outcomes"),
        ({"base": "rial_fall", "months": 2}, "months"),
    ],
)
def test_bad_run_settings_are_refused_naming_them(settings, key):
    with pytest.raises(InputError) as caught:
        run_model(**{**SMALL, **settings})
    assert caught.value.key == key


def test_a_combination_the_model_refuses_is_a_clear_error():
    with pytest.raises(InputError, match=r"is 0\.001, below the mean excess hazard of young units") as caught:
        run_model({"idling_rate": 0.001}, **SMALL)
    assert caught.value.key == "idling_rate"


def test_parse_key_tells_levers_from_parameters():
    assert parse_key("levers.sukuk.provinces").is_lever
    assert parse_key("uncertainties.inflation_rate").parameter == "inflation_rate"
    assert parse_key("parks").parameter == "parks"
    with pytest.raises(InputError):
        parse_key("")


def test_simulate_frame_is_a_plain_dataframe():
    frame = simulate(outcomes=("exports_usd",), **SMALL)
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["month", "exports_usd"]


def test_a_refused_run_is_a_missing_value_for_a_study_in_a_real_process_pool():
    """EMA Workbench's multiprocessing evaluator hung on one refused run; with on_error="nan" a
    pool of real processes maps every sample, the refused one (an idling rate below the young
    units' excess hazard) as NaN with its reason as a warning."""
    import multiprocessing
    from functools import partial

    samples = [{"idling_rate": 0.0045}, {"idling_rate": 0.001}, {"inflation_rate": 0.5}]
    study = partial(_one_run, months=2)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(study, samples, chunksize=1)
    assert math.isnan(results[1]["exports_usd"]) and math.isnan(results[1]["units_activated"])
    assert all(math.isfinite(v) for i in (0, 2) for v in results[i].values())
    with pytest.warns(RuntimeWarning, match="idling_rate"):
        assert math.isnan(run_model({"idling_rate": 0.001}, on_error="nan", **SMALL)["exports_usd"])
    with pytest.raises(InputError, match="on_error"):
        run_model({}, on_error="ignore", **SMALL)
    with pytest.raises(InputError, match="outcomes"):
        run_model({}, on_error="nan", outcomes=["exports"], **SMALL)


def _one_run(sample: dict, months: int) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return run_model(
            sample, on_error="nan", outcomes=["exports_usd", "units_activated"], seed=1, months=months, scale=0.02
        )
