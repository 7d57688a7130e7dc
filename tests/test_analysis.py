"""Analysis of a sweep's runs: paired differences and their intervals, goal probabilities, cost
per job, Sobol indices (checked against scipy and the Ishigami function's analytic values),
replication noise, goal drivers, and the compare / sensitivity commands on a sweep directory."""

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats
from scipy.stats import qmc

from experiments.analysis.compare import compare, format_compare, format_run_counts
from experiments.analysis.drivers import format_goal_drivers, goal_drivers
from experiments.analysis.runs_table import ALL_GOALS
from experiments.analysis.sensitivity import paired_effects, replication_noise, sensitivity
from experiments.analysis.statistics import (
    clustered_interval,
    clustered_wilson_interval,
    mean_interval,
    wilson_interval,
)
from experiments.cli.analysis import compare_command, sensitivity_command
from experiments.errors import BadInput
from experiments.inputs.goals import Goal, load_goals
from experiments.sweeps.store import RUN_COLUMNS, SERIES_SCHEMA, Store
from simulation import CONTRACT, SMEModel
from simulation.errors import InputError

X1, X2, X3 = "uncertainties.x1", "uncertainties.x2", "uncertainties.x3"
EXPORTS_GOAL = Goal("exports", "exports_usd", "Export USD 17 bn a year", at_least=17e9, month=48)
JOBS_GOAL = Goal("jobs", "employment", "2 m jobs", at_least=2e6)


def run_row(policy, sample, replicate=0, block="", status="ok", **values) -> dict:
    row = {
        "run_id": f"{policy}-{block}-{sample}-{replicate}",
        "policy": policy,
        "sample": sample,
        "design_block": block,
        "replicate": replicate,
        "seed": f"{sample}-{replicate}",
        "status": status,
        "error": None if status == "ok" else "ValueError: boom",
        "wall_seconds": 1.0,
        "worker": "w0",
    }
    return row | values


def runs_table(rows) -> pd.DataFrame:
    """A runs table with the store's dtypes."""
    frame = pd.DataFrame(rows)
    return frame.astype(
        {"sample": "int32", "replicate": "int32", **{c: "float64" for c in frame.columns if c not in RUN_COLUMNS}}
    )


