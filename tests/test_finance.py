"""Finance: stock-flow consistency and mechanism tests that could fail."""

import numpy as np
import pytest
from helpers import check_stock_flow
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import SMEModel
from simulation.environment import Environment
from simulation.finance import SUKUK, Finance
from simulation.parameters import Parameters
from simulation.randomness import Streams
from simulation.state import ACTIVE, UNDER_CONSTRUCTION, FirmState

P = Parameters()


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    months=st.integers(1, 14),
    sukuk=st.sampled_from([0.0, 10e6, 100e6]),
    grants=st.sampled_from([0.0, 5e6]),
    subsidised=st.sampled_from([0.0, 20e6]),
    bank=st.sampled_from([0.0, 200e6]),
)
def test_stock_flow_consistency(seed, months, sukuk, grants, subsidised, bank):
    model = SMEModel(
        rng=seed,
        scale=0.05,
        sukuk_programme_capacity_usd=sukuk,
        grant_budget_usd=grants,
        subsidised_credit_usd=subsidised,
        bank_lending_capacity_usd=bank,
    )
    check_stock_flow(model)
    for _ in range(months):
        model.step()
        check_stock_flow(model)
        # a source may be overdrawn by its marginal lumpy request, never by more than one plant
        plant = model.firms.capacity.max() * model.params.capital_per_worker_usd * model.finance.rate
        assert min(model.finance.capacity.values()) >= -plant * (1 + model.params.sukuk_issuance_cost_share) - 1e-3


# --- a tiny world for funding tests ---------------------------------------------------------


def _world(n, p=P, seed=1, **columns):
    firms = FirmState(n)
    defaults = {
        "status": np.full(n, ACTIVE, np.int8),
        "capacity": np.full(n, 50.0),
        "employees": np.full(n, 30.0),
        "output_usd": np.zeros(n),
        "province": np.zeros(n, np.int16),
        "cluster_id": np.zeros(n, np.int32),
    }
    firms.append(**{**defaults, **columns})
    environment = Environment(p, Streams(1), 10)
    finance = Finance(firms, p, 1.0, environment, Streams(seed))
    finance.start_month(environment, month=1)  # month 0 funds nothing
    return firms, finance


def test_no_collateral_no_bank_credit():
    p = Parameters(sukuk_programme_capacity_usd=0.0)
    firms, fin = _world(2, p, capacity=np.array([0.0, 50.0]))
    share = fin.fund(firms, np.arange(2), np.array([100_000.0, 100_000.0]), "revival")
    assert share.tolist() == [0.0, 1.0]
    assert firms.bank_debt[0] == 0 and firms.bank_debt[1] == pytest.approx(100_000.0 * fin.rate)


def test_bank_credit_is_capped_by_collateral_and_capacity():
    """A capacity of 1 m USD serves the first 625k request and, as the marginal request, the second;
    the overdraft of 250k comes out of the next month, and what a month leaves is kept for the next."""
    p = Parameters(sukuk_programme_capacity_usd=0.0, bank_lending_capacity_usd=1e6)
    firms, fin = _world(3, p)
    plant = 50.0 * p.capital_per_worker_usd  # 1.25 m USD of fixed assets each
    need = np.array([0.9 * plant, 0.5 * plant, 0.5 * plant])  # the first exceeds 0.7 x collateral
    share = fin.fund(firms, np.arange(3), need, "revival")
    assert share.tolist() == [0.0, 1.0, 1.0]
    assert firms.bank_debt.sum() == pytest.approx(plant * fin.rate)
    assert fin.fund(firms, np.array([0]), np.array([1.0]), "completion").sum() == 0.0  # nothing left
    environment = Environment(p, Streams(1), 10)
    fin.start_month(environment, month=2)
    assert fin.capacity["bank"] == pytest.approx(1e6 * fin.rate - (plant - 1e6) * fin.rate)  # 0.75 m
    fin.start_month(environment, month=3)  # nothing lent in month 2: its 0.75 m is kept
    assert fin.capacity["bank"] == pytest.approx(1.75e6 * fin.rate)


