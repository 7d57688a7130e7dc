"""Groups of firms: clusters, park infrastructure, export consortia and management companies.

Clusters are sector x province cells (`cluster_of`); every unit belongs to one.
- Spillovers: a cluster's log productivity moves with the log of its employment relative to
  month 0, with elasticity `cluster_spillover_elasticity` (agglomeration economies of
  0.02-0.10). Levels at month 0 are in the initial productivity draw; only changes move it.
- Park infrastructure is a firm input: log productivity rises by
  `infrastructure_productivity_effect` per unit of site quality (set at creation in
  `population`); `improve_infrastructure` is the hook for the infrastructure lever.
- `Clusters.development` (0 by default) is the hook for the cluster-development lever: it
  multiplies the cluster's consortium formation rate by (1 + development).

Consortia (export consortia and export management companies) form inside clusters and
pool their members' export costs, market knowledge and standards (trade.py uses
`Consortia.terms`): a member pays (1 / members + coordination share) of each destination's
sunk and fixed costs, sells abroad as if its foreign appeal were (1 + knowledge gain) times
its own, and meets standards at the better of its own level and its consortium's mean
(pooled R&D and certification). Sales through a consortium are the member's (SME) exports.
Trust = consortium_trust + recognition_trust_gain * legal recognition drives the monthly
dynamics: clusters form consortia (rate x trust), interested SMEs join (rate x trust),
members leave and consortia fail (rates x (1 - trust)); a consortium below the minimum
membership dissolves. Only active SMEs are members.

Consortia are not sampled (like clusters and parks): the real number of consortia exists at any
`scale`, formed at the real rate per cluster, each with its real membership. A sampled
population (scale < 1) holds a share `scale` of their members as firms; the members outside the
sample are a count per consortium (`outside`), which joins, leaves and ages like the sampled
members (binomial and Poisson draws of their own stream), so that the number of consortia, their
sizes, the pooled costs and dissolution are those of the full population, and the expected number
of members is `scale` times the real one. At scale 1 `outside` is always 0.
"""

from __future__ import annotations

import numpy as np

from .geography import PROVINCE_NAMES, SECTOR_NAMES, Parks
from .parameters import Parameters
from .state import ACTIVE, NO_GROUP, FirmState

__all__ = [
    "N_CLUSTERS",
    "N_PROVINCES",
    "Clusters",
    "Consortia",
    "cluster_name",
    "cluster_of",
    "founders_in_sample",
    "improve_infrastructure",
]

N_PROVINCES = len(PROVINCE_NAMES)
N_CLUSTERS = len(SECTOR_NAMES) * N_PROVINCES


def cluster_of(sector: np.ndarray, province: np.ndarray) -> np.ndarray:
    return (sector.astype(np.int32) * N_PROVINCES + province).astype(np.int32)


def cluster_name(cluster_id: int) -> str:
    return f"{SECTOR_NAMES[cluster_id // N_PROVINCES]} in {PROVINCE_NAMES[cluster_id % N_PROVINCES]}"


class Clusters:
    def __init__(self, firms: FirmState):
        self.reference_employment = self.employment(firms)
        self.spillover = np.zeros(N_CLUSTERS)  # current log-productivity shift from scale changes
        self.development = np.zeros(N_CLUSTERS)  # lever hook

    @staticmethod
    def employment(firms: FirmState) -> np.ndarray:
        return np.bincount(firms.cluster_id, weights=firms.employees, minlength=N_CLUSTERS)

    def welcome(self, firms: FirmState, rows: slice) -> None:
        """New units start with their cluster's current spillover (their draws are around month 0's level)."""
        shift = self.spillover[firms.cluster_id[rows]]
        firms.log_productivity[rows] += shift
        firms.log_productivity_mean[rows] += shift

    def apply_spillovers(self, firms: FirmState, p: Parameters) -> None:
        """Shift every unit's productivity by the change of its cluster's spillover since last month."""
        log_ratio = np.log(np.maximum(self.employment(firms), 1.0)) - np.log(np.maximum(self.reference_employment, 1.0))
        spillover = p.cluster_spillover_elasticity * log_ratio
        delta = (spillover - self.spillover)[firms.cluster_id]
        self.spillover = spillover
        firms.log_productivity += delta
        firms.log_productivity_mean += delta


