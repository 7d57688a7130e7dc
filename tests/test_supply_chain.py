"""Supply-chain links: month-0 demand and capacity, locomotive and idle buyers, link turnover, matchmaking."""

import dataclasses

import numpy as np
import pytest

from simulation.parameters import Parameters
from simulation.population import build_population
from simulation.state import ACTIVE, CLOSED, IDLE, LARGE, MEDIUM, SMALL, FirmState
from simulation.supply_chain import SupplyChain

P = Parameters()


def population(scale=0.1, seed=1, **overrides):
    p = dataclasses.replace(P, **overrides)
    firms, _, _ = build_population(p, scale, np.random.default_rng(seed))
    return firms, p


def network(scale=0.1, seed=1, **overrides):
    firms, p = population(scale, seed, **overrides)
    return firms, p, SupplyChain.build(firms, p, np.random.default_rng(seed + 100))


def uncapped(**overrides):
    """A network whose buyers may buy any amount from their suppliers: link arithmetic in isolation."""
    return network(buyer_sme_purchase_share=1e12, **overrides)


def active_smes(firms):
    return (firms.status == ACTIVE) & (firms.size_class < LARGE)


def active_large(firms):
    return (firms.status == ACTIVE) & (firms.size_class == LARGE)


def suppliers_of(chain, buyer):
    return chain.supplier[chain.buyer == buyer]


def buyers_per_supplier(chain, firms):
    return np.bincount(chain.supplier, minlength=firms.n)


def linked_buyer(chain, firms, min_suppliers=2):
    """A buyer with at least `min_suppliers` suppliers."""
    counts = np.bincount(chain.buyer, minlength=firms.n)
    return int(np.flatnonzero(counts >= min_suppliers)[0])


# --- month 0 ---------------------------------------------------------------------------


def test_month_zero_demand_is_the_sales_share_of_linked_smes_employment():
    firms, p, chain = uncapped()
    demand = chain.labour_demand(firms)
    linked = chain.linked(firms)
    assert demand.shape == (firms.n,)
    assert linked.sum() == chain.suppliers_linked > 0
    assert np.allclose(demand[linked], p.supplier_sales_share * firms.employees[linked])
    assert np.all(demand[~linked] == 0.0)
    # suppliers with several buyers exist, and their demand is still the share, split among buyers
    assert (buyers_per_supplier(chain, firms) > 1).any()


def test_links_join_distinct_active_smes_to_active_large_units():
    firms, _, chain = network()
    assert chain.n_links > 0
    assert active_smes(firms)[chain.supplier].all()
    assert active_large(firms)[chain.buyer].all()
    pairs = chain.supplier * firms.n + chain.buyer
    assert len(np.unique(pairs)) == chain.n_links
    assert (chain.coefficient > 0).all()


def test_links_per_large_buyer_average_the_parameter():
    firms, p, chain = network(scale=0.5)
    per_buyer = chain.n_links / active_large(firms).sum()
    # Poisson mean less the few duplicate draws removed
    assert 0.95 * p.supplier_links_per_large_firm < per_buyer <= p.supplier_links_per_large_firm * 1.03


def test_share_of_links_inside_the_buyers_province_matches_the_parameter():
    firms, p, chain = network(scale=0.5)
    same = (firms.province[chain.supplier] == firms.province[chain.buyer]).mean()
    # a draw from anywhere also lands in the buyer's province with that province's share of SMEs
    smes = active_smes(firms)
    share_of_smes = np.bincount(firms.province[smes], minlength=firms.province.max() + 1) / smes.sum()
    s = p.link_same_province_share
    expected = s + (1 - s) * share_of_smes[firms.province[chain.buyer]].mean()
    assert same == pytest.approx(expected, abs=0.02)
    assert abs(same - s) < 0.1  # and near the parameter itself: provinces are many


