"""Scenario files and goals: the shipped ones are valid, bad ones are refused naming file and key,
goals merge and are checked right."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from experiments.errors import BadInput
from experiments.inputs import goals as goals_module
from experiments.inputs.goals import Goal, evaluate, load_goals
from experiments.inputs.scenario import load_scenario, parse_scenario, shipped_scenarios
from simulation import SMEModel, destinations
from simulation.policy import LEVERS, Policy

VALID = """
description = "A test scenario"
seed = 3
months = 12
scale = 0.02
"""


def scenario_file(tmp_path, text: str, name: str = "test"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- shipped scenarios ------------------------------------------------------------------------


def test_every_lever_has_a_shipped_scenario():
    names = set(shipped_scenarios())
    assert {f"lever_{lever}" for lever in LEVERS} | {
        "baseline",
        "ministry_plan",
        "sanctions_tightening",
        "rial_fall",
    } <= names


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_shipped_scenario_is_valid(name):
    scenario = load_scenario(name)
    assert scenario.name == name
    assert (scenario.seed, scenario.months, scenario.scale, scenario.replications) == (1, 48, 1.0, 1)
    assert scenario.description and "\n" not in scenario.description
    assert set(scenario.goals) == set(load_goals())
    json.dumps(scenario.to_dict())  # plain data


def test_baseline_is_todays_policy():
    baseline = load_scenario("baseline")
    assert baseline.policy == Policy.from_dict({})
    assert baseline.policy["sukuk"]["capacity_usd"] == 10e6 and baseline.policy["sukuk"]["provinces"] == 29
    assert not baseline.shocks and not baseline.uncertainties and not baseline.constants


def test_ministry_plan_pulls_every_lever_of_the_lever_scenarios():
    plan = load_scenario("ministry_plan").policy.to_dict()
    for lever in LEVERS:
        single = load_scenario(f"lever_{lever}").policy.to_dict()[lever]
        changed = {k: v for k, v in single.items() if v != Policy.from_dict({}).to_dict()[lever][k]}
        assert changed, f"lever_{lever} changes nothing"
        assert all(plan[lever][k] == v for k, v in changed.items()), lever
    assert plan["listing"]["targeting"] == "ranking" and plan["technology"]["targeting"] == "all"
    assert plan["ranking"]["budget_usd"] > 0


def test_shock_scenarios_shock_the_world_they_describe():
    """Run as the runner does, at a small scale: the sanctions scenario cuts Iraq and the UAE from month 6
    on (and only them, beside the paired baseline); the rial's fall raises the rial's price of a dollar."""
    small = {"scale": 0.02}
    base = SMEModel(**{**load_scenario("baseline").model_kwargs(0), **small})
    sanctions = SMEModel(**{**load_scenario("sanctions_tightening").model_kwargs(0), **small})
    shocked = [destinations.index("Iraq"), destinations.index("UAE")]
    for month in range(1, 7):
        base.step()
        sanctions.step()
        newly = sanctions.environment.sanctioned & ~base.environment.sanctioned
        assert newly[shocked].all() == (month == 6) and newly[shocked].any() == (month == 6), month
    rial = SMEModel(**{**load_scenario("rial_fall").model_kwargs(0), **small})
    base = SMEModel(**{**load_scenario("baseline").model_kwargs(0), **small})
    rates = [(rial.run(1).indicators()["rial_per_usd"], base.run(1).indicators()["rial_per_usd"]) for _ in range(3)]
    assert rates[1][0] / rates[1][1] == pytest.approx(1.0, rel=0.05)  # month 2: before the shock
    assert rates[2][0] / rates[2][1] > 1.8  # month 3: +100% in real terms, more in nominal ones


# --- refusals ---------------------------------------------------------------------------------


def replacing(key: str, line: str | None) -> str:
    """The valid scenario with the line setting `key` replaced by `line` (None: removed)."""
    lines = [row for row in VALID.splitlines() if not row.startswith(f"{key} ")]
    return "\n".join(lines + ([line] if line else [])) + "\n"


def adding(text: str) -> str:
    return VALID + "\n" + text + "\n"


BAD = [
    # (what, scenario text, key, part of the message)
    ("unknown top-level key", adding("sead = 4"), "sead", "did you mean 'seed'"),
    ("unknown lever", adding("[levers.clinic]\nbudget_usd = 1"), "levers.clinic", "unknown lever"),
    (
        "unknown lever setting",
        adding("[levers.clinics]\nbudjet_usd = 1"),
        "levers.clinics.budjet_usd",
        "unknown setting",
    ),
    ("negative budget", adding("[levers.clinics]\nbudget_usd = -5"), "levers.clinics.budget_usd", "[0.0, inf)"),
    (
        "budget of the wrong type",
        adding('[levers.training]\nbudget_usd = "5m"'),
        "levers.training.budget_usd",
        "number",
    ),
    (
        "ranking targeting without the ranking",
        adding('[levers.technology]\nbudget_usd = 1e6\ntargeting = "ranking"'),
        "levers.technology.targeting",
        "ranking.budget_usd > 0",
    ),
    ("months of the wrong type", replacing("months", 'months = "12"'), "months", "whole number in [1, 600]"),
    ("months = 0", replacing("months", "months = 0"), "months", "whole number in [1, 600]"),
    ("scale 0", replacing("scale", "scale = 0"), "scale", "(0, 1]"),
    ("scale 1.5", replacing("scale", "scale = 1.5"), "scale", "(0, 1]"),
    ("negative seed", replacing("seed", "seed = -1"), "seed", "whole number >= 0"),
    ("fractional seed", replacing("seed", "seed = 1.5"), "seed", "whole number"),
    ("replications = 0", adding("replications = 0"), "replications", "[1, 1000]"),
    ("missing description", replacing("description", None), "description", "missing"),
    ("multi-line description", replacing("description", 'description = """two\nlines"""'), "description", "one-line"),
    (
        "unknown uncertainty",
        adding("[uncertainties]\ninflation = 0.5"),
        "uncertainties.inflation",
        "did you mean 'inflation_rate'",
    ),
    (
        "a constant as uncertainty",
        adding("[uncertainties]\nhiring_speed = 0.2"),
        "uncertainties.hiring_speed",
        "give it under [constants]",
    ),
    (
        "an uncertainty as constant",
        adding("[constants]\ninflation_rate = 0.5"),
        "constants.inflation_rate",
        "give it under [uncertainties]",
    ),
    (
        "a parameter given twice",
        adding("[uncertainties]\ninflation_rate = 0.5\n[constants]\ninflation_rate = 0.5"),
        "constants.inflation_rate",
        "both",
    ),
    (
        "a lever-controlled parameter as constant",
        adding("[constants]\nsukuk_programme_capacity_usd = 5e7"),
        "constants.sukuk_programme_capacity_usd",
        "levers.sukuk.capacity_usd",
    ),
    (
        "unknown constant",
        adding("[constants]\nhiring_sped = 0.2"),
        "constants.hiring_sped",
        "did you mean 'hiring_speed'",
    ),
    ("constant out of range", adding("[constants]\nhiring_speed = 2.0"), "constants.hiring_speed", "[0.0, 1.0]"),
    ("whole-number constant", adding("[constants]\nparks = 900.5"), "constants.parks", "whole number"),
    (
        "inconsistent constants",
        adding("[constants]\ninitial_smes = 90000"),
        "constants.initial_smes",
        "initial_smes <=",
    ),
    ("constants not a table", adding("constants = 3"), "constants", "table"),
    (
        "shock after the horizon",
        adding('[[shocks]]\nkind = "exchange_rate"\nmonth = 13\ndepreciation = 0.5'),
        "shocks[0].month",
        "[1, 12]",
    ),
    (
        "bad shock destination",
        adding(
            '[[shocks]]\nkind = "exchange_rate"\nmonth = 2\ndepreciation = 0.5\n'
            '[[shocks]]\nkind = "sanctions"\nmonth = 2\nmonths = 3\ndestination = "Atlantis"'
        ),
        "shocks[1].destination",
        "Iraq",
    ),
    ("shocks as a table", adding('[shocks]\nkind = "exchange_rate"'), "shocks", "[[shocks]]"),
    (
        "goal on an unknown indicator",
        adding('[goals.jobs]\nindicator = "jobs"\nat_least = 1'),
        "goals.jobs.indicator",
        "unknown indicator",
    ),
    ("goal without a target", adding('[goals.jobs]\nindicator = "employment"'), "goals.jobs.at_least", "at_least"),
    ("goal with an unknown key", adding("[goals.exports]\ntarget = 5"), "goals.exports.target", "at_least"),
    ("goal after the horizon", adding("[goals.exports]\nmonth = 13"), "goals.exports.month", "[1, 12]"),
    (
        "default goal month after the horizon",
        adding("[goals.exports]\nat_least = 1e9"),
        "goals.exports.month",
        "from the default goals",
    ),
    ("goals not a table", adding("goals = 5"), "goals", "table"),
    ("goal not a table", adding("[goals]\nexports = 5"), "goals.exports", "table"),
    (
        "goal range upside down",
        adding("[goals.exports]\nmonth = 12\nat_least = 2\nat_most = 1"),
        "goals.exports.at_most",
        ">= at_least",
    ),
]


@pytest.mark.parametrize("text, key, fragment", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_scenario_is_refused_naming_file_and_key(tmp_path, text, key, fragment):
    path = scenario_file(tmp_path, text)
    with pytest.raises(BadInput) as caught:
        load_scenario(path)
    error = caught.value
    assert (error.file, error.key) == (str(path), key)
    assert fragment in error.message
    assert str(error).startswith(f"{path}: {key}: ")


def test_invalid_toml_names_the_file(tmp_path):
    path = scenario_file(tmp_path, VALID + "[levers\n")
    with pytest.raises(BadInput, match="not valid TOML") as caught:
        load_scenario(path)
    assert caught.value.file == str(path) and caught.value.key is None


def test_unknown_scenario_name():
    with pytest.raises(BadInput, match="nor a shipped scenario; shipped: baseline"):
        load_scenario("no_such_scenario")


# --- overrides and the model's inputs ----------------------------------------------------------


def test_overrides_are_checked_like_the_file(tmp_path):
    scenario = load_scenario(scenario_file(tmp_path, VALID))
    changed = scenario.with_overrides(seed=9, months=2, scale=0.05, replications=4)
    assert (changed.seed, changed.months, changed.scale, changed.replications) == (9, 2, 0.05, 4)
    assert changed.overrides == {"seed": 9, "months": 2, "scale": 0.05, "replications": 4}
    assert scenario.with_overrides(months=None) == scenario
    for setting, value, fragment in [
        ("months", 0, "[1, 600]"),
        ("scale", 1.5, "(0, 1]"),
        ("seed", -2, ">= 0"),
        ("replications", 0, "[1, 1000]"),
    ]:
        with pytest.raises(BadInput) as caught:
            scenario.with_overrides(**{setting: value})
        assert caught.value.flag == f"--{setting}" and fragment in caught.value.message


def test_shortened_horizon_must_keep_the_shocks():
    scenario = load_scenario("sanctions_tightening")
    assert scenario.with_overrides(months=6).months == 6
    with pytest.raises(BadInput) as caught:
        scenario.with_overrides(months=5)
    assert caught.value.file == scenario.file and caught.value.key == "shocks[0].month"
    assert "--months = 5" in caught.value.message


def test_model_gets_policy_uncertainties_constants_and_shocks(tmp_path):
    text = (
        VALID
        + """