def improve_infrastructure(
    firms: FirmState, parks: Parks, p: Parameters, park_ids: np.ndarray, gain: float
) -> np.ndarray:
    """Lever hook: raise the parks' infrastructure quality by `gain` (capped at 1); the units
    there get the productivity and hazard effects of better sites. Returns the parks' rise."""
    park_ids = np.unique(np.asarray(park_ids, dtype=np.int64))
    before = parks.infrastructure[park_ids].copy()
    parks.infrastructure[park_ids] = np.minimum(before + gain, 1.0)
    rise = np.zeros(len(parks))
    rise[park_ids] = parks.infrastructure[park_ids] - before
    in_park = np.flatnonzero(firms.park_id >= 0)
    delta = rise[firms.park_id[in_park]]
    firms.infrastructure[in_park] += delta
    firms.log_productivity[in_park] += p.infrastructure_productivity_effect * delta
    firms.log_productivity_mean[in_park] += p.infrastructure_productivity_effect * delta
    return rise[park_ids]


class Consortia:
    """Consortia by id (ids are never reused); members are the firms whose consortium_id is the id."""

    def __init__(self):
        self.cluster = np.zeros(0, np.int32)
        self.founded = np.zeros(0, np.int32)
        self.active = np.zeros(0, bool)
        self.members = np.zeros(0, np.int64)  # active members in the sample per consortium, refreshed monthly
        self.outside = np.zeros(0, np.int64)  # members outside a sampled population (0 at scale 1)
        self.outside_standards = np.zeros(0)  # the sum of their standards levels
        self.mean_standards = np.zeros(0)
        self.supported = np.zeros(0, bool)  # lever hook: the government pays coordination, failure falls

    def _is_supported(self) -> np.ndarray:
        """`supported` padded to every consortium (ones founded since the lever last chose are not)."""
        flags = np.zeros(len(self.cluster), bool)
        flags[: len(self.supported)] = self.supported[: len(self.cluster)]
        return flags

    def __len__(self) -> int:
        return int(self.active.sum())

    @staticmethod
    def trust(p: Parameters) -> float:
        return min(p.consortium_trust + p.recognition_trust_gain * p.consortium_legal_recognition, 1.0)

    @property
    def size(self) -> np.ndarray:
        """Real members per consortium: in the sample and outside it."""
        return self.members + self.outside

    @classmethod
    def build(
        cls, firms: FirmState, p: Parameters, scale: float, rng: np.random.Generator, outside: np.random.Generator
    ) -> Consortia:
        """The month-0 consortia, in clusters drawn in proportion to their active SMEs; members
        are chosen among the cluster's active SMEs with the most foreign appeal (Gumbel noise
        makes the choice random but appeal-weighted)."""
        self = cls()
        eligible = _eligible(firms)
        per_cluster = np.bincount(firms.cluster_id[eligible], minlength=N_CLUSTERS).astype(float)
        n = round(p.initial_consortia)
        if n and per_cluster.sum() > 0:
            clusters = rng.choice(N_CLUSTERS, size=n, p=per_cluster / per_cluster.sum())
            self._form(firms, p, np.sort(clusters), 0, rng, eligible, scale, outside)
        self.refresh(firms)
        return self

    def _form(
        self,
        firms: FirmState,
        p: Parameters,
        clusters: np.ndarray,
        month: int,
        rng: np.random.Generator,
        eligible: np.ndarray,
        scale: float,
        outside: np.random.Generator,
    ) -> int:
        """Found one consortium in each given cluster (a loop over the few new consortia, not firms).
        Its real size is drawn as at full scale, at most the cluster's free eligible SMEs (real: the
        sample's divided by `scale`). The founders are the free SMEs whose foreign appeal plus
        Gumbel noise is highest (so each is drawn in proportion to its export potential, without
        replacement): at full scale the top `real`; in a sampled population those above the
        national threshold (`founders_in_sample`), the rest counted in `outside`."""
        free = np.flatnonzero(eligible & (firms.consortium_id == NO_GROUP))
        forming = np.zeros(N_CLUSTERS, bool)
        forming[clusters] = True
        free = free[forming[firms.cluster_id[free]]]
        # foreign appeal in logs: ln(export scale) + (sigma - 1) ln(phi), plus Gumbel noise
        appeal = (
            np.log(np.maximum(firms.export_scale[free], 1e-300))
            + (p.demand_elasticity - 1.0) * firms.log_productivity[free]
        )
        key = appeal + rng.gumbel(size=len(free))
        order = np.lexsort((-key, firms.cluster_id[free]))  # by cluster, best first
        free, free_cluster, key, appeal = free[order], firms.cluster_id[free[order]], key[order], appeal[order]
        starts = np.searchsorted(free_cluster, clusters, "left")
        stops = np.searchsorted(free_cluster, clusters, "right")
        sizes = int(np.ceil(p.consortium_min_members)) + rng.poisson(
            max(p.consortium_size_mean - p.consortium_min_members, 0.0), len(clusters)
        )
        formed = 0
        taken = np.zeros(N_CLUSTERS, np.int64)  # several consortia may form in one cluster
        for cluster, lo, hi, size in zip(clusters, starts, stops, sizes, strict=True):
            lo = lo + taken[cluster]
            if hi - lo < p.consortium_min_members * scale:
                continue
            real = min(size, int((hi - lo) / scale))
            in_sample = real if scale == 1.0 else founders_in_sample(key[lo:hi], appeal[lo:hi], real, scale)
            members = free[lo : lo + in_sample]
            taken[cluster] += len(members)
            firms.consortium_id[members] = len(self.cluster)
            self.cluster = np.append(self.cluster, np.int32(cluster))
            self.founded = np.append(self.founded, np.int32(month))
            self.active = np.append(self.active, True)
            self.outside = np.append(self.outside, np.int64(real - len(members)))
            formed += 1
        self.outside_standards = np.append(self.outside_standards, self._stand_in_standards(firms, formed, outside))
        return formed

    def _stand_in_standards(self, firms: FirmState, formed: int, rng: np.random.Generator) -> np.ndarray:
        """The summed standards levels of the `formed` newest consortia's members outside the sample:
        levels of consortium members in the sample drawn at random (members are alike across
        consortia: the most appealing SMEs of their cluster), so that a consortium's pooled level
        varies as a real one's does, independently of its few sampled members."""
        new = np.arange(len(self.cluster) - formed, len(self.cluster))
        outside = self.outside[new]
        if not outside.any():
            return np.zeros(formed)
        levels = firms.standards[firms.consortium_id >= 0]
        drawn = rng.choice(levels, int(outside.sum())) if len(levels) else np.zeros(int(outside.sum()))
        return np.bincount(np.repeat(np.arange(formed), outside), weights=drawn, minlength=formed)

    def refresh(self, firms: FirmState) -> None:
        """Recount active members and their mean standards per consortium, members outside the
        sample included."""
        member = np.flatnonzero(firms.consortium_id >= 0)
        ids = firms.consortium_id[member]
        self.members = np.bincount(ids, minlength=len(self.cluster))
        total = np.bincount(ids, weights=firms.standards[member], minlength=len(self.cluster))
        if self.outside.any():
            total = total + self.outside_standards
        size = self.size
        self.mean_standards = np.divide(total, size, out=np.zeros(len(self.cluster)), where=size > 0)

    def terms(self, firms: FirmState, p: Parameters, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cost factor, foreign-appeal factor) of the given units: 1 unless members."""
        cost, appeal = np.ones(len(rows)), np.ones(len(rows))
        cid = firms.consortium_id[rows]
        pos = np.flatnonzero(cid >= 0)
        coordination = np.where(self._is_supported()[cid[pos]], 0.0, p.consortium_coordination_cost_share)
        cost[pos] = 1.0 / np.maximum(self.size[cid[pos]], 1) + coordination
        appeal[pos] = 1.0 + p.consortium_knowledge_gain
        return cost, appeal

    def standards(self, firms: FirmState, rows: np.ndarray) -> np.ndarray:
        """Standards the given units meet: their own, or their consortium's mean if higher."""
        standards = firms.standards[rows]
        cid = firms.consortium_id[rows]
        pos = np.flatnonzero(cid >= 0)
        standards[pos] = np.maximum(standards[pos], self.mean_standards[cid[pos]])
        return standards

    def step(
        self,
        firms: FirmState,
        p: Parameters,
        scale: float,
        month: int,
        rng: np.random.Generator,
        interested: np.ndarray,
        development: np.ndarray,
        outside: np.random.Generator,
    ) -> dict[str, int]:
        """One month: members who stopped being active SMEs drop out, some leave, weak or
        failing consortia dissolve, clusters found new ones, interested SMEs join.
        `interested` flags units for which pooled costs would open an export market.
        Members and candidates draw their uniforms in firm order (draws for the few concerned,
        not for every unit)."""
        trust = self.trust(p)
        eligible = _eligible(firms)
        members = np.flatnonzero(firms.consortium_id >= 0)
        leave_rate = p.consortium_leave_rate * (1.0 - trust)
        no_longer = ~eligible[members]
        leaving = members[no_longer | (rng.random(len(members)) < leave_rate)]
        if scale < 1.0 and len(members):  # members outside the sample leave at the sampled members' rates
            lapsing = np.count_nonzero(no_longer) / len(members)
            gone = outside.binomial(self.outside, lapsing + (1.0 - lapsing) * leave_rate)
            self.outside_standards -= self.outside_standards * np.divide(
                gone, self.outside, out=np.zeros(len(gone)), where=self.outside > 0
            )
            self.outside -= gone
        firms.consortium_id[leaving] = NO_GROUP
        self.refresh(firms)

        support = 1.0 - p.consortium_support_failure_cut * self._is_supported()
        fail = rng.random(len(self.cluster)) < p.consortium_failure_rate * (1.0 - trust) * support
        dissolving = self.active & (fail | (self.size < p.consortium_min_members))
        self.active &= ~dissolving
        self.outside[dissolving] = 0
        self.outside_standards[dissolving] = 0.0
        if dissolving.any():
            member = np.flatnonzero(firms.consortium_id >= 0)
            firms.consortium_id[member[dissolving[firms.consortium_id[member]]]] = NO_GROUP

        forming = rng.random(N_CLUSTERS) < p.consortium_formation_rate * trust * (1.0 + development)
        formed = (
            self._form(firms, p, np.flatnonzero(forming), month, rng, eligible, scale, outside) if forming.any() else 0
        )

        joined = self._join(firms, p, trust, rng, interested & eligible, leaving, scale, outside)
        self.refresh(firms)
        return {
            "consortia_formed": formed,
            "consortia_dissolved": int(dissolving.sum()),
            "consortium_joins": joined,
            "consortium_leaves": len(leaving),
        }

    def _join(
        self,
        firms: FirmState,
        p: Parameters,
        trust: float,
        rng: np.random.Generator,
        interested: np.ndarray,
        left: np.ndarray,
        scale: float,
        outside: np.random.Generator,
    ) -> int:
        """Interested (eligible) non-members join their cluster's newest active consortium; a
        member who just left does not rejoin in the same month. In a sampled population, each
        interested candidate stands for (1 - scale) / scale interested SMEs outside the sample, who
        join the same consortium at the same rate. Returns the members who joined in the sample."""
        newest = np.full(N_CLUSTERS, -1, np.int64)
        open_ids = np.flatnonzero(self.active)
        np.maximum.at(newest, self.cluster[open_ids], open_ids)
        interested[left] = False
        candidates = np.flatnonzero(interested & (firms.consortium_id == NO_GROUP))
        target = newest[firms.cluster_id[candidates]]
        rate = p.consortium_join_rate * trust
        joining = (target >= 0) & (rng.random(len(candidates)) < rate)
        firms.consortium_id[candidates[joining]] = target[joining]
        if scale < 1.0:
            self._join_outside(firms, candidates[target >= 0], target[target >= 0], scale, rate, outside)
        return int(joining.sum())

    def _join_outside(
        self, firms: FirmState, candidates: np.ndarray, target: np.ndarray, scale: float, rate: float, rng
    ) -> None:
        """Interested SMEs outside the sample who join: per consortium Poisson with mean its sampled
        candidates x (1 - scale) / scale x the join rate; their standards are those of sampled
        candidates of the same consortium drawn at random (stand-ins)."""
        joiners = rng.poisson(np.bincount(target, minlength=len(self.cluster)) * (1.0 - scale) / scale * rate)
        if not joiners.any():
            return
        order = np.argsort(target, kind="stable")
        starts = np.searchsorted(target[order], np.arange(len(self.cluster)))
        counts = np.bincount(target, minlength=len(self.cluster))
        k = np.repeat(np.arange(len(self.cluster)), joiners)
        picks = order[starts[k] + (rng.random(len(k)) * counts[k]).astype(np.int64)]
        self.outside += joiners
        self.outside_standards += np.bincount(
            k, weights=firms.standards[candidates[picks]], minlength=len(self.cluster)
        )