def test_build_keeps_mean_utilisation_and_lowers_unlinked_smes_by_the_gap():
    firms, p = population()
    smes = np.flatnonzero(active_smes(firms))
    before = firms.employees[smes] / firms.capacity[smes]
    employees = firms.employees.copy()
    chain = SupplyChain.build(firms, p, np.random.default_rng(5))
    after = firms.employees[smes] / firms.capacity[smes]
    linked = chain.linked(firms)[smes]
    assert np.array_equal(firms.employees, employees)  # only capacity moves
    assert after.mean() == pytest.approx(before.mean(), rel=1e-12)
    assert np.allclose(after[~linked], (1 - p.missing_link_utilisation_gap) * before[~linked])
    assert (after[linked] >= before[linked]).all()
    assert after[linked].mean() > after[~linked].mean()
    assert (firms.capacity >= firms.employees).all()


def hand_built(n_sme=400, n_large=100, seed=0):
    """SMEs with utilisation 0.2-0.95 and large buyers, one province, all active."""
    rng = np.random.default_rng(seed)
    firms = FirmState(n_sme + n_large)
    employees = np.concatenate([rng.uniform(1, 99, n_sme), rng.uniform(100, 1000, n_large)])
    firms.append(
        status=np.full(n_sme + n_large, ACTIVE, np.int8),
        size_class=np.r_[np.full(n_sme, SMALL, np.int8), np.full(n_large, LARGE, np.int8)],
        employees=employees,
        capacity=employees / np.r_[rng.uniform(0.2, 0.95, n_sme), np.full(n_large, 0.7)],
        output_usd=employees * 1000.0,
    )
    return firms


def test_capacity_never_falls_below_employment_when_linked_smes_hit_full_use():
    firms = hand_built()
    p = dataclasses.replace(P, supplier_links_per_large_firm=1.0, missing_link_utilisation_gap=0.1)
    smes = np.flatnonzero(firms.size_class < LARGE)
    before = firms.employees[smes] / firms.capacity[smes]
    chain = SupplyChain.build(firms, p, np.random.default_rng(1))
    linked = chain.linked(firms)[smes]
    after = firms.employees[smes] / firms.capacity[smes]
    assert after.mean() == pytest.approx(before.mean(), rel=1e-12)
    assert (firms.capacity >= firms.employees).all()
    full = np.isclose(after[linked], 1.0)
    assert full.any() and not full.all()  # the cap binds for the most used linked plants only
    # below the cap, linked plants are scaled by one common factor, above 1 + g U_unlinked / U_linked
    ratio = after[linked][~full] / before[linked][~full]
    assert np.ptp(ratio) < 1e-9
    assert ratio[0] > 1 + 0.1 * before[~linked].sum() / before[linked].sum()
    assert np.allclose(after[~linked], 0.9 * before[~linked])


def test_without_links_capacity_is_untouched():
    firms, p = population(supplier_links_per_large_firm=0.0)
    capacity = firms.capacity.copy()
    chain = SupplyChain.build(firms, p, np.random.default_rng(5))
    assert chain.n_links == 0 and chain.suppliers_linked == 0
    assert np.array_equal(firms.capacity, capacity)
    assert not chain.labour_demand(firms).any()


def test_same_seed_same_links_and_another_seed_others():
    a_firms, _, a = network(seed=3)
    b_firms, _, b = network(seed=3)
    assert np.array_equal(a.supplier, b.supplier) and np.array_equal(a.buyer, b.buyer)
    assert np.array_equal(a.coefficient, b.coefficient)
    assert np.array_equal(a_firms.capacity, b_firms.capacity)
    firms, p = population(seed=3)
    c = SupplyChain.build(firms, p, np.random.default_rng(999))
    assert not (len(c.supplier) == len(a.supplier) and np.array_equal(c.supplier, a.supplier))


# --- buyers pull their suppliers ---------------------------------------------------------


def test_an_idle_buyer_takes_exactly_its_share_of_its_suppliers_demand():
    firms, p, chain = network()
    b = linked_buyer(chain, firms)
    before = chain.labour_demand(firms)
    firms.status[b], firms.output_usd[b] = IDLE, 0.0
    after = chain.labour_demand(firms)
    s = suppliers_of(chain, b)
    lost = p.supplier_sales_share * firms.employees[s] / buyers_per_supplier(chain, firms)[s]
    assert np.allclose(before[s] - after[s], lost)
    others = np.setdiff1d(np.arange(firms.n), s)
    assert np.array_equal(before[others], after[others])
    assert chain.linked(firms)[s].all()  # an idle buyer keeps its links