def test_an_ijara_issue_never_exceeds_the_assets_behind_it():
    p = Parameters(sukuk_programme_capacity_usd=1e9, bank_lending_capacity_usd=0.0, sukuk_fixed_issuance_cost_usd=0.0)
    firms, fin = _world(4, p)
    plant = 50.0 * p.capital_per_worker_usd
    share = fin.fund(firms, np.arange(4), np.full(4, 3 * plant), "investment", divisible=True)
    assert (firms.ijara_debt > 0).all()
    assert (firms.leased_assets <= plant * fin.rate * (1 + 1e-12)).all()
    assert share == pytest.approx(np.full(4, (1 / (1 + p.sukuk_issuance_cost_share)) / 3), rel=0.02)


def test_pooling_makes_sukuk_reachable():
    """A lone unit's need is below the smallest viable issue; forty units pooled in a consortium reach it."""
    p = Parameters(sukuk_programme_capacity_usd=1e9, bank_lending_capacity_usd=0.0)
    need = 200_000.0  # an issue needs >= fixed cost / max cost share = 3 m USD
    lone, fin = _world(1, p)
    assert fin.fund(lone, np.arange(1), np.array([need]), "revival").tolist() == [0.0]
    pooled, fin = _world(40, p, consortium_id=np.zeros(40, np.int32))
    assert (fin.fund(pooled, np.arange(40), np.full(40, need), "revival") == 1.0).all()
    assert pooled.murabaha_debt.sum() > 40 * need * fin.rate  # issue costs are owed too


def test_a_programme_outside_its_provinces_finances_nobody():
    p = Parameters(sukuk_programme_capacity_usd=1e9, bank_lending_capacity_usd=0.0, sukuk_programme_provinces=0.0)
    firms, fin = _world(40, p, consortium_id=np.zeros(40, np.int32))
    assert (fin.fund(firms, np.arange(40), np.full(40, 200_000.0), "revival") == 0).all()
    assert sum(getattr(firms, c).sum() for c in SUKUK) == 0


def test_unfunded_lumpy_needs_take_nothing():
    p = Parameters(sukuk_programme_capacity_usd=0.0, bank_lending_capacity_usd=0.0)
    firms, fin = _world(1, p)
    firms.cash[:] = 1_000.0
    assert fin.fund(firms, np.arange(1), np.array([100_000.0]), "completion").tolist() == [0.0]
    assert firms.cash[0] == 1_000.0  # the unit keeps its cash for a later month
    assert fin.unmet_rial == pytest.approx(100_000.0 * fin.rate)


def test_grants_stay_within_their_budget_over_the_months():
    """1 m a month serves three 300k needs and commits to the marginal fourth with odds 100k / 300k.
    What it keeps, or owes, carries into the next month's 1 m."""
    p = Parameters(grant_budget_usd=1e6, bank_lending_capacity_usd=0.0, sukuk_programme_capacity_usd=0.0)
    firms, fin = _world(8, p)
    share = fin.fund(firms, np.arange(8), np.full(8, 300_000.0), "revival")
    committed = fin._commitment_draw("grant", "revival") < 1 / 3
    assert share.sum() == 3.0 + committed and fin.usd["grants"] == pytest.approx(900_000.0 + 300_000.0 * committed)
    fin.start_month(Environment(p, Streams(1), 10), month=2)
    assert fin.capacity["grant"] / fin.rate == pytest.approx(2e6 - fin.usd["grants"])


def test_a_budget_spends_what_it_has_in_expectation():
    """Needs of 300k against 100k a month: the budget commits to one with odds (what it has) /
    300k, so over many worlds it spends what it has accrued, not less (nor the 300k it lacks)."""
    p = Parameters(grant_budget_usd=1e5, bank_lending_capacity_usd=0.0, sukuk_programme_capacity_usd=0.0)
    spent = []
    for seed in range(400):
        firms, fin = _world(4, p, seed=seed)
        fin.fund(firms, np.arange(4), np.full(4, 300_000.0), "revival")
        spent.append(fin.usd["grants"])
    assert np.mean(spent) == pytest.approx(1e5, rel=0.15)
    assert set(spent) == {0.0, 300_000.0}