def two_policies(n=8, effect=None, seed=1) -> tuple[pd.DataFrame, np.ndarray]:
    """Baseline and plan over n samples x 1 replicate; plan = baseline + effect (the paired differences)."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(5e8, 2e8, n) if effect is None else np.asarray(effect, float)
    rows = []
    for j in range(n):
        world = rng.normal(15e9, 3e9)  # what both policies face in sample j (shared)
        base = dict(exports_usd=world, employment=2e6 + j, policy_spend_usd=1e6, export_share=0.2, **{X1: j / n})
        plan = dict(base, exports_usd=world + effect[j], employment=2e6 + j + 100.0, policy_spend_usd=1e6 + 2e7)
        rows += [run_row("baseline", j, **base), run_row("plan", j, **plan)]
    return runs_table(rows), effect


# --- compare -------------------------------------------------------------------------------------


def test_paired_difference_mean_standard_error_and_t_interval():
    runs, effect = two_policies(n=8)
    extra = run_row("plan", 99, exports_usd=1e12, employment=0.0, policy_spend_usd=0.0, export_share=0.0, **{X1: 0.5})
    runs = runs_table([*runs.sample(frac=1, random_state=3).to_dict("records"), extra])  # order must not matter
    row = compare(runs, {"exports": EXPORTS_GOAL})["compare"].set_index("indicator").loc["exports_usd"]
    se = effect.std(ddof=1) / math.sqrt(8)
    half = stats.t.ppf(0.975, 7) * se
    assert row["pairs"] == 8  # the plan's run at sample 99 has no baseline twin
    assert row["difference"] == pytest.approx(effect.mean())
    assert row["std_error"] == pytest.approx(se)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((effect.mean() - half, effect.mean() + half))
    assert row["value"] - row["baseline"] == pytest.approx(effect.mean())
    # a 90% interval is narrower, by the ratio of t quantiles
    narrow = compare(runs, {}, confidence=0.90)["compare"].set_index("indicator").loc["exports_usd"]
    assert (narrow["ci_high"] - narrow["ci_low"]) / (2 * half) == pytest.approx(
        stats.t.ppf(0.95, 7) / stats.t.ppf(0.975, 7)
    )


def test_intervals_of_worlds_with_replicates_are_over_the_worlds():
    """10 worlds x 5 replicates whose policy effect differs by world: the pairs of one world are
    not independent, so the interval is the t interval of the 10 world means (df 9); the costs'
    bootstrap resamples worlds."""
    rng = np.random.default_rng(4)
    world_effect, rows = rng.normal(5e8, 3e8, 10), []
    for j in range(10):
        for r in range(5):
            base = {
                "exports_usd": 15e9 + rng.normal(0, 1e9),
                "employment": 2e6,
                "policy_spend_usd": 1e6,
                "export_share": 0.2,
            }
            gain = world_effect[j] + rng.normal(0, 2e7)
            plan = dict(base, exports_usd=base["exports_usd"] + gain, employment=2e6 + 100, policy_spend_usd=2e7)
            rows += [run_row("baseline", j, r, **base), run_row("plan", j, r, **plan)]
    result = compare(runs_table(rows), {"exports": EXPORTS_GOAL})
    row = result["compare"].set_index("indicator").loc["exports_usd"]
    frame = runs_table(rows).pivot_table(index=["sample", "replicate"], columns="policy", values="exports_usd")
    means = (frame["plan"] - frame["baseline"]).groupby(level="sample").mean()
    se = means.std(ddof=1) / math.sqrt(10)
    assert (row["pairs"], row["worlds"]) == (50, 10)
    assert row["std_error"] == pytest.approx(se)
    assert row["ci_high"] - row["difference"] == pytest.approx(stats.t.ppf(0.975, 9) * se)
    naive = (frame["plan"] - frame["baseline"]).std(ddof=1) / math.sqrt(50)
    assert se > 1.8 * naive  # treating the 50 pairs as independent would be too narrow here
    assert result["costs"].iloc[0]["pairs"] == 50
    goal = result["goals"].set_index(["policy", "goal"]).loc[("plan", "exports")]
    assert goal["runs"] == 50 and 10 <= goal["effective_runs"] <= 50
    assert "paired over 50 runs with the same uncertainties and seed (intervals over their 10 worlds)" in (
        format_compare(result)
    )


def test_clustered_intervals_cover_the_mean_as_stated():
    """Coverage over 400 designs of 12 worlds x 4 replicates: the worlds' interval holds the true
    mean about 95% of the time, the pairs' interval far less."""
    rng = np.random.default_rng(7)
    clusters = np.repeat(np.arange(12), 4)
    held = {"worlds": 0, "pairs": 0}
    for _ in range(400):
        values = 1.0 + np.repeat(rng.normal(0, 1, 12), 4) + rng.normal(0, 0.3, 48)
        _, _, _, _, low, high = clustered_interval(values, clusters)
        held["worlds"] += low <= 1.0 <= high
        _, _, _, low, high = mean_interval(values)
        held["pairs"] += low <= 1.0 <= high
    assert 0.92 <= held["worlds"] / 400 <= 0.98 and held["pairs"] / 400 < 0.75
    one_each = clustered_interval([1.0, 2.0, 4.0], ["a", "b", "c"])
    assert one_each[1:] == (3, *mean_interval([1.0, 2.0, 4.0])[1:])


def test_goal_probabilities_of_worlds_with_replicates_cover_as_stated():
    """Coverage over 400 designs of 15 worlds x 4 replicates, each world meeting the goal with its
    own probability (mean 0.5): the clustered Wilson interval holds 0.5 about 95% of the time,
    the runs' plain Wilson interval far less."""
    rng = np.random.default_rng(11)
    clusters = np.repeat(np.arange(15), 4)
    held = {"clustered": 0, "plain": 0}
    for _ in range(400):
        met = (rng.random(60) < np.repeat(rng.beta(0.6, 0.6, 15), 4)).astype(float)
        effective, low, high = clustered_wilson_interval(met, clusters)
        assert 15 <= effective <= 60
        held["clustered"] += low <= 0.5 <= high
        low, high = wilson_interval(int(met.sum()), 60)
        held["plain"] += low <= 0.5 <= high
    assert 0.91 <= held["clustered"] / 400 <= 0.99 and held["plain"] / 400 < 0.8
    assert clustered_wilson_interval([1, 0, 1], ["a", "b", "c"]) == (3.0, *wilson_interval(2, 3))
    assert clustered_wilson_interval([0.0] * 8, np.repeat([0, 1], 4))[0] == 2.0  # nothing to measure: the worlds


