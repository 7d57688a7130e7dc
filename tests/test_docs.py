"""docs/ODD.md documents every parameter with its current default value."""

import re
from pathlib import Path

import pytest

from simulation.parameters import parameter_metadata

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
PARAMETERS = parameter_metadata()


@pytest.fixture(scope="module")
def odd_rows() -> dict[str, str]:
    """Rows of the parameter section of ODD.md, keyed by the backticked name in their first cell."""
    text = ODD.read_text(encoding="utf-8")
    section = re.search(r"^## 8\. Parameters$(.*?)^## 9\.", text, re.S | re.M)
    assert section, "docs/ODD.md has no '## 8. Parameters' section"
    rows = {}
    for line in section.group(1).splitlines():
        match = re.match(r"\|\s*`([a-z_0-9]+)`\s*\|(.*)", line)
        if match:
            rows.setdefault(match.group(1), match.group(2))
    return rows


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_parameter_documented_with_its_value(odd_rows, name):
    assert name in odd_rows, f"parameter {name} has no row in docs/ODD.md"
    default = PARAMETERS[name]["default"]
    cell = odd_rows[name].split("|")[0]
    documented = float(re.sub(r"[,\s`_]", "", cell))
    assert documented == pytest.approx(float(default)), f"{name}: ODD says {cell.strip()}, code says {default}"


def test_every_parameter_has_source_and_range():
    for name, meta in PARAMETERS.items():
        assert meta["source"] and meta["unit"] and meta["doc"], name
        lo, hi = meta["plausible"]
        assert lo <= meta["default"] <= hi, f"{name}: default outside its plausible range"
