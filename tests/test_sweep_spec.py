"""Sweep specs (validated like scenario files), their designs, run ids and seeds."""

import re

import numpy as np
import pytest

from experiments.errors import BadInput
from experiments.inputs.scenario import load_scenario
from experiments.inputs.sweep_spec import Factor, load_sweep_spec, parse_sweep_spec, shipped_sweeps
from experiments.sweeps.design import RunPlan, design_points, factor_values

HEAD = """
description = "A test sweep"
seed = 3
months = 3
scale = 0.02
"""
SOBOL = (
    HEAD
    + """
[design]
kind = "sobol"
samples = 8
[factors."uncertainties.inflation_rate"]
low = 0.3
high = 0.55
[factors."levers.clinics.budget_usd"]
low = 0
high = 20e6
[factors.completion_rate]
distribution = "loguniform"
low = 0.002
high = 0.015
"""
)


def spec(text: str, tmp_path=None, name: str = "test"):
    file = f"{tmp_path}/{name}.toml" if tmp_path else f"{name}.toml"
    return parse_sweep_spec(text, file, name)


def refusal(text: str) -> BadInput:
    with pytest.raises(BadInput) as caught:
        spec(text)
    return caught.value


# --- shipped specs and defaults -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(shipped_sweeps()))
def test_shipped_spec_is_valid(name):
    loaded = load_sweep_spec(name)
    assert loaded.name == name and loaded.runs_total == len(RunPlan(loaded).runs)


def test_shipped_specs_are_the_three_promised():
    assert {"workshop_levers", "sobol_uncertainties", "quick"} <= set(shipped_sweeps())
    quick = load_sweep_spec("quick")
    assert (quick.scale, quick.months) == (0.02, 3) and quick.runs_total <= 16
    sobol = load_sweep_spec("sobol_uncertainties")
    assert sobol.design == "sobol" and {"uncertainties.inflation_rate", "uncertainties.clinic_revival_success"} <= {
        f.key for f in sobol.factors
    }


def test_defaults_one_policy_the_base_and_one_design_point():
    plain = spec(HEAD)
    assert list(plain.policies) == ["base"] and plain.policies["base"] == load_scenario("baseline").policy
    assert (plain.design, plain.samples, plain.replications, plain.runs_total) == ("factorial", 1, 1, 1)
    assert plain.goals == load_scenario("baseline").goals


def test_a_policy_starts_from_a_scenario_and_changes_its_levers():
    loaded = spec(
        HEAD
        + """
[policies.plan]
scenario = "ministry_plan"
[policies.plan.levers.clinics]
budget_usd = 1e6
"""
    )
    plan = load_scenario("ministry_plan").policy
    assert loaded.policies["plan"]["clinics"]["budget_usd"] == 1e6
    assert loaded.policies["plan"]["training"] == plan["training"]


def test_base_and_policy_scenarios_may_be_files_beside_the_spec(tmp_path):
    (tmp_path / "mine.toml").write_text(
        'description = "mine"\nseed = 1\nmonths = 12\n[levers.clinics]\nbudget_usd = 5e6\n'
    )
    loaded = spec(HEAD + 'base = "mine.toml"\n', tmp_path)
    assert loaded.base.policy["clinics"]["budget_usd"] == 5e6


def test_goals_change_the_bases():
    loaded = spec(
        HEAD
        + "[goals.exports]\nat_least = 20e9\nmonth = 3\n"
        + '[goals.early]\nindicator = "exporters"\nat_least = 1\nmonth = 2\n'
    )
    assert loaded.goals["exports"].at_least == 20e9 and loaded.goals["early"].month == 2


