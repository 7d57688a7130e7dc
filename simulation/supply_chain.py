"""Supply-chain links: SME suppliers selling to large buyers ("missing links", "locomotives").

The seed documents name two ideas about the supply chain: many small units idle part of
their plant because the links between them and the market are missing, and the policy
is to find those links and tie them together (seed 000 and 002); and large factories are
the locomotives that pull the small ones (seed 002). Input-output links are also the
strongest channel of agglomeration (Ellison, Glaeser & Kerr 2010), which is why most
links are drawn inside a province.

Mechanism
- A sparse network of links (supplier i, buyer b) from SMEs (< 100 employees) to large
  units. Each link carries a coefficient w_ib: supplier labour per USD of the buyer's
  monthly output. A supplier's B2B labour demand is sum_b c_b w_ib * output_b. Demand follows
  the buyer's output of the previous month (the model computes it before this month's
  production): it vanishes from the month after the buyer idles and grows as the buyer
  grows, e.g. by exporting (the locomotive).
- A buyer buys no more from its SME suppliers than buyer_sme_purchase_share of its output:
  c_b = min(1, share * output_b / purchases_b), where purchases_b = sum_i w_ib output_b
  * output_i / employees_i values each link's labour at its supplier's sales per worker. A
  buyer with more suppliers than its purchases allow splits what it buys among them, so a new
  supplier takes part of the others' sales.
- Links formed during the run redirect purchases the buyer made elsewhere: a share
  link_import_substitution_share from imports, the rest from the home market of the
  supplier's sector (`redirected_sales`, used by production.home_demand). Month-0 links are
  part of the month-0 equilibrium and redirect nothing.
- Month 0: each active large unit gets Poisson(supplier_links_per_large_firm) distinct
  active SME suppliers, each from the buyer's province with probability
  link_same_province_share (from anywhere otherwise, or when the province has none).
  Coefficients make a linked SME's B2B demand equal supplier_sales_share * employees, split
  equally among its buyers. A sampled population (scale < 1) has proportionally fewer
  SMEs and buyers, so the per-buyer mean needs no scaling.
- Missing links lower capacity use. At month 0 an active SME without a link has its
  utilisation u = employees / capacity multiplied by (1 - g), g = missing_link_utilisation_gap
  (its capacity is raised). Linked SMEs' utilisations are raised to u' = min(lam u, max(1, u)),
  lam solving sum_linked u' = sum_linked u + g sum_unlinked u, so that the mean utilisation of
  active SMEs (calibrated by initial_utilisation_mean) is unchanged; without the cap
  lam = 1 + g U_unlinked / U_linked. The cap keeps capacity >= employees; lam is found by
  water-filling. If even full use of every linked plant cannot absorb the shift (only for
  extreme g), linked plants are set to full use and the mean falls. With no link at all,
  capacity is left as it is (there is nothing to compare with).
- Monthly: links with a closed party are dropped; each active SME without a live link finds
  one large buyer with probability link_formation_rate (same province with probability
  link_same_province_share; only buyers with output this month), at a coefficient giving it
  B2B demand supplier_sales_share * employees at the buyer's current output.
  `add_links` is the hook for the supply-chain matchmaking lever.
- Wiring: B2B demand is part of a linked SME's demand, not an addition to its month-0
  employment; the home-market demand that backs its month-0 workforce must leave out the
  B2B part (e.g. customer base times 1 - supplier_sales_share) for the equilibrium to hold.

Assumptions and choices
- A supplier that grows past 100 employees keeps its links: the buyer still buys, and
  cutting its B2B demand at the class boundary would push it back below it. A buyer that
  shrinks below 100 employees keeps its suppliers too. New links only form between an
  SME and a large unit. Links of idle units are kept (an idle buyer pays nothing; an idle
  supplier resumes selling if it restarts); they end when either party closes.
- Coefficients are fixed when a link forms: B2B sales scale with the buyer's output, not
  with the supplier's later size.
- A link dropped because its supplier closed stops its sales; what the buyer then buys instead
  is not returned to the home market (baseline and policy runs alike).
"""

from __future__ import annotations

import numpy as np

from .errors import InputError
from .parameters import Parameters
from .state import ACTIVE, CLOSED, LARGE, FirmState

__all__ = ["SupplyChain"]

_BUYER_BITS = 32  # a link's key is supplier << 32 | buyer: unique while firm ids < 2^31