[levers.sukuk]
capacity_usd = 30e6
[uncertainties]
inflation_rate = 0.5
[constants]
hiring_speed = 0.3
[[shocks]]
kind = "sanctions"
destination = "Iraq"
month = 2
months = 3
"""
    )
    scenario = load_scenario(scenario_file(tmp_path, text))
    model = SMEModel(**scenario.model_kwargs(0))
    assert model.params.inflation_rate == 0.5 and model.params.hiring_speed == 0.3
    assert model.params.sukuk_programme_capacity_usd == 30e6
    assert model.policy == scenario.policy and [s.destination for s in model.shocks] == ["Iraq"]


def test_replication_seeds_are_spawned_from_the_seed(tmp_path):
    scenario = load_scenario(scenario_file(tmp_path, VALID))
    seeds = [scenario.replication_seed(r) for r in range(3)]
    assert [s.spawn_key for s in seeds] == [(0,), (1,), (2,)] and all(s.entropy == 3 for s in seeds)
    states = {tuple(s.generate_state(2)) for s in seeds}
    assert len(states) == 3


def test_scenario_records_text_and_hash(tmp_path):
    path = scenario_file(tmp_path, VALID)
    scenario = load_scenario(path)
    other = parse_scenario(VALID + "# a comment\n", str(path), "test")
    assert scenario.text == VALID and len(scenario.sha256) == 64 and other.sha256 != scenario.sha256


# --- goals ---------------------------------------------------------------------------------------


def test_default_goals():
    goals = load_goals()
    assert {name: (g.indicator, g.at_least, g.at_most, g.month) for name, g in goals.items()} == {
        "activation": ("units_activated_distinct", 31_500, None, 48),
        "exports": ("exports_usd", 17e9, None, 48),
        "export_share": ("export_share", 0.30, None, 48),
        "employment_share": ("sme_employment_share", 0.50, None, 48),
    }
    assert all(g.label and g.label != g.indicator for g in goals.values())


def test_scenario_goals_override_and_add(tmp_path):
    text = (
        VALID.replace("months = 12", "months = 48")
        + """
