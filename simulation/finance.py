"""Finance: units' cash and debt by instrument, and the sources that fund their needs.

Money is nominal rials (contracts are in rials); the real side is in dollars, converted at the
month's free-market rate E (environment.py). Every payment is recorded in a `Ledger` with a
payer and a payee, so stocks and flows can be checked against each other.

Needs arise when a unit under construction is ready to start (it must pay
`completion_cost_share` of its plant), an idle unit is ready to restart (`revival_cost_share`),
a unit enters an export market (the sunk cost) and a unit invests (new capacity x capital
per worker). Lumpy needs are funded all or nothing: an unfunded unit stays under
construction, stays idle, or stays out of the market. Investment may be funded in part.

Sources, in the order a unit turns to them (cheapest first):
1. its own cash;
2. government grants (a monthly budget; none in the baseline), first come, first served. The
   grant agency screens for additionality: it offers an applicant only what sukuk and credit
   would leave unfunded, except for the share `grant_deadweight_share` of applicants it cannot
   tell apart, who get their whole need (the deadweight, which crowds credit out);
3. sukuk through the programme, if the unit's province is in it: istisna for completion,
   murabaha for restarts and export entry, ijara for investment (at most the plant not yet
   leased). An issue must be large enough that its fixed cost is at most `sukuk_max_cost_share`
   of it, so requests are pooled by consortium, or else by cluster through the programme's
   intermediary; a unit alone rarely reaches the size. Pools are served largest first
   until the programme's monthly capacity is used.
4. credit: first the government's subsidised line, then banks. Credit is rationed by
   quantity, not price (the loan-rate cap is below inflation): a unit may owe at most
   `collateral_ratio` times its fixed assets, and lenders serve applicants in order of
   collateral cover (room / request, safest first) until the month's capacity is used.
A source's marginal request, the first that does not fit, follows the queue rule (`_queue`).

Each month active units earn `operating_margin` of their sales in cash, pay interest and
principal (declining balance; banks monthly, sukuk quarterly), and pay out cash above
`cash_buffer_months` of sales to their owners. Interest they cannot pay is capitalised; idle
units are in grace (interest capitalised, no principal). A unit that closes pays its
creditors from its cash, then from its assets at each instrument's recovery rate; the rest
is written off. Eligible units apply to list on the SME market; admitted ones pay the
listing cost and raise an equal share of the market's yearly capacity.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .geography import PROVINCE_WEIGHTS
from .groups import N_CLUSTERS
from .parameters import Parameters
from .randomness import Streams
from .state import ACTIVE, IDLE, UNDER_CONSTRUCTION, FirmState

__all__ = [
    "BUDGETS",
    "DEBTS",
    "LISTING_MIN_AGE_MONTHS",
    "NEEDS",
    "PRINCIPAL_KINDS",
    "SUKUK",
    "SUKUK_FOR",
    "Finance",
    "GovernmentAccount",
    "Ledger",
]

DEBTS = ("bank_debt", "subsidised_debt", "ijara_debt", "murabaha_debt", "istisna_debt")
SUKUK = ("ijara_debt", "murabaha_debt", "istisna_debt")
SUKUK_FOR = {
    "completion": "istisna_debt",
    "revival": "murabaha_debt",
    "export": "murabaha_debt",
    "investment": "ijara_debt",
}
NEEDS = ("revival", "completion", "export", "investment")  # funded in this order within a month
BUDGETS = ("grant", "subsidised")  # the government's: unspent capacity is kept; the others' is a monthly flow
LISTING_MIN_AGE_MONTHS = 36  # a track record of three years of accounts (assumption)


class Ledger:
    """Every payment as (payer, payee, kind) -> cumulative rials; stocks are in the firm columns."""

    def __init__(self):
        self.flows: dict[tuple[str, str, str], float] = defaultdict(float)

    def pay(self, payer: str, payee: str, kind: str, amount: float) -> None:
        if amount:
            self.flows[(payer, payee, kind)] += float(amount)

    def net(self, sector: str) -> float:
        """What a sector received minus what it paid, since month 0."""
        return sum(v for (a, b, _), v in self.flows.items() if b == sector) - sum(
            v for (a, b, _), v in self.flows.items() if a == sector
        )

    def total(self, kind: str, payer: str | None = None, payee: str | None = None) -> float:
        return sum(v for (a, b, k), v in self.flows.items() if k == kind and payer in (None, a) and payee in (None, b))


# the credit line's principal: money the government moves (lends, is repaid, borrows, repays), not a cost
PRINCIPAL_KINDS = (
    "credit-line funding",
    "subsidised loan",
    "principal (subsidised_debt)",
    "credit-line funding repaid",
    "recovery (subsidised_debt)",
)


class GovernmentAccount:
    """The government's side of the ledger: every payment it makes or receives is a ledger payment,
    and those that are a fiscal cost (purchases, grants, subsidies, the credit line's funding
    interest net of the interest it earns, its losses, guarantees) also add to `fiscal_usd`, by
    lever, in dollars at the month's rate. The principal of the credit line (lent, repaid, and
    the banks' funding of it) moves money without costing any (`moved_usd`)."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.fiscal_usd: defaultdict[str, float] = defaultdict(float)  # cumulative net cost by lever
        self.fiscal_rial = 0.0  # the same, in rials at the rates paid
        self.moved_usd: defaultdict[str, float] = defaultdict(float)  # money the levers move, cost or not

    def pay(self, lever: str, payee: str, kind: str, rials: float, rate: float, cost: bool = True) -> None:
        self.ledger.pay("government", payee, kind, rials)
        if cost:
            self.fiscal_usd[lever] += rials / rate
            self.fiscal_rial += rials

    def receive(self, lever: str, payer: str, kind: str, rials: float, rate: float, cost: bool = True) -> None:
        self.ledger.pay(payer, "government", kind, rials)
        if cost:
            self.fiscal_usd[lever] -= rials / rate
            self.fiscal_rial -= rials

    @property
    def fiscal_cost_usd(self) -> float:
        return sum(self.fiscal_usd.values())