def _key(supplier: np.ndarray, buyer: np.ndarray) -> np.ndarray:
    return (supplier.astype(np.int64) << _BUYER_BITS) | buyer.astype(np.int64)


def _pick(
    pool: np.ndarray,
    pool_province: np.ndarray,
    near: np.ndarray,
    u_local: np.ndarray,
    u_pick: np.ndarray,
    same_province_share: float,
) -> np.ndarray:
    """One member of `pool` per draw j: from province near[j] with probability same_province_share
    (when that province has a member), else uniformly from the whole pool.

    The pool is sorted by province (stable, so by id within a province) and each draw picks an
    offset into its province's block or into the whole array: no loop over provinces."""
    n_provinces = int(max(pool_province.max(initial=0), near.max(initial=0))) + 1
    sorted_pool = pool[np.argsort(pool_province, kind="stable")]
    counts = np.bincount(pool_province, minlength=n_provinces)
    starts = np.cumsum(counts) - counts
    in_province = counts[near]
    local = (u_local < same_province_share) & (in_province > 0)
    size = np.where(local, in_province, len(pool))
    first = np.where(local, starts[near], 0)
    return sorted_pool[first + np.minimum((u_pick * size).astype(np.int64), size - 1)]


def _water_fill(u: np.ndarray, cap: np.ndarray, total: float) -> np.ndarray:
    """min(lam u, cap) with lam such that the sum is `total`; all at cap if that is unreachable.

    Each pass clips the entries lam u pushes over their cap and solves lam again for the rest;
    lam only rises, so the clipped set only grows and the loop ends (a few passes in practice)."""
    reachable = u > 0  # a plant without workers stays at 0 whatever lam
    if total >= cap[reachable].sum():
        return np.where(reachable, cap, u)
    clipped = np.zeros(len(u), bool)
    while True:
        lam = (total - cap[clipped].sum()) / u[~clipped].sum()
        now = lam * u >= cap
        if np.array_equal(now, clipped):
            return np.where(clipped, cap, lam * u)
        clipped = now


def _apply_utilisation_gap(firms: FirmState, smes: np.ndarray, is_linked: np.ndarray, gap: float) -> None:
    """Lower unlinked SMEs' utilisation by the gap, raise linked ones' to keep the mean (module docstring)."""
    if gap == 0.0 or not is_linked.any():
        return
    unlinked, linked = smes[~is_linked], smes[is_linked]
    u_unlinked = firms.employees[unlinked] / firms.capacity[unlinked]
    u_linked = firms.employees[linked] / firms.capacity[linked]
    target = u_linked.sum() + gap * u_unlinked.sum()
    new = _water_fill(u_linked, np.maximum(u_linked, 1.0), target)
    firms.capacity[unlinked] = firms.capacity[unlinked] / (1.0 - gap)
    firms.capacity[linked] = firms.employees[linked] / new