def test_a_buyer_doubling_output_doubles_its_part_of_suppliers_demand():
    firms, p, chain = network()
    b = linked_buyer(chain, firms)
    before = chain.labour_demand(firms)
    firms.output_usd[b] *= 2.0
    after = chain.labour_demand(firms)
    s = suppliers_of(chain, b)
    part = p.supplier_sales_share * firms.employees[s] / buyers_per_supplier(chain, firms)[s]
    assert np.allclose(after[s] - before[s], part)
    assert np.isclose(after.sum() - before.sum(), part.sum())


# --- monthly turnover --------------------------------------------------------------------


def test_update_drops_links_of_closed_suppliers_and_buyers():
    firms, p, chain = network()
    p0 = dataclasses.replace(p, link_formation_rate=0.0)
    b = linked_buyer(chain, firms)
    orphaned = suppliers_of(chain, b)
    s = chain.supplier[chain.buyer != b][0]
    touching = np.count_nonzero((chain.buyer == b) | (chain.supplier == s))
    n_before = chain.n_links
    firms.status[[b, s]] = CLOSED
    firms.output_usd[[b, s]] = 0.0
    firms.employees[[b, s]] = 0.0
    only_b = orphaned[buyers_per_supplier(chain, firms)[orphaned] == 1]
    assert not chain.linked(firms)[only_b].any()  # a closed buyer's link no longer counts
    formed, dropped = chain.update(firms, p0, 0.1, 1, np.random.default_rng(0))
    assert (formed, dropped) == (0, touching)
    assert chain.n_links == n_before - touching
    assert b not in chain.buyer and s not in chain.supplier
    assert np.allclose(chain.labour_demand(firms)[only_b], 0.0)


def test_update_at_rate_one_links_every_unlinked_active_sme_and_at_zero_none():
    firms, p, chain = uncapped()
    unlinked = np.flatnonzero(active_smes(firms) & ~chain.linked(firms))
    n_before = chain.n_links
    formed, dropped = chain.update(
        firms, dataclasses.replace(p, link_formation_rate=0.0), 0.1, 1, np.random.default_rng(0)
    )
    assert (formed, dropped, chain.n_links) == (0, 0, n_before)

    formed, dropped = chain.update(
        firms, dataclasses.replace(p, link_formation_rate=1.0), 0.1, 1, np.random.default_rng(0)
    )
    assert (formed, dropped) == (len(unlinked), 0)
    assert chain.linked(firms)[active_smes(firms)].all()
    new = np.isin(chain.supplier, unlinked)
    assert active_large(firms)[chain.buyer[new]].all()
    demand = chain.labour_demand(firms)
    assert np.allclose(demand[unlinked], p.supplier_sales_share * firms.employees[unlinked])
    # inside the supplier's province about as often as the parameter says
    same = (firms.province[chain.supplier[new]] == firms.province[chain.buyer[new]]).mean()
    assert abs(same - p.link_same_province_share) < 0.1


def test_update_forms_links_at_the_documented_rate_and_deterministically():
    firms, p = population(scale=0.5)
    chain = SupplyChain.build(firms, p, np.random.default_rng(2))
    q = dataclasses.replace(p, link_formation_rate=0.05)
    eligible = (active_smes(firms) & ~chain.linked(firms)).sum()
    formed, _ = chain.update(firms, q, 0.5, 1, np.random.default_rng(7))
    sd = np.sqrt(eligible * 0.05 * 0.95)
    assert abs(formed - 0.05 * eligible) < 4 * sd
    firms2, _ = population(scale=0.5)
    twin = SupplyChain.build(firms2, p, np.random.default_rng(2))
    twin.update(firms2, q, 0.5, 1, np.random.default_rng(7))
    assert np.array_equal(twin.supplier, chain.supplier) and np.array_equal(twin.buyer, chain.buyer)


