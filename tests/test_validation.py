"""experiments.analysis.validation: the estimators on synthetic data with known answers, a small run, the CLI."""

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import cli
from experiments.analysis import validation as v

ROOT = Path(__file__).resolve().parents[1]
FACTS = {
    "firm-size distribution",
    "growth-rate distribution",
    "growth volatility and size",
    "survival of entrants",
    "share of firms exporting",
    "exporter premia",
    "export persistence",
    "export concentration",
    "exporter churn",
}
TRADE_FACTS = {
    "share of firms exporting",
    "exporter premia",
    "export persistence",
    "export concentration",
    "exporter churn",
}


# --- estimators -------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [1.0, 1.5])
def test_pareto_tail_exponent_recovers_alpha(alpha):
    rng = np.random.default_rng(11)
    tail = 100.0 * (1.0 + rng.pareto(alpha, 20_000))  # classic Pareto with xmin = 100
    body = rng.uniform(1.0, 100.0, 30_000)  # below xmin: must be ignored
    estimate = v.pareto_tail_exponent(np.concatenate([body, tail]), 100.0)
    assert estimate == pytest.approx(alpha, rel=0.05)
    assert v.pareto_tail_exponent(tail, 200.0) == pytest.approx(alpha, rel=0.05)  # Pareto above any threshold


def test_pareto_tail_exponent_degenerate():
    assert math.isnan(v.pareto_tail_exponent([1.0, 2.0, 150.0], 100.0))  # one tail observation
    assert math.isnan(v.pareto_tail_exponent([], 100.0))
    with pytest.raises(ValueError, match="xmin"):
        v.pareto_tail_exponent([1.0], 0.0)


def test_kurtosis_and_likelihood_tell_laplace_from_normal():
    rng = np.random.default_rng(5)
    laplace = rng.laplace(0.3, 0.2, 200_000)
    normal = rng.normal(0.3, 0.2, 200_000)
    assert v.excess_kurtosis(laplace) == pytest.approx(3.0, abs=0.4)
    assert v.excess_kurtosis(normal) == pytest.approx(0.0, abs=0.1)
    # large-sample values: (ln pi - 1) / 2 = +0.072 and ln(pi / 2) - 1/2 = -0.048
    assert v.laplace_minus_normal_loglik(laplace) == pytest.approx(0.072, abs=0.01)
    assert v.laplace_minus_normal_loglik(normal) == pytest.approx(-0.048, abs=0.01)


def test_shape_estimators_degenerate_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(v.excess_kurtosis(np.ones(10)))
        assert math.isnan(v.excess_kurtosis([1.0, 2.0]))
        assert math.isnan(v.laplace_minus_normal_loglik(np.full(5, 2.0)))
        assert math.isnan(v.laplace_minus_normal_loglik([]))


def test_volatility_size_slope_recovers_beta():
    rng = np.random.default_rng(3)
    size = np.exp(rng.uniform(0.0, np.log(10_000.0), 60_000))
    growth = rng.normal(0.0, 0.6 * size**-0.25)
    assert v.volatility_size_slope(size, growth) == pytest.approx(0.25, abs=0.03)
    assert v.volatility_size_slope(size, rng.normal(0.0, 0.6, size.shape)) == pytest.approx(0.0, abs=0.03)


def test_volatility_size_slope_needs_three_bins():
    assert math.isnan(v.volatility_size_slope(np.full(500, 10.0), np.linspace(-1, 1, 500)))  # one size
    assert math.isnan(v.volatility_size_slope([1.0, 2.0, 3.0], [0.1, 0.2, 0.3]))
    with pytest.raises(ValueError):
        v.volatility_size_slope([1.0, 2.0], [0.1])


def test_top_share_exact():
    values = np.arange(1.0, 101.0)  # total 5050
    assert v.top_share(values, 0.01) == 100.0 / 5050.0
    assert v.top_share(values, 0.10) == sum(range(91, 101)) / 5050.0
    assert v.top_share(np.concatenate([values, np.zeros(50)]), 0.10) == sum(range(91, 101)) / 5050.0  # non-exporters
    assert v.top_share([5.0, 1.0, 1.0, 1.0], 0.01) == 5.0 / 8.0  # at least one
    assert v.top_share([4.0, 3.0, 2.0, 1.0], 0.5) == 0.7
    assert v.top_share([3.0], 1.0) == 1.0
    assert math.isnan(v.top_share([0.0, 0.0], 0.1))
    with pytest.raises(ValueError):
        v.top_share(values, 0.0)


def test_within_group_premium_and_transition_rates():
    group = np.repeat([0, 1, 2], 4)
    d = np.tile([1, 0, 0, 1], 3)
    y = np.array([10.0, 20.0, 30.0])[group] + 0.5 * d  # group effects plus a premium of 0.5
    assert v.within_group_premium(y, d, group) == pytest.approx(0.5)
    assert v.within_group_premium(y, d, np.zeros(12)) == pytest.approx(0.5)
    assert math.isnan(v.within_group_premium(y, np.ones(12), group))  # no comparison possible

    before = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    after = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    assert v.transition_rates(before, after) == (0.75, 1 / 6)
    stay, enter = v.transition_rates(np.zeros(3, bool), np.ones(3, bool))
    assert math.isnan(stay) and enter == 1.0


# --- a small run ------------------------------------------------------------------------


def _own_runtime_warnings(caught):
    return [w for w in caught if issubclass(w.category, RuntimeWarning) and w.filename.endswith("validation.py")]


@pytest.fixture(scope="module")
def small_facts():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = v.stylised_facts(seed=20181001, scale=0.05, months=60)
    assert not _own_runtime_warnings(caught)
    return frame