def test_pairs_are_matched_on_design_block_sample_and_replicate():
    rows = []
    for block, level in (("A", 1.0), ("B", 10.0)):
        for replicate in (0, 1):
            rows.append(run_row("baseline", 0, replicate, block, exports_usd=level + replicate))
            rows.append(run_row("plan", 0, replicate, block, exports_usd=level + replicate + 0.5))
    diff = compare(runs_table(rows), {}, indicators=["exports_usd"])["compare"].iloc[0]
    assert diff["pairs"] == 4 and diff["difference"] == pytest.approx(0.5) and diff["std_error"] == pytest.approx(0.0)


def test_failed_runs_are_excluded_and_counted():
    runs, effect = two_policies(n=6)
    failed = (runs["policy"] == "plan") & (runs["sample"] == 2)
    runs.loc[failed, "status"] = "error"
    runs.loc[failed, "error"] = "RuntimeError: the model diverged"
    runs.loc[failed, "exports_usd"] = 1e15  # a failed run's numbers must not count
    result = compare(runs, {"exports": EXPORTS_GOAL})
    counts = result["runs"].set_index("policy")
    assert counts.loc["plan", ["runs", "ok", "errors", "pairs"]].tolist() == [6, 5, 1, 5]
    assert counts.loc["plan", "first_error"] == "RuntimeError: the model diverged"
    assert counts.loc["baseline", "errors"] == 0
    row = result["compare"].set_index("indicator").loc["exports_usd"]
    assert row["pairs"] == 5 and row["difference"] == pytest.approx(np.delete(effect, 2).mean())
    goals = result["goals"].set_index(["policy", "goal"])
    assert goals.loc[("plan", "exports"), "runs"] == 5
    assert "1 " in format_run_counts(result["runs"]) and "diverged" in format_compare(result)


def test_unknown_baseline_is_refused_with_the_policies_named():
    runs, _ = two_policies(n=3)
    with pytest.raises(InputError, match=r"unknown policy 'basline' \(did you mean 'baseline'\?\)"):
        compare(runs, {}, baseline="basline")
    with pytest.raises(InputError, match="confidence"):
        compare(runs, {}, confidence=95)


def test_wilson_interval_known_values():
    # Wilson (1927) score interval; e.g. Newcombe (1998) table: 3 of 10 -> 0.1078 to 0.6032
    assert wilson_interval(3, 10) == pytest.approx((0.1078, 0.6032), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_goal_probabilities_and_paired_change():
    n = 10
    base_met = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    plan_met = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
    rows = []
    for j in range(n):
        rows.append(run_row("baseline", j, exports_usd=18e9 if base_met[j] else 16e9, employment=2.1e6))
        rows.append(run_row("plan", j, exports_usd=18e9 if plan_met[j] else 16e9, employment=1.9e6 if j < 5 else 2.1e6))
    goals = compare(runs_table(rows), {"exports": EXPORTS_GOAL, "jobs": JOBS_GOAL})["goals"].set_index(
        ["policy", "goal"]
    )
    base, plan = goals.loc[("baseline", "exports")], goals.loc[("plan", "exports")]
    assert (base["runs"], base["met"], base["probability"]) == (10, 3, pytest.approx(0.3))
    assert (base["ci_low"], base["ci_high"]) == pytest.approx((0.1078, 0.6032), abs=1e-4)
    assert plan["probability"] == pytest.approx(0.8)
    d = plan_met - base_met
    half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n)
    assert plan["change"] == pytest.approx(0.5)
    assert (plan["change_low"], plan["change_high"]) == pytest.approx((0.5 - half, 0.5 + half))
    assert math.isnan(base["change"])  # the baseline has no change against itself
    # every goal at once: the plan meets both only in samples 5 to 7
    assert goals.loc[("plan", ALL_GOALS), "met"] == 3 and goals.loc[("baseline", ALL_GOALS), "met"] == 3
    assert goals.loc[("plan", "exports"), "target"] == ">= 17.0 bn"


