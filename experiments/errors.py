"""The errors users of the experiments layer see for bad input.

The model raises `simulation.errors.InputError(key, message)` for a bad value; this layer
adds where the value came from:

- `InputFileError(file, key, message)`: a value read from a file (a scenario, sweep spec,
  goals file, cluster profile, manifest, results directory);
- `FlagError(flag, message)`: a command-line flag or argument (``--months``, ``SCENARIO``).

Both are `BadInput`, which the command line turns into one line on stderr and exit code 2.
Whatever a message echoes from the input, that line stays short and plain: `shown` escapes
control characters (an escape sequence is not sent to the terminal) and cuts an over-long
origin or message (a value of a megabyte), saying how many characters were cut.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from simulation.errors import InputError

__all__ = ["BadInput", "FlagError", "InputFileError", "from_file", "from_flag", "shown", "unknown_name"]

MAX_WHERE = 200  # characters of a BadInput's origin (file and key) shown
MAX_MESSAGE = 760  # characters of its message: with the origin, one line under about 1,000 characters
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 control characters


def shown(text: str, limit: int) -> str:
    """`text` on one line with its control characters escaped (``\\x1b``, ``\\n``) and at most
    `limit` characters of it: an over-long text keeps its start and says how many were cut."""
    text = CONTROL.sub(lambda match: repr(match.group())[1:-1], text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} characters cut)"


class BadInput(ValueError):
    """Bad input from a user: `where` names its origin (file and key, or the flag), `message`
    says what is wrong and what is allowed."""

    def __init__(self, where: str, message: str):
        where, message = shown(where, MAX_WHERE), shown(message, MAX_MESSAGE)
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


class InputFileError(BadInput):
    """Bad input from a file: `file`, `key` (a dotted path such as ``levers.clinics.budget_usd``
    or ``shocks[2].month``; None for the file as a whole) and `message`."""

    def __init__(self, file: str, key: str | None, message: str):
        super().__init__(": ".join(part for part in (file, key) if part), message)
        self.file = file
        self.key = key


class FlagError(BadInput):
    """Bad input on the command line: `flag` (``--months``, or an argument's name such as ``DIR``)."""

    def __init__(self, flag: str, message: str):
        super().__init__(flag, message)
        self.flag = flag


def from_file(file: str, error: InputError, prefix: str = "") -> InputFileError:
    """The model's InputError as an InputFileError naming `file` (its key under `prefix`)."""
    key = f"{prefix}.{error.key}" if prefix and error.key else (prefix or error.key)
    return InputFileError(file, key or None, error.message)


def from_flag(error: InputError) -> FlagError:
    """The model's InputError about a command-line value, naming the flag (its key)."""
    return FlagError(error.key, error.message)


def unknown_name(name, allowed: Iterable[str], what: str, listing: str | None = None) -> str:
    """ "unknown <what> 'x' (did you mean 'y'?); allowed: a, b, c" (or `listing` instead of the list)."""
    allowed = list(allowed)
    close = difflib.get_close_matches(name, allowed, n=1) if isinstance(name, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what} {name!r}{hint}; {listing or 'allowed: ' + ', '.join(allowed)}"