def test_report_has_every_fact(small_facts):
    assert list(small_facts.columns) == list(v.COLUMNS)
    assert set(small_facts.fact) == FACTS
    assert small_facts.statistic.is_unique
    assert small_facts.model.dtype == float and small_facts.literature.dtype == float
    assert small_facts.source.str.len().gt(0).all() and small_facts.literature_text.str.len().gt(0).all()
    assert small_facts.loc[small_facts.literature.isna(), "literature_text"].str.len().gt(0).all()


def test_small_run_statistics_are_plausible(small_facts):
    facts = small_facts.set_index("statistic").model
    non_trade = small_facts[~small_facts.fact.isin(TRADE_FACTS)]
    assert np.isfinite(non_trade.model).all(), non_trade[["statistic", "model", "note"]]
    assert 0.5 < facts["Pareto tail exponent of employment (>= 100 employees)"] < 3.0
    assert 0.0 < facts["share active 24 months after starting"] < 1.0
    assert 0.0 < facts["share active 48 months after starting"] <= facts["share active 24 months after starting"] + 0.1
    survival = small_facts[small_facts.fact == "survival of entrants"]
    assert survival.note.str.contains("ODD 9.5").all()
    trade = small_facts[small_facts.fact.isin(TRADE_FACTS)]
    shares = trade[~trade.statistic.str.contains("premium|log |difference", regex=True)].model.dropna()
    assert ((shares >= 0) & (shares <= 1)).all()  # NaN today if nothing exports


def test_short_run_gives_nan_for_four_year_survival():
    frame = v.stylised_facts(seed=1, scale=0.05, months=36).set_index("statistic")
    assert math.isnan(frame.loc["share active 48 months after starting", "model"])
    assert "too short" in frame.loc["share active 48 months after starting", "note"]
    assert np.isfinite(frame.loc["share active 24 months after starting", "model"])


def test_trade_facts_of_the_model():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = v.stylised_facts(seed=2, scale=0.05, months=36)
    assert not _own_runtime_warnings(caught)
    facts = frame.set_index("statistic").model
    trade = frame[frame.fact.isin(TRADE_FACTS)]
    assert np.isfinite(trade.model).all(), trade[["statistic", "model", "note"]]
    assert 0 < facts["exporters / active units"] < 1 and 0 < facts["exporters / active SMEs"] < 1
    assert facts["log productivity, within sector"] > 0.3  # exporters selected on productivity
    assert facts["P(exporter in y+1 | exporter in y)"] > facts["P(exporter in y+1 | not exporter in y)"]
    assert (
        facts["share of exports shipped by the top 1% of exporters"]
        < facts["share of exports shipped by the top 10% of exporters"]
        <= 1.0
    )


# --- report and command line ------------------------------------------------------------


def test_format_report_aligns_model_beside_literature(small_facts):
    text = v.format_report(small_facts)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["fact", "statistic", "model", "literature"]
    table = lines[: len(small_facts) + 2]
    model_end = lines[0].index("model") + len("model")
    assert all(len(line) >= model_end and line[model_end - 1] != " " for line in table[2:])  # right-aligned column
    assert "n/a" in text or np.isfinite(small_facts.model).all()
    assert "1.06" in text and "Knaup" in text


@pytest.mark.integration
def test_cli_refuses_bad_scale(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "validate", "--scale", "0", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--scale" in result.stderr and "(0, 1]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one clear message
    assert not out.exists()


@pytest.mark.parametrize(
    "args, option",
    [
        (["--scale", "1.5"], "--scale"),
        (["--scale", "abc"], "--scale"),
        (["--scale", "nan"], "--scale"),
        (["--months", "0"], "--months"),
        (["--months", "24"], "--months"),
        (["--seed", "1.5"], "--seed"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_main_refuses_bad_input(tmp_path, capsys, args, option):
    out = tmp_path / "out"
    assert cli.main(["validate", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert option in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_main_refuses_a_file_as_out(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep")
    assert cli.main(["validate", "--scale", "0.05", "--months", "36", "--out", str(target)]) == 2
    assert "--out" in capsys.readouterr().err
    assert target.read_text() == "keep"


def test_stylised_facts_refuses_bad_arguments():
    for kwargs in ({"scale": 0.0}, {"months": 12}, {"seed": 1.5}, {"seed": -3}, {"months": 40.0}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            v.stylised_facts(**{"scale": 0.05, **kwargs})


@pytest.mark.integration
def test_cli_writes_csv(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.cli",
            "validate",
            "--seed",
            "3",
            "--scale",
            "0.05",
            "--months",
            "36",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Pareto tail exponent" in result.stdout
    assert "month 36/36" in result.stderr  # progress
    frame = pd.read_csv(out / "stylised_facts.csv")
    assert list(frame.columns) == list(v.COLUMNS)
    assert set(frame.fact) == FACTS
    assert sorted(p.name for p in out.iterdir()) == ["stylised_facts.csv"]  # no temporary file left


def test_each_statistic_with_a_range_gets_a_verdict(small_facts):
    for row in small_facts.itertuples(index=False):
        if row.statistic not in v.RANGES or math.isnan(row.model):
            assert row.verdict == v.NO_RANGE and math.isnan(row.range_low)
            continue
        low, high = v.RANGES[row.statistic]
        assert (row.range_low, row.range_high) == (low, high)
        assert row.verdict == (v.IN_RANGE if low <= row.model <= high else v.OUT_OF_RANGE)
    assert set(v.RANGES) <= set(small_facts["statistic"])  # no range for a statistic that does not exist
    assert "in range" in v.format_report(small_facts)