def test_goals_are_checked_at_their_month_from_the_series():
    """The runs table holds the horizon (month 3); a goal at month 2 is read from the series, one at
    month 6 is not checked (NaN), one without a month is read at the horizon."""
    runs = runs_table([run_row("baseline", j, exports_usd=20e9) for j in range(4)])
    series = pd.DataFrame(
        [
            {"run_id": r, "month": m, "exports_usd": 20e9 if m == 3 else (1e9 if j < 3 else 18e9)}
            for j, r in enumerate(runs["run_id"])
            for m in range(4)
        ]
    )
    goals = {
        "at2": Goal("at2", "exports_usd", "x", 17e9, month=2),
        "at6": Goal("at6", "exports_usd", "x", 17e9, month=6),
        "end": Goal("end", "exports_usd", "x", 17e9),
        "at3": Goal("at3", "exports_usd", "x", 17e9, month=3),
    }
    table = compare(runs, goals, series=series)["goals"].set_index("goal")
    assert table.loc["at2", ["runs", "met"]].tolist() == [4, 1]
    assert table.loc["at6", "runs"] == 0 and math.isnan(table.loc["at6", "probability"])
    assert table.loc["end", "met"] == 4 and table.loc["at3", "met"] == 4
    assert table.loc[ALL_GOALS, "runs"] == 0  # one goal is never checked, so "all" never is
    # without a series, the runs table's horizon values are all there is
    assert compare(runs, goals)["goals"].set_index("goal").loc["at2", "met"] == 4


def test_cost_per_job_and_per_export_dollar():
    runs, _ = two_policies(n=6, effect=[-1e8] * 6)  # the plan: +20 m spent, +100 jobs, exports 100 m lower
    costs = compare(runs, {})["costs"].set_index("policy").loc["plan"]
    assert costs["extra_spend_usd"] == pytest.approx(2e7) and costs["extra_jobs"] == pytest.approx(100)
    assert costs["cost_per_job"] == pytest.approx(2e5)  # USD 200,000 spent per job added
    assert costs["cost_per_job_low"] == pytest.approx(2e5) and costs["cost_per_job_high"] == pytest.approx(2e5)
    assert math.isnan(costs["cost_per_export_usd"])  # exports fell: no cost per export dollar gained
    assert "exports did not rise (-100.0 m)" in costs["note"]
    text = format_compare(compare(runs, {}))
    assert "200,000" in text and "exports did not rise" in text


def test_cost_interval_is_open_when_the_gain_may_be_nothing():
    runs, _ = two_policies(n=12, effect=np.r_[[5e8] * 6, [-4e8] * 6])  # exports +50 m on average, often lower
    costs = compare(runs, {}, n_bootstrap=400)["costs"].set_index("policy").loc["plan"]
    assert costs["cost_per_export_usd"] == pytest.approx(2e7 / 5e7)
    assert math.isinf(costs["cost_per_export_usd_high"]) and "uncertain" in costs["note"]


# --- Sobol indices ------------------------------------------------------------------------------


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[0]) + a * np.sin(x[1]) ** 2 + b * x[2] ** 4 * np.sin(x[0])


def ishigami_indices(a=7.0, b=0.1):
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * np.pi**8 / 225
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def saltelli_runs(func, names, n, replicates=1, noise=None, policy="baseline", seed=1):
    """A runs table of a Saltelli design (blocks A, B, AB:i, as scipy.stats.sobol_indices draws
    them) on U(-pi, pi) factors; `noise(sample, replicate)` is added to the outcome, the same in
    every block (common random numbers). Returns the table and the (d, n) matrices."""
    d = len(names)
    a, b = qmc.Sobol(d=2 * d, seed=seed).random(n).T.reshape(2, d, -1) * 2 * np.pi - np.pi
    ab = np.tile(a, (d, 1, 1))
    ab[np.arange(d), np.arange(d)] = b[np.arange(d)]
    rows = []
    for label, x in [("A", a), ("B", b), *((f"AB:{i}", ab[i]) for i in range(d))]:
        y = func(x)
        for j in range(n):
            for r in range(replicates):
                extra = noise(j, r) if noise else 0.0
                rows.append(
                    run_row(policy, j, r, label, exports_usd=y[j] + extra, **dict(zip(names, x[:, j], strict=True)))
                )
    return runs_table(rows), (a, b, ab)