def _eligible(firms: FirmState) -> np.ndarray:
    """Consortia are for active SMEs."""
    return (firms.status == ACTIVE) & firms.is_sme


def founders_in_sample(keys: np.ndarray, appeal: np.ndarray, real: int, scale: float) -> int:
    """How many of a sampled cluster's free SMEs, sorted by `keys` (appeal plus Gumbel noise,
    best first), are among the real consortium's `real` founders: a unit is if its key is above
    the threshold t at which the real cluster's top `real` would lie. A unit of appeal a has a
    key above t with probability 1 - exp(-exp(a - t)); t is where these, summed over the real
    cluster, are `real`: the unit itself plus the others of the sample, each standing for
    1 / scale (left out, a unit's own key does not raise the bar it is judged by). The
    founders' export potential is then that of the real ones; taking the sample's best
    Binomial(real, scale) instead gives founders a fifth to a quarter weaker at scale 0.1."""
    n = len(keys)
    if real >= n / scale:
        return n
    if n == 1:  # no other unit to stand for the cluster: it stands for itself, founding with odds real x scale
        return int(keys[0] > appeal[0] - np.log(-np.log1p(-real * scale)))

    weight = (n / scale - 1.0) / max(n - 1, 1)  # the others stand for the rest of the real cluster
    # the surplus of founders over `real` falls with t, so unit i passes (its key above its
    # threshold t_i, the surplus' root) exactly when the surplus at t = its own key is negative
    candidates = min(n, int(np.ceil(3 * real * scale)) + 5)  # further down the order none pass
    t = keys[:candidates, None]
    chance = -np.expm1(-np.exp(appeal[None, :] - t))  # each unit's key above t
    own = chance[np.arange(candidates), np.arange(candidates)]
    chance[np.arange(candidates), np.arange(candidates)] = 0.0
    surplus = chance.sum(axis=1) * weight + own - real
    passed = int(np.count_nonzero(surplus < 0))
    return min(passed, real)
