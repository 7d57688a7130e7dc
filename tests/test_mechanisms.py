"""Mechanism tests: each could fail if its submodel were wrong."""

import dataclasses

import numpy as np
import pytest

from simulation import SMEModel, production
from simulation.lifecycle import _completion_factor, _idling_factor, _revival_factor, _young_excess
from simulation.parameters import Parameters
from simulation.production import domestic_spending_factor
from simulation.state import ACTIVE, IDLE, UNDER_CONSTRUCTION, FirmState, size_class_of

P = Parameters()


def step_months(model, months):
    for _ in range(months):
        model.step()
    return model


# --- lifecycle -------------------------------------------------------------------------


def test_non_revivable_units_never_restart():
    model = SMEModel(rng=2, scale=0.05)
    model.firms.revivable[:] = False
    step_months(model, 12)
    # units idled during the run may be revivable, but none can restart in the month they idle
    assert model.counters["units_revived"] <= model.counters["units_idled"] * P.revivable_share
    idle_at_start = np.flatnonzero(SMEModel(rng=2, scale=0.05).firms.status == IDLE)
    assert not (model.firms.status[idle_at_start] == ACTIVE).any()


def test_sites_without_infrastructure_never_complete():
    model = SMEModel(rng=4, scale=0.1)
    building = np.flatnonzero(model.firms.status == UNDER_CONSTRUCTION)
    stalled = building[::2]
    model.firms.infrastructure[stalled] = 0.0
    step_months(model, 12)
    assert not (model.firms.status[stalled] == ACTIVE).any()
    assert (model.firms.status[building[1::2]] == ACTIVE).sum() > 0


def test_hazards_average_their_documented_rates_at_month_zero():
    model = SMEModel(rng=6, scale=0.2)
    f, h = model.firms, model.hazards
    status = f.status
    building, active = np.flatnonzero(status == UNDER_CONSTRUCTION), np.flatnonzero(status == ACTIVE)
    revivable = np.flatnonzero((status == IDLE) & f.revivable)
    assert (h.completion * _completion_factor(f, P, building, 0)).mean() == pytest.approx(P.completion_rate)
    assert (h.idling * _idling_factor(f, P, active) + _young_excess(f, P, active, 0)).mean() == pytest.approx(
        P.idling_rate
    )
    assert (h.revival * _revival_factor(f, P, revivable)).mean() == pytest.approx(P.revival_rate)


def test_monthly_flows_match_their_rates():
    """A year of completions, idlings, revivals and applications at full scale, within 4 sd of expectation."""
    model = SMEModel(rng=6)
    building0 = (model.firms.status == UNDER_CONSTRUCTION).sum()
    active0 = (model.firms.status == ACTIVE).sum()
    revivable0 = ((model.firms.status == IDLE) & model.firms.revivable).sum()
    model.step()
    c = model.counters  # units ready to start or restart: funded or not
    for drawn, expected in [
        (c["units_completed"] + c["unfunded_completions"], P.completion_rate * building0),
        (c["units_idled"], P.idling_rate * active0),
        (c["units_revived"] + c["unfunded_revivals"], P.revival_rate * revivable0),
    ]:
        assert abs(drawn - expected) < 4 * np.sqrt(expected), expected
    step_months(model, 11)
    assert model.indicators()["new_applications"] == pytest.approx(12 * P.applications_per_month, rel=0.02)


def test_idling_selects_less_productive_and_less_used_units():
    model = SMEModel(rng=9, scale=0.3)
    idled_phi, stayed_phi = [], []
    for _ in range(12):
        before = model.firms.status == ACTIVE
        phi = model.firms.log_productivity.copy()
        model.step()
        n = len(before)
        after = model.firms.status[:n]
        idled_phi.append(phi[before & (after == IDLE)])
        stayed_phi.append(phi[before & (after == ACTIVE)])
    idled, stayed = np.concatenate(idled_phi), np.concatenate(stayed_phi)
    assert len(idled) > 300
    assert idled.mean() < stayed.mean() - 0.1