def test_buyers_without_output_are_not_chosen():
    firms, p, chain = network()
    large = np.flatnonzero(active_large(firms))
    firms.output_usd[large[1:]] = 0.0  # one buyer left with output
    chain.update(firms, dataclasses.replace(p, link_formation_rate=1.0), 0.1, 1, np.random.default_rng(0))
    n_old = np.isin(chain.buyer, large[1:])
    assert set(chain.buyer[~n_old]) <= {large[0]}
    assert np.isfinite(chain.coefficient).all()


# --- matchmaking lever -------------------------------------------------------------------


def test_add_links_adds_the_share_of_employment_and_refuses_ineligible_pairs():
    firms, p, chain = uncapped()
    smes = np.flatnonzero(active_smes(firms))
    large = np.flatnonzero(active_large(firms))
    linked = chain.linked(firms)
    free = smes[~linked[smes]]
    existing_s, existing_b = chain.supplier[0], chain.buyer[0]
    idle_sme = np.flatnonzero((firms.status == IDLE) & (firms.size_class < LARGE))[0]
    idle_large = np.flatnonzero((firms.status == IDLE) & (firms.size_class == LARGE))[0]
    medium = np.flatnonzero((firms.status == ACTIVE) & (firms.size_class == MEDIUM))[-1]
    firms.output_usd[large[-1]] = 0.0  # an active buyer without output this month

    before = chain.labour_demand(firms)
    good_s, good_b = free[:5], large[:5]
    suppliers = np.r_[good_s, good_s[0], existing_s, idle_sme, large[5], free[5], free[6], free[7]]
    buyers = np.r_[good_b, good_b[0], existing_b, large[0], large[6], idle_large, medium, large[-1]]
    n_before = chain.n_links
    assert chain.add_links(firms, suppliers, buyers) == 5
    assert chain.n_links == n_before + 5
    after = chain.labour_demand(firms)
    assert np.allclose(after[good_s] - before[good_s], p.supplier_sales_share * firms.employees[good_s])
    rest = np.setdiff1d(np.arange(firms.n), good_s)
    assert np.allclose(after[rest], before[rest])
    # an explicit share, on a supplier that already has a buyer
    s = existing_s
    other = large[~np.isin(large, chain.buyer[chain.supplier == s])][0]
    assert chain.add_links(firms, [s], [other], share=0.1) == 1
    assert np.isclose(chain.labour_demand(firms)[s] - after[s], 0.1 * firms.employees[s])
    with pytest.raises(ValueError):
        chain.add_links(firms, [s], [other, large[1]])


# --- what buyers buy -----------------------------------------------------------------------


def purchases(chain, firms):
    """USD a month each unit buys from its SME suppliers, at their sales per worker."""
    per_worker = np.divide(firms.output_usd, firms.employees, out=np.zeros(firms.n), where=firms.employees > 0)
    return np.bincount(chain.buyer, weights=chain.link_labour(firms) * per_worker[chain.supplier], minlength=firms.n)


def test_a_buyer_buys_no_more_than_its_share_of_output_and_splits_it_among_suppliers():
    firms, p, chain = network()
    bought = purchases(chain, firms)
    limit = p.buyer_sme_purchase_share * firms.output_usd
    assert (bought <= limit * (1 + 1e-9)).all()
    capped = np.flatnonzero(np.isclose(bought, limit) & (limit > 0))
    assert len(capped) > 0  # some month-0 buyers have more suppliers than their purchases allow
    # a new supplier of a capped buyer takes part of the others' sales; the buyer buys the same
    buyer = capped[0]
    others = chain.supplier[chain.buyer == buyer]
    before = chain.labour_demand(firms)
    new = np.flatnonzero(active_smes(firms) & ~chain.linked(firms))[0]
    assert chain.add_links(firms, [new], [buyer]) == 1
    after = chain.labour_demand(firms)
    assert after[new] > 0 and (after[others] <= before[others] + 1e-12).all()
    assert purchases(chain, firms)[buyer] == pytest.approx(limit[buyer])


