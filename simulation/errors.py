"""Input errors that name the offending key, so that callers (the CLI, scenario files) can say
which file and which key is wrong and what is allowed."""

from __future__ import annotations

import math
from typing import TypeGuard

__all__ = ["InputError", "is_finite_number"]


def is_finite_number(value: object) -> TypeGuard[int | float]:
    """An int or float (not a bool) that is finite; an int too large for a float is not (so
    that 10**400 is refused, not an OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


class InputError(ValueError):
    """A bad input value. `key` is its dotted path (e.g. ``clinics.budget_usd``, ``shocks[1].month``)."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message

    def under(self, prefix: str) -> InputError:
        """The same error with its key placed under `prefix` (e.g. ``levers``)."""
        return InputError(f"{prefix}.{self.key}" if prefix else self.key, self.message)