def test_indices_net_of_noise_recover_the_noise_free_ones():
    """Ishigami with replication noise (sd 3, shared by a sample's blocks as seeds are): the plain
    indices shrink by the noise share (37%); those net of noise hold the analytic values."""
    noise = np.random.default_rng(3).normal(0, 3.0, (1024, 2))
    runs, _ = saltelli_runs(ishigami, [X1, X2, X3], 1024, replicates=2, noise=lambda j, r: noise[j, r])
    result = sensitivity(runs, [X1, X2, X3], "exports_usd", n_bootstrap=200).set_index("factor")
    first, total = ishigami_indices()
    for i, factor in enumerate([X1, X2, X3]):
        row = result.loc[factor]
        assert row["first_order_net_low"] <= first[i] <= row["first_order_net_high"]
        assert row["total_order_net_low"] <= total[i] <= row["total_order_net_high"]
        assert row["total_order_net"] == pytest.approx(row["total_order"] / (1 - 0.37), rel=0.05)
    assert result.loc[X1, "total_order_high"] < total[0]  # the plain index is shrunk by the noise
    one, _ = saltelli_runs(ishigami, [X1, X2, X3], 64)
    assert sensitivity(one, [X1, X2, X3], "exports_usd", n_bootstrap=20)["total_order_net"].isna().all()


def test_sobol_indices_match_scipy_and_the_ishigami_function():
    n = 1024
    runs, (a, b, ab) = saltelli_runs(ishigami, [X1, X2, X3], n)
    runs = runs.sample(frac=1, random_state=0)  # the store's order is arbitrary
    result = sensitivity(runs, [X3, X1, X2], "exports_usd", n_bootstrap=300).set_index("factor").loc[[X1, X2, X3]]
    f_ab = np.stack([ishigami(ab[i]) for i in range(3)])
    reference = stats.sobol_indices(
        func={"f_A": ishigami(a)[None], "f_B": ishigami(b)[None], "f_AB": f_ab[:, None]}, n=n
    )
    # the same estimators on the same design: the same numbers
    np.testing.assert_allclose(result["first_order"], reference.first_order, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result["total_order"], reference.total_order, rtol=1e-9, atol=1e-12)
    # and close to the analytic values, which the bootstrap intervals cover
    first, total = ishigami_indices()
    np.testing.assert_allclose(result["first_order"], first, atol=0.03)
    np.testing.assert_allclose(result["total_order"], total, atol=0.03)
    assert (result["first_order_low"] <= first).all() and (first <= result["first_order_high"]).all()
    assert (result["total_order_low"] <= total).all() and (total <= result["total_order_high"]).all()
    assert (result["rows"] == n).all() and (result["dropped"] == 0).all()
    assert result["replication_noise_share"].isna().all()  # one replicate: no noise to measure


def test_sobol_indices_with_replicates_and_replication_noise():
    """y = x1 + 2 x2 + e, x ~ U(-pi, pi), e ~ N(0, s^2) per (sample, replicate) with s^2 = var(x1 + 2 x2):
    S1 = 0.1, S2 = 0.4 (noise cancels in the estimators' differences) and noise is half the variance."""
    n, replicates = 512, 4
    var_x = (2 * np.pi) ** 2 / 12
    s = math.sqrt(5 * var_x)
    e = np.random.default_rng(5).normal(0, s, (n, replicates))
    runs, _ = saltelli_runs(lambda x: x[0] + 2 * x[1], [X1, X2], n, replicates, noise=lambda j, r: e[j, r])
    result = sensitivity(runs, [X1, X2], "exports_usd", n_bootstrap=200).set_index("factor")
    assert result.loc[X1, "first_order"] == pytest.approx(0.1, abs=0.03)
    assert result.loc[X2, "first_order"] == pytest.approx(0.4, abs=0.05)
    assert result.loc[X1, "total_order"] == pytest.approx(0.1, abs=0.03)
    assert result.loc[X2, "total_order"] == pytest.approx(0.4, abs=0.05)
    assert result.loc[X1, "replication_noise_share"] == pytest.approx(0.5, abs=0.05)
    assert result.loc[X1, "rows"] == n * replicates and result.loc[X1, "samples"] == n
    # the bootstrap resamples samples (with their replicates): the interval covers the truth
    assert result.loc[X1, "first_order_low"] < 0.1 < result.loc[X1, "first_order_high"]