def test_young_units_idle_more_often():
    firms = FirmState(3)
    firms.append(status=np.full(3, ACTIVE, np.int8), first_started=np.array([0, -36, -600], np.int32))
    newborn, three_years, old = _young_excess(firms, P, np.arange(3), month=0)
    assert newborn == pytest.approx(P.young_excess_idling_rate)
    assert three_years == pytest.approx(P.young_excess_idling_rate * np.exp(-36 / P.young_age_months))
    assert old < 1e-8


# --- production ------------------------------------------------------------------------


def test_employment_adjusts_faster_up_than_down_and_not_inside_the_band():
    employees = np.array([10.0, 10.0, 10.0, 10.0])
    capacity = np.array([100.0, 100.0, 100.0, 15.0])
    demand = np.array([20.0, 5.0, 10.3, 40.0])
    new = production._adjust_employment(employees, capacity, demand, P)
    assert new[0] == pytest.approx(10 + P.hiring_speed * 10)
    assert new[1] == pytest.approx(10 - P.firing_speed * 5)
    assert new[2] == 10.0  # 3% gap < 5% band
    assert new[3] == pytest.approx(10 + P.hiring_speed * 5)  # capacity binds


def test_investment_only_where_demand_presses_on_capacity():
    capacity = np.array([10.0, 100.0, 100.0])
    employees = np.array([10.0, 50.0, 90.0])
    demand = np.array([20.0, 50.0, 90.0])
    new, added = production._invest(capacity, employees, demand, P)
    assert new[0] == pytest.approx(10 + P.investment_speed * (20 / P.target_utilisation - 10))
    assert new[1] == pytest.approx(100 * (1 - P.depreciation))  # idle capacity depreciates
    assert new[2] == pytest.approx(100 + P.investment_speed * (90 / P.target_utilisation - 100))
    assert added.sum() == pytest.approx((new - capacity)[[0, 2]].sum())
    assert added[1] == 0.0


def test_size_class_thresholds_and_graduation_count():
    assert list(size_class_of(np.array([1.0, 49.9, 50.0, 99.9, 100.0, 5000.0]))) == [0, 0, 1, 1, 2, 2]
    firms = FirmState(3)
    firms.append(status=np.full(3, ACTIVE, np.int8), size_class=np.array([0, 1, 2], np.int8))
    moved = production._update_size_class(firms, np.arange(3), np.array([55.0, 120.0, 80.0]))
    assert moved == 2
    assert list(firms.size_class) == [1, 2, 1]


def test_domestic_demand_is_exactly_served_without_frictions():
    """With instant adjustment, free capacity and no entry, sector home sales equal sector demand."""
    frictionless = {
        "hiring_speed": 1.0,
        "firing_speed": 1.0,
        "adjustment_band": 0.0,
        "applications_per_month": 0.0,
        "completion_rate": 0.0,
        "revival_rate": 0.0,
        "idling_rate": 0.0,
        "young_excess_idling_rate": 0.0,
        "idle_closure_rate": 0.0,
        "supplier_links_per_large_firm": 0.0,
        "link_formation_rate": 0.0,
        "import_substitution_elasticity": 1.0,  # with a unit price elasticity: fixed domestic spending
        "manufactures_price_elasticity": 1.0,
    }
    model = SMEModel(rng=12, scale=0.05, **frictionless)
    model.firms.capacity[:] *= 1000.0
    step_months(model, 3)
    home_sales = model.firms.output_usd - model.firms.exports_usd - model.firms.indirect_sales_usd
    assert model.firms.exports_usd.sum() > 0 and model.firms.indirect_sales_usd.sum() > 0
    output = np.bincount(model.firms.sector, weights=home_sales, minlength=model.market.n_sectors)
    # exact but for units whose demand is below one person: they still employ one (~1e-7 of output)
    np.testing.assert_allclose(output, model.market.base_demand * model.environment.demand_index, rtol=1e-5)


