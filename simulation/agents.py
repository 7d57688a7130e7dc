"""The Mesa agent: a thin view onto one row of the firm arrays.

Nothing loops over these objects in the monthly step; they exist so that Mesa users can
inspect, select and draw firms (`model.agents.select(...)`, `agent.employees`). Reads and
writes go straight to the model's arrays, so an agent and the arrays never disagree. They are
made when asked for (simulation.agent_sets), not registered one by one with Mesa: a unit's
`unique_id` is its `firm_id` + 1, and two views of one unit are equal.
"""

from __future__ import annotations

import mesa
import numpy as np

from .destinations import NAMES as DESTINATION_NAMES
from .errors import InputError
from .geography import PROVINCE_NAMES, SECTOR_NAMES
from .state import LARGE, SIZE_CLASS_NAMES, STATUS_NAMES

__all__ = ["Firm"]


class Firm(mesa.Agent):
    """One industrial unit (SME or large), identified by its stable `firm_id` (its row)."""

    def __init__(self, model, firm_id: int):
        # not mesa.Agent.__init__: the model's agent set holds every unit already (no registration)
        self.model = model
        self.firm_id = firm_id
        self.unique_id = firm_id + 1
        self.pos = None

    def __eq__(self, other) -> bool:
        return isinstance(other, Firm) and other.model is self.model and other.firm_id == self.firm_id

    def __hash__(self) -> int:
        return hash((id(self.model), self.firm_id))

    def remove(self) -> None:
        raise TypeError("a unit stays in the model for its whole history; set its status to 'closed' instead")

    def _get(self, column: str):
        return getattr(self.model.firms, column)[self.firm_id]

    def _set(self, column: str, value) -> None:
        getattr(self.model.firms, column)[self.firm_id] = value

    @property
    def status(self) -> str:
        return STATUS_NAMES[self._get("status")]

    @status.setter
    def status(self, name: str) -> None:
        if name not in STATUS_NAMES:
            raise InputError("status", f"must be one of {STATUS_NAMES}, got {name!r}")
        self._set("status", STATUS_NAMES.index(name))

    @property
    def employees(self) -> float:
        return float(self._get("employees"))

    @employees.setter
    def employees(self, value: float) -> None:
        if value < 0:
            raise InputError("employees", f"must be >= 0, got {value}")
        self._set("employees", value)

    @property
    def capacity(self) -> float:
        return float(self._get("capacity"))

    @property
    def productivity(self) -> float:
        return float(np.exp(self._get("log_productivity")))  # this row only, not the whole column

    @property
    def size_class(self) -> str:
        return SIZE_CLASS_NAMES[self._get("size_class")]

    @property
    def is_sme(self) -> bool:
        return bool(self._get("size_class") < LARGE)

    @property
    def output_usd(self) -> float:
        return float(self._get("output_usd"))

    @property
    def exports_usd(self) -> float:
        return float(self._get("exports_usd"))

    @property
    def sector(self) -> str:
        return SECTOR_NAMES[self._get("sector")]

    @property
    def province(self) -> str:
        return PROVINCE_NAMES[self._get("province")]

    @property
    def park_id(self) -> int:
        return int(self._get("park_id"))

    @property
    def in_park(self) -> bool:
        return self.park_id >= 0

    @property
    def cluster_id(self) -> int:
        return int(self._get("cluster_id"))

    @property
    def consortium_id(self) -> int:
        """The export consortium the unit belongs to, or -1."""
        return int(self._get("consortium_id"))

    @property
    def export_destinations(self) -> list[str]:
        """Destinations the unit serves this month."""
        return [DESTINATION_NAMES[d] for d in np.flatnonzero(self._get("exporting"))]

    @property
    def age_months(self) -> int:
        return int(self.model.month - self._get("birth_month"))

    def __repr__(self) -> str:
        return f"Firm({self.firm_id}, {self.status}, {self.size_class}, {self.employees:.1f} employees)"