def test_sobol_leaves_out_keys_with_a_failed_run_and_needs_a_sobol_design():
    runs, _ = saltelli_runs(ishigami, [X1, X2, X3], 64)
    failed = (runs["design_block"] == "AB:1") & (runs["sample"] == 5)
    runs.loc[failed, "status"] = "error"
    result = sensitivity(runs, [X1, X2, X3], "exports_usd", n_bootstrap=20)
    assert (result["rows"] == 63).all() and (result["dropped"] == 1).all()
    with pytest.raises(InputError, match="need a Sobol design"):
        sensitivity(runs.assign(design_block=""), [X1], "exports_usd")
    with pytest.raises(InputError, match="unknown factor"):
        sensitivity(runs, ["uncertainties.nothing"], "exports_usd")
    with pytest.raises(InputError, match="no AB block"):
        sensitivity(runs.assign(extra=1.0), ["extra"], "exports_usd")


def test_paired_effects_say_which_factors_decide_what_a_policy_changes():
    """The plan adds 3 x1 to the Ishigami world: its level depends most on x2, its effect only on x1."""
    base, _ = saltelli_runs(ishigami, [X1, X2, X3], 256)
    plan, _ = saltelli_runs(lambda x: ishigami(x) + 3 * x[0], [X1, X2, X3], 256, policy="plan")
    effects = paired_effects(pd.concat([base, plan]), "baseline", ["exports_usd"])
    assert set(effects["policy"]) == {"plan - baseline"} and len(effects) == len(plan)
    result = sensitivity(effects, [X1, X2, X3], "exports_usd", n_bootstrap=20).set_index("factor")
    np.testing.assert_allclose(result["first_order"], [1.0, 0.0, 0.0], atol=1e-6)
    level = sensitivity(plan, [X1, X2, X3], "exports_usd", n_bootstrap=20).set_index("factor")
    assert (level.loc[[X2, X3], "total_order"] > 0.05).all()  # the world varies with all three
    # a missing baseline run leaves its effect out; two baseline runs at one point are refused
    gone = base.drop(base.index[(base["design_block"] == "A") & (base["sample"] == 3)])
    effects = paired_effects(pd.concat([gone, plan]), "baseline", ["exports_usd"])
    assert effects["exports_usd"].isna().sum() == 1
    with pytest.raises(InputError, match="more than one run"):
        paired_effects(pd.concat([base, base, plan]), "baseline", ["exports_usd"])


def test_replication_noise_share_on_a_constructed_case():
    """Design points with means m_j (variance 4) and replicates m_j + e (variance 1): noise is 1/5."""
    rng = np.random.default_rng(2)
    n, replicates = 400, 5
    means = rng.normal(0, 2, n)
    rows = [
        run_row("baseline", j, r, exports_usd=means[j] + rng.normal(0, 1)) for j in range(n) for r in range(replicates)
    ]
    assert replication_noise(runs_table(rows), "exports_usd") == pytest.approx(0.2, abs=0.03)
    assert math.isnan(
        replication_noise(runs_table([run_row("baseline", j, exports_usd=float(j)) for j in range(5)]), "exports_usd")
    )


# --- goal drivers ----------------------------------------------------------------------------------


