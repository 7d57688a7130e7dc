"""The value checks of every input file: one function per kind of value, each raising
`simulation.errors.InputError(key, message)` with what is allowed and what was given."""

from __future__ import annotations

import re
from collections.abc import Mapping

from experiments.errors import CONTROL, unknown_name
from simulation.errors import InputError, is_finite_number

__all__ = ["MAX_INTEGER", "MAX_TEXT", "NAME", "finite", "name", "number", "one_line", "table", "unknown_keys", "whole"]

MAX_INTEGER = 2**63 - 1  # a 64-bit integer, like TOML's and the Parquet seed column
MAX_TEXT = 1_000  # characters of a one-line text (a description, a label): it is printed
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _span(lo, hi) -> str:
    return f"[{lo}, {'inf' if hi is None else hi}]"


def finite(key: str, value) -> int | float:
    """A finite number, as given (so that messages quote it as written)."""
    if not is_finite_number(value):
        raise InputError(key, f"must be a finite number, got {value!r}")
    return value


def whole(key: str, value, lo: int, hi: int | None = None, hint: str = "") -> int:
    """An integer in [lo, hi] (hi None: up to the 64-bit limit); `hint` is added to the message."""
    top = MAX_INTEGER if hi is None else hi
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= top:
        span = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise InputError(key, f"must be a whole number {span}{hint}, got {value!r}")
    return value


def number(
    key: str,
    value,
    lo: float | None,
    hi: float | None,
    unit: str = "",
    *,
    integer: bool = False,
    what: str | None = None,
) -> float | int:
    """A finite number in [lo, hi] (None: unbounded), whole if `integer`; `what` replaces the
    message's description of the allowed values."""
    described = what or (f"a {'whole ' if integer else ''}number in {_span(lo, hi)}" + (f" ({unit})" if unit else ""))
    if not is_finite_number(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise InputError(key, f"must be {described}, got {value!r}")
    if integer:
        if not float(value).is_integer():
            raise InputError(key, f"must be {described}, got {value!r}")
        return int(value)
    return float(value)


def one_line(key: str, value, what: str) -> str:
    """A non-empty one-line text (stripped) of at most MAX_TEXT characters, without control
    characters (no tab, no escape sequence for the terminal it is printed on); `what` says what
    it is for."""
    if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
        raise InputError(key, f"must be a one-line text {what}, got {value!r}")
    if len(value.strip()) > MAX_TEXT:
        raise InputError(
            key, f"must be a one-line text {what} of at most {MAX_TEXT:,} characters, got {len(value.strip()):,}"
        )
    control = CONTROL.search(value.strip())
    if control:
        raise InputError(key, f"must be plain text {what}, without control characters; it holds {control.group()!r}")
    return value.strip()


def name(key: str, value, what: str) -> str:
    """A name: a letter, then letters, digits, _ or -."""
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise InputError(key, f"{what} must start with a letter and use letters, digits, _ or -")
    return value


def table(key: str, value, what: str) -> Mapping:
    """A TOML table (a mapping); `what` says what it holds."""
    if not isinstance(value, Mapping):
        raise InputError(key, f"must be a table of {what}, got {value!r}")
    return value


def unknown_keys(prefix: str, given: Mapping, allowed, what: str) -> None:
    """Refuse the first key of `given` that is not in `allowed`, with a suggestion."""
    for key in given:
        if key not in allowed:
            raise InputError(f"{prefix}.{key}" if prefix else key, unknown_name(key, allowed, what))