def test_cheaper_domestic_goods_take_share_from_imports():
    """Nested CES: when domestic varieties get cheaper (W up), home buyers spend more on them and
    less on imports; their total spending moves with the composite price only if epsilon != 1."""
    base = np.ones(3)
    weight = np.array([0.8, 1.0, 1.3])  # the domestic price index up, unchanged, down
    domestic, total = domestic_spending_factor(weight, base, P)
    s_m = P.home_import_share
    assert domestic[0] < 1.0 == domestic[1] < domestic[2]
    np.testing.assert_allclose(total, 1.0)  # epsilon = 1 by default: spending shares fixed
    imports = (total - (1 - s_m) * domestic) / s_m  # relative to month 0
    assert imports[0] > 1.0 and imports[2] < 1.0
    # the elasticity of domestic spending to W at W_0 is s_m (eta - 1) / (sigma - 1)
    up, _ = domestic_spending_factor(np.array([1.0 + 1e-6]), np.ones(1), P)
    slope = s_m * (P.import_substitution_elasticity - 1) / (P.demand_elasticity - 1)
    assert (up[0] - 1) / 1e-6 == pytest.approx(slope, rel=1e-4)
    # without substitution to imports (eta = 1) and with fixed spending, nothing moves
    flat = dataclasses.replace(P, import_substitution_elasticity=1.0)
    np.testing.assert_allclose(domestic_spending_factor(weight, base, flat)[0], 1.0)
    # inelastic total spending (epsilon < 1): cheaper goods, less spent on the sector as a whole
    inelastic = dataclasses.replace(P, manufactures_price_elasticity=0.5)
    assert domestic_spending_factor(weight, base, inelastic)[1][2] < 1.0


def test_more_productive_units_get_more_demand():
    model = SMEModel(rng=12, scale=0.05, hiring_speed=1.0, firing_speed=1.0, adjustment_band=0.0)
    f = model.firms
    active = np.flatnonzero(f.status == ACTIVE)
    same = active[f.sector[active] == f.sector[active[0]]][:2]
    f.demand_weight[same] = 1.0
    f.log_productivity_mean[same] = f.log_productivity[same] = [0.0, 0.5]
    f.capacity[same] = 1e6
    model.step()
    low, high = f.employees[same]
    # labour demand ~ phi^(sigma-2): ratio e^(0.5 (sigma-2)) up to one month's shocks
    assert high / low == pytest.approx(np.exp(0.5 * (P.demand_elasticity - 2.0)), rel=0.3)


def test_productivity_keeps_its_stationary_spread():
    model = step_months(SMEModel(rng=13, scale=0.1), 48)
    operating = np.isin(model.firms.status, [ACTIVE, IDLE])
    spread = model.firms.log_productivity[operating].std()
    assert spread == pytest.approx(P.productivity_sigma, abs=0.08)


def _productivity_changes(capacity: float, gap: float = 0.0, months: int = 1, n: int = 20_000) -> np.ndarray:
    firms = FirmState(n)
    firms.append(status=np.full(n, ACTIVE, np.int8), capacity=np.full(n, capacity), log_productivity=np.full(n, -gap))
    for month in range(months):
        production.update_productivity(firms, P, np.random.default_rng(month))
    return firms.log_productivity + gap


def test_shocks_are_smaller_for_larger_plants():
    ratio = _productivity_changes(1024.0).std() / _productivity_changes(16.0).std()
    assert ratio == pytest.approx(2.0 ** (-P.volatility_size_elasticity * 6), rel=0.05)


def test_entrants_catch_up_with_their_long_run_level():
    level_after_a_year = _productivity_changes(16.0, gap=0.2, months=12) - 0.2
    # an entrant 0.2 below its long-run level is expected 0.2 * rho_year below it a year later
    assert level_after_a_year.mean() == pytest.approx(-0.2 * P.productivity_persistence, abs=0.005)


def test_closed_and_unbuilt_units_keep_their_productivity():
    model = SMEModel(rng=14, scale=0.02)
    building = model.firms.status == UNDER_CONSTRUCTION
    before = model.firms.log_productivity.copy()
    production.update_productivity(model.firms, model.params, np.random.default_rng(0))
    np.testing.assert_array_equal(model.firms.log_productivity[building], before[building])
    assert (model.firms.log_productivity[~building] != before[~building]).all()


# --- environment -----------------------------------------------------------------------


def test_demand_trend_without_shocks():
    model = SMEModel(
        rng=1, scale=0.01, domestic_demand_volatility=0.0, sector_demand_volatility=0.0, domestic_demand_growth=0.03
    )
    step_months(model, 12)
    np.testing.assert_allclose(model.environment.demand_index, np.exp(0.03))