def test_the_fingerprint_ignores_comments_but_not_content():
    first = spec(HEAD)
    assert spec("# a comment\n" + HEAD).fingerprint == first.fingerprint
    assert spec(HEAD + "replications = 2\n").fingerprint != first.fingerprint
    assert spec("# a comment\n" + HEAD).sha256 != first.sha256


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra, key, words",
    [
        ("colour = 1\n", "colour", "unknown top-level key"),
        ('base = "nowhere"\n', "base", "no such scenario"),
        ('[design]\nkind = "random"\n', "design.kind", "factorial"),
        ("[design]\nsize = 3\n", "design.size", "unknown design setting"),
        ("[design]\nsamples = 4\n", "design.samples", "factorial design runs every combination"),
        ('[design]\nkind = "sobol"\nsamples = 8\n', "design.kind", "needs at least one"),
        (
            '[factors."uncertainties.inflation_rate"]\nlow = 0.3\nhigh = 0.5\n',
            'factors."uncertainties.inflation_rate".low',
            "factorial design takes discrete values",
        ),
        (
            '[factors."uncertainties.inflation_rate"]\nvalues = []\n',
            'factors."uncertainties.inflation_rate".values',
            "empty",
        ),
        (
            '[factors."uncertainties.inflation_rate"]\nvalues = [0.3, 0.3]\n',
            'factors."uncertainties.inflation_rate".values',
            "twice",
        ),
        (
            '[factors."uncertainties.inflation_rate"]\nvalues = [0.3, 9]\n',
            'factors."uncertainties.inflation_rate".values[1]',
            "[-0.5, 5.0]",
        ),
        (
            '[factors."uncertainties.inflation_rate"]\nvalues = [0.3, "x"]\n',
            'factors."uncertainties.inflation_rate".values[1]',
            "finite number",
        ),
        (
            '[factors."uncertainties.inflation_rat"]\nvalues = [0.3]\n',
            'factors."uncertainties.inflation_rat"',
            "did you mean",
        ),
        (
            '[factors."levers.clinics.targeting"]\nvalues = [1]\n',
            'factors."levers.clinics.targeting"',
            "only numeric settings",
        ),
        (
            '[factors."levers.sukuk.provinces"]\nvalues = [10.5]\n',
            'factors."levers.sukuk.provinces".values[0]',
            "whole number",
        ),
        (
            '[factors."levers.sukuk.provinces"]\nvalues = [40]\n',
            'factors."levers.sukuk.provinces".values[0]',
            "[0, 31]",
        ),
        (
            '[factors."uncertainties.inflation_rate"]\nvalues = [0.3]\n[factors.inflation_rate]\nvalues = [0.4]\n',
            'factors."inflation_rate"',
            "same parameter",
        ),
        (
            '[factors."uncertainties.inflation_rate"]\nvalues = [0.3]\nsd = 1\n',
            'factors."uncertainties.inflation_rate".sd',
            "factorial design takes discrete values",
        ),
        (
            '[factors."levers.ranking.budget_usd"]\nvalues = [0, 1e6]\n'
            "[policies.top]\n[policies.top.levers.technology]\n"
            'targeting = "ranking"\n[policies.top.levers.ranking]\nbudget_usd = 1e6\n',
            "policies.top.levers.ranking.budget_usd",
            "also a factor",
        ),
        (
            '[factors."levers.clinics.budget_usd"]\nvalues = [0, 1e6]\n[policies.plan]\nscenario = "lever_clinics"\n',
            "policies.plan.levers.clinics.budget_usd",
            "also a factor",
        ),
        (
            '[factors."levers.ranking.budget_usd"]\nvalues = [0, 1e6]\n[policies.plan]\nscenario = "ministry_plan"\n',
            "policies.plan.levers.ranking.budget_usd",
            "also a factor",
        ),
        ("[policies]\n", "policies", "is empty"),
        ("[policies.a]\n[policies.b]\n", "policies.b", "same lever settings as policies.a"),
        ("[policies.a]\ncolour = 1\n", "policies.a.colour", "unknown policy setting"),
        ('[policies."1a"]\n', "policies.1a", "must start with a letter"),
        ("[policies.a.levers.clinics]\nbudget_usd = -1\n", "policies.a.levers.clinics.budget_usd", "[0.0, inf)"),
        ('[policies.a]\nscenario = "nowhere"\n', "policies.a.scenario", "no such scenario"),
        ("[goals.exports]\nmonth = 4\n", "goals.exports.month", "after the sweep's last month"),
        ("[goals.exports]\nat_least = 1\n", "goals.exports.month", "48 (from the base's goals) is after"),
        ('[goals.exports]\nindicator = "export"\n', "goals.exports.indicator", "did you mean"),
    ],
)
def test_bad_specs_are_refused_naming_the_key(extra, key, words):
    error = refusal(HEAD + extra)
    assert error.file == "test.toml" and error.key == key
    assert words in error.message