def grant_round(bank_usd: float, deadweight: float) -> tuple[float, float, float, float]:
    """Eight 300k restarts, a 600k grant budget: (needs funded, bank lending, grants, deadweight grants)."""
    p = Parameters(
        grant_budget_usd=600_000.0,
        bank_lending_capacity_usd=bank_usd,
        sukuk_programme_capacity_usd=0.0,
        grant_deadweight_share=deadweight,
    )
    firms, fin = _world(8, p)
    share = fin.fund(firms, np.arange(8), np.full(8, 300_000.0), "revival")
    return share.sum(), firms.bank_debt.sum() / fin.rate, fin.usd["grants"], fin.usd["grants_deadweight"]


def test_screened_grants_fund_what_credit_would_not():
    # banks can lend 1 m: four needs (the marginal lumpy one included); grants fund two of the rest
    assert grant_round(1e6, deadweight=0.0) == pytest.approx((6.0, 1.2e6, 600_000.0, 0.0))
    # banks could fund all eight: a screened agency pays nothing
    assert grant_round(1e7, deadweight=0.0) == pytest.approx((8.0, 2.4e6, 0.0, 0.0))


def test_deadweight_grants_crowd_credit_out():
    # the first two applicants get grants that banks would have replaced: lending falls one for one
    assert grant_round(1e7, deadweight=1.0) == pytest.approx((8.0, 1.8e6, 600_000.0, 600_000.0))
    # where banks are short of capacity the credit they no longer give goes to others
    assert grant_round(1e6, deadweight=1.0) == pytest.approx((6.0, 1.2e6, 600_000.0, 600_000.0))


def test_closed_debtors_are_written_off_after_recovery():
    p = Parameters(sukuk_programme_capacity_usd=0.0)
    firms, fin = _world(1, p)
    fin.fund(firms, np.arange(1), np.array([500_000.0]), "revival")
    debt = firms.bank_debt[0]
    fin.settle_closures(firms, np.arange(1))
    assets = 50.0 * p.capital_per_worker_usd * fin.rate
    assert firms.bank_debt[0] == 0
    assert fin.repaid["bank_debt"] == pytest.approx(min(debt, p.bank_recovery_rate * assets))
    assert fin.written_off["bank_debt"] == pytest.approx(debt - fin.repaid["bank_debt"])


def test_the_rial_follows_inflation_and_the_real_rate():
    p = Parameters(inflation_volatility=0.0, real_exchange_rate_volatility=0.0)
    environment = Environment(p, Streams(2), 10)
    for month in range(1, 13):
        environment.advance(month)
    assert environment.price_level == pytest.approx(1 + p.inflation_rate)
    assert environment.rial_per_usd == pytest.approx(
        p.initial_rial_per_usd * (1 + p.inflation_rate) / (1 + p.foreign_inflation)
    )


@pytest.mark.slow
def test_a_sukuk_programme_activates_more_units_for_the_same_seeds():
    """Paired runs: the same seeds with and without a large programme."""
    gains = []
    for seed in (1, 2):
        runs = [SMEModel(rng=seed, scale=0.3, sukuk_programme_capacity_usd=c) for c in (0.0, 100e6)]
        for _ in range(12):
            for run in runs:
                run.step()
        gains.append(runs[1].indicators()["units_activated"] - runs[0].indicators()["units_activated"])
        assert runs[1].indicators()["sukuk_outstanding_usd"] > 0 == runs[0].indicators()["sukuk_outstanding_usd"]
    assert min(gains) > 0


def test_listings_follow_the_seed_and_raise_little():
    model = SMEModel(rng=3, scale=0.5)
    for _ in range(12):
        model.step()
    ind = model.indicators()
    expected = P.listing_applications_per_year * P.listing_admission_share
    assert ind["listed_smes"] == pytest.approx(expected, rel=0.4)
    raised_rials = model.finance.ledger.total("equity")
    assert raised_rials <= P.equity_market_capacity_rial * model.environment.price_level * 0.5 * (1 + 1e-9)
    assert (model.firms.listed <= (model.firms.status != UNDER_CONSTRUCTION)).all()
