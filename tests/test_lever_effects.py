"""Lever effects beside the evidence (experiments/analysis/lever_effects.py): the statistics on
synthetic runs tables whose answer is known, the evidence file, the command line's refusals, and
one real, cheap run end to end."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments import cli
from experiments.analysis.lever_effects import (
    COLUMNS,
    GOALS,
    METRICS,
    VERDICTS,
    Evidence,
    format_lever_effects,
    lever_effects,
    lever_policies,
    lever_statistics,
    load_evidence,
    matched_gain,
    ratio_interval,
)
from experiments.errors import InputFileError
from simulation.policy import LEVERS

MONTHS = 48
EVIDENCE = {
    "credit": Evidence("credit", "cost_per_job_usd", "study", "country", "note", low=3000.0, high=15000.0),
    "training": Evidence("training", "exports_per_usd", "study", "country", "note", low=11.0, high=40.0),
    "technology": Evidence("technology", "employment", "study", "country", "note", sign="non-negative"),
    "clinics": Evidence("clinics", "cost_per_job_usd", "study", "country", "note"),
}


def synthetic_runs(diffs: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """A runs table: the baseline's values per seed, and each scenario's = the baseline's + its paired differences."""
    seeds = len(next(iter(next(iter(diffs.values())).values())))
    rng = np.random.default_rng(3)
    base = {name: 1e6 + rng.normal(0, 1e4, seeds) for name in (*GOALS, "policy_spend_usd")}
    rows = []
    for scenario, diff in {"baseline": {}, **diffs}.items():
        for r in range(seeds):
            values = {name: base[name][r] + diff.get(name, [0.0] * seeds)[r] for name in base}
            rows.append({"scenario": scenario, "scale": 0.1, "months": MONTHS, "replication": r, **values})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def known():
    """credit: 1,000 jobs (+-100) for USD 6.3 m each seed (USD 6,300 a job, in range);
    training: USD 40 m a year of exports (+-0.4 m) for USD 5 m a year (8 per USD, below 11-40);
    clinics: an employment effect around 0 (no cost per job; no published range);
    technology: fewer jobs (the published sign is non-negative: it differs);
    ministry_plan: no evidence listed."""
    jobs = [900.0, 1000.0, 1100.0, 950.0, 1050.0]
    runs = synthetic_runs(
        {
            "lever_credit": {"employment": jobs, "policy_spend_usd": [6.3e6] * 5},
            "lever_training": {"exports_usd": [40e6, 40.4e6, 39.6e6, 40.2e6, 39.8e6], "policy_spend_usd": [20e6] * 5},
            "lever_clinics": {"employment": [-50.0, 50.0, 20.0, -20.0, 0.0], "policy_spend_usd": [1e6] * 5},
            "lever_technology": {"employment": [-900.0, -1000.0, -1100.0, -950.0, -1050.0]},
            "ministry_plan": {"employment": jobs, "policy_spend_usd": [1e8] * 5},
        }
    )
    return runs, lever_statistics(runs, EVIDENCE).set_index("policy")


def test_the_table_has_one_row_per_scenario_with_every_column(known):
    _, frame = known
    assert list(frame.reset_index().columns) == list(COLUMNS)
    assert list(frame.index) == ["lever_credit", "lever_training", "lever_clinics", "lever_technology", "ministry_plan"]
    assert (frame.seeds == 5).all() and set(frame.verdict) <= set(VERDICTS)


def test_known_paired_differences_give_the_known_cost_per_job(known):
    _, frame = known
    credit = frame.loc["lever_credit"]
    assert credit.employment_effect == pytest.approx(1000.0)
    assert credit.policy_spend_usd_effect == pytest.approx(6.3e6)
    assert credit.cost_per_job_usd == pytest.approx(6300.0)
    assert credit.cost_per_job_usd_low < 6300.0 < credit.cost_per_job_usd_high
    assert (credit.metric, credit.model, credit.verdict) == ("cost_per_job_usd", credit.cost_per_job_usd, "in range")


def test_exports_per_usd_divide_by_the_cost_a_year(known):
    _, frame = known
    training = frame.loc["lever_training"]
    assert training.exports_per_usd == pytest.approx(40e6 / (20e6 / (MONTHS / 12)))
    assert 7.5 < training.exports_per_usd_low < 8.0 < training.exports_per_usd_high < 8.5
    assert training.verdict == "below"


def test_cost_per_job_is_na_when_the_employment_effect_is_unclear(known):
    _, frame = known
    clinics = frame.loc["lever_clinics"]
    assert math.isnan(clinics.cost_per_job_usd) and math.isnan(clinics.model)
    assert "cost per job n/a: the employment effect has an interval containing 0" in clinics.note
    assert clinics.verdict == "no published range"


def test_a_published_sign_is_compared_with_the_effects_interval(known):
    _, frame = known
    technology = frame.loc["lever_technology"]
    assert technology.employment_effect_high < 0 and technology.verdict == "sign differs"
    assert "the employment effect is negative" in technology.note


