"""The monthly indicators of DESIGN.md's contract, at national scale.

Counts and sums over the (possibly sampled) population are divided by `scale`, so a run at
scale 0.1 reports national figures. Flows are annualised (x 12) where the contract says
"a year".
"""

from __future__ import annotations

import numpy as np

from .state import ACTIVE, IDLE, STATUS_NAMES

# The contract (names fixed by DESIGN.md), then extras.
CONTRACT = (
    "active_units", "idle_units", "under_construction_units", "closed_units", "units_activated",
    "employment", "sme_employment", "sme_employment_share", "sme_output_usd", "exports_usd",
    "export_share", "exporters", "consortia", "policy_spend_usd",
)
EXTRAS = (
    "industrial_units", "smes", "smes_in_parks", "active_smes_in_parks", "output_usd",
    "units_completed", "units_revived", "units_idled", "new_applications", "graduations",
    "investment_usd",
)
INDICATORS = CONTRACT + EXTRAS


def compute(model) -> dict[str, float]:
    f, k = model.firms, 1.0 / model.scale
    c = model.counters
    status = f.status
    by_status = np.bincount(status, minlength=len(STATUS_NAMES)) * k
    active, sme = status == ACTIVE, f.is_sme
    operating = active | (status == IDLE)
    active_sme = active & sme
    employment = f.employees[active].sum() * k
    sme_employment = f.employees[active_sme].sum() * k
    sme_output = 12.0 * f.output_usd[active_sme].sum() * k
    exports = 12.0 * f.exports_usd[active_sme].sum() * k
    consortia = np.unique(f.consortium_id[active & (f.consortium_id >= 0)])
    values = {
        "active_units": by_status[ACTIVE],
        "idle_units": by_status[IDLE],
        "under_construction_units": by_status[0],
        "closed_units": by_status[3],
        "units_activated": (c["units_completed"] + c["units_revived"]) * k,
        "employment": employment,
        "sme_employment": sme_employment,
        "sme_employment_share": sme_employment / employment if employment > 0 else 0.0,
        "sme_output_usd": sme_output,
        "exports_usd": exports,
        "export_share": exports / sme_output if sme_output > 0 else 0.0,
        "exporters": np.count_nonzero(active_sme & (f.exports_usd > 0)) * k,
        "consortia": len(consortia) * k,
        "policy_spend_usd": c["policy_spend_usd"] * k,
        "industrial_units": np.count_nonzero(operating) * k,
        "smes": np.count_nonzero(operating & sme) * k,
        "smes_in_parks": np.count_nonzero(operating & sme & f.in_park) * k,
        "active_smes_in_parks": np.count_nonzero(active_sme & f.in_park) * k,
        "output_usd": 12.0 * f.output_usd[active].sum() * k,
        "units_completed": c["units_completed"] * k,
        "units_revived": c["units_revived"] * k,
        "units_idled": c["units_idled"] * k,
        "new_applications": c["new_applications"] * k,
        "graduations": c["graduations"] * k,
        "investment_usd": c["investment_usd"] * k,
    }
    return {name: float(value) for name, value in values.items()}


def report(model, name: str) -> float:
    """DataCollector model reporter (module-level, so models and collectors pickle)."""
    return model.indicators()[name]
