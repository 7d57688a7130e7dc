"""Policy levers: validation, budgets, targeting and the direction of each mechanism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import check_stock_flow
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import SMEModel
from simulation.errors import InputError
from simulation.finance import PRINCIPAL_KINDS
from simulation.parameters import Parameters
from simulation.policy import LEVERS, PAYEES, Policy
from simulation.state import ACTIVE, CLOSED, IDLE, LARGE, UNDER_CONSTRUCTION

SMALL = 0.05

# Every lever with its budget at zero but its other choices away from the defaults.
ZERO_BUDGET = {
    "training": {"targeting": "province", "provinces": ["Tehran"], "destinations": ["Iraq"]},
    "clinics": {"targeting": "cluster", "clusters": ["food and beverages in Tehran"], "cost_per_beneficiary_usd": 1.0},
    "consortia": {"targeting": "province", "provinces": ["Isfahan"]},
    "clusters": {"cost_per_beneficiary_usd": 1.0},
    "sukuk": {"issuance_subsidy_share": 0.9},
    "listing": {"cost_per_beneficiary_usd": 1.0},
    "infrastructure": {"targeting": "province", "provinces": ["Fars"]},
    "rural_zones": {"cost_per_beneficiary_usd": 1.0},
    "matchmaking": {"cost_per_beneficiary_usd": 1.0},
    "technology": {"cost_per_beneficiary_usd": 1.0},
    "credit": {},
    "ranking": {"size": 50},
}

PLAN = {
    "training": {"budget_usd": 5e6},
    "clinics": {"budget_usd": 20e6},
    "consortia": {"recognition": 1.0, "budget_usd": 6e6},
    "clusters": {"budget_usd": 15e6},
    "sukuk": {"capacity_usd": 50e6, "provinces": 31, "issuance_subsidy_share": 0.5, "budget_usd": 5e6},
    "listing": {"budget_usd": 2.5e6, "targeting": "ranking"},
    "infrastructure": {"budget_usd": 60e6},
    "rural_zones": {"budget_usd": 40e6},
    "matchmaking": {"budget_usd": 6e6},
    "technology": {"budget_usd": 20e6, "targeting": "ranking"},
    "credit": {"grants_usd": 20e6, "subsidised_credit_usd": 120e6},
    "ranking": {"budget_usd": 0.5e6},
}


def run(policy=None, seed=1, months=6, scale=SMALL, **kwargs) -> SMEModel:
    model = SMEModel(rng=seed, scale=scale, policy=policy, **kwargs)
    for _ in range(months):
        model.step()
    return model


def mean_difference(policy, indicator, seeds, months=12, scale=0.1) -> float:
    """Average paired difference policy - baseline over seeds (common random numbers)."""
    return float(
        np.mean(
            [
                run(policy, s, months, scale).indicators()[indicator]
                - run(None, s, months, scale).indicators()[indicator]
                for s in seeds
            ]
        )
    )


# --- validation ---------------------------------------------------------------------------


def test_every_zero_budget_example_covers_a_lever():
    assert set(ZERO_BUDGET) == set(LEVERS)
    Policy.from_dict(ZERO_BUDGET)  # valid


@pytest.mark.parametrize(
    "levers, key",
    [
        ({"clinic": {}}, "clinic"),
        ({"clinics": {"budget": 1.0}}, "clinics.budget"),
        ({"clinics": {"budget_usd": -1.0}}, "clinics.budget_usd"),
        ({"clinics": {"budget_usd": "lots"}}, "clinics.budget_usd"),
        ({"clinics": {"budget_usd": True}}, "clinics.budget_usd"),
        ({"ranking": {"size": 2.5}}, "ranking.size"),
        ({"clinics": {"targeting": "ranking"}}, "clinics.targeting"),
        ({"technology": {"targeting": "ranking"}}, "technology.targeting"),  # the ranking does not run
        ({"technology": {"targeting": "province"}}, "technology.provinces"),
        ({"technology": {"provinces": ["Tehran"]}}, "technology.provinces"),
        ({"technology": {"targeting": "province", "provinces": ["Atlantis"]}}, "technology.provinces"),
        ({"training": {"destinations": "Iraq"}}, "training.destinations"),
        ({"sukuk": {"provinces": 32}}, "sukuk.provinces"),
    ],
)
def test_policy_refuses_bad_settings_naming_the_key(levers, key):
    with pytest.raises(InputError) as caught:
        Policy.from_dict(levers)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")


def test_model_refuses_a_lever_and_its_parameter_that_disagree():
    with pytest.raises(InputError, match=r"sukuk\.capacity_usd"):
        SMEModel(rng=1, scale=SMALL, policy={"sukuk": {"capacity_usd": 5e6}}, sukuk_programme_capacity_usd=7e6)
    # without a policy, Mesa-style parameters still work and the lever defaults stay out of the way
    assert SMEModel(rng=1, scale=SMALL, sukuk_programme_capacity_usd=7e6).params.sukuk_programme_capacity_usd == 7e6


def test_lever_settings_reach_the_parameters():
    model = SMEModel(rng=1, scale=SMALL, policy={"credit": {"grants_usd": 12e6}, "consortia": {"recognition": 0.5}})
    assert model.params.grant_budget_usd == 1e6  # a month
    assert model.params.consortium_legal_recognition == 0.5


# --- budgets ------------------------------------------------------------------------------


@pytest.mark.parametrize("lever", sorted(LEVERS))
def test_a_lever_at_zero_budget_changes_nothing(lever):
    baseline = run(months=4).datacollector.get_model_vars_dataframe()
    with_lever = run({lever: ZERO_BUDGET[lever]}, months=4)
    pd.testing.assert_frame_equal(with_lever.datacollector.get_model_vars_dataframe(), baseline)
    assert with_lever.levers.total_spent_usd == 0.0


def largest_need_usd(model: SMEModel) -> float:
    """The largest lumpy need a unit can have: completing the largest plant, or entering every market."""
    p, firms = model.params, model.firms
    plant = max(p.completion_cost_share, p.revival_cost_share) * p.capital_per_worker_usd * firms.capacity.max()
    return max(plant, float(model.trade.sunk_cost.sum()))


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**31), factor=st.sampled_from([0.01, 0.3, 1.0, 5.0]), months=st.integers(1, 14))
def test_spending_never_exceeds_the_budget(seed, factor, months):
    policy = {lever: {**s, **{k: v * factor for k, v in s.items() if k == "budget_usd"}} for lever, s in PLAN.items()}
    model = SMEModel(rng=seed, scale=SMALL, policy=policy)
    budgets = {lever: s.get("budget_usd", 0.0) for lever, s in Policy.from_dict(policy).to_dict().items()}
    budgets["credit"] = policy["credit"]["grants_usd"]
    for month in range(1, months + 1):
        model.step()
        # a grant budget may owe the coming months one lumpy need it committed to (ODD 7.12)
        owed = max(-model.finance.capacity["grant"] / model.finance.rate, 0.0)
        assert owed <= largest_need_usd(model) * (1 + 1e-9)
        for lever, spent in model.levers.spent_usd.items():
            allowed = budgets[lever] * SMALL * month / 12.0 + (owed if lever == "credit" else 0.0)
            assert spent <= allowed * (1 + 1e-9) + 1e-6, (lever, month)
        check_government_account(model)
    assert model.levers.total_spent_usd > 0
    check_stock_flow(model)


def check_government_account(model):
    """Every cost is a ledger payment: the government's net payments (its credit line's principal
    aside) are the fiscal cost, and the fiscal cost is policy_spend_usd."""
    government = model.finance.government
    net = sum(
        (v if payer == "government" else -v)
        for (payer, payee, kind), v in model.finance.ledger.flows.items()
        if "government" in (payer, payee) and kind not in PRINCIPAL_KINDS
    )
    assert net == pytest.approx(government.fiscal_rial, rel=1e-9, abs=1e-3)
    assert model.indicators()["policy_spend_usd"] == pytest.approx(government.fiscal_cost_usd / model.scale)
    for lever in PAYEES:  # every purchase was paid to the lever's suppliers, in the ledger
        assert government.fiscal_usd[lever] == pytest.approx(model.levers.spent_usd[lever], abs=1e-6), lever


# --- targeting ----------------------------------------------------------------------------


def test_province_targeting_serves_only_the_listed_provinces():
    model = run(
        {"technology": {"budget_usd": 50e6, "targeting": "province", "provinces": ["Tehran", "Isfahan"]}}, months=3
    )
    upgraded = np.flatnonzero(model.firms.upgraded)
    assert len(upgraded) > 0
    assert set(model.firms.province[upgraded]) <= {0, 2}  # Tehran, Isfahan
    assert len(upgraded) == model.levers.beneficiaries["technology"]


def test_ranking_targeting_serves_the_ranked_smes():
    model = SMEModel(
        rng=1,
        scale=SMALL,
        policy={
            "ranking": {"budget_usd": 1e6, "size": 400},
            "technology": {"budget_usd": 100e6, "targeting": "ranking"},
        },
    )
    f = model.firms
    smes = np.flatnonzero((f.status == 1) & (f.size_class < LARGE))
    expected = smes[np.argsort(-f.output_usd[smes], kind="stable")[: round(400 * SMALL)]]  # by sales at month 0
    model.step()
    ranked = model.levers.ranked
    assert list(ranked) == list(expected)
    for _ in range(5):
        model.step()
    upgraded = np.flatnonzero(model.firms.upgraded)
    assert 0 < len(upgraded) <= len(ranked)
    assert set(upgraded) <= set(ranked)


# --- mechanisms: the direction of each effect, on averages over seeds ------------------------


def test_more_clinic_budget_activates_more_units():
    assert mean_difference({"clinics": {"budget_usd": 20e6}}, "units_activated", seeds=(1, 2, 3)) > 0


def test_clinics_see_idle_units_and_restart_only_revivable_ones():
    model = run({"clinics": {"budget_usd": 50e6}}, months=3)
    seen = np.flatnonzero(model.firms.diagnosed_month > -1)
    assert len(seen) == model.levers.beneficiaries["clinics"] > 0
    assert (model.firms.status[seen] != UNDER_CONSTRUCTION).all()
    still_idle_or_closed = model.firms.status[seen] >= IDLE
    assert (model.firms.revivable[seen[~still_idle_or_closed]]).all()  # restarted: revivable


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_trained_units_export_more_than_they_would_have(seed):
    """The same units on paired seeds, with and without their fairs (the lever's net effect on
    all exporters, after what the trained entrants take from others, is smesim validate --levers')."""
    trained, baseline = (run(policy, seed, months=24) for policy in ({"training": {"budget_usd": 10e6}}, None))
    rows = np.flatnonzero(trained.firms.trained)
    exported = [(m.firms.export_experience[rows] > 0).sum() for m in (trained, baseline)]
    assert len(rows) > 0 and exported[0] > exported[1]


@pytest.mark.slow
def test_legal_recognition_brings_more_consortium_members():
    assert mean_difference({"consortia": {"recognition": 1.0}}, "consortium_members", seeds=(1, 2, 3)) > 0


@pytest.mark.slow
def test_supported_consortia_dissolve_less():
    assert mean_difference({"consortia": {"budget_usd": 20e6}}, "consortia", seeds=(1, 2, 3), months=24) > 0


def test_matchmaking_pays_every_introduction_and_ties_a_share_of_them():
    base, model = run(months=3), run({"matchmaking": {"budget_usd": 100e6}}, months=3)
    introduced = model.levers.beneficiaries["matchmaking"]
    added = model.supply_chain.n_links - base.supply_chain.n_links
    assert introduced > 100 and added > 0
    assert (
        model.levers.spent_usd["matchmaking"] == introduced * LEVERS["matchmaking"]["cost_per_beneficiary_usd"].default
    )
    share = model.params.matchmaking_link_success
    assert abs(added / introduced - share) < 4 * np.sqrt(share * (1 - share) / introduced)
    new = model.supply_chain.in_run
    assert (model.firms.size_class[model.supply_chain.buyer[new]] == LARGE).all()


@pytest.mark.slow
def test_listing_support_lists_more_smes():
    assert mean_difference({"listing": {"budget_usd": 5e6}}, "listed_smes", seeds=(1, 2, 3)) > 0


@pytest.mark.slow
def test_an_issuance_subsidy_places_more_sukuk_where_the_programme_has_room():
    """With a programme large enough not to bind, the subsidy makes smaller pools viable; with the
    pilot's USD 10 m a month the programme places its capacity either way."""
    room = {"capacity_usd": 200e6}
    gains = [
        run({"sukuk": {**room, "issuance_subsidy_share": 0.8, "budget_usd": 20e6}}, seed, 12, 0.1).indicators()[
            "sukuk_outstanding_usd"
        ]
        - run({"sukuk": room}, seed, 12, 0.1).indicators()["sukuk_outstanding_usd"]
        for seed in (1, 2, 3)
    ]
    assert np.mean(gains) > 0


def test_technology_gains_arrive_after_the_projects_lag():
    lever, lag = {"technology": {"budget_usd": 50e6}}, {"technology_lag_months": 3.0}
    started = np.flatnonzero(run(lever, months=1, **lag).firms.upgraded)  # the projects of month 1
    assert started.any()

    def gap(months: int) -> np.ndarray:
        model, base = run(lever, months=months, **lag), run(months=months, **lag)
        return model.firms.log_productivity_mean[started] - base.firms.log_productivity_mean[started]

    # give or take the cluster spillovers that the upgrades themselves shift a little
    assert np.abs(gap(3)).max() < 1e-3  # still under way
    gain = Parameters().technology_productivity_gain
    assert gap(4) == pytest.approx(np.full(len(started), gain), abs=1e-3)  # month 1 + 3


def test_clinics_see_no_more_than_their_capacity_and_advise_active_smes_with_slots_left():
    budget = {"clinics": {"budget_usd": 1e10}}  # money is not the limit
    model = run(budget, months=3, clinic_capacity_per_month=200.0)
    assert model.levers.beneficiaries["clinics"] == pytest.approx(3 * 200 * SMALL, abs=1)
    # with more capacity than idle units, the slots left go to active SMEs, whose productivity rises
    advised = run(budget, months=1, clinic_capacity_per_month=1e5)
    was_active = np.flatnonzero(run(months=0).firms.status == ACTIVE)  # not the idle units that restarted
    advised_rows = was_active[advised.firms.diagnosed_month[was_active] == 1]
    assert len(advised_rows) > 0
    base = run(months=1)
    gap = advised.firms.log_productivity_mean[advised_rows] - base.firms.log_productivity_mean[advised_rows]
    # give or take the cluster spillovers that so many advised units shift
    gain = Parameters().clinic_productivity_gain
    assert np.median(gap) == pytest.approx(gain, abs=1e-3) and np.abs(gap - gain).max() < 0.3 * gain


def test_training_buys_one_fair_a_beneficiary_in_the_most_promising_market_first():
    model = run({"training": {"budget_usd": 20e6}}, months=2)
    f = model.firms
    trained, trips = np.flatnonzero(f.trained), model.levers.beneficiaries["training"]
    assert 0 < len(trained) <= trips
    known = f.market_knowledge[trained].sum(axis=1)
    assert known.min() >= 1 and known.sum() == trips  # one new market a fair; the best prospects came back
    order = model.levers._fair_order(model)
    assert (f.market_knowledge[trained][:, order[0]] | f.exporting[trained][:, order[0]]).mean() > 0.5


def test_park_upgrades_raise_the_worst_parks_first_at_a_cost_per_unit_hosted():
    model = SMEModel(rng=1, scale=SMALL, policy={"infrastructure": {"budget_usd": 36e6}})
    before, f = model.parks.infrastructure.copy(), model.firms
    hosted = np.bincount(f.park_id[(f.park_id >= 0) & (f.status != CLOSED)], minlength=len(model.parks))
    model.step()
    raised = np.flatnonzero(model.parks.infrastructure > before)
    candidates = np.setdiff1d(np.flatnonzero(hosted > 0), raised)
    assert len(raised) > 0 and before[raised].max() <= before[candidates].min()  # the worst first
    per_unit = LEVERS["infrastructure"]["cost_per_beneficiary_usd"].default
    assert model.levers.spent_usd["infrastructure"] == pytest.approx(per_unit * hosted[raised].sum())
    assert model.levers.spent_usd["infrastructure"] <= 36e6 * SMALL / 12  # the first month's accrual
    assert model.levers.beneficiaries["infrastructure"] == hosted[raised].sum()


def test_rural_zones_open_after_building_and_license_units():
    # USD 1 bn a year at scale 0.05: one zone (USD 4 m) funded in each of the first months
    model = SMEModel(
        rng=1,
        scale=SMALL,
        policy={"rural_zones": {"budget_usd": 1e9, "targeting": "province", "provinces": ["Kerman"]}},
    )
    parks = len(model.parks)
    for _ in range(int(model.params.rural_zone_build_months)):
        model.step()
    assert len(model.parks) == parks and model.counters["rural_zone_units"] == 0
    model.step()
    new_parks = np.arange(parks, len(model.parks))
    assert len(new_parks) > 0
    in_zones = np.isin(model.firms.park_id, new_parks)
    assert in_zones.sum() == model.counters["rural_zone_units"] == len(new_parks) * model.params.rural_zone_units
    assert (model.firms.province[in_zones] == 8).all()  # Kerman
    assert (model.firms.status[in_zones] == UNDER_CONSTRUCTION).all()
    assert len(model.agents) == model.firms.n


def test_cluster_development_serves_the_largest_clusters_at_a_cost_per_active_unit():
    model = SMEModel(rng=1, scale=SMALL, policy={"clusters": {"budget_usd": 2.5e6}})
    model.step()
    developed = np.flatnonzero(model.clusters.development > 0)
    assert len(developed) > 0
    employment = model.clusters.employment(model.firms)
    assert employment[developed].min() >= np.delete(employment, developed).max()  # the largest clusters
    f = model.firms
    units = np.bincount(f.cluster_id[f.status == ACTIVE], minlength=len(employment))
    per_unit = LEVERS["clusters"]["cost_per_beneficiary_usd"].default
    assert model.levers.spent_usd["clusters"] <= 2.5e6 * SMALL / 12
    assert model.levers.spent_usd["clusters"] == pytest.approx(per_unit / 12 * units[developed].sum(), rel=0.02)


def test_same_seed_same_results_with_levers():
    a = run(PLAN, seed=5, months=3).datacollector.get_model_vars_dataframe()
    b = run(PLAN, seed=5, months=3).datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(a, b)


# --- shocks -------------------------------------------------------------------------------


def test_a_sanctions_shock_bites_in_its_month_and_moves_exports():
    shock = {"kind": "sanctions", "month": 3, "destination": "Iraq", "months": 6, "cut": 1.0}
    model = SMEModel(rng=1, scale=0.2, shocks=[shock])
    for month in range(1, 9):
        model.step()
        assert model.environment.sanctioned[0] == (3 <= month < 9), month
    assert model.exports_by_destination()["Iraq"] < run(None, 1, 8, 0.2).exports_by_destination()["Iraq"]


def test_a_fall_of_the_rial_raises_the_rate():
    shocked = run(shocks=[{"kind": "exchange_rate", "month": 2, "depreciation": 1.0}], months=2)
    assert shocked.environment.rial_per_usd == pytest.approx(2.0 * run(months=2).environment.rial_per_usd)


@pytest.mark.parametrize(
    "shock, key",
    [
        ({"kind": "sanctions", "month": 0, "destination": "Iraq", "months": 3}, "shocks[0].month"),
        ({"kind": "sanctions", "month": 2, "destination": "Mars", "months": 3}, "shocks[0].destination"),
        ({"kind": "sanctions", "month": 2, "destination": "Iraq"}, "shocks[0].months"),
        ({"kind": "exchange_rate", "month": 2, "depreciation": -0.95}, "shocks[0].depreciation"),
        ({"kind": "flood", "month": 2}, "shocks[0].kind"),
        ({"kind": "exchange_rate", "month": 2, "depreciation": 0.1, "when": 3}, "shocks[0].when"),
    ],
)
def test_bad_shocks_are_refused_naming_the_key(shock, key):
    with pytest.raises(InputError) as caught:
        SMEModel(rng=1, scale=SMALL, shocks=[shock])
    assert caught.value.key == key


def test_consortium_support_costs_per_member_at_national_scale():
    model = SMEModel(rng=1, scale=SMALL, policy={"consortia": {"budget_usd": 1e9}})  # enough for all
    model.step()
    c, n = model.consortia, len(model.consortia.supported)  # consortia founded later this month are not supported
    assert c.supported.all()
    per_member = LEVERS["consortia"]["cost_per_beneficiary_usd"].default
    spent = model.levers.spent_usd["consortia"]
    assert spent == pytest.approx(per_member / 12 * SMALL * c.size[:n].sum(), rel=0.05)
