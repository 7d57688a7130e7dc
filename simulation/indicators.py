"""The monthly indicators (the contract of ODD section 7.11, then extras), at national scale.

Counts and sums over the (possibly sampled) population are divided by `scale`, so a run at
scale 0.1 reports national figures. Flows are annualised (x 12) where the contract says
"a year". Employment, output and exports are zero for units that are not active (an
invariant of the state), so their sums need no status mask. `exports_usd` counts SMEs'
exports (direct or through a consortium); `all_exports_usd` adds the large units'. The
cohort indicators follow the units that were SMEs when first seen operating (month 0, or their
first start), graduates included, so that an SME growing large does not take its exports and
jobs out of the SME figures.
Finance stocks (nominal rials) are shown in dollars at this month's free-market rate;
`unmet_finance_usd` is this month's unfunded needs, annualised.
"""

from __future__ import annotations

import numpy as np

from .finance import SUKUK
from .state import ACTIVE, CLOSED, IDLE, LARGE, SIZE_CLASS_NAMES, STATUS_NAMES, UNDER_CONSTRUCTION

__all__ = ["CONTRACT", "EXTRAS", "INDICATORS", "N_CLASS", "N_STATUS", "compute", "report"]

# The contract (names fixed: scenario goals, sweeps and reports use them), then extras.
CONTRACT = (
    "active_units",
    "idle_units",
    "under_construction_units",
    "closed_units",
    "units_activated",
    "units_activated_distinct",
    "active_units_change",
    "employment",
    "sme_employment",
    "sme_employment_share",
    "sme_output_usd",
    "exports_usd",
    "export_share",
    "exporters",
    "consortia",
    "policy_spend_usd",
    # finance: stocks at this month's exchange rate, cumulative flows at the rates paid
    "bank_credit_usd",
    "sukuk_outstanding_usd",
    "equity_raised_usd",
    "grants_paid_usd",
    "unmet_finance_usd",
)
EXTRAS = (
    "industrial_units",
    "smes",
    "smes_in_parks",
    "active_smes_in_parks",
    "output_usd",
    "units_completed",
    "units_revived",
    "units_idled",
    "new_applications",
    "graduations",
    "investment_usd",
    "all_exports_usd",
    "consortium_members",
    "consortium_exports_usd",
    "export_entries",
    "export_exits",
    "export_sunk_costs_usd",
    "supplier_links",
    "sanctioned_destinations",
    "rial_per_usd",
    "listed_smes",
    "policy_money_moved_usd",
    "imports_displaced_usd",
    "grants_deadweight_usd",
    "cohort_exports_usd",
    "cohort_employment",
    "indirect_exports_usd",
    "sme_content_of_large_exports_usd",
    "total_exports_usd",
    "sme_share_of_destination_imports",
)
INDICATORS = CONTRACT + EXTRAS
N_STATUS, N_CLASS = len(STATUS_NAMES), len(SIZE_CLASS_NAMES)


