"""Clusters, park infrastructure and consortia: mechanism tests that could fail."""

import numpy as np
import pytest

from simulation import SMEModel
from simulation.geography import Parks
from simulation.groups import (
    N_CLUSTERS,
    Clusters,
    Consortia,
    cluster_name,
    cluster_of,
    founders_in_sample,
    improve_infrastructure,
)
from simulation.parameters import Parameters
from simulation.state import ACTIVE, CLOSED, FirmState

P = Parameters()


def test_clusters_are_sector_by_province_cells(full_model):
    f = full_model.firms
    assert (f.cluster_id == cluster_of(f.sector, f.province)).all()
    assert f.cluster_id.min() >= 0 and f.cluster_id.max() < N_CLUSTERS
    assert cluster_name(int(cluster_of(np.array([0]), np.array([0]))[0])) == "food and beverages in Tehran"


def _cluster_world():
    firms = FirmState(4)
    firms.append(
        status=np.full(4, ACTIVE, np.int8),
        employees=np.full(4, 10.0),
        sector=np.array([0, 0, 1, 1], np.int16),
        province=np.zeros(4, np.int16),
        cluster_id=cluster_of(np.array([0, 0, 1, 1]), np.zeros(4, np.int16)),
    )
    return firms


def test_spillovers_follow_the_change_in_cluster_scale():
    firms = _cluster_world()
    clusters = Clusters(firms)
    clusters.apply_spillovers(firms, P)
    assert (firms.log_productivity == 0).all()  # month-0 levels are already in productivity
    firms.employees[:2] *= np.e  # cluster 0 grows by one log point
    clusters.apply_spillovers(firms, P)
    assert firms.log_productivity.tolist() == pytest.approx([P.cluster_spillover_elasticity] * 2 + [0.0, 0.0])
    assert firms.log_productivity_mean.tolist() == pytest.approx(firms.log_productivity.tolist())
    firms.employees[:2] /= np.e  # back to the start: the gain goes
    clusters.apply_spillovers(firms, P)
    assert firms.log_productivity == pytest.approx(np.zeros(4))


def test_better_infrastructure_raises_productivity_and_is_capped():
    parks = Parks(3, np.random.default_rng(1))
    parks.infrastructure[:] = [0.5, 0.95, 0.5]
    firms = FirmState(3)
    firms.append(
        status=np.full(3, ACTIVE, np.int8),
        park_id=np.array([0, 1, -1], np.int32),
        infrastructure=np.array([0.5, 0.95, 0.5]),
    )
    rise = improve_infrastructure(firms, parks, P, np.array([0, 1]), 0.2)
    assert rise.tolist() == pytest.approx([0.2, 0.05])
    assert firms.infrastructure.tolist() == pytest.approx([0.7, 1.0, 0.5])  # the third is outside parks
    expected = P.infrastructure_productivity_effect * np.array([0.2, 0.05, 0.0])
    assert firms.log_productivity == pytest.approx(expected)


def test_infrastructure_is_a_firm_input_at_month_zero(full_model):
    f = full_model.firms
    in_park = f.park_id >= 0
    slope = np.polyfit(f.infrastructure[in_park], f.log_productivity_mean[in_park], 1)[0]
    assert slope == pytest.approx(P.infrastructure_productivity_effect, abs=0.05)


def test_trust_rises_with_legal_recognition():
    assert Consortia.trust(P) == pytest.approx(P.consortium_trust)
    full = Parameters(consortium_legal_recognition=1.0)
    assert Consortia.trust(full) == pytest.approx(P.consortium_trust + P.recognition_trust_gain)


def test_consortia_dissolve_below_their_minimum_and_release_members():
    model = SMEModel(rng=3, scale=0.2)
    f, consortia = model.firms, model.consortia
    first = int(np.flatnonzero(consortia.active)[0])
    members = np.flatnonzero(f.consortium_id == first)
    consortia.outside[first] = 0  # none of its members outside the sample
    f.status[members[: len(members) - 2]] = CLOSED  # two active members left: below the minimum of 3
    f.employees[members[: len(members) - 2]] = 0.0
    model.step()
    assert not consortia.active[first]
    assert (f.consortium_id != first).all()


@pytest.mark.slow
def test_legal_recognition_grows_consortia_for_the_same_seeds():
    """Paired runs: recognition raises trust, so more SMEs join and fewer consortia fail."""
    gains = []
    for seed in (1, 2, 3):
        runs = [SMEModel(rng=seed, scale=0.3, consortium_legal_recognition=level) for level in (0.0, 1.0)]
        for _ in range(24):
            for run in runs:
                run.step()
        gains.append(runs[1].indicators()["consortium_members"] - runs[0].indicators()["consortium_members"])
    assert np.mean(gains) > 0 and min(gains) > 0


@pytest.mark.slow
def test_consortium_counts_stay_near_the_seed_in_the_baseline():
    model = SMEModel(rng=4, scale=0.5)
    for _ in range(36):
        model.step()
    assert 0.6 * 130 <= model.indicators()["consortia"] <= 1.4 * 130


def test_members_are_active_smes_after_a_run(small_run):
    f = small_run.firms
    members = f.consortium_id >= 0
    assert (f.status[members] == ACTIVE).all() and f.is_sme[members].all()
    ids = np.unique(f.consortium_id[members])
    assert small_run.consortia.active[ids].all()
    assert (small_run.consortia.size[ids] >= P.consortium_min_members).all()  # in the sample and outside it


def test_a_sampled_cluster_founds_consortia_with_the_real_founders_potential():
    """A cluster of 300 SMEs founds a consortium of 8, the best by appeal plus Gumbel noise. In
    10% samples the founders' export potential, divided by the scale, is the real founders';
    the sample's best Binomial(8, 0.1) (the old rule) fall a fifth short."""
    rng = np.random.default_rng(0)
    real, sampled_rule, best_k = [], [], []
    for _ in range(1500):
        appeal = rng.normal(0.0, 1.5, 300)
        key = appeal + rng.gumbel(size=300)
        real.append(np.exp(appeal[np.argsort(-key)[:8]]).sum())
        sampled = np.flatnonzero(rng.random(300) < 0.1)
        sampled = sampled[np.argsort(-key[sampled])]
        n = founders_in_sample(key[sampled], appeal[sampled], 8, 0.1)
        sampled_rule.append(np.exp(appeal[sampled[:n]]).sum() / 0.1)
        best_k.append(np.exp(appeal[sampled[: rng.binomial(8, 0.1)]]).sum() / 0.1)
    assert np.mean(sampled_rule) == pytest.approx(np.mean(real), rel=0.1)
    assert np.mean(best_k) < 0.85 * np.mean(real)
