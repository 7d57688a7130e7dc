"""Plain data as TOML text: what the search writes for the sweeps it runs and the scenario it
recommends (the files are read back with the same validation as hand-written ones)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

__all__ = ["toml_document", "toml_key", "toml_value"]

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    """A key, quoted when it is not a bare key (e.g. "levers.clinics.budget_usd")."""
    return key if BARE_KEY.fullmatch(key) else json.dumps(key)


def toml_value(value) -> str:
    """A scalar or a list of scalars (floats exactly: repr round-trips)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML files here hold finite numbers only, got {value!r}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as a TOML value")


def toml_document(data: Mapping, header: str = "") -> str:
    """`data` as TOML: scalars first, then one [table] per nested mapping, a list of mappings as
    an array of tables; `header` becomes comment lines at the top."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _table(lines, data, ())
    return "\n".join(lines).strip("\n") + "\n"


def _table(lines: list[str], data: Mapping, path: tuple[str, ...]) -> None:
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    arrays = {k: v for k, v in data.items() if _is_array_of_tables(v)}
    for key, value in data.items():
        if key not in tables and key not in arrays:
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, value in tables.items():
        name = (*path, toml_key(key))
        if any(not isinstance(v, Mapping) and not _is_array_of_tables(v) for v in value.values()) or not value:
            lines += ["", f"[{'.'.join(name)}]"]
        _table(lines, value, name)
    for key, items in arrays.items():
        for item in items:
            lines += ["", f"[[{'.'.join((*path, toml_key(key)))}]]"]
            _table(lines, item, (*path, toml_key(key)))


def _is_array_of_tables(value) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, Mapping) for v in value)