def test_only_links_formed_in_the_run_redirect_purchases():
    firms, p, chain = uncapped()
    suppliers, sales = chain.redirected_sales(firms)
    assert len(suppliers) == 0 and len(sales) == 0  # month-0 links are the month-0 equilibrium
    new = np.flatnonzero(active_smes(firms) & ~chain.linked(firms))[:3]
    assert chain.add_links(firms, new, np.flatnonzero(active_large(firms))[:3]) == 3
    suppliers, sales = chain.redirected_sales(firms)
    assert sorted(suppliers) == sorted(new)
    per_worker = firms.output_usd[suppliers] / firms.employees[suppliers]
    np.testing.assert_allclose(sales, p.supplier_sales_share * firms.employees[suppliers] * per_worker)


def test_labour_demand_follows_appended_rows():
    firms, p, chain = uncapped()
    demand = chain.labour_demand(firms)
    firms.append(
        status=np.full(10, ACTIVE, np.int8),
        size_class=np.full(10, LARGE, np.int8),
        employees=np.full(10, 500.0),
        capacity=np.full(10, 700.0),
        output_usd=np.full(10, 1e6),
    )
    grown = chain.labour_demand(firms)
    assert grown.shape == (firms.n,)
    assert np.array_equal(grown[: len(demand)], demand) and not grown[len(demand) :].any()
    # a new buyer among the appended rows
    s = np.flatnonzero(active_smes(firms) & ~chain.linked(firms))[0]
    assert chain.add_links(firms, [s], [firms.n - 1]) == 1
    assert np.isclose(chain.labour_demand(firms)[s], p.supplier_sales_share * firms.employees[s])


def test_large_buyers_pull_their_suppliers_in_the_model():
    """The locomotive, end to end: paired runs where large units' foreign demand is ten times
    higher; their linked SME suppliers get more orders and employ more, unlinked SMEs do not."""
    from simulation import SMEModel

    runs = [SMEModel(rng=9, scale=0.2) for _ in range(2)]
    f = runs[1].firms
    f.export_scale[(f.status == ACTIVE) & (f.size_class == LARGE)] *= 10.0
    for _ in range(12):
        for run in runs:
            run.step()
    base, pulled = runs[0].firms, runs[1].firms
    both = (base.status == ACTIVE) & (pulled.status == ACTIVE) & base.is_sme
    linked = runs[0].supply_chain.linked(base) & both
    unlinked = both & ~runs[0].supply_chain.linked(base)
    orders = [run.supply_chain.labour_demand(run.firms)[linked].sum() for run in runs]
    assert orders[1] > 1.1 * orders[0]
    gain_linked = pulled.employees[linked].sum() / base.employees[linked].sum()
    gain_unlinked = pulled.employees[unlinked].sum() / base.employees[unlinked].sum()
    assert gain_linked > gain_unlinked + 0.01


def test_sme_content_of_large_exports_is_sme_sales_to_large_buyers_times_their_export_share():
    from simulation import SMEModel

    model = SMEModel(rng=3, scale=0.05)
    model.run(2)
    f, chain = model.firms, model.supply_chain
    indicator = model.indicators()["sme_content_of_large_exports_usd"]
    expected = 0.0
    for supplier, buyer, labour in zip(chain.supplier, chain.buyer, model.link_labour, strict=True):
        if f.is_sme[supplier] and not f.is_sme[buyer] and f.output_usd[buyer] > 0 and f.employees[supplier] > 0:
            expected += (
                labour * f.output_usd[supplier] / f.employees[supplier] * f.exports_usd[buyer] / f.output_usd[buyer]
            )
    assert indicator == pytest.approx(12 * expected / model.scale) and indicator > 0
    ind = model.indicators()
    assert ind["total_exports_usd"] == pytest.approx(ind["exports_usd"] + ind["indirect_exports_usd"] + indicator)
    f.exports_usd[~f.is_sme] = 0.0  # large units that export nothing carry no SME goods abroad
    assert chain.sme_content_of_large_exports(f, model.link_labour) == 0.0
