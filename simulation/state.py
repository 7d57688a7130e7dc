"""Firm state as a struct of numpy arrays, one row per unit; row index = firm_id.

Arrays live in buffers with spare capacity so that new units (applications) are appended
without copying the whole population each month. Each column is exposed as an attribute
holding a view of the first `n` rows; mechanisms write into those views in place
(`firms.employees[idx] = ...`), never rebind them.
"""

from __future__ import annotations

import numpy as np

from .destinations import N_DESTINATIONS
from .errors import InputError

__all__ = [
    "ACTIVE",
    "CLOSED",
    "COLUMNS",
    "DESTINATION_COLUMNS",
    "IDLE",
    "LARGE",
    "LARGE_FROM",
    "MEDIUM",
    "MEDIUM_FROM",
    "NEVER",
    "NO_GROUP",
    "SIZE_CLASS_NAMES",
    "SMALL",
    "STATUS_NAMES",
    "UNDER_CONSTRUCTION",
    "FirmState",
    "size_class_of",
]

UNDER_CONSTRUCTION, ACTIVE, IDLE, CLOSED = 0, 1, 2, 3
STATUS_NAMES = ("under_construction", "active", "idle", "closed")

SMALL, MEDIUM, LARGE = 0, 1, 2
SIZE_CLASS_NAMES = ("small", "medium", "large")
MEDIUM_FROM, LARGE_FROM = 50, 100  # employees (ISIPO: small < 50, medium 50-99)

NO_GROUP = -1
NEVER = np.iinfo(np.int16).min  # `last_exported` of a destination never served

# column -> (dtype, fill value for new rows)
COLUMNS = {
    "status": (np.int8, UNDER_CONSTRUCTION),
    "size_class": (np.int8, SMALL),
    "employees": (np.float64, 0.0),  # full-time equivalents
    "capacity": (np.float64, 0.0),  # employment the installed plant supports
    "log_productivity": (np.float64, 0.0),
    "log_productivity_mean": (np.float64, 0.0),  # firm's long-run level (persistent heterogeneity)
    "demand_weight": (np.float64, 0.0),  # customer base: CES demand shifter
    "output_usd": (np.float64, 0.0),  # this month
    "exports_usd": (np.float64, 0.0),  # this month; set by the trade mechanism
    "indirect_sales_usd": (np.float64, 0.0),  # this month's sales to intermediaries for export (intermediaries.py)
    "sector": (np.int16, 0),
    "province": (np.int16, 0),
    "park_id": (np.int32, NO_GROUP),
    "cluster_id": (np.int32, NO_GROUP),  # sector x province (groups.cluster_of)
    "consortium_id": (np.int32, NO_GROUP),  # export consortium or management company (groups.Consortia)
    "infrastructure": (np.float64, 0.0),  # quality of the site's infrastructure, 0-1
    "revivable": (np.bool_, True),
    "birth_month": (np.int32, 0),  # month the unit was licensed (negative: before the run)
    "status_since": (np.int32, 0),  # month the current status began (units operating at month 0: founding month)
    "first_started": (np.int32, 0),  # month the unit first operated (founding month for units operating at month 0)
    "activated": (np.bool_, False),  # completed or revived during the run (counted once however often)
    "sme_cohort": (np.bool_, False),  # an SME when first seen operating (month 0, or its first start)
    "standards": (np.float64, 0.0),  # product-standards level, uniform 0-1 across units (trade)
    "export_appeal": (np.float64, 1.0),  # foreign buyers' taste for the firm's products, log-normal (trade)
    "export_scale": (np.float64, 0.0),  # foreign customer potential: home customer base at start x appeal (trade)
    "export_match": (
        np.float64,
        1.0,
    ),  # how foreign buyers really take to it: unknown until it first exports, then 1 (trade)
    "export_experience": (np.int16, 0),  # months exported so far, capped (learning by exporting)
    "export_markets": (np.int8, 0),  # destinations served this month
    # finance (finance.py), nominal rials
    "cash": (np.float64, 0.0),
    "bank_debt": (np.float64, 0.0),
    "subsidised_debt": (np.float64, 0.0),  # government credit line
    "ijara_debt": (np.float64, 0.0),  # sukuk: sale and lease-back of plant
    "murabaha_debt": (np.float64, 0.0),  # sukuk: working capital by cost-plus resale
    "istisna_debt": (np.float64, 0.0),  # sukuk: financing the completion of the plant
    "leased_assets": (np.float64, 0.0),  # plant sold to ijara holders and leased back (rials at issue)
    "listed": (np.bool_, False),  # on the SME market of the exchange
    # policy levers (policy.py)
    "trained": (np.bool_, False),  # went through export training and a trade fair
    "diagnosed_month": (np.int16, NEVER),  # last month an industry clinic saw the unit
    "upgraded": (np.bool_, False),  # went through a technology and standards upgrade
}
# two-dimensional columns: one entry per (unit, destination)
DESTINATION_COLUMNS = {
    "exporting": (np.bool_, False),  # serves the destination this month
    "last_exported": (np.int16, NEVER),  # last month the unit served it (re-entry is cheaper soon after)
    "market_knowledge": (np.bool_, False),  # visited its trade fair (training lever): cheaper entry
}