def test_goal_drivers_pick_the_factor_that_decides_the_goal():
    rng = np.random.default_rng(3)
    n = 300
    x = rng.uniform(0, 1, (n, 3))
    # the exports goal is met when x1 > 0.5 (x2 and x3 do not matter); x2 = inflation pushes jobs down
    rows = [
        run_row(
            "baseline",
            j,
            **{X1: x[j, 0], X2: x[j, 1], X3: x[j, 2]},
            exports_usd=18e9 if x[j, 0] > 0.5 else 16e9,
            employment=2.2e6 - 0.4e6 * x[j, 1],
        )
        for j in range(n)
    ]
    drivers = goal_drivers(runs_table(rows), [X1, X2, X3], {"exports": EXPORTS_GOAL, "jobs": JOBS_GOAL})
    exports = drivers[drivers["goal"] == "exports"].set_index("factor")
    assert exports.index[0] == X1  # sorted by importance
    assert exports.loc[X1, "probability_low"] == 0.0 and exports.loc[X1, "probability_high"] == 1.0
    assert exports.loc[X1, "difference"] == 1.0
    assert exports.loc[X2, "importance"] < 0.2 and exports.loc[X3, "importance"] < 0.2
    assert exports.loc[X1, "runs_low"] == pytest.approx(n / 3, abs=1)
    jobs = drivers[drivers["goal"] == "jobs"].set_index("factor")
    assert jobs.index[0] == X2 and jobs.loc[X2, "difference"] == -1.0  # high inflation: the goal is missed
    text = format_goal_drivers(drivers, {"exports": EXPORTS_GOAL, "jobs": JOBS_GOAL})
    assert "Export USD 17 bn a year (policy baseline): met in 51% of 300 runs" in text and "+100 pp" in text


# --- commands on a sweep directory ------------------------------------------------------------------


def write_sweep(directory, runs: pd.DataFrame, spec: dict, series: pd.DataFrame | None = None):
    """A sweep store written by the store's own writer: two chunks, and a killed writer's leftover."""
    store, half = Store(directory), len(runs) // 2
    every_series = SERIES_SCHEMA.empty_table() if series is None else pa.Table.from_pandas(series, preserve_index=False)
    for name, rows, series_table in (
        ("0", runs.iloc[:half], every_series),
        ("1", runs.iloc[half:], every_series.slice(0, 0)),
    ):
        store.write_chunk(name, pa.Table.from_pandas(rows, preserve_index=False), series_table)
    runs.iloc[:1].assign(status="garbage").to_parquet(directory / "runs" / ".part-2.parquet.123.tmp", index=False)
    (directory / "manifest.json").write_text(json.dumps({"kind": "smesim sweep", "spec": spec}), encoding="utf-8")


def test_compare_command_reads_the_store_prints_and_writes_csv(tmp_path, capsys):
    runs, _ = two_policies(n=6)
    write_sweep(
        tmp_path,
        runs,
        {"factors": {X1: {}}, "design": {"kind": "latin_hypercube"}, "goals": {"exports": {"at_least": 1e9}}},
    )
    assert compare_command(tmp_path, baseline="baseline") == 0
    out = capsys.readouterr().out
    assert "plan - baseline: paired over 6 runs" in out and "exports_usd >= 1.0 bn" in out
    for name in ("compare.csv", "goals.csv", "costs.csv"):
        assert (tmp_path / name).exists()
    goals = pd.read_csv(tmp_path / "goals.csv")
    exports = goals[(goals["goal"] == "exports") & (goals["policy"] == "plan")].iloc[0]
    assert exports["target"] == ">= 1.0 bn" and exports["probability"] == 1.0  # the manifest's override
    assert set(goals["goal"]) == {*load_goals(), ALL_GOALS}
    compared = pd.read_csv(tmp_path / "compare.csv")
    assert set(compared["indicator"]) == {"exports_usd", "employment", "policy_spend_usd", "export_share"}
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # written atomically
    with pytest.raises(BadInput, match="unknown policy 'nope'") as error:
        compare_command(tmp_path, baseline="nope")
    assert error.value.file == str(tmp_path)
    with pytest.raises(BadInput, match="no runs table"):
        compare_command(tmp_path / "missing")


def test_compare_command_default_baseline(tmp_path, capsys):
    runs, _ = two_policies(n=3)
    runs["policy"] = runs["policy"].map({"baseline": "today", "plan": "ministry_plan"})
    write_sweep(tmp_path / "two", runs, {"policies": {"today": {}, "ministry_plan": {}}})
    assert compare_command(tmp_path / "two") == 0
    assert "baseline 'today'" in capsys.readouterr().out  # the spec's first policy
    assert set(pd.read_csv(tmp_path / "two" / "compare.csv")["policy"]) == {"ministry_plan"}
    write_sweep(tmp_path / "one", runs[runs["policy"] == "today"].assign(policy="base"), {})
    assert compare_command(tmp_path / "one") == 0  # one policy: its goals, nothing to compare
    assert pd.read_csv(tmp_path / "one" / "compare.csv").empty
    assert set(pd.read_csv(tmp_path / "one" / "goals.csv")["policy"]) == {"base"}