def compute(model) -> dict[str, float]:
    f, k, c, fin = model.firms, 1.0 / model.scale, model.counters, model.finance
    # units by (status, size class, in park) in one pass
    key = f.status * np.int8(2 * N_CLASS) + f.size_class * np.int8(2) + f.in_park  # small ints: one cheap pass
    units = np.bincount(key, minlength=N_STATUS * N_CLASS * 2).reshape(N_STATUS, N_CLASS, 2) * k
    sme_units = units[:, :LARGE, :].sum(axis=1)  # (status, in park)
    by_status = units.sum(axis=(1, 2))

    large = np.flatnonzero(f.size_class == LARGE)  # few rows: cheaper than weighted bincounts over all
    total_employment, total_output = f.employees.sum() * k, 12.0 * f.output_usd.sum() * k
    sme_employment = total_employment - f.employees[large].sum() * k
    sme_output = total_output - 12.0 * f.output_usd[large].sum() * k
    exporting = f.exports_usd > 0
    sme_exporting = exporting & f.is_sme
    exports = 12.0 * f.exports_usd[sme_exporting].sum() * k
    # sales to intermediaries at their foreign value (they keep the margin); SMEs only use them
    indirect = 12.0 * f.indirect_sales_usd.sum() * k / (1.0 - model.params.intermediary_margin)
    via_large = 12.0 * model.supply_chain.sme_content_of_large_exports(f, model.link_labour) * k
    member = f.consortium_id >= 0
    values = {
        "active_units": by_status[ACTIVE],
        "idle_units": by_status[IDLE],
        "under_construction_units": by_status[UNDER_CONSTRUCTION],
        "closed_units": by_status[CLOSED],
        "units_activated": (c["units_completed"] + c["units_revived"]) * k,
        "units_activated_distinct": np.count_nonzero(f.activated) * k,
        "active_units_change": by_status[ACTIVE] - model.initial_active_units,
        "employment": total_employment,
        "sme_employment": sme_employment,
        "sme_employment_share": sme_employment / total_employment if total_employment > 0 else 0.0,
        "sme_output_usd": sme_output,
        "exports_usd": exports,
        "export_share": exports / sme_output if sme_output > 0 else 0.0,
        "exporters": np.count_nonzero(sme_exporting) * k,
        "consortia": len(model.consortia),  # not sampled: the real number at any scale
        "policy_spend_usd": fin.government.fiscal_cost_usd * k,
        "policy_money_moved_usd": sum(fin.government.moved_usd.values()) * k,
        "industrial_units": by_status[ACTIVE] + by_status[IDLE],
        "smes": sme_units[[ACTIVE, IDLE]].sum(),
        "smes_in_parks": sme_units[[ACTIVE, IDLE], 1].sum(),
        "active_smes_in_parks": sme_units[ACTIVE, 1],
        "output_usd": total_output,
        "units_completed": c["units_completed"] * k,
        "units_revived": c["units_revived"] * k,
        "units_idled": c["units_idled"] * k,
        "new_applications": c["new_applications"] * k,
        "graduations": c["graduations"] * k,
        "investment_usd": c["investment_usd"] * k,
        "all_exports_usd": 12.0 * f.exports_usd.sum() * k,
        "consortium_members": np.count_nonzero(member) * k,
        "consortium_exports_usd": 12.0 * f.exports_usd[member].sum() * k,
        "cohort_exports_usd": 12.0 * f.exports_usd[f.sme_cohort].sum() * k,
        "indirect_exports_usd": indirect,
        "sme_content_of_large_exports_usd": via_large,
        "total_exports_usd": exports + indirect + via_large,
        "sme_share_of_destination_imports": exports / model.environment.destination_imports_usd,
        "cohort_employment": f.employees[f.sme_cohort].sum() * k,
        "export_entries": c["export_entries"] * k,
        "export_exits": c["export_exits"] * k,
        "export_sunk_costs_usd": c["export_sunk_costs_usd"] * k,
        "supplier_links": model.supply_chain.n_links * k,
        "imports_displaced_usd": 12.0 * model.market.imports_displaced_usd * k,
        "sanctioned_destinations": np.count_nonzero(model.environment.sanctioned),
        "bank_credit_usd": fin.outstanding(("bank_debt", "subsidised_debt")) / fin.rate * k,
        "sukuk_outstanding_usd": fin.outstanding(SUKUK) / fin.rate * k,
        "equity_raised_usd": fin.usd["equity"] * k,
        "grants_paid_usd": fin.usd["grants"] * k,
        "grants_deadweight_usd": fin.usd["grants_deadweight"] * k,
        "unmet_finance_usd": 12.0 * fin.unmet_rial / fin.rate * k,
        "rial_per_usd": fin.rate,
        "listed_smes": np.count_nonzero(f.listed & f.is_sme) * k,
    }
    return {name: float(value) for name, value in values.items()}


def report(model, name: str) -> float:
    """DataCollector model reporter (module-level, so models and collectors pickle)."""
    return model.current_indicators()[name]
