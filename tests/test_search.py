"""smesim search and smesim discover: search specs refused with one line, a tiny search run for
real (in this process) that stops after round 1 and resumes without repeating a run, its
verification on fresh seeds, its outputs and recommended scenario, and PRIM and CART. The tests
on the tiny search are marked slow (its fixture takes over ten seconds)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import cli
from experiments.analysis.discovery import cart_tree, prim
from experiments.inputs.sweep_spec import parse_sweep_spec
from experiments.search.outputs import format_search
from experiments.search.search import BASELINE, candidate_values, evaluated_runs, propose, run_search
from experiments.search.spec import load_search_spec, shipped_searches, sweep_text
from experiments.sweeps.executors import SerialExecutor
from experiments.sweeps.store import Store, read_runs
from experiments.sweeps.sweep import run_sweep

# 2 levers (a budget and a choice), 2 draws of one uncertainty, 3 months at 2% of the population.
# The goal is lowered to what clinics can reach in 3 months, so that the claim is decidable.
SPEC = """
description = "Search tests: clinics' budget and listing targeting for a low activation target"
seed = 3
months = 3
scale = 0.02
probability = 0.5
cost_cap_usd = 50e6
[levers.clinics.budget_usd]
low = 0
high = 60e6
[levers.listing.targeting]
choices = ["all", "ranking"]
[fixed.listing]
budget_usd = 1e6
[fixed.ranking]
budget_usd = 0.5e6
[goals.act]
indicator = "units_activated_distinct"
at_least = 700
month = 3
[goal_sets]
low = ["act"]
[ensemble]
draws = 2
[ensemble.uncertainties."uncertainties.clinic_revival_success"]
low = 0.3
high = 0.7
[search]
initial = 4
batch = 2
evaluations = EVALUATIONS
[verification]
shortlist = 1
draws = 3
batches = 2
"""


def write_spec(folder: Path, evaluations: int = 6, text: str = SPEC) -> Path:
    path = folder / "tiny.toml"
    path.write_text(text.replace("EVALUATIONS", str(evaluations)), encoding="utf-8")
    return path


def records(directory: Path) -> list[dict]:
    return Store(directory).records() or []


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A search stopped after round 1 (its budget), then resumed with the full budget."""
    folder = tmp_path_factory.mktemp("search")
    out = folder / "out"
    first = run_search(load_search_spec(write_spec(folder, 4)), out, executor=SerialExecutor(), progress=False)
    round_one = records(out / "round-01")
    spec = load_search_spec(write_spec(folder, 6))
    second = run_search(spec, out, executor=SerialExecutor(), progress=False)
    return spec, out, first, second, round_one


@pytest.mark.slow  # the search fixture: about 45 runs (13 s on two busy cores)
def test_a_search_stopped_after_round_one_resumes_without_repeating_a_run(searched):
    spec, out, first, second, round_one = searched
    assert len(first.candidates) == 4 and len(second.candidates) == 6
    assert records(out / "round-01") == round_one  # no chunk of round 1 written again
    rounds = sorted(p.name for p in out.glob("round-??") if p.is_dir())
    assert rounds == ["round-01", "round-02"]
    assert sum(r["runs"] for r in records(out / "round-02")) == 2 * spec.draws  # two new candidates
    assert second.runs_now == sum(
        r["runs"] for d in [out / "round-02", *(out / "verify-r02").glob("batch-??")] for r in records(d)
    )
    manifest = json.loads((out / "search.json").read_text())
    assert manifest["kind"] == "smesim search" and len(manifest["sessions"]) == 2
    assert manifest["spec_text"] == spec.text and manifest["verification"]["directory"] == "verify-r02"


