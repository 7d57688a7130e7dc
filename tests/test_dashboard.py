"""WorkshopModel: the dashboard's controls build the right policy, a picked scenario sets the
controls, the comparison run runs on the same seed, written runs replay identically;
`smesim dashboard` checks its inputs."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara")

from experiments.cli import main
from experiments.cli.dashboard import server_command
from experiments.dashboard.app import control_specs, start_controls
from experiments.dashboard.views import goal_charts
from experiments.dashboard.words import PageWords
from experiments.dashboard.workshop import (
    BUDGETS,
    SCENARIO_FILE,
    UNCERTAINTY_CONTROLS,
    WorkshopModel,
    budget_key,
    controls_of,
    plan_cost_musd,
    targeting_choices,
)
from experiments.errors import BadInput
from experiments.inputs.scenario import load_scenario, parse_scenario, shipped_scenarios
from experiments.inputs.sweep_spec import load_sweep_spec
from experiments.runs.replay import replay_runs
from simulation import SMEModel, destinations
from simulation.geography import PROVINCE_NAMES
from simulation.policy import CLUSTER_NAMES

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
    assert "cluster" in targeting_choices("clusters")
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
    model = WorkshopModel(scale=0.02, seed=text, with_baseline=False)
    assert model.run_scenario.seed == 1 and "not a whole number" in model.notes[0]
    assert WorkshopModel(scale=0.02, seed=" 42 ", with_baseline=False).run_scenario.seed == 42


def test_uncertainty_sliders_stay_within_the_allowed_range():
    from simulation.parameters import parameter_metadata

    specs, start, meta = control_specs(PageWords()), start_controls("baseline", SCALE), parameter_metadata()
    for name in UNCERTAINTY_CONTROLS:
        low, high = meta[name]["allowed"]
        assert low <= specs[name]["low"] < start[name] < specs[name]["top"] <= high
        WorkshopModel(scale=0.02, with_baseline=False, **{name: specs[name]["low"]})  # accepted by the model
        WorkshopModel(scale=0.02, with_baseline=False, **{name: specs[name]["top"]})


@pytest.mark.parametrize("name", ["baseline", "ministry_plan", "lever_clinics", "rial_fall"])
def test_a_reset_with_untouched_controls_runs_the_launch_scenario(name):
    untouched = start_controls(name, SCALE)
    model = WorkshopModel(**untouched, with_baseline=False)  # what the page's Reset builds
    scenario = load_scenario(name)
    reference = SMEModel(**scenario.with_overrides(scale=SCALE).model_kwargs(0))  # `smesim run` of the scenario
    assert model.policy == reference.policy and model.params == reference.params
    assert model.seed == reference.seed and model.shocks == reference.shocks


def test_picking_a_scenario_sets_the_controls_to_its_values():
    plan = load_scenario("ministry_plan")
    picked = {**start_controls("baseline", SCALE), **controls_of(plan, "ministry_plan")}  # the picker
    assert picked["clinics_budget_musd"] == plan.policy["clinics"]["budget_usd"] / 1e6 > 0
    assert plan_cost_musd(picked) == pytest.approx(sum(plan.policy[lever][s] for lever, s in BUDGETS) / 1e6)
    model = WorkshopModel(**picked, with_baseline=False)  # Reset after picking: the plan, not zero budgets
    assert model.policy == plan.policy and not model.changed
    controlled = WorkshopModel(scenario_name="rial_fall", scale=SCALE, inflation_rate=0.3, with_baseline=False)
    assert controlled.params.inflation_rate == 0.3 and controlled.shocks == load_scenario("rial_fall").shocks
    assert controlled.changed


def test_every_budget_and_uncertainty_has_a_control_with_units():
    specs = control_specs(PageWords())
    for lever, setting in BUDGETS:
        assert specs[budget_key(lever, setting)]["unit"] == "USD m/yr"
    for name in UNCERTAINTY_CONTROLS:
        assert specs[name]["unit"] in ("per year", "multiplier")


def test_a_shock_is_compared_with_the_no_shock_baseline():
    model = WorkshopModel(scenario_name="rial_fall", scale=0.02)  # today's policies: the comparison is the baseline
    assert model.compare == "baseline" and model.baseline.shocks == () and model.baseline.seed == model.seed
    assert model.params.inflation_rate == 0.55 != model.baseline.params.inflation_rate  # the baseline's own
    same = WorkshopModel(scenario_name="rial_fall", scale=0.02, compare="policies")
    assert same.baseline.shocks == same.shocks
    for _ in range(4):
        model.step()
        same.step()
    run, base = model.history()["exports_usd"], model.baseline_history()["exports_usd"]
    assert run.iloc[-1] != base.iloc[-1]  # the shock shows against the no-shock baseline
    pd.testing.assert_series_equal(same.history()["exports_usd"], same.baseline_history()["exports_usd"])


def test_baseline_shadow_runs_on_the_same_seed():
    model = WorkshopModel(scenario_name="lever_clinics", scale=SCALE, seed="3")  # the UI's text seed
    assert model.compare == "policies"  # a plan of levers: compared with today's policies
    assert model.baseline.seed == model.seed
    assert model.baseline.policy == load_scenario("baseline").policy
    for _ in range(3):
        model.step()
    alone = SMEModel(**{**model.run_scenario.model_kwargs(0), "policy": load_scenario("baseline").policy})
    for _ in range(3):
        alone.step()
    pd.testing.assert_frame_equal(alone.datacollector.get_model_vars_dataframe(), model.baseline_history())
    assert model.indicators()["policy_spend_usd"] > 0 == model.baseline.indicators()["policy_spend_usd"]


def test_written_runs_replay_identically_and_are_named_by_their_settings(tmp_path):
    model = WorkshopModel(scenario_name="rial_fall", scale=0.02, clinics_budget_musd=10.0, compare="policies")
    model.step()
    model.step()  # month 2: the rial falls in month 3
    out = model.write_run(tmp_path)
    assert out.name == f"rial_fall-changed-{model.settings_id()}-month2"
    frame = pd.read_parquet(out / "rial_fall-changed" / "indicators.parquet")
    assert list(frame["month"]) == [0, 1, 2]
    np.testing.assert_allclose(frame["units_activated"].iloc[-1], model.indicators()["units_activated"])
    manifest = json.loads((out / "rial_fall-changed" / "manifest.json").read_text())
    assert manifest["months"] == 2 and manifest["scale"] == 0.02
    assert manifest["scenario"]["validated"]["levers"]["clinics"]["budget_usd"] == 10e6  # the levers, not the file's
    results = replay_runs(out)
    assert len(results) == 2 and all(r.identical for r in results), [r.text() for r in results]
    plan = parse_scenario((out / SCENARIO_FILE).read_text(), "plan.toml", "plan")  # `smesim run` accepts it
    assert plan.policy == model.policy and plan.shocks == model.shocks and plan.months == 48
    spec = out / "sweep.toml"  # and a sweep takes it as a policy (its scenario file beside the spec)
    spec.write_text(
        'description = "d"\nbase = "rial_fall"\nseed = 1\nmonths = 3\nscale = 0.02\n'
        '[policies.baseline]\n[policies.plan]\nscenario = "scenario.toml"\n',
        encoding="utf-8",
    )
    assert load_sweep_spec(spec).policies["plan"] == model.policy
    other = WorkshopModel(scenario_name="rial_fall", scale=0.02, clinics_budget_musd=20.0, compare="policies")
    other.step()
    other.step()
    assert other.write_run(tmp_path) != out  # another policy at the same month: another directory


@pytest.mark.slow
def test_write_report(tmp_path):
    model = WorkshopModel(scale=0.02, clinics_budget_musd=10.0)
    model.step()
    report = model.write_report(tmp_path)
    assert report.exists() and "<html" in report.read_text()[:500].lower()


def test_dashboard_command_checks_its_inputs(capsys):
    command, env = server_command("ministry_plan", 0.25, 8800, "0.0.0.0")
    assert command[1:4] == ["-m", "solara", "run"] and "8800" in command and "0.0.0.0" in command
    assert env["SMESIM_DASHBOARD_SCENARIO"] == "ministry_plan" and env["SMESIM_DASHBOARD_SCALE"] == "0.25"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"  # no calls to outside hosts
    assert main(["dashboard", "no_such_scenario"]) == 2
    assert "no_such_scenario" in capsys.readouterr().err
    assert main(["dashboard", "--scale", "2"]) == 2
    assert main(["dashboard", "--lang", "de"]) == 2
    assert "--lang" in capsys.readouterr().err
    assert main(["dashboard", "--digits", "roman"]) == 2
    command, env = server_command("baseline", 0.1, 8800, "127.0.0.1", "fa", "persian")
    assert env["SMESIM_DASHBOARD_LANG"] == "fa" and env["SMESIM_DASHBOARD_DIGITS"] == "persian"


def test_the_dashboard_takes_any_scenario_file(tmp_path, capsys):
    plan = tmp_path / "my_plan.toml"
    plan.write_text(load_scenario("ministry_plan").text, encoding="utf-8")
    _, env = server_command(str(plan), 0.1, 8800, "127.0.0.1")
    assert env["SMESIM_DASHBOARD_SCENARIO"] == str(plan.resolve())
    assert start_controls(str(plan), SCALE)["clinics_budget_musd"] > 0
    plan.write_text(plan.read_text().replace("seed = 1", "seed = -1"), encoding="utf-8")
    assert main(["dashboard", str(plan)]) == 2
    error = capsys.readouterr().err.strip()
    assert "my_plan.toml" in error and "seed" in error and len(error.splitlines()) == 1


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
    specs = control_specs(PageWords("fa", "persian"))
    assert specs["clinics_budget_musd"]["label"] == "کلینیک صنعتی"
    assert specs["clinics_budget_musd"]["unit"] == "میلیون دلار/سال"
    fa = PageWords("fa")
    names = [fa.place(p) for p in (*PROVINCE_NAMES, *destinations.NAMES)] + [fa.cluster(c) for c in CLUSTER_NAMES]
    names += [fa.scenario_name(s) for s in shipped_scenarios()]
    assert not [name for name in names if re.search("[A-Za-z]", name)]  # no English name left on the page
    assert fa.cluster("food and beverages in Tehran") == "غذایی و آشامیدنی در تهران"
    assert PageWords("fa", "persian").number_text(12.5) == "۱۲٫۵"  # a field's number in Persian digits
    typed = ("۱۲٫۵", "١٢.٥", "1,250", "12.5", "x")
    assert [PageWords.read_number(t) for t in typed] == [12.5, 12.5, 1250.0, 12.5, None]
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
    while model.running and model.steps < 10:  # the page's Play: step while the run runs
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