def test_a_scenario_without_evidence_has_no_published_range(known):
    _, frame = known
    plan = frame.loc["ministry_plan"]
    assert plan.verdict == "no published range" and plan.cost_per_job_usd == pytest.approx(1e5)
    assert "no evidence listed" in plan.note


def test_the_statistics_do_not_depend_on_the_order_of_the_runs(known):
    runs, frame = known
    shuffled = runs.sample(frac=1.0, random_state=5)
    order = list(dict.fromkeys(shuffled.scenario.drop(shuffled.index[shuffled.scenario == "baseline"])))
    pd.testing.assert_frame_equal(lever_statistics(shuffled, EVIDENCE).set_index("policy").loc[order], frame.loc[order])


def test_the_text_names_every_scenario_and_verdict(known):
    _, frame = known
    text = format_lever_effects(frame.reset_index())
    for name in ("lever_credit", "lever_training", "ministry_plan", "in range", "below", "sign differs", "3,000"):
        assert name in text


def test_fieller_with_a_fixed_denominator_is_the_t_interval_divided():
    top = np.array([10.0, 12.0, 11.0, 13.0])
    ratio, low, high = ratio_interval(top, np.full(4, 2.0))
    half = stats.t.ppf(0.975, 3) * top.std(ddof=1) / 2
    assert (ratio, low, high) == pytest.approx((11.5 / 2, (11.5 - half) / 2, (11.5 + half) / 2))


def test_fieller_is_unbounded_when_the_denominator_may_be_zero():
    ratio, low, high = ratio_interval([1.0, 2.0, 3.0], [-1.0, 1.0, 0.5])
    assert math.isfinite(ratio) and math.isnan(low) and math.isnan(high)


def test_matched_gain_follows_only_units_the_baseline_had_not_linked():
    first = np.array([3, 5, 2, 20, -1, 0])  # scenario: first linked in month ...
    base_first = np.array([-1, 5, 10, -1, -1, 0])  # unit 1 linked in the same month in both: not matched
    employees = np.array([13.0, 99.0, 26.0, 99.0, 99.0, 99.0])
    base_employees = np.array([10.0, 1.0, 20.0, 1.0, 1.0, 1.0])
    assert matched_gain(first, employees, base_first, base_employees, cohort_months=12) == (2, pytest.approx(0.3))
    assert math.isnan(matched_gain(first, employees, base_first, base_employees, cohort_months=1)[1])


# --- the evidence file ---------------------------------------------------------------------------


def test_the_evidence_file_names_known_levers_and_metrics():
    evidence = load_evidence()
    assert set(evidence) <= set(LEVERS) and {p.removeprefix("lever_") for p in lever_policies()} <= set(evidence)
    for item in evidence.values():
        assert item.metric in METRICS and item.study and item.note
        assert not item.has_range or item.low <= item.high


@pytest.mark.parametrize(
    "text, key",
    [
        ('[credits]\nmetric = "cost_per_job_usd"', "credits"),
        ('[credit]\nmetric = "jobs"\nstudy = "s"\ncountry = "c"\nnote = "n"', "credit.metric"),
        ('[credit]\nmetric = "cost_per_job_usd"\nstudy = "s"\ncountry = "c"\nnote = "n"\nlow = 1', "credit.high"),
        ('[credit]\nmetric = "cost_per_job_usd"\nstudy = "s"\ncountry = "c"', "credit.note"),
    ],
)
def test_a_bad_evidence_file_names_the_file_and_the_key(tmp_path, text, key):
    path = tmp_path / "evidence.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        load_evidence(path)
    assert caught.value.file == str(path) and caught.value.key == key


# --- the command line and a real run -------------------------------------------------------------


@pytest.mark.parametrize(
    "args, flag",
    [(["--scales", "0.1"], "--scales"), (["--seeds", "1"], "--seeds"), (["--scale-check"], "--levers")],
)
def test_bad_flags_exit_2_with_one_line(tmp_path, capsys, args, flag):
    out = tmp_path / "out"
    assert cli.main(["validate", "--levers", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and flag in err, err
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.integration
def test_a_real_run_end_to_end_whatever_the_workers(tmp_path, capsys):
    frame = lever_effects(["lever_matchmaking"], scale=0.02, seeds=2, months=6, workers=0, progress=False)
    row = frame.iloc[0]
    assert row.policy == "lever_matchmaking" and row.policy_spend_usd_effect > 0 and row.matched_suppliers > 0
    out = tmp_path / "validation"
    flags = ["--policies", "lever_matchmaking", "--scale", "0.02", "--seeds", "2", "--months", "6", "--workers", "2"]
    assert cli.main(["validate", "--levers", *flags, "--out", str(out)]) == 0
    assert "lever_matchmaking" in capsys.readouterr().out
    written = pd.read_csv(out / "lever_effects.csv")
    for text in (c for c in frame.columns if isinstance(frame[c].iloc[0], str)):
        written[text] = written[text].astype(object).fillna("")  # an empty text is read back as NaN
    pd.testing.assert_frame_equal(written, frame, check_dtype=False)
    assert sorted(p.name for p in out.iterdir()) == ["lever_effects.csv"]
