"""WorkshopModel: the dashboard's controls build the right policy, the baseline shadow runs on
the same seed, a step is quick; `smesim dashboard` checks its inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara")

from experiments.cli import main
from experiments.cli.dashboard import server_command
from experiments.dashboard.app import (
    BUDGETS,
    UNCERTAINTY_CONTROLS,
    WorkshopModel,
    budget_key,
    goal_charts,
    model_params,
)
from experiments.dashboard.words import PageWords
from experiments.errors import BadInput
from experiments.inputs.scenario import load_scenario
from simulation import SMEModel

SCALE = 0.1


def test_controls_build_the_policy():
    model = WorkshopModel(
        scale=SCALE,
        seed=7,
        clinics_budget_musd=20.0,
        credit_grants_musd=5.0,
        ranking_budget_musd=0.5,
        technology_targeting="ranking",
        listing_targeting="province",
        target_province="Isfahan",
        inflation_rate=0.5,
    )
    assert model.policy["clinics"]["budget_usd"] == 20e6
    assert model.policy["credit"]["grants_usd"] == 5e6
    assert model.policy["technology"]["targeting"] == "ranking"
    assert model.policy["listing"]["targeting"] == "province"
    assert model.policy["listing"]["provinces"] == ("Isfahan",)
    assert model.params.inflation_rate == 0.5
    assert model.params.grant_budget_usd == 5e6 / 12
    assert model.notes == []


def test_cluster_targeting_serves_the_picked_cluster():
    from simulation.policy import CLUSTER_NAMES

    cluster = CLUSTER_NAMES[17]
    model = WorkshopModel(
        scale=SCALE,
        clusters_budget_musd=10.0,
        clusters_targeting="cluster",
        target_cluster=cluster,
        consortia_targeting="province",
        target_province="Fars",
    )
    assert model.policy["clusters"]["targeting"] == "cluster" and model.policy["clusters"]["clusters"] == (cluster,)
    assert model.policy["consortia"]["clusters"] == () and model.policy["consortia"]["provinces"] == ("Fars",)
    assert "cluster" in model_params()["clusters_targeting"]["values"]
    for _ in range(2):
        model.step()
    developed = np.flatnonzero(model.clusters.development)
    assert developed.tolist() == [17]  # the budget pays for projects in the picked cluster only


def test_ranking_targeting_without_a_ranking_falls_back_with_a_note():
    model = WorkshopModel(scale=SCALE, technology_targeting="ranking")
    assert model.policy["technology"]["targeting"] == "all"
    assert "ranking" in model.notes[0]


@pytest.mark.parametrize("text", ["abc", "-3", "1.5", ""])
def test_a_bad_seed_entry_gives_seed_1_and_a_note(text):
    model = WorkshopModel(scale=SCALE, seed=text)
    assert model.run_scenario.seed == 1 and "not a whole number" in model.notes[0]
    assert WorkshopModel(scale=SCALE, seed=" 42 ").run_scenario.seed == 42


def test_uncertainty_sliders_stay_within_the_allowed_range():
    from simulation.parameters import parameter_metadata

    params, meta = model_params(), parameter_metadata()
    for name in UNCERTAINTY_CONTROLS:
        low, high = meta[name]["allowed"]
        assert low <= params[name]["min"] < params[name]["value"] < params[name]["max"] <= high
        WorkshopModel(scale=SCALE, with_baseline=False, **{name: params[name]["min"]})  # accepted by the model
        WorkshopModel(scale=SCALE, with_baseline=False, **{name: params[name]["max"]})


@pytest.mark.parametrize("name", ["baseline", "ministry_plan", "lever_clinics", "rial_fall"])
def test_a_reset_with_untouched_controls_runs_the_launch_scenario(name):
    params = model_params(name)
    untouched = {key: spec["value"] if isinstance(spec, dict) else spec for key, spec in params.items()}
    untouched["scale"] = SCALE
    model = WorkshopModel(**untouched, with_baseline=False)  # what SolaraViz's Reset builds
    scenario = load_scenario(name)
    reference = SMEModel(**scenario.with_overrides(scale=SCALE).model_kwargs(0))  # `smesim run` of the scenario
    assert model.policy == reference.policy and model.params == reference.params
    assert model.seed == reference.seed and model.shocks == reference.shocks


def test_scenario_settings_ignore_the_controls():
    model = WorkshopModel(scenario_name="ministry_plan", settings_from="scenario", scale=SCALE, clinics_budget_musd=1.0)
    assert model.policy == load_scenario("ministry_plan").policy
    controlled = WorkshopModel(scenario_name="rial_fall", scale=SCALE, inflation_rate=0.3)
    assert controlled.params.inflation_rate == 0.3 and controlled.shocks == load_scenario("rial_fall").shocks


def test_every_budget_and_uncertainty_has_a_control_with_units():
    params = model_params()
    for lever, setting in BUDGETS:
        assert "(USD m/year)" in params[budget_key(lever, setting)]["label"]
    for name in UNCERTAINTY_CONTROLS:
        assert name in params


def test_baseline_shadow_runs_on_the_same_seed():
    model = WorkshopModel(
        scenario_name="lever_clinics", settings_from="scenario", scale=SCALE, seed="3"
    )  # the UI's text seed
    assert model.baseline.seed == model.seed
    assert model.baseline.policy == load_scenario("baseline").policy
    for _ in range(3):
        model.step()
    alone = SMEModel(**{**model.run_scenario.model_kwargs(0), "policy": load_scenario("baseline").policy})
    for _ in range(3):
        alone.step()
    pd.testing.assert_frame_equal(alone.datacollector.get_model_vars_dataframe(), model.baseline_history())
    assert model.indicators()["policy_spend_usd"] > 0 == model.baseline.indicators()["policy_spend_usd"]


@pytest.mark.slow
def test_write_report(tmp_path):
    model = WorkshopModel(scale=SCALE, clinics_budget_musd=10.0)
    model.step()
    model.step()
    report = model.write_report(tmp_path)
    out = report.parents[1]
    frame = pd.read_parquet(out / "baseline-dashboard" / "indicators.parquet")
    assert list(frame["month"]) == [0, 1, 2]
    np.testing.assert_allclose(frame["units_activated"].iloc[-1], model.indicators()["units_activated"])
    manifest = json.loads((out / "baseline-dashboard" / "manifest.json").read_text())
    assert manifest["months"] == 2 and manifest["scale"] == SCALE
    assert manifest["scenario"]["validated"]["levers"]["clinics"]["budget_usd"] == 10e6
    base = pd.read_parquet(out / "baseline" / "indicators.parquet")
    pd.testing.assert_series_equal(
        base["units_activated"], model.baseline_history()["units_activated"].reset_index(drop=True), check_names=False
    )
    assert report.exists() and "<html" in report.read_text()[:500].lower()


def test_dashboard_command_checks_its_inputs(capsys):
    command, env = server_command("ministry_plan", 0.25, 8800, "0.0.0.0")
    assert command[1:4] == ["-m", "solara", "run"] and "8800" in command and "0.0.0.0" in command
    assert env["SMESIM_DASHBOARD_SCENARIO"] == "ministry_plan" and env["SMESIM_DASHBOARD_SCALE"] == "0.25"
    assert main(["dashboard", "no_such_scenario"]) == 2
    assert "SCENARIO" in capsys.readouterr().err
    assert main(["dashboard", "--scale", "2"]) == 2
    assert main(["dashboard", "--lang", "de"]) == 2
    assert "--lang" in capsys.readouterr().err
    assert main(["dashboard", "--digits", "roman"]) == 2
    command, env = server_command("baseline", 0.1, 8800, "127.0.0.1", "fa", "persian")
    assert env["SMESIM_DASHBOARD_LANG"] == "fa" and env["SMESIM_DASHBOARD_DIGITS"] == "persian"


def test_goal_charts_and_table_follow_the_model():
    model = WorkshopModel(scale=SCALE, clinics_budget_musd=30.0)
    for _ in range(2):
        model.step()
    charts, rows = goal_charts(model)
    assert len(charts) == len(rows) == 4 and all(c.startswith("<svg") for c in charts)
    assert "Activate 31,500" in rows[0][0]
    run, base = model.indicators()["units_activated"], model.baseline.indicators()["units_activated"]
    assert rows[0][1] == f"{run / 1e3:,.2f} thousand units" and rows[0][2] == f"{base / 1e3:,.2f}"
    assert "target 31.5" in charts[0]  # the target line, in thousand units


def test_the_page_in_persian():
    model = WorkshopModel(scale=SCALE, lang="fa", digits="persian", technology_targeting="ranking")
    model.step()
    _, rows = goal_charts(model)
    assert rows[0][0].startswith("واحدهای فعال‌شده") and rows[0][3] in ("محقق", "هنوز نه")
    assert "رتبه‌بندی" in model.notes[0]  # the fallback note is Persian too
    page = model.words.html("<p class='x1'>Month 12: 31,500.5</p>")
    assert page == "<p class='x1'>Month ۱۲: ۳۱٬۵۰۰٫۵</p>"  # digits in text only, never in tags
    assert model.words.html("<td>52.5 %</td>") == "<td>۵۲٫۵٪</td>"  # the Persian percent sign
    params = model_params(lang="fa", digits="persian")
    assert params["lang"] == "fa" and params["digits"] == "persian"  # fixed values: Reset keeps them
    assert params["clinics_budget_musd"]["label"] == "کلینیک صنعتی (میلیون دلار/سال)"
    with pytest.raises(BadInput, match="--digits"):
        PageWords("fa", "arabic")
    with pytest.raises(BadInput, match="--lang"):
        PageWords("de")


def short_scenario(tmp_path, months: int = 3):
    """The baseline scenario with a horizon of `months`."""
    text = load_scenario("baseline").text.replace("months = 48", f"months = {months}", 1)
    path = tmp_path / "short.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_play_stops_at_the_scenarios_horizon(tmp_path):
    model = WorkshopModel(scenario_name=short_scenario(tmp_path), scale=0.02)
    while model.running and model.steps < 10:  # SolaraViz's Play: step while the model runs
        model.step()
    assert model.steps == 3 and model.baseline.steps == 3  # stopped at the horizon, not beyond
    assert len(model.history()) == 4  # months 0 to 3


def test_a_goal_past_its_month_is_judged_at_that_month(tmp_path):
    import dataclasses

    model = WorkshopModel(scenario_name=short_scenario(tmp_path), scale=0.02)
    goal = dataclasses.replace(model.goals["activation"], month=2)
    model.goals = {"activation": goal, "unreachable": dataclasses.replace(goal, month=2, at_least=1e12)}
    model.step()
    _, rows = goal_charts(model, charts=False)
    assert rows[1][3] == "not yet"  # before its month
    for _ in range(2):
        model.step()
    _, rows = goal_charts(model, charts=False)
    at_month_2 = model.history()["units_activated"].iloc[2]
    assert rows[0][1].startswith(f"{at_month_2 / 1e3:,.2f}")  # the value at month 2, not month 3
    assert rows[1][3] == "missed"
    assert PageWords("fa", "persian").say("missed") == "محقق نشد"