@pytest.mark.slow  # the search fixture: about 45 runs (13 s on two busy cores)
def test_every_candidate_meets_the_same_draws_and_seeds(searched):
    _, out, *_ = searched
    runs = pd.concat([read_runs(out / "round-01"), read_runs(out / "round-02")])
    worlds = runs.groupby("policy")[["seed", "uncertainties.clinic_revival_success"]].apply(
        lambda g: tuple(sorted(map(tuple, g.to_numpy())))
    )
    assert worlds.nunique() == 1 and len(worlds) == 6  # common random numbers across rounds
    batch = read_runs(out / "verify-r02" / "batch-01")
    assert not set(batch["seed"]) & set(runs["seed"])  # verification: fresh seeds and draws


@pytest.mark.slow  # the search fixture: about 45 runs (13 s on two busy cores)
def test_the_surrogates_propose_the_same_round_from_the_same_runs(searched):
    """What a resumed search reads back from round-02.toml is what a new directory would propose."""
    spec, out, *_ = searched
    first = candidate_values(spec, parse_sweep_spec((out / "round-01.toml").read_text(), "round-01.toml", "r1"))
    second = candidate_values(spec, parse_sweep_spec((out / "round-02.toml").read_text(), "round-02.toml", "r2"))
    data = evaluated_runs(spec, [out / "round-01"])
    for _ in range(2):
        mixes, note = propose(spec, data, first, 2, 2)
        assert mixes == list(second.values()) and "CV R^2" in note
    assert note in (out / "round-02.toml").read_text()


@pytest.mark.slow  # the search fixture: about 45 runs (13 s on two busy cores)
def test_the_verified_claim_decides_and_the_recommendation_runs(searched, tmp_path):
    spec, out, _, second, _ = searched
    rec = second.recommendations["low"]
    row = second.verification.set_index("candidate").loc[rec["candidate"]]
    # the spec's target is low enough for a clinic budget to meet it: decided in two batches
    assert row["verdict"] == "meets" and rec["found"] and row["runs"] == 2 * spec.verify_draws
    assert row["p_low"] >= spec.probability and rec["cost_usd"] <= spec.cost_cap_usd
    assert rec["candidate"] in set(pd.read_csv(out / "frontier.csv")["candidate"])
    assert f"recommended {rec['candidate']}" in format_search(second)
    verified = evaluated_runs(spec, sorted((out / "verify-r02").glob("batch-??")))
    assert BASELINE in set(verified["policy"]) or rec["candidate"] in set(verified["policy"])
    frontier = pd.read_csv(out / "frontier.csv")
    assert len(frontier) == 6 and {"cost_usd", "low_p", "low_p_low", "low_frontier", "act_mean"} <= set(frontier)
    on = frontier[frontier["low_frontier"]]
    for r in on.itertuples():  # nobody on the frontier is dominated
        assert not ((frontier["cost_usd"] < r.cost_usd) & (frontier["low_p"] >= r.low_p)).any()
    assert (out / "frontier.png").stat().st_size > 0 and (out / "summary.txt").read_text().startswith("tiny")
    assert set(pd.read_csv(out / "surrogates.csv")["indicator"]) == {"act", "policy_spend_usd"}
    scenario = out / "recommended-low.toml"  # smesim run accepts it
    assert cli.main(["run", str(scenario), "--months", "2", "--out", str(tmp_path / "run")]) == 0


@pytest.mark.slow  # the search fixture: about 45 runs (13 s on two busy cores)
def test_a_rerun_of_the_recommended_mix_on_fresh_seeds_agrees_with_its_claim(searched, tmp_path):
    """The claim's interval covers the share met by the mix on seeds neither search nor
    verification used (a sweep of that mix alone)."""
    spec, _, _, second, _ = searched
    rec = second.recommendations["low"]
    mix = {lever.key: rec[lever.key] for lever in spec.levers}
    text = sweep_text(spec, "re-run", 777, 6, {"mix": spec.policy_levers(mix)})
    sweep = parse_sweep_spec(text, str(tmp_path / "rerun.toml"), "rerun")
    run_sweep(sweep, tmp_path / "rerun", executor=SerialExecutor(), progress=False)
    share = float((read_runs(tmp_path / "rerun")["units_activated_distinct"] >= 700).mean())
    assert rec["p_low"] - 0.2 <= share <= rec["p_high"] + 1e-9  # 6 runs: some slack below


