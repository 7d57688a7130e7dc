"""Input errors that name the offending key, so that callers (the CLI, scenario files) can say
which file and which key is wrong and what is allowed."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """A bad input value. `key` is its dotted path (e.g. ``clinics.budget_usd``, ``shocks[1].month``)."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message

    def under(self, prefix: str) -> InputError:
        """The same error with its key placed under `prefix` (e.g. ``levers``)."""
        return InputError(f"{prefix}.{self.key}" if prefix else self.key, self.message)