class SupplyChain:
    """Buyer-supplier links as parallel arrays (supplier, buyer, coefficient, formed in the run),
    sorted by (supplier, buyer)."""

    def __init__(self, p: Parameters):
        self.p = p
        self.supplier = np.zeros(0, np.int64)
        self.buyer = np.zeros(0, np.int64)
        self.coefficient = np.zeros(0, np.float64)  # supplier labour per USD of buyer output a month
        self.in_run = np.zeros(0, bool)  # formed after month 0: redirects the buyer's purchases
        self._keys = np.zeros(0, np.int64)  # supplier << 32 | buyer; all the arrays sorted by it

    # --- construction -------------------------------------------------------------------

    @classmethod
    def build(cls, firms: FirmState, p: Parameters, rng: np.random.Generator) -> SupplyChain:
        """The month-0 network, and the capacity of active SMEs adjusted for missing links."""
        chain = cls(p)
        active = firms.status == ACTIVE
        smes = np.flatnonzero(active & (firms.size_class < LARGE))
        buyers = np.flatnonzero(active & (firms.size_class == LARGE) & (firms.output_usd > 0))
        if len(smes) and len(buyers):
            buyer = np.repeat(buyers, rng.poisson(p.supplier_links_per_large_firm, len(buyers)))
            u = rng.random((2, len(buyer)))
            supplier = _pick(smes, firms.province[smes], firms.province[buyer], u[0], u[1], p.link_same_province_share)
            key = np.unique(_key(supplier, buyer))  # a buyer drawing the same supplier twice keeps one link
            supplier, buyer = key >> _BUYER_BITS, key & ((1 << _BUYER_BITS) - 1)
            buyers_of = np.bincount(supplier, minlength=firms.n)[supplier]
            coefficient = p.supplier_sales_share * firms.employees[supplier] / (buyers_of * firms.output_usd[buyer])
            chain._append(supplier, buyer, coefficient, in_run=False)
        _apply_utilisation_gap(firms, smes, chain.linked(firms)[smes], p.missing_link_utilisation_gap)
        return chain

    def _append(self, supplier: np.ndarray, buyer: np.ndarray, coefficient: np.ndarray, in_run: bool = True) -> None:
        """Insert links, keeping them sorted by (supplier, buyer) (`has_links` searches the suppliers)."""
        if not len(supplier):
            return
        key = _key(supplier, buyer)
        order = np.argsort(key, kind="stable")
        at = np.searchsorted(self._keys, key[order])
        self._keys = np.insert(self._keys, at, key[order])
        self.supplier = np.insert(self.supplier, at, supplier[order])
        self.buyer = np.insert(self.buyer, at, buyer[order])
        self.coefficient = np.insert(self.coefficient, at, coefficient[order])
        self.in_run = np.insert(self.in_run, at, in_run)

    def _keep(self, mask: np.ndarray) -> None:
        self._keys, self.supplier, self.buyer = self._keys[mask], self.supplier[mask], self.buyer[mask]
        self.coefficient, self.in_run = self.coefficient[mask], self.in_run[mask]

    # --- demand -------------------------------------------------------------------------

    def link_labour(self, firms: FirmState) -> np.ndarray:
        """Supplier labour each link needs at the buyers' current output, each buyer's purchases capped."""
        labour = self.coefficient * firms.output_usd[self.buyer]
        per_worker = np.divide(
            firms.output_usd, firms.employees, out=np.zeros(firms.n), where=firms.employees > 0
        )  # the supplier's sales per worker
        bought = np.bincount(self.buyer, weights=labour * per_worker[self.supplier], minlength=firms.n)
        limit = self.p.buyer_sme_purchase_share * firms.output_usd
        cap = np.divide(limit, bought, out=np.ones(firms.n), where=bought > limit)
        return labour * cap[self.buyer]

    def labour_demand(self, firms: FirmState, link_labour: np.ndarray | None = None) -> np.ndarray:
        """Each unit's B2B labour demand this month (idle buyers have output 0, so they buy nothing);
        `link_labour`: this month's `link_labour(firms)`, if already computed."""
        labour = self.link_labour(firms) if link_labour is None else link_labour
        return np.bincount(self.supplier, weights=labour, minlength=firms.n)

    def redirected_sales(
        self, firms: FirmState, link_labour: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(suppliers, USD a month) of the links formed during the run: purchases the buyers made
        elsewhere before, valued at the supplier's sales per worker (a supplier appears once per link)."""
        if not self.in_run.any():
            return np.zeros(0, np.int64), np.zeros(0)
        labour = (self.link_labour(firms) if link_labour is None else link_labour)[self.in_run]
        supplier = self.supplier[self.in_run]
        per_worker = np.divide(
            firms.output_usd[supplier],
            firms.employees[supplier],
            out=np.zeros(len(supplier)),
            where=firms.employees[supplier] > 0,
        )
        return supplier, labour * per_worker

    def sme_content_of_large_exports(self, firms: FirmState, link_labour: np.ndarray) -> float:
        """USD a month of SME goods inside large units' exports: each SME supplier's sales to a
        large buyer (its link labour at its sales per worker, as B2B demand is valued) times the
        buyer's export share of output. `link_labour`: the month's `link_labour(firms)`."""
        keep = firms.is_sme[self.supplier] & ~firms.is_sme[self.buyer]
        supplier, buyer = self.supplier[keep], self.buyer[keep]
        per_worker = np.divide(
            firms.output_usd[supplier],
            firms.employees[supplier],
            out=np.zeros(len(supplier)),
            where=firms.employees[supplier] > 0,
        )
        share = np.divide(
            firms.exports_usd[buyer],
            firms.output_usd[buyer],
            out=np.zeros(len(buyer)),
            where=firms.output_usd[buyer] > 0,
        )
        return float((link_labour[keep] * per_worker * share).sum())

    def linked(self, firms: FirmState) -> np.ndarray:
        """Units with at least one link to a buyer that is not closed."""
        live = firms.status[self.buyer] != CLOSED
        return np.bincount(self.supplier[live], minlength=firms.n) > 0

    def has_links(self, rows: np.ndarray) -> np.ndarray:
        """Whether each row supplies some buyer: a binary search in the sorted supplier column."""
        at = np.minimum(np.searchsorted(self.supplier, rows), max(len(self.supplier) - 1, 0))
        return self.supplier[at] == rows if len(self.supplier) else np.zeros(len(rows), bool)

    @property
    def n_links(self) -> int:
        return len(self.supplier)

    @property
    def suppliers_linked(self) -> int:
        """Distinct suppliers with at least one link (links to closed units go at the next `update`)."""
        return int(np.count_nonzero(np.bincount(self.supplier))) if len(self.supplier) else 0

    # --- dynamics -----------------------------------------------------------------------

    def update(
        self, firms: FirmState, p: Parameters, scale: float, month: int, rng: np.random.Generator
    ) -> tuple[int, int]:
        """Drop links with a closed party, form new ones; returns (links formed, links dropped).

        Eligible buyers are active large units with output_usd > 0, the output production last
        set (last month's if called before production). One uniform per row (firm i uses
        element i, common random numbers), then the partners'. `scale` and `month` are
        unused: the formation probability is per firm, whatever the sample."""
        u = rng.random(firms.n)
        status = firms.status
        dead = (status[self.supplier] == CLOSED) | (status[self.buyer] == CLOSED)
        dropped = int(np.count_nonzero(dead))
        if dropped:
            self._keep(~dead)

        seeking = np.flatnonzero(u < p.link_formation_rate)  # few rows: filter them, not the population
        seeking = seeking[(status[seeking] == ACTIVE) & (firms.size_class[seeking] < LARGE)]
        forming = seeking[~self.has_links(seeking)]  # every link left is live: dead ones just went
        if not len(forming):
            return 0, dropped
        buyers = np.flatnonzero((status == ACTIVE) & (firms.size_class == LARGE) & (firms.output_usd > 0))
        if not len(buyers):
            return 0, dropped
        v = rng.random((2, len(forming)))
        buyer = _pick(buyers, firms.province[buyers], firms.province[forming], v[0], v[1], p.link_same_province_share)
        self._append(forming, buyer, p.supplier_sales_share * firms.employees[forming] / firms.output_usd[buyer])
        return len(forming), dropped

    def add_links(self, firms: FirmState, suppliers: np.ndarray, buyers: np.ndarray, share: float | None = None) -> int:
        """Tie SME suppliers to large buyers pairwise (the matchmaking lever); returns links added.

        Each new link gives its supplier B2B demand `share` (default supplier_sales_share) times
        its current employees at the buyer's current output. Refused: pairs already linked or
        repeated, buyers not active, not large or without output, suppliers not active SMEs."""
        share = self.p.supplier_sales_share if share is None else float(share)
        if share < 0:
            raise InputError("share", f"must be non-negative, got {share}")
        s = np.asarray(suppliers, np.int64).ravel()
        b = np.asarray(buyers, np.int64).ravel()
        if s.shape != b.shape:
            raise InputError("buyers", f"suppliers and buyers must pair up, got {len(s)} suppliers and {len(b)} buyers")
        if len(s) and (min(s.min(), b.min()) < 0 or max(s.max(), b.max()) >= firms.n):
            raise InputError("suppliers", f"firm ids must lie in [0, {firms.n})")
        status, size_class = firms.status, firms.size_class
        ok = (
            (status[s] == ACTIVE)
            & (size_class[s] < LARGE)
            & (status[b] == ACTIVE)
            & (size_class[b] == LARGE)
            & (firms.output_usd[b] > 0)
        )
        key = _key(s, b)
        at = np.minimum(np.searchsorted(self._keys, key), max(len(self._keys) - 1, 0))
        ok &= ~(self._keys[at] == key) if len(self._keys) else True  # the keys are sorted: a binary search
        first = np.zeros(len(s), bool)
        first[np.unique(key, return_index=True)[1]] = True
        ok &= first
        s, b = s[ok], b[ok]
        self._append(s, b, share * firms.employees[s] / firms.output_usd[b])
        return len(s)