def test_compare_command_reads_goal_months_from_the_series(tmp_path, capsys):
    runs = runs_table(
        [run_row("baseline", j, exports_usd=20e9) for j in range(4)]
        + [run_row("plan", j, exports_usd=21e9) for j in range(4)]
    )
    series = pd.DataFrame(
        [{"run_id": r, "month": m, "exports_usd": 20e9 if m == 4 else 1e9} for r in runs["run_id"] for m in range(5)]
    )
    write_sweep(tmp_path, runs, {"goals": {"exports": {"month": 2}}}, series)
    assert compare_command(tmp_path) == 0
    goals = pd.read_csv(tmp_path / "goals.csv").set_index(["policy", "goal"])
    assert goals.loc[("plan", "exports"), ["runs", "met"]].tolist() == [4, 0]  # month 2: 1 bn, missed
    assert goals.loc[("plan", "activation"), "runs"] == 0  # month 48: after the horizon, not checked
    assert "not checked" in capsys.readouterr().out


def test_sensitivity_command_on_a_sobol_sweep(tmp_path, capsys):
    runs, _ = saltelli_runs(ishigami, [X1, X2, X3], 128, replicates=2, noise=lambda j, r: 0.5 * r)
    runs["export_share"] = np.where(runs[X2] > 0, 0.4, 0.2)  # the goal (>= 30%) is met when x2 > 0
    write_sweep(tmp_path, runs, {"factors": {X1: {}, X2: {}, X3: {}}, "design": {"kind": "sobol"}})
    assert sensitivity_command(tmp_path, n_bootstrap=50) == 0
    out = capsys.readouterr().out
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert set(table["outcome"]) == {"exports_usd", "export_share"}  # the goals' indicators in the runs table
    assert list(table["factor"][:3]) == [X1, X2, X3]
    drivers = pd.read_csv(tmp_path / "goal_drivers.csv")
    share = drivers[drivers["goal"] == "export_share"].iloc[0]
    assert share["factor"] == X2 and share["importance"] == pytest.approx(1.0)
    assert "replication noise" in out and "Which factors decide each goal" in out
    assert sensitivity_command(tmp_path, outcome="exports_usd", n_bootstrap=10) == 0
    assert set(pd.read_csv(tmp_path / "sensitivity.csv")["outcome"]) == {"exports_usd"}
    with pytest.raises(BadInput, match="unknown indicator 'export'"):
        sensitivity_command(tmp_path, outcome="export")


def test_sensitivity_command_on_a_design_without_sobol_blocks(tmp_path, capsys):
    runs, _ = two_policies(n=9)
    write_sweep(tmp_path, runs, {"design": {"kind": "latin_hypercube"}})
    assert sensitivity_command(tmp_path) == 0
    assert "Sobol indices need a Sobol design" in capsys.readouterr().out
    assert (tmp_path / "goal_drivers.csv").exists() and not (tmp_path / "sensitivity.csv").exists()


# --- the model itself ---------------------------------------------------------------------------------


def test_compare_on_real_model_runs():
    """Two policies x 2 replicates of the model (scale 0.02, 2 months), paired by seed."""
    policies = {"baseline": None, "plan": {"clinics": {"budget_usd": 50e6}, "training": {"budget_usd": 20e6}}}
    rows = []
    for replicate in (0, 1):
        for name, policy in policies.items():
            model = SMEModel(rng=100 + replicate, scale=0.02, policy=policy)
            for _ in range(2):
                model.step()
            rows.append(run_row(name, 0, replicate, **{k: model.indicators()[k] for k in CONTRACT}))
    result = compare(runs_table(rows), load_goals())
    diffs = result["compare"].set_index("indicator")
    assert set(CONTRACT) <= set(diffs.index) and (diffs["pairs"] == 2).all()
    assert np.isfinite(diffs[["difference", "std_error", "ci_low", "ci_high"]].to_numpy()).all()
    assert diffs.loc["policy_spend_usd", "difference"] > 0  # the plan spends on its levers
    assert (result["goals"]["runs"] == 2).all()
    assert format_compare(result)
