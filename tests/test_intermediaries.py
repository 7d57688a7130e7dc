"""Indirect exports through intermediaries (docs/ODD.md 7.8a): calibration, sorting, mechanism."""

import numpy as np
import pytest

from simulation import SMEModel, intermediaries
from simulation.state import ACTIVE

SMALL = 0.05


def test_month_zero_indirect_exports_are_the_calibrated_multiple_of_direct_ones():
    for ratio in (0.5, 1.2):
        model = SMEModel(rng=3, scale=SMALL, initial_indirect_export_ratio=ratio)
        ind = model.indicators()
        assert ind["exports_usd"] == pytest.approx(1.03e9, rel=1e-9)  # the direct calibration is kept
        # within one unit-destination's sales (the pairs are discrete)
        assert ind["indirect_exports_usd"] == pytest.approx(ratio * ind["exports_usd"], rel=5e-3)
        assert ind["total_exports_usd"] == pytest.approx(
            ind["exports_usd"] + ind["indirect_exports_usd"] + ind["sme_content_of_large_exports_usd"]
        )
        f = model.firms
        active = f.status == ACTIVE
        # every active unit's demand still employs exactly its workforce: home sales made room
        assert f.indirect_sales_usd[~f.is_sme].sum() == 0.0
        assert (f.indirect_sales_usd[active] + f.exports_usd[active] <= f.output_usd[active] * (1 + 1e-9)).all()


def test_direct_exporters_are_the_most_productive_and_indirect_ones_next():
    """Ahn, Khandelwal & Wei (2011); Bernard, Grazzi & Tomasi (2015)."""
    model = SMEModel(rng=1, scale=0.1)
    f = model.firms
    sme = (f.status == ACTIVE) & f.is_sme
    direct = sme & (f.exports_usd > 0)
    indirect = sme & ~direct & (f.indirect_sales_usd > 0)
    neither = sme & ~direct & ~indirect
    means = [f.log_productivity[group].mean() for group in (direct, indirect, neither)]
    assert means[0] > means[1] > means[2]
    assert indirect.sum() > direct.sum()  # many small indirect exporters


def test_without_intermediaries_nobody_sells_indirectly():
    model = SMEModel(rng=2, scale=SMALL, initial_indirect_export_ratio=0.0)
    for _ in range(6):
        model.step()
        assert model.indicators()["indirect_exports_usd"] == 0.0


def test_intermediaries_matter_less_where_exporting_is_cheaper():
    """Ahn, Khandelwal & Wei (2011): intermediaries are more important in markets that are harder
    to enter. Export costs halved after month 0: on the same seed more SMEs export themselves and
    a smaller share of exports goes through intermediaries."""
    runs = [SMEModel(rng=4, scale=SMALL, export_cost_multiplier=c).run(6).indicators() for c in (1.0, 0.5)]
    share = [r["indirect_exports_usd"] / r["total_exports_usd"] for r in runs]
    assert runs[1]["exports_usd"] > runs[0]["exports_usd"] and share[1] < share[0]


@pytest.mark.slow
def test_indirect_exports_do_not_depend_on_the_sample():
    """Per-unit decisions with no group threshold: a small sample gives the same national figure."""

    def level(scale: float) -> float:
        return float(
            np.mean([SMEModel(rng=s, scale=scale).run(24).indicators()["indirect_exports_usd"] for s in range(4)])
        )

    assert level(0.05) == pytest.approx(level(0.2), rel=0.1)


def test_a_ratio_beyond_what_the_smes_can_sell_falls_short_with_a_warning():
    with pytest.warns(RuntimeWarning, match=r"initial_indirect_export_ratio.*times their direct exports"):
        model = SMEModel(rng=1, scale=0.1, initial_indirect_export_ratio=8.0)
    ind = model.indicators()
    assert 1.0 < ind["indirect_exports_usd"] / ind["exports_usd"] < 8.0  # everything the SMEs can sell


@pytest.mark.parametrize("seed", range(12))
def test_the_cost_share_is_the_largest_price_at_which_sales_reach_the_target(seed):
    """The partial-sort solver against the definition: over every pair's s, the largest at which
    the capped sales reach the target (ties and units capped by their room included)."""
    rng = np.random.default_rng(seed)
    units, markets = rng.integers(5, 400), rng.integers(1, 18)
    revenue = rng.lognormal(0, 1.5, (units, markets)) * (rng.random((units, markets)) < 0.6)
    pays_at = np.round(revenue * rng.choice([1.0, 0.5], markets), 1 if seed % 3 == 0 else 12)  # ties when rounded
    room = rng.lognormal(1, 1, units)
    target = rng.uniform(0.05, 0.95) * np.minimum(revenue.sum(axis=1), room).sum()

    def sold(s):
        return np.minimum((revenue * (pays_at >= s)).sum(axis=1), room).sum()

    expected = max(s for s in np.unique(pays_at) if sold(s) >= target)
    assert intermediaries._solve_cost_share(revenue, pays_at, room, target) == expected