class Finance:
    def __init__(self, firms: FirmState, p: Parameters, scale: float, environment, streams: Streams, consortia=None):
        self.p, self.scale, self.streams = p, scale, streams
        self.consortia = consortia  # groups.Consortia: pools, and their members outside a sample
        self.ledger = Ledger()
        self.government = GovernmentAccount(self.ledger)
        # by debt column: new debt (capitalised interest included), repayments, write-offs
        self.issued: defaultdict[str, float] = defaultdict(float)
        self.repaid: defaultdict[str, float] = defaultdict(float)
        self.written_off: defaultdict[str, float] = defaultdict(float)
        self.unmet_rial = 0.0  # finance demand left unmet this month
        self._arrivals: tuple[int, np.ndarray, np.ndarray] | None = None  # this month's grant uniforms
        # cumulative flows in dollars at the month's rate: grants, equity, subsidies
        self.usd: defaultdict[str, float] = defaultdict(float)
        self.issuance_subsidy_share = 0.0  # sukuk lever: share of issuance costs the government pays...
        self.subsidy_left_rial = 0.0  # ...while this allowance lasts (set each month by the lever)
        self.debtors = np.zeros(0, np.int64)  # units that may owe something (merged monthly, pruned quarterly)
        self._new_debtors: list[np.ndarray] = []
        self._is_debtor = np.zeros(firms.n, bool)
        # the programme's provinces: the most populous first (which two were left out is not documented)
        self.programme_provinces = np.zeros(len(PROVINCE_WEIGHTS), bool)
        self.programme_provinces[np.argsort(-PROVINCE_WEIGHTS)[: int(p.sukuk_programme_provinces)]] = True
        self.equity_left_rial = p.equity_market_capacity_rial * scale
        self.capacity: dict[str, float] = {}  # what each source can still fund this month, rials
        self.rate = environment.rial_per_usd
        self.start_month(environment, month=0)
        self.capacity = dict.fromkeys(self.capacity, 0.0)  # month 0 funds nothing: nothing to keep for month 1
        # month 0: active units hold their cash buffer, drawn from their owners
        active = np.flatnonzero(firms.status == ACTIVE)
        firms.cash[active] = p.cash_buffer_months * firms.output_usd[active] * self.rate
        self.ledger.pay("owners", "firms", "initial cash", firms.cash[active].sum())

    # --- the month's conditions ----------------------------------------------------------
    def start_month(self, environment, month: int) -> None:
        p, k = self.p, self.scale
        self.month = month
        last_rate, self.rate = self.rate, environment.rial_per_usd
        prices = environment.price_level * p.initial_rial_per_usd  # capacities are indexed to prices
        # what the sources did not fund last month is kept (in dollars), a lender's up to a year of
        # capacity; a lender overdrawn by its marginal request (_queue) has that much less
        kept = {source: left / last_rate * self.rate for source, left in self.capacity.items()}
        self.closed: set[str] = set()  # sources whose queue ended at a marginal request this month
        monthly = {
            "bank": p.bank_lending_capacity_usd * prices * k,
            "subsidised": p.subsidised_credit_usd * self.rate * k,
            "sukuk": p.sukuk_programme_capacity_usd * prices * k,
            "grant": p.grant_budget_usd * self.rate * k,
        }
        self.capacity = {
            source: flow + (kept.get(source, 0.0) if source in BUDGETS else min(kept.get(source, 0.0), 11.0 * flow))
            for source, flow in monthly.items()
        }
        if month % 12 == 1:
            self.equity_left_rial = p.equity_market_capacity_rial * environment.price_level * k
        self.unmet_rial = 0.0

    def collateral(self, firms: FirmState, rows: np.ndarray) -> np.ndarray:
        """Fixed assets in rials: installed plant at replacement value (units under construction: the part built)."""
        built = np.where(firms.status[rows] == UNDER_CONSTRUCTION, 1.0 - self.p.completion_cost_share, 1.0)
        return firms.capacity[rows] * self.p.capital_per_worker_usd * self.rate * np.clip(built, 0.0, 1.0)

    # --- funding needs -----------------------------------------------------------------------
    def fund(
        self, firms: FirmState, rows: np.ndarray, need_usd: np.ndarray, purpose: str, divisible: bool = False
    ) -> np.ndarray:
        """Fund the needs of `rows` (USD); returns the share funded (1 or 0 unless divisible)."""
        need = np.asarray(need_usd, float) * self.rate
        if len(rows) == 0:
            return np.zeros(0)
        own = np.minimum(np.maximum(firms.cash[rows], 0.0), need)
        share = np.ones(len(rows))
        short = np.flatnonzero(own < need)  # the rest pay from their own cash
        firms.cash[rows] -= np.where(own < need, 0.0, own)
        self.ledger.pay("firms", "suppliers", f"spending on {purpose}", own[own >= need].sum())
        if len(short):
            share[short] = self._fund_externally(firms, rows[short], need[short], own[short], purpose, divisible)
        return share

    def _fund_externally(self, firms, rows, need, own, purpose, divisible) -> np.ndarray:
        """Needs that own cash does not cover: grants, sukuk, credit; returns the share funded."""
        p = self.p
        left = need - own
        assets = self.collateral(firms, rows)
        room = np.maximum(p.collateral_ratio * assets - firms.bank_debt[rows] - firms.subsidised_debt[rows], 0.0)
        grant, deadweight = self._grants(firms, rows, left, room, assets, purpose, divisible)
        left -= grant
        sukuk, issue_costs, subsidy, subsidised, bank = self._borrow(
            firms, rows, left, room, assets, purpose, divisible
        )
        left = left - sukuk - subsidised - bank

        funded = np.ones(len(rows), bool) if divisible else left <= 1e-9 * np.maximum(need, 1.0)
        share = np.where(
            funded, np.clip(1.0 - np.divide(left, need, out=np.zeros(len(rows)), where=need > 0), 0.0, 1.0), 0.0
        )
        self._commit(firms, rows, funded, own, grant, sukuk, issue_costs, subsidy, subsidised, bank, purpose)
        self.usd["grants_deadweight"] += grant[funded & deadweight].sum() / self.rate
        self.unmet_rial += float((need * (1.0 - share)).sum())
        return share

    def _borrow(self, firms, rows, left, room, assets, purpose, divisible):
        """Sukuk, then credit (the subsidised line, then banks) for what is `left`: (sukuk, issue
        costs the firm bears, costs the subsidy bears, subsidised, bank) per row, rials."""
        sukuk, issue_costs, subsidy = self._sukuk(firms, rows, left, purpose, assets)
        left = left - sukuk
        cover = np.divide(room, left, out=np.full(len(rows), np.inf), where=left > 0)
        order = np.argsort(-cover, kind="stable")
        fits = (left <= room) | divisible
        subsidised = self._queue(np.minimum(left, room), fits & (left > 0), "subsidised", order, purpose, divisible)
        left_b, room_b = left - subsidised, room - subsidised
        bank = self._queue(np.minimum(left_b, room_b), fits & (left_b > 0), "bank", order, purpose, divisible)
        return sukuk, issue_costs, subsidy, subsidised, bank

    def _grants(self, firms, rows, left, room, assets, purpose, divisible) -> tuple[np.ndarray, np.ndarray]:
        """(grant, deadweight) per row. First come, first served; the agency offers a screened
        applicant what sukuk and credit would leave unfunded (a trial of `_borrow` that books
        nothing), and a deadweight applicant its whole need (module docstring)."""
        deadweight = np.zeros(len(rows), bool)
        if self.capacity["grant"] <= 0 or "grant" in self.closed:
            return np.zeros(len(rows)), deadweight
        arrivals, deadweight = self._grant_applicants(firms, rows)
        closed = set(self.closed)  # the trial must not close the subsidised line's queue
        sukuk, _, _, subsidised, bank = self._borrow(firms, rows, left, room, assets, purpose, divisible)
        self.closed = closed
        asked = np.where(deadweight, left, np.maximum(left - sukuk - subsidised - bank, 0.0))
        return self._queue(asked, asked > 0, "grant", arrivals, purpose, divisible), deadweight

    def _queue(
        self, amount: np.ndarray, eligible: np.ndarray, source: str, order: np.ndarray, purpose: str, divisible: bool
    ) -> np.ndarray:
        """Serve eligible amounts in `order` while the source's capacity lasts (this month's and what
        earlier months left, start_month). The first request that does not fit (the marginal one)
        gets what is left if it is divisible. A lumpy one ends the queue: a lender (banks, the sukuk
        programme) serves it and lends that much less later; a government budget (grants, the
        subsidised line) commits to it with probability (what is left) / (its amount), and then
        owes the excess to the next months' budget, or else keeps what is left for them (later
        needs of this month get nothing from it either). So over the months a source funds its
        capacity whenever demand exceeds it, a budget in expectation exactly, however lumpy the
        requests and however much demand swings from month to month in a sampled population
        (ODD 7.12)."""
        out = np.zeros(len(amount))
        if source in self.closed:
            return out
        idx = order[eligible[order]]
        cumulative = np.cumsum(amount[idx])
        capacity = self.capacity[source]
        fitting = int(np.searchsorted(cumulative, capacity, side="right"))  # amounts > 0: a prefix fits
        out[idx[:fitting]] = amount[idx[:fitting]]
        left = capacity - (cumulative[fitting - 1] if fitting else 0.0)
        if fitting < len(idx) and left > 0:
            marginal = idx[fitting]
            if divisible:
                out[marginal] = left
            elif source in BUDGETS:
                # commit to it with probability left / amount: in expectation the budget is spent
                # exactly, however large a plant is against a sampled population's budget
                if self._commitment_draw(source, purpose) * amount[marginal] < left:
                    out[marginal] = amount[marginal]
                self.closed.add(source)
            else:
                out[marginal] = amount[marginal]
        return out

    def _commitment_draw(self, source: str, purpose: str) -> float:
        """The uniform that decides whether a budget commits to its marginal request this month
        (one per source and need: the same whatever the policy)."""
        keys = (BUDGETS.index(source), NEEDS.index(purpose))
        return float(self.streams.draw("budget_commitment", self.month, *keys).random())

    def _grant_applicants(self, firms: FirmState, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(order, deadweight) of the rows as grant applicants. Grants go first come, first served:
        applications arrive in a random order; the screening fails to tell a share
        grant_deadweight_share of applicants from those credit would fund. One uniform each per
        unit and month (the same unit has the same place and verdict whatever the policy)."""
        if self._arrivals is None or self._arrivals[0] != self.month or len(self._arrivals[1]) < firms.n:
            arrival = self.streams.draw("rationing", self.month).random(firms.n)
            screening = self.streams.draw("grant_screening", self.month).random(firms.n)
            self._arrivals = (self.month, arrival, screening)
        _, arrival, screening = self._arrivals
        return np.argsort(arrival[rows]), screening[rows] < self.p.grant_deadweight_share

    def _sukuk(self, firms: FirmState, rows: np.ndarray, left: np.ndarray, purpose: str, assets: np.ndarray):
        """Pooled sukuk requests: (amount, issuance cost the firm bears, cost the government's
        subsidy bears) per row, rials. `assets`: the rows' collateral."""
        p = self.p
        amount = np.where(self.programme_provinces[firms.province[rows]] & (left > 0), left, 0.0)
        leasable = np.maximum(assets - firms.leased_assets[rows], 0.0)
        if purpose == "investment":  # ijara: the issue, costs included, is at most the plant not yet leased
            amount = np.minimum(amount, leasable / (1.0 + p.sukuk_issuance_cost_share))
        costs = np.zeros(len(rows))
        asking = np.flatnonzero(amount > 0)
        if self.capacity["sukuk"] <= 0 or len(asking) == 0:
            return np.zeros(len(rows)), costs, costs
        # pools: a consortium, or else the cluster through the programme's intermediary
        member = firms.consortium_id[rows[asking]]
        pool = np.where(member >= 0, member, -1 - firms.cluster_id[rows[asking]])
        keys, inverse = np.unique(pool, return_inverse=True)
        which = np.zeros(len(rows), np.int64)
        which[asking] = inverse
        size = np.bincount(which, weights=amount, minlength=len(keys))  # the pools' requests in the sample
        real = (
            size
            if self.scale == 1.0
            else size + self._outside_requests(firms, rows[asking], amount[asking], keys, purpose)
        )
        fixed = p.sukuk_fixed_issuance_cost_usd * self.rate
        subsidy_share = self.issuance_subsidy_share if self.subsidy_left_rial > 0 else 0.0
        viable = (size > 0) & (
            fixed * (1.0 - subsidy_share)
            <= p.sukuk_max_cost_share * (real * (1.0 + p.sukuk_issuance_cost_share) + fixed)
        )
        # the sample's part of each issue: its requests and its share of the fixed cost
        issue = size * (1.0 + p.sukuk_issuance_cost_share) + fixed * np.divide(
            size, real, out=np.zeros(len(keys)), where=real > 0
        )
        order = np.argsort(-real, kind="stable")
        placed = self._queue(issue, viable, "sukuk", order, purpose, divisible=False) > 0
        amount = np.where(placed[which], amount, 0.0)
        share_of_pool = np.divide(amount, real[which], out=np.zeros(len(rows)), where=real[which] > 0)
        costs = np.where(placed[which], amount * p.sukuk_issuance_cost_share + fixed * share_of_pool, 0.0)
        if purpose == "investment":
            amount = np.clip(np.minimum(amount + costs, leasable) - costs, 0.0, None)
            costs = np.where(amount > 0, costs, 0.0)
        # the subsidy pays its share of every placed issue's costs while its allowance lasts
        total = costs.sum()
        paid = min(subsidy_share * total, self.subsidy_left_rial) / total if total > 0 else 0.0
        return amount, costs * (1.0 - paid), costs * paid

    def _outside_requests(
        self, firms: FirmState, asking: np.ndarray, amount: np.ndarray, keys: np.ndarray, purpose: str
    ) -> np.ndarray:
        """A sampled population's pools hold a `scale` share of the real pools' requests; the others
        (rials, per pool of `keys`) are drawn, so that a pool is viable as its real counterpart is.
        Requests arrive independently, so those outside the sample are independent of those in it: a
        cluster's are Poisson with its share of the national requests outside the sample (its
        share of the units that have this need), a consortium's Poisson with its members outside
        the sample times the members' request rate in the sample; each of the mean amount."""
        rng = self.streams.draw("finance_outside_sample", self.month, NEEDS.index(purpose))
        outside = np.zeros(len(keys))
        in_cluster_pool = keys < 0
        by_member = firms.consortium_id[asking] >= 0
        # clusters: units that can have this need (never consortium members for starts), in the programme
        status = {"completion": UNDER_CONSTRUCTION, "revival": IDLE}.get(purpose, ACTIVE)
        able = (firms.status == status) & (firms.consortium_id < 0) & self.programme_provinces[firms.province]
        share = np.bincount(firms.cluster_id[able], minlength=N_CLUSTERS) / max(int(np.count_nonzero(able)), 1)
        national = np.count_nonzero(~by_member) / self.scale * (1.0 - self.scale)
        outside[in_cluster_pool] = rng.poisson(national * share[-1 - keys[in_cluster_pool]])
        if self.consortia is not None and by_member.any():
            rate = np.count_nonzero(by_member) / max(int(self.consortia.members.sum()), 1)
            outside[~in_cluster_pool] = rng.poisson(rate * self.consortia.outside[keys[~in_cluster_pool]])
        return outside * amount.mean()

    def _commit(self, firms, rows, funded, own, grant, sukuk, issue_costs, subsidy, subsidised, bank, purpose):
        """Book the funded rows' sources, debts, capacity used and spending."""
        f = funded
        r, led = rows[f], self.ledger
        self._new_debtors.append(r[(bank[f] + subsidised[f] + sukuk[f]) > 0])
        own, grant, sukuk, costs, subsidy, subsidised, bank = (
            x[f] for x in (own, grant, sukuk, issue_costs, subsidy, subsidised, bank)
        )
        gov = self.government
        self.subsidy_left_rial -= subsidy.sum()
        self.usd["issuance_subsidy"] += subsidy.sum() / self.rate
        gov.pay("sukuk", "intermediaries", "issuance subsidy", subsidy.sum(), self.rate)
        firms.cash[r] -= own
        for source, amount in (("grant", grant), ("subsidised", subsidised), ("bank", bank)):
            self.capacity[source] -= amount.sum()
        self.capacity["sukuk"] -= (sukuk + costs).sum()
        column = SUKUK_FOR[purpose]
        # rows are distinct within a call, so fancy-index addition is exact
        firms.bank_debt[r] += bank
        firms.subsidised_debt[r] += subsidised
        getattr(firms, column)[r] += sukuk + costs  # holders are owed the issue, costs included
        if purpose == "investment":
            firms.leased_assets[r] += sukuk + costs
        self.issued["bank_debt"] += bank.sum()
        self.issued["subsidised_debt"] += subsidised.sum()
        self.issued[column] += (sukuk + costs).sum()
        gov.pay("credit", "firms", "grant", grant.sum(), self.rate)
        led.pay("banks", "firms", "loan", bank.sum())
        # the credit line is funded by bank credit to the government, lent on at the subsidised rate
        gov.receive("credit", "banks", "credit-line funding", subsidised.sum(), self.rate, cost=False)
        gov.pay("credit", "firms", "subsidised loan", subsidised.sum(), self.rate, cost=False)
        led.pay("sukuk holders", "firms", f"sukuk issue ({column})", (sukuk + costs).sum())
        gov.moved_usd["credit"] += (grant.sum() + subsidised.sum()) / self.rate
        gov.moved_usd["sukuk"] += (sukuk + costs).sum() / self.rate
        led.pay("firms", "intermediaries", "issuance costs", costs.sum())
        spent = own + grant + sukuk + subsidised + bank
        led.pay("firms", "suppliers", f"spending on {purpose}", spent.sum())
        self.usd["grants"] += grant.sum() / self.rate

    # --- each month's cash flow ---------------------------------------------------------------
    def operate(self, firms: FirmState, active: np.ndarray) -> None:
        """This month's operating surplus in, debt service out, payouts above the buffer.
        Only active units and debtors are touched."""
        p, led, rate = self.p, self.ledger, self.rate
        sales = firms.output_usd[active] * rate
        firms.cash[active] += p.operating_margin * sales
        led.pay("customers", "firms", "operating surplus", p.operating_margin * sales.sum())
        self._merge_debtors(firms)
        line = self.outstanding(("subsidised_debt",))  # the government owes the banks what the line lends
        self.government.pay("credit", "banks", "credit-line funding interest", line * p.bank_loan_rate / 12.0, rate)
        quarter = self.month % 3 == 0
        for column, rate_year, tenor, lender, every in (
            ("bank_debt", p.bank_loan_rate, p.bank_tenor_months, "banks", 1),
            ("subsidised_debt", p.subsidised_loan_rate, p.bank_tenor_months, "government", 1),
            ("ijara_debt", p.sukuk_profit_rate, p.sukuk_tenor_months, "sukuk holders", 3),
            ("murabaha_debt", p.sukuk_profit_rate, p.murabaha_tenor_months, "sukuk holders", 3),
            ("istisna_debt", p.sukuk_profit_rate, p.sukuk_tenor_months, "sukuk holders", 3),
        ):
            if every == 3 and not quarter:
                continue
            self._service(firms, column, rate_year * every / 12.0, min(every / tenor, 1.0), lender)
        payout = np.maximum(firms.cash[active] - p.cash_buffer_months * sales, 0.0)
        firms.cash[active] -= payout
        led.pay("firms", "owners", "payout", payout.sum())

    def _merge_debtors(self, firms: FirmState) -> None:
        """Keep `debtors` a superset of the units that owe something, without scanning the population."""
        if len(self._is_debtor) < firms.n:
            self._is_debtor = np.concatenate([self._is_debtor, np.zeros(firms.n - len(self._is_debtor) + 4096, bool)])
        for new in self._new_debtors:
            new = new[~self._is_debtor[new]]
            self._is_debtor[new] = True
            self.debtors = np.concatenate([self.debtors, new])
        self._new_debtors = []
        if self.month % 3:
            return  # prune when every instrument has just been serviced; _service skips rows owing 0
        owes = sum(getattr(firms, c)[self.debtors] for c in DEBTS) > 0
        self._is_debtor[self.debtors[~owes]] = False
        self.debtors = self.debtors[owes]

    def _service(self, firms, column, rate, principal_share, lender) -> None:
        """Interest (or profit) and principal of one instrument; closed units owe nothing (settled)."""
        debt = getattr(firms, column)
        rows = self.debtors[debt[self.debtors] > 0]
        owed = debt[rows]
        active = firms.status[rows] == ACTIVE
        interest = owed * rate
        principal = np.where(active, owed * principal_share, 0.0)  # idle units: grace on principal
        cash = np.where(active, np.maximum(firms.cash[rows], 0.0), 0.0)
        paid_interest = np.minimum(interest, cash)
        paid_principal = np.minimum(principal, cash - paid_interest)
        capitalised = interest - paid_interest
        firms.cash[rows] -= paid_interest + paid_principal
        debt[rows] = owed + capitalised - paid_principal
        self.issued[column] += capitalised.sum()
        self.repaid[column] += paid_principal.sum()
        kind = "interest" if lender != "sukuk holders" else "profit"
        if lender == "government":  # the credit line: its interest offsets its funding cost; principal passes on
            gov = self.government
            gov.receive("credit", "firms", f"{kind} ({column})", paid_interest.sum(), self.rate)
            gov.receive("credit", "firms", f"principal ({column})", paid_principal.sum(), self.rate, cost=False)
            gov.pay("credit", "banks", "credit-line funding repaid", paid_principal.sum(), self.rate, cost=False)
        else:
            self.ledger.pay("firms", lender, f"{kind} ({column})", paid_interest.sum())
            self.ledger.pay("firms", lender, f"principal ({column})", paid_principal.sum())
        if column == "ijara_debt":
            leased = firms.leased_assets[rows]
            firms.leased_assets[rows] = leased * np.divide(debt[rows], owed, out=np.zeros(len(rows)), where=owed > 0)

    # --- closures --------------------------------------------------------------------------
    def settle_closures(self, firms: FirmState, closed: np.ndarray) -> None:
        """Creditors of closing units get their cash, then a share of their assets; the rest is written off."""
        p, led = self.p, self.ledger
        closed = closed[(firms.cash[closed] > 0) | (sum(getattr(firms, c)[closed] for c in DEBTS) > 0)]
        if len(closed) == 0:
            return
        debts = {c: getattr(firms, c)[closed].copy() for c in DEBTS}
        total = sum(debts.values())
        cash = np.minimum(np.maximum(firms.cash[closed], 0.0), total)
        assets = self.collateral(firms, closed)
        for column, owed in debts.items():
            part = np.divide(owed, total, out=np.zeros(len(closed)), where=total > 0)
            from_cash = cash * part
            recovery = p.sukuk_recovery_rate if column in SUKUK else p.bank_recovery_rate
            from_assets = np.minimum(owed - from_cash, recovery * assets * part)
            lender = {"bank_debt": "banks", "subsidised_debt": "government"}.get(column, "sukuk holders")
            lost = (owed - from_cash - from_assets).sum()
            if lender == "government":  # recoveries pass on to the banks funding the line; the loss is fiscal
                gov = self.government
                gov.receive("credit", "firms", f"recovery ({column})", from_cash.sum(), self.rate, cost=False)
                gov.receive("credit", "asset buyers", f"recovery ({column})", from_assets.sum(), self.rate, cost=False)
                gov.pay(
                    "credit",
                    "banks",
                    "credit-line funding repaid",
                    (from_cash + from_assets).sum(),
                    self.rate,
                    cost=False,
                )
                gov.pay("credit", "banks", "credit-line loss", lost, self.rate)
            else:
                led.pay("firms", lender, f"recovery ({column})", from_cash.sum())
                led.pay("asset buyers", lender, f"recovery ({column})", from_assets.sum())
                if column in SUKUK:  # the share of the holders' loss a government guarantee covers
                    self.government.pay(
                        "sukuk",
                        "sukuk holders",
                        "sukuk guarantee",
                        p.sukuk_government_guarantee_share * lost,
                        self.rate,
                    )
            self.repaid[column] += (from_cash + from_assets).sum()
            self.written_off[column] += lost
            getattr(firms, column)[closed] = 0.0
        firms.cash[closed] -= cash
        rest = np.maximum(firms.cash[closed], 0.0)
        led.pay("firms", "owners", "closure payout", rest.sum())
        firms.cash[closed] -= rest
        firms.leased_assets[closed] = 0.0

    # --- equity ------------------------------------------------------------------------------
    def list_firms(self, firms: FirmState, active: np.ndarray, month: int, rng: np.random.Generator) -> int:
        """Eligible SMEs apply to list; admitted ones pay the cost and raise equity. Returns listings.
        Applicants are drawn among the active units by rejection (a few a month), not by scanning all."""
        p, led = self.p, self.ledger
        applicants = int(rng.poisson(p.listing_applications_per_year / 12.0 * self.scale))
        if applicants == 0 or len(active) == 0:
            return 0
        drawn = rng.choice(active, size=min(len(active), 20 * applicants), replace=False)
        eligible = drawn[self.listing_eligible(firms, drawn, month)]
        chosen = eligible[:applicants]
        admitted = chosen[rng.random(len(chosen)) < p.listing_admission_share]
        cost = p.listing_cost_usd * self.rate
        admitted = admitted[firms.cash[admitted] >= cost]
        led.pay("firms", "intermediaries", "listing costs", cost * len(admitted))
        return self._raise_equity(firms, admitted, cost)

    def listing_eligible(self, firms: FirmState, rows: np.ndarray, month: int) -> np.ndarray:
        """Which of `rows` may apply to list: SMEs, not listed, large and old enough."""
        return (
            firms.is_sme[rows]
            & ~firms.listed[rows]
            & (firms.employees[rows] >= self.p.listing_min_employees)
            & (month - firms.birth_month[rows] >= LISTING_MIN_AGE_MONTHS)
        )

    def list_supported(self, firms: FirmState, rows: np.ndarray, rng: np.random.Generator) -> int:
        """Applications prepared and paid for by the listing lever (the lever pays the listing
        advisers): a better admission chance, no cost to the firm. Returns listings."""
        admitted = rows[rng.random(len(rows)) < self.p.listing_supported_admission_share]
        return self._raise_equity(firms, admitted, 0.0)

    def _raise_equity(self, firms: FirmState, admitted: np.ndarray, cost: float) -> int:
        """Admitted units pay `cost` (rials) and raise their share of the market's room this year."""
        p, led = self.p, self.ledger
        if len(admitted) == 0:
            return 0
        per_year = p.listing_applications_per_year * p.listing_admission_share * self.scale
        raise_each = min(
            self.equity_left_rial / len(admitted), p.equity_market_capacity_rial * self.scale / max(per_year, 1.0)
        )
        firms.cash[admitted] += raise_each - cost
        firms.listed[admitted] = True
        self.equity_left_rial -= raise_each * len(admitted)
        led.pay("equity investors", "firms", "equity", raise_each * len(admitted))
        self.usd["equity"] += raise_each * len(admitted) / self.rate
        return len(admitted)

    # --- indicators --------------------------------------------------------------------------
    def outstanding(self, columns=DEBTS) -> float:
        """Debt outstanding in rials, from the books: issued - repaid - written off (the firms'
        balances add up to it, tested), so no pass over the debtors is needed."""
        return float(sum(self.issued[c] - self.repaid[c] - self.written_off[c] for c in columns))
