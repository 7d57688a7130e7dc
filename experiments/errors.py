"""The one error users of the experiments layer see for bad input: file, key and what is allowed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ScenarioError(ValueError):
    """Bad input: `file` (None for command-line flags), `key` (a dotted path such as
    ``levers.clinics.budget_usd`` or ``shocks[2].month``; None for the file as a whole) and
    `message` (what is wrong and what is allowed)."""

    def __init__(self, file: str | None, key: str | None, message: str):
        super().__init__(": ".join(part for part in (file, key, message) if part))
        self.file = file
        self.key = key
        self.message = message


def unknown_name(name, allowed: Iterable[str], what: str, listing: str | None = None) -> str:
    """ "unknown <what> 'x' (did you mean 'y'?); allowed: a, b, c" (or `listing` instead of the list)."""
    allowed = list(allowed)
    close = difflib.get_close_matches(name, allowed, n=1) if isinstance(name, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what} {name!r}{hint}; {listing or 'allowed: ' + ', '.join(allowed)}"