@pytest.mark.parametrize(
    "change, key, words",
    [
        (("samples = 8", "samples = 12"), "design.samples", "power of two"),
        (("samples = 8", "samples = 0"), "design.samples", "whole number"),
        (("samples = 8\n", ""), "design.samples", "missing"),
        (("low = 0.3", "values = [0.3]"), 'factors."uncertainties.inflation_rate".values', "samples a range"),
        (("high = 0.55", "high = 0.2"), 'factors."uncertainties.inflation_rate".high', "above low"),
        (("low = 0\n", ""), 'factors."levers.clinics.budget_usd".low', "missing"),
        (
            ("low = 0\n", "low = -5\n"),
            'factors."levers.clinics.budget_usd".low',
            "must be a number in [0.0, inf] (USD a year)",
        ),
        (("low = 0.002", "low = 0"), 'factors."completion_rate".low', "loguniform factor needs low > 0"),
        (('"loguniform"', '"beta"'), 'factors."completion_rate".distribution', "uniform"),
        (('"loguniform"', '"normal"'), 'factors."completion_rate".mean', "missing"),
    ],
)
def test_bad_continuous_designs_are_refused(change, key, words):
    error = refusal(SOBOL.replace(*change, 1))
    assert error.key == key and words in error.message


def test_a_scale_the_model_refuses_is_caught_before_running():
    error = refusal(HEAD.replace("scale = 0.02", "scale = 0.0001"))
    assert error.key == "scale" and "at least 100 units" in error.message


def test_a_bad_file_is_named():
    with pytest.raises(BadInput, match="no such sweep spec"):
        load_sweep_spec("no_such_spec")
    error = refusal("description = [")
    assert error.key is None and "not valid TOML" in error.message


# --- designs --------------------------------------------------------------------------------


def test_factorial_runs_every_combination_first_factor_slowest():
    loaded = spec(
        HEAD
        + '[factors.inflation_rate]\nvalues = [0.3, 0.5]\n[factors."levers.sukuk.provinces"]\nvalues = [10, 20, 31]\n'
    )
    points = design_points(loaded)
    assert [tuple(p.values.values()) for p in points] == [
        (0.3, 10),
        (0.3, 20),
        (0.3, 31),
        (0.5, 10),
        (0.5, 20),
        (0.5, 31),
    ]
    assert [p.sample for p in points] == list(range(6)) and {p.block for p in points} == {""}


def test_latin_hypercube_has_one_point_in_each_stratum_and_depends_on_the_seed():
    text = HEAD + '[design]\nkind = "latin_hypercube"\nsamples = 10\n[factors.inflation_rate]\nlow = 0.3\nhigh = 0.55\n'
    values = np.array([p.values["inflation_rate"] for p in design_points(spec(text))])
    strata = np.floor((values - 0.3) / 0.025).astype(int)
    assert sorted(strata) == list(range(10))
    assert [p.values for p in design_points(spec(text))] == [p.values for p in design_points(spec(text))]
    other = [p.values["inflation_rate"] for p in design_points(spec(text.replace("seed = 3", "seed = 4")))]
    assert other != values.tolist()


