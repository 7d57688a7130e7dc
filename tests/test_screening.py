"""Morris screening: the design's trajectories and the elementary effects, against closed forms
(a linear function's effects are its slopes times the step; an interaction's sigma is not 0),
and on a real sweep, where a factor that cannot matter gets exactly 0 (shared seeds)."""

import numpy as np
import pandas as pd
import pytest

from experiments import cli
from experiments.analysis.screening import elementary_effects, morris
from experiments.inputs.sweep_spec import parse_sweep_spec
from experiments.sweeps.design import MORRIS_LEVELS, MORRIS_STEP, RunPlan
from experiments.sweeps.executors import SerialExecutor
from experiments.sweeps.sweep import run_sweep

FACTORS = ["uncertainties.inflation_rate", "uncertainties.training_sunk_cost_cut", "uncertainties.completion_rate"]
SPEC = """
description = "Morris screening: two factors that matter, one that cannot (no training budget)"
seed = 4
months = 3
scale = 0.02
replications = 2
[design]
kind = "morris"
samples = {trajectories}
[factors."uncertainties.inflation_rate"]
low = 0.2
high = 0.6
[factors."uncertainties.training_sunk_cost_cut"]
low = 0.1
high = 0.6
[factors."uncertainties.completion_rate"]
low = 0.002
high = 0.015
"""


def spec(trajectories: int):
    return parse_sweep_spec(SPEC.format(trajectories=trajectories), "morris.toml", "morris")


def synthetic_runs(function, trajectories: int = 40) -> tuple[pd.DataFrame, list]:
    """The design's runs with the outcome `function(unit values)` (the factors on the unit scale)."""
    plan = RunPlan(spec(trajectories)).runs
    bounds = {
        "uncertainties.inflation_rate": (0.2, 0.6),
        "uncertainties.training_sunk_cost_cut": (0.1, 0.6),
        "uncertainties.completion_rate": (0.002, 0.015),
    }
    rows = []
    for run in plan:
        unit = [(run.factors[f] - bounds[f][0]) / (bounds[f][1] - bounds[f][0]) for f in FACTORS]
        rows.append(
            {
                "run_id": run.run_id,
                "policy": run.policy,
                "sample": run.sample,
                "design_block": run.design_block,
                "replicate": run.replicate,
                "status": "ok",
                **run.factors,
                "y": function(*unit),
            }
        )
    return pd.DataFrame(rows), plan


def test_the_design_moves_each_factor_once_by_half_the_unit_scale():
    _, plan = synthetic_runs(lambda a, b, c: 0.0, trajectories=6)
    assert len(plan) == 6 * 4 * 2  # trajectories x (factors + 1) x replications
    for t in range(6):
        points = [r for r in plan if r.sample == t and r.replicate == 0]
        assert [p.design_block.split(":")[0] for p in points] == ["M0", "M1", "M2", "M3"]
        assert sorted(int(p.design_block.split(":")[1]) for p in points[1:]) == [0, 1, 2]
        assert len({r.entropy for r in plan if r.sample == t and r.replicate == 0}) == 1  # one seed a trajectory
    levels = {round((r.factors[FACTORS[0]] - 0.2) / 0.4, 9) for r in plan}
    assert levels <= {round(v, 9) for v in MORRIS_LEVELS}


def test_linear_effects_are_the_slopes_and_an_interaction_shows_in_sigma():
    runs, _ = synthetic_runs(lambda a, b, c: 3.0 * a - 0.5 * b)
    result = morris(runs, FACTORS, "y", n_bootstrap=100).set_index("factor")
    assert result.loc[FACTORS[0], ["mu", "mu_star"]].tolist() == pytest.approx([3.0, 3.0])
    assert result.loc[FACTORS[1], ["mu", "mu_star"]].tolist() == pytest.approx([-0.5, 0.5])
    assert result.loc[FACTORS[2], "mu_star"] == 0.0 and result.loc[FACTORS[0], "sigma"] == pytest.approx(0.0, abs=1e-9)
    assert result.loc[FACTORS[0], "effects"] == 80 and result.loc[FACTORS[0], "trajectories"] == 40
    runs, _ = synthetic_runs(lambda a, b, c: 4.0 * a * b)
    result = morris(runs, FACTORS, "y", n_bootstrap=100).set_index("factor")
    levels = MORRIS_LEVELS
    assert result.loc[FACTORS[0], "sigma"] > 0.5  # the effect of a depends on b
    assert 4.0 * levels.min() <= result.loc[FACTORS[0], "mu_star"] <= 4.0 * levels.max()
    low, high = result.loc[FACTORS[0], ["mu_star_low", "mu_star_high"]]
    assert low <= result.loc[FACTORS[0], "mu_star"] <= high


def test_a_failed_point_drops_only_the_steps_it_ends():
    runs, _ = synthetic_runs(lambda a, b, c: a, trajectories=5)
    failed = runs.index[(runs["sample"] == 0) & (runs["design_block"].str.startswith("M1")) & (runs["replicate"] == 0)]
    runs.loc[failed, "status"] = "error"
    effects = elementary_effects(runs, FACTORS, "y")
    assert len(effects) == 5 * 3 * 2 - 2  # the steps into and out of the failed point
    assert np.allclose(effects.loc[effects["factor"] == FACTORS[0], "effect"], 1.0 / 1.0)
    assert MORRIS_STEP == 0.5


@pytest.mark.integration
def test_a_real_morris_sweep_screens_a_factor_that_cannot_matter_to_zero(tmp_path, capsys):
    out = tmp_path / "out"
    run_sweep(spec(4), out, executor=SerialExecutor(), progress=False)
    assert cli.main(["sensitivity", str(out), "--outcome", "active_units", "--bootstrap", "50"]) == 0
    printed = capsys.readouterr().out
    assert "Morris elementary effects over 4 trajectories" in printed
    table = pd.read_csv(out / "morris.csv").set_index("factor")
    assert table.loc["uncertainties.training_sunk_cost_cut", "mu_star"] == 0.0  # no training budget: no effect
    assert table.loc["uncertainties.completion_rate", "mu_star"] > 0