[goals.exports]
at_least = 20e9
[goals.activation]
label = "Our own words"
[goals.jobs]
indicator = "employment"
at_least = 3e6
at_most = 4e6
"""
    )
    goals = load_scenario(scenario_file(tmp_path, text)).goals
    defaults = load_goals()
    assert goals["exports"] == Goal("exports", "exports_usd", "exports_usd >= 20.0 bn", 20e9, None, 48)
    assert goals["activation"] == Goal("activation", "units_activated_distinct", "Our own words", 31_500, None, 48)
    assert goals["jobs"] == Goal("jobs", "employment", "employment 3,000,000 to 4,000,000", 3e6, 4e6, None)
    assert goals["export_share"] == defaults["export_share"]
    assert goals["jobs"].month_for(48) == 48


def test_an_override_bound_replaces_the_default_bounds():
    base = goals_module.merge({"g": {"indicator": "exporters", "at_least": 5}})
    changed = goals_module.merge({"g": {"at_most": 9}}, base)["g"]
    assert (changed.at_least, changed.at_most) == (None, 9)


@pytest.mark.parametrize(
    "value, met", [(10.0, True), (10.5, True), (9.99, False), (math.nan, False), (math.inf, False)]
)
def test_at_least(value, met):
    assert Goal("g", "exporters", "g", at_least=10).is_met(value) is met


@pytest.mark.parametrize("value, met", [(5.0, True), (4.0, True), (5.01, False), (math.nan, False)])
def test_at_most(value, met):
    assert Goal("g", "exporters", "g", at_most=5).is_met(value) is met


@pytest.mark.parametrize("value, met", [(0.2, True), (0.3, True), (0.25, True), (0.19, False), (0.31, False)])
def test_range(value, met):
    assert Goal("g", "export_share", "g", at_least=0.2, at_most=0.3).is_met(value) is met


def test_goal_checked_on_a_frame():
    frame = pd.DataFrame(
        {"replication": [0, 0, 1, 1, 2, 2], "month": [0, 2] * 3, "exporters": [0.0, 12.0, 0.0, 8.0, 0.0, 10.0]}
    )
    goal = Goal("g", "exporters", "g", at_least=10, month=2)
    outcome = evaluate(goal, frame, horizon=2)
    assert outcome.values == (12.0, 8.0, 10.0) and outcome.met == (True, False, True)
    assert outcome.share_met == pytest.approx(2 / 3) and outcome.result_text() == "met in 2 of 3"
    assert evaluate(Goal("g", "exporters", "g", at_least=0), frame, horizon=2).result_text() == "met (3 of 3)"
    assert evaluate(Goal("g", "exporters", "g", at_most=1), frame, horizon=2).result_text() == "missed (0 of 3)"
    one = frame[frame["replication"] == 1]
    assert evaluate(goal, one, 2).result_text() == "missed"
    late = evaluate(Goal("g", "exporters", "g", at_least=1, month=48), frame, horizon=2)
    assert not late.reached and "not checked" in late.result_text() and np.isnan(late.share_met)


def test_bad_goals_file_names_file_and_key(tmp_path):
    path = tmp_path / "goals.toml"
    path.write_text('[exports]\nindicator = "exports_usd"\nat_least = "a lot"\n', encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        load_goals(path)
    assert (caught.value.file, caught.value.key) == (str(path), "exports.at_least")


# --- inputs the model cannot hold (issue 21) ----------------------------------------------------


def _refusal(tmp_path, text: str) -> BadInput:
    with pytest.raises(BadInput) as caught:
        load_scenario(scenario_file(tmp_path, text))
    return caught.value


def test_a_megabyte_value_gives_a_short_one_line_message(tmp_path):
    error = _refusal(tmp_path, VALID.replace("seed = 3", 'seed = "' + "x" * 1_000_000 + '"'))
    line = f"smesim: error: {error}"
    assert error.key == "seed" and "\n" not in line and len(line) < 1_000
    assert "characters cut" in line


def test_a_megabyte_description_is_refused(tmp_path):
    error = _refusal(tmp_path, VALID.replace('"A test scenario"', '"' + "x" * 1_000_000 + '"'))
    assert error.key == "description" and "at most 1,000 characters" in error.message


@pytest.mark.parametrize(
    "shock, key",
    [
        ('month = 2\ndestination = "Iraq"\nmonths = 1e300', "shocks[0].months"),
        ('month = 2\ndestination = "Iraq"\nmonths = 1201', "shocks[0].months"),
        ('month = 2\ndestination = "Iraq"\nmonths = 2.5', "shocks[0].months"),
        ('month = 99999999999999999999\ndestination = "Iraq"\nmonths = 2', "shocks[0].month"),
        ('month = 1e300\ndestination = "Iraq"\nmonths = 2', "shocks[0].month"),
    ],
)
def test_a_shock_beyond_what_the_model_holds_is_refused(tmp_path, shock, key):
    error = _refusal(tmp_path, VALID + f'[[shocks]]\nkind = "sanctions"\n{shock}\n')
    assert error.key == key and "1200" in error.message


def test_a_huge_shock_length_exits_2_from_smesim_run(tmp_path, capsys):
    from experiments.cli import main

    path = scenario_file(
        tmp_path, VALID + '[[shocks]]\nkind = "sanctions"\nmonth = 1\ndestination = "Iraq"\nmonths = 1e300\n'
    )
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert f"{path}: shocks[0].months:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "constant, words",
    [
        ("initial_exporters = 10000000", "at most 60,860"),
        ("initial_consortia = 1e9", "at most 20,287"),
        ("initial_under_construction = 1000000000000", "[0, 1000000]"),
        ("parks = 99999999999999999999", "whole number"),
        ("rural_zone_units = 1e300", "1000.0"),
    ],
)
def test_counts_the_model_cannot_hold_are_refused(tmp_path, constant, words):
    error = _refusal(tmp_path, VALID + f"[constants]\n{constant}\n")
    assert error.key == f"constants.{constant.split(' ')[0]}" and words in error.message


def test_more_exporters_than_a_small_sample_can_hold_are_refused_by_the_model():
    from simulation.errors import InputError

    with pytest.raises(InputError, match=r"SMEs can export at month 0 at scale 0\.01") as caught:
        SMEModel(rng=1, scale=0.01, initial_exporters=60_000)
    assert caught.value.key == "initial_exporters"


def test_deeply_nested_toml_is_one_bad_input(tmp_path):
    error = _refusal(tmp_path, "a = " + "[" * 100_000 + "]" * 100_000)
    assert error.key is None and error.message == "not valid TOML: nested too deeply"


def test_deeply_nested_goals_are_one_bad_input(tmp_path):
    path = scenario_file(tmp_path, "a = " + "{ b = " * 5_000 + "1" + " }" * 5_000, "goals")
    with pytest.raises(BadInput, match="nested too deeply"):
        load_goals(path)


def test_deeply_nested_json_is_one_bad_input(tmp_path):
    from experiments.files import read_json

    path = tmp_path / "manifest.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(BadInput, match="nested too deeply"):
        read_json(path, "the manifest")


@pytest.mark.parametrize("text", ["red \\u001b[31m", "bell \\u0007", "tab\\tin it", "c1 \\u009b31m", "nul \\u0000"])
def test_control_characters_in_a_description_are_refused(tmp_path, text):
    error = _refusal(tmp_path, VALID.replace("A test scenario", text))
    assert error.key == "description" and "control characters" in error.message
    assert "\x1b" not in str(error) and "\x00" not in str(error)


def test_control_characters_in_a_goal_label_are_refused(tmp_path):
    error = _refusal(tmp_path, VALID + '[goals.exports]\nlabel = "x\\u001b]0;owned\\u0007"\n')
    assert error.key == "goals.exports.label" and "control characters" in error.message


def test_control_characters_in_a_key_are_escaped_in_the_message(tmp_path):
    error = _refusal(tmp_path, VALID + '"\\u001b[2J" = 1\n')
    assert "\x1b" not in str(error) and "\\x1b[2J" in str(error)


def test_a_scenario_file_named_with_a_control_character_is_refused(tmp_path):
    path = scenario_file(tmp_path, VALID, "bad\x1bname")
    with pytest.raises(BadInput, match="control characters") as caught:
        load_scenario(path)
    assert "\x1b" not in str(caught.value)