_ALL = {**COLUMNS, **DESTINATION_COLUMNS}


def _shape(name: str, rows: int) -> tuple[int, ...]:
    return (rows, N_DESTINATIONS) if name in DESTINATION_COLUMNS else (rows,)


def size_class_of(employees: np.ndarray) -> np.ndarray:
    return (employees >= MEDIUM_FROM).astype(np.int8) + (employees >= LARGE_FROM)


class FirmState:
    """The firm columns, each a view of the first `n` rows of its buffer (declared here for type
    checkers and editors; COLUMNS and DESTINATION_COLUMNS give their dtypes and fill values)."""

    status: np.ndarray
    size_class: np.ndarray
    employees: np.ndarray
    capacity: np.ndarray
    log_productivity: np.ndarray
    log_productivity_mean: np.ndarray
    demand_weight: np.ndarray
    output_usd: np.ndarray
    exports_usd: np.ndarray
    indirect_sales_usd: np.ndarray
    sector: np.ndarray
    province: np.ndarray
    park_id: np.ndarray
    cluster_id: np.ndarray
    consortium_id: np.ndarray
    infrastructure: np.ndarray
    revivable: np.ndarray
    birth_month: np.ndarray
    status_since: np.ndarray
    first_started: np.ndarray
    activated: np.ndarray
    sme_cohort: np.ndarray
    standards: np.ndarray
    export_appeal: np.ndarray
    export_scale: np.ndarray
    export_match: np.ndarray
    export_experience: np.ndarray
    export_markets: np.ndarray
    cash: np.ndarray
    bank_debt: np.ndarray
    subsidised_debt: np.ndarray
    ijara_debt: np.ndarray
    murabaha_debt: np.ndarray
    istisna_debt: np.ndarray
    leased_assets: np.ndarray
    listed: np.ndarray
    trained: np.ndarray
    diagnosed_month: np.ndarray
    upgraded: np.ndarray
    exporting: np.ndarray  # (rows, destinations)
    last_exported: np.ndarray  # (rows, destinations)
    market_knowledge: np.ndarray  # (rows, destinations)

    def __init__(self, capacity: int):
        self.n = 0
        self._buffers: dict[str, np.ndarray] = {
            name: np.full(_shape(name, max(capacity, 1)), fill, dtype) for name, (dtype, fill) in _ALL.items()
        }
        self._expose()

    def _expose(self) -> None:
        for name, buf in self._buffers.items():
            setattr(self, name, buf[: self.n])

    def append(self, **columns: np.ndarray) -> slice:
        """Add rows; columns not given take their fill value. Returns the new rows' slice."""
        unknown = set(columns) - set(_ALL)
        if unknown:
            raise InputError(sorted(unknown)[0], f"unknown firm column(s) {sorted(unknown)}")
        k = len(next(iter(columns.values()))) if columns else 0
        start, stop = self.n, self.n + k
        size = len(self._buffers["status"])
        if stop > size:
            new_size = max(stop, 2 * size)
            for name, buf in self._buffers.items():
                dtype, fill = _ALL[name]
                grown: np.ndarray = np.full(_shape(name, new_size), fill, dtype)
                grown[:start] = buf[:start]
                self._buffers[name] = grown
        for name, values in columns.items():
            self._buffers[name][start:stop] = values
        self.n = stop
        self._expose()
        return slice(start, stop)

    @property
    def is_sme(self) -> np.ndarray:
        return self.size_class < LARGE

    @property
    def in_park(self) -> np.ndarray:
        return self.park_id >= 0

    @property
    def productivity(self) -> np.ndarray:
        return np.exp(self.log_productivity)