def test_sobol_blocks_follow_saltelli():
    loaded = spec(SOBOL)
    points = design_points(loaded)
    blocks = {}
    for p in points:
        blocks.setdefault(p.block, []).append(p)
    assert list(blocks) == ["A", "B", "AB:0", "AB:1", "AB:2"] and all(len(b) == 8 for b in blocks.values())
    keys = [f.key for f in loaded.factors]
    for i, key in enumerate(keys):
        for a, b, ab in zip(blocks["A"], blocks["B"], blocks[f"AB:{i}"], strict=True):
            assert ab.values[key] == b.values[key]
            assert all(ab.values[k] == a.values[k] for k in keys if k != key)
    rates = np.array([p.values["completion_rate"] for p in blocks["A"]])
    assert ((rates >= 0.002) & (rates <= 0.015)).all()
    assert loaded.runs_total == 8 * 5


def test_factor_distributions_map_the_unit_interval():
    u = np.array([0.0, 0.5, 0.999999])
    assert factor_values(Factor("x", low=1.0, high=3.0), u) == pytest.approx([1.0, 2.0, 3.0], abs=1e-5)
    assert factor_values(Factor("x", distribution="loguniform", low=1.0, high=100.0), u)[1] == pytest.approx(10.0)
    normal = factor_values(Factor("x", distribution="normal", mean=0.5, sd=0.1, low=0.0, high=0.6), u)
    assert normal[1] < 0.5 and min(normal) >= 0.0 and max(normal) <= 0.6  # truncated above: the median falls
    assert factor_values(Factor("x", low=10, high=12, integer=True), np.array([0.0, 0.34, 0.67, 0.9999])) == [
        10,
        11,
        12,
        12,
    ]


# --- run ids and seeds ----------------------------------------------------------------------

PAIRED = (
    HEAD
    + """
replications = 2
[policies.baseline]
[policies.clinics]
scenario = "lever_clinics"
[factors.inflation_rate]
values = [0.3, 0.5]
[factors."levers.training.budget_usd"]
values = [0, 5e6]
"""
)


def test_run_ids_are_unique_and_stable():
    runs = RunPlan(spec(PAIRED)).runs
    assert len(runs) == 2 * 2 * 2 * 2 and len({r.run_id for r in runs}) == len(runs)
    assert [r.run_id for r in RunPlan(spec("# again\n" + PAIRED)).runs] == [r.run_id for r in runs]
    assert all(re.fullmatch(r"[0-9a-f]{16}", r.run_id) for r in runs)
    other_seed = RunPlan(spec(PAIRED.replace("seed = 3", "seed = 4"))).runs
    assert not {r.run_id for r in other_seed} & {r.run_id for r in runs}


def test_seeds_are_shared_by_policies_and_lever_factors_not_by_worlds_or_replicates():
    runs = RunPlan(spec(PAIRED)).runs
    by_world = {}
    for r in runs:
        by_world.setdefault((r.factors["inflation_rate"], r.replicate), set()).add(r.entropy)
    assert all(len(seeds) == 1 for seeds in by_world.values())  # policies x training budgets: one seed
    assert len({next(iter(s)) for s in by_world.values()}) == len(by_world)


def test_shards_partition_the_runs_in_canonical_order():
    plan = RunPlan(spec(PAIRED))
    shards = [plan.shard(i, 3) for i in (1, 2, 3)]
    assert sorted(r.index for shard in shards for r in shard) == list(range(len(plan.runs)))
    assert [r.index for r in shards[1]] == list(range(1, len(plan.runs), 3))


# --- inputs the loaders must survive (issue 21) ------------------------------------------------


def test_deeply_nested_toml_is_one_bad_input():
    error = refusal("a = " + "[" * 100_000 + "]" * 100_000)
    assert error.key is None and error.message == "not valid TOML: nested too deeply"


def test_a_base_name_too_long_for_the_system_is_one_bad_input():
    error = refusal(HEAD + 'base = "' + "y" * 200_000 + '"\n')
    assert error.key == "base" and "characters cut" in str(error) and len(str(error)) < 1_000


def test_control_characters_in_a_policy_description_are_refused():
    error = refusal(HEAD + '[policies.a]\ndescription = "x\\u001b[31m"\n')
    assert error.key == "policies.a.description" and "control characters" in error.message
