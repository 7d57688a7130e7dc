"""Month-0 calibration against the seed facts (full scale)."""

import numpy as np
import pytest

from simulation.geography import PROVINCE_NAMES
from simulation.parameters import Parameters
from simulation.population import size_distribution

SEED = Parameters()


@pytest.mark.parametrize(
    ("indicator", "seed_figure"),
    [
        ("industrial_units", 85_000),
        ("smes", 77_000),
        ("smes_in_parks", 43_000),
        ("active_smes_in_parks", 34_000),
        ("under_construction_units", 50_000),
    ],
)
def test_month_zero_counts_within_2_percent(full_model, indicator, seed_figure):
    assert full_model.indicators()[indicator] == pytest.approx(seed_figure, rel=0.02)


def test_sme_employment_share_half(full_model):
    assert abs(full_model.indicators()["sme_employment_share"] - 0.50) <= 0.03


def test_sme_output_matches_seed_implied_output(full_model):
    assert full_model.indicators()["sme_output_usd"] == pytest.approx(57e9, rel=1e-9)


def test_one_agent_per_unit(full_model):
    assert len(full_model.agents) == full_model.firms.n == 135_000
    frame = full_model.firm_frame()
    assert frame["status"].value_counts()["under_construction"] == 50_000
    assert (frame["status"] != "closed").all()


def test_size_classes_follow_ismo_thresholds(full_model):
    frame = full_model.firm_frame()
    operating = frame[frame.status.isin(["active", "idle"])]
    size = np.where(operating.status == "active", operating.employees, np.nan)
    active = operating.status == "active"
    assert (size[active & operating.is_sme] < 100).all()
    assert (size[active & ~operating.is_sme] >= 100).all()
    small = operating.size_class == "small"
    assert (size[active & small] < 50).all()
    # right-skewed: mean about twice the median; the top tenth of active units employs ~half
    employed = np.sort(size[active])[::-1]
    assert 1.8 < employed.mean() / np.median(employed) < 2.6
    assert 0.4 < employed[: len(employed) // 10].sum() / employed.sum() < 0.6


def test_size_distribution_solves_both_seed_facts():
    """The closed-form (mu, sigma) reproduce the SME share of units and of employment."""
    from scipy.stats import lognorm

    mu, sigma = size_distribution(SEED)
    dist = lognorm(s=sigma, scale=np.exp(mu))
    assert dist.cdf(100) == pytest.approx(SEED.initial_smes / SEED.initial_industrial_units, abs=1e-9)
    below = dist.expect(lambda x: x, ub=100) * 0.79  # active share of SMEs
    above = dist.expect(lambda x: x, lb=100) * SEED.active_share_large
    assert below / (below + above) == pytest.approx(0.5, abs=0.005)


def test_impossible_employment_share_is_refused():
    from simulation import SMEModel

    with pytest.raises(ValueError, match="initial_sme_employment_share"):
        SMEModel(rng=1, scale=0.01, initial_sme_employment_share=0.95)


def test_parks_and_provinces(full_model):
    parks, firms = full_model.parks, full_model.firms
    assert len(parks) == 966
    assert set(parks.province) == set(range(len(PROVINCE_NAMES)))
    in_park = firms.park_id >= 0
    assert (firms.province[in_park] == parks.province[firms.park_id[in_park]]).all()
    assert (firms.infrastructure[in_park] == parks.infrastructure[firms.park_id[in_park]]).all()
    assert np.bincount(firms.province, minlength=31).min() > 0


def test_sampled_population_reports_national_scale():
    from simulation import SMEModel

    model = SMEModel(rng=3, scale=0.1)
    ind = model.indicators()
    assert model.firms.n == 13_500
    for name, figure in [("industrial_units", 85_000), ("smes", 77_000), ("under_construction_units", 50_000)]:
        assert ind[name] == pytest.approx(figure, rel=0.02)
    assert ind["sme_output_usd"] == pytest.approx(57e9, rel=1e-9)
    assert abs(ind["sme_employment_share"] - 0.5) < 0.05