@pytest.mark.slow  # the search fixture: about 45 runs (13 s on two busy cores)
def test_a_search_directory_of_another_spec_is_refused(searched, tmp_path, capsys):
    _, out, *_ = searched
    other = write_spec(tmp_path, 6, SPEC.replace("seed = 3", "seed = 4"))
    assert cli.main(["search", str(other), "--out", str(out), "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "different spec" in err and str(out) in err


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (("high = 60e6", "high = -1"), "levers.clinics.budget_usd.high", "must be a number"),
        (
            ('choices = ["all", "ranking"]', 'choices = ["all", "best"]'),
            "levers.listing.targeting.choices[1]",
            "one of",
        ),
        (("draws = 2\n", "draws = 1\n"), "ensemble.draws", "whole number"),
        (("low = 0.3", "low = 3.0"), 'ensemble.uncertainties."uncertainties.clinic_revival_success".low', "[0.0, 1.0]"),
        (('low = ["act"]', 'low = ["acts"]'), "goal_sets.low[0]", "unknown goal"),
        (("probability = 0.5", "probability = 1.0"), "probability", "strictly between"),
        (("scale = 0.02", "scale = 2"), "scale", "(0, 1]"),
        (("[fixed.listing]", "[fixed.clinics]"), "fixed.clinics.budget_usd", "also searched"),
        (("month = 3", "month = 9"), "goals.act.month", "after"),
    ],
)
def test_bad_search_specs_exit_2_naming_file_and_key(tmp_path, capsys, change, key, words):
    path = write_spec(tmp_path, 6, SPEC.replace(*change))
    assert cli.main(["search", str(path), "--out", str(tmp_path / "out"), "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{path}: {key}:" in err and words in err, err
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_the_shipped_search_specs_are_valid_and_listed():
    assert "activation" in shipped_searches()
    spec = load_search_spec("activation")
    assert spec.goal_sets["activation"] == ("activation",) and spec.goals["activation"].at_least == 31_500
    assert "activation" in cli_output(["searches"])


def cli_output(argv) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert cli.main(argv) == 0
    return buffer.getvalue()


@pytest.mark.slow  # the search fixture: about 45 runs (13 s on two busy cores)
def test_discover_finds_the_box_where_the_search_candidate_fails(searched, tmp_path):
    _, out, *_ = searched
    text = cli_output(["discover", str(out), "--policy", "c0001", "--goal", "act", "--out", str(tmp_path / "d")])
    assert "c0001" in text and "runs" in text
    trajectory = pd.read_csv(tmp_path / "d" / "prim_trajectory.csv")
    assert trajectory["coverage"].iloc[0] in (0.0, 1.0) and (trajectory["support"].diff().dropna() < 0).all()
    assert (tmp_path / "d" / "peeling.png").exists() and (tmp_path / "d" / "cart.txt").exists()


def test_prim_peels_towards_the_box_that_holds_the_failures():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.random(400), "b": rng.random(400), "c": rng.random(400)})
    y = ((x["a"] > 0.7) & (x["b"] < 0.4)).to_numpy(float)
    trajectory = prim(x, y, alpha=0.05, min_support=0.05)
    assert trajectory[0].coverage == 1.0 and trajectory[0].density == pytest.approx(y.mean())
    densest = max((b for b in trajectory if b.coverage >= 0.9), key=lambda b: b.density)
    assert densest.density > 0.9 and set(densest.restricted) == {"a", "b"}
    assert densest.bounds["a"][0] == pytest.approx(0.7, abs=0.05) and densest.bounds["b"][1] == pytest.approx(
        0.4, abs=0.05
    )
    supports = [b.support for b in trajectory]
    assert supports == sorted(supports, reverse=True) and supports[-1] >= 0.05
    assert "a <=" in cart_tree(x, y) or "a >" in cart_tree(x, y)
