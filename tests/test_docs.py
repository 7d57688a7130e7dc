"""docs/ODD.md documents every parameter and every export destination with its current values."""

import re
from pathlib import Path

import pytest

from simulation import destinations
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


# --- the destinations table (section 6.4) ------------------------------------------------

# column of the ODD's table (found by a word of its header) -> index in a DESTINATIONS row
DESTINATION_COLUMNS = {
    "imports": 2,
    "trade cost": 3,
    "sunk cost": 4,
    "fixed cost": 5,
    "standards": 6,
    "sanctions risk": 7,
}


@pytest.fixture(scope="module")
def destination_rows() -> dict[str, dict[str, str]]:
    """Rows of the first table in ODD.md's section 6.4, keyed by destination, then by column."""
    text = ODD.read_text(encoding="utf-8")
    section = re.search(r"^### 6\.4 .*?$(.*?)^#{2,3} ", text, re.S | re.M)
    assert section, "docs/ODD.md has no '### 6.4' section (the export destinations table)"
    lines = [line.strip() for line in section.group(1).splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("|") and "destination" in line), None)
    assert start is not None, "docs/ODD.md section 6.4 has no table with a 'destination' column"
    header = [cell.strip().lower() for cell in lines[start].strip("|").split("|")]
    where = {}
    for column in ["destination", *DESTINATION_COLUMNS]:
        found = [i for i, cell in enumerate(header) if column in cell]
        assert len(found) == 1, (
            f"the destinations table in docs/ODD.md section 6.4 needs one column headed '{column}', found {len(found)}"
        )
        where[column] = found[0]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break  # end of the first table
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == len(header):
            rows.setdefault(cells[where["destination"]], {column: cells[i] for column, i in where.items()})
    return rows


@pytest.mark.parametrize("row", destinations.DESTINATIONS, ids=lambda row: row[0])
def test_destination_documented_with_its_values(destination_rows, row):
    name = row[0]
    assert name in destination_rows, (
        f"destination {name} has no row in the destinations table of docs/ODD.md (section 6.4)"
    )
    for column, index in DESTINATION_COLUMNS.items():
        cell = destination_rows[name][column]
        try:
            documented = float(re.sub(r"[,\s`_]", "", cell))
        except ValueError:
            pytest.fail(f"{name}: ODD's destinations table has {column} = {cell!r}, not a number")
        assert documented == pytest.approx(float(row[index])), (
            f"{name}: ODD says {column} = {cell}, simulation/destinations.py says {row[index]}"
        )


# --- the lever settings (section 8.3) ------------------------------------------------------


def test_every_lever_setting_documented_with_its_default():
    from simulation.policy import LEVERS

    text = ODD.read_text(encoding="utf-8")
    section = re.search(r"^### 8\.3 .*?$(.*?)^## 9\.", text, re.S | re.M)
    assert section, "docs/ODD.md has no '### 8.3' section (the lever settings)"
    rows = dict(re.findall(r"^\|\s*`([a-z_]+\.[a-z_]+)`\s*\|\s*`([^`]*)`", section.group(1), re.M))
    for lever, specs in LEVERS.items():
        for name, setting in specs.items():
            key = f"{lever}.{name}"
            assert key in rows, f"lever setting {key} has no row in docs/ODD.md section 8.3"
            default = list(setting.default) if isinstance(setting.default, tuple) else setting.default
            assert rows[key] == repr(default), f"{key}: ODD says {rows[key]}, code says {default!r}"


# --- the indicators --------------------------------------------------------------------------


def test_every_indicator_listed_in_file_formats_and_odd():
    from simulation.indicators import CONTRACT, INDICATORS

    formats = (ODD.parent / "file-formats.md").read_text(encoding="utf-8")
    rows = {
        row.split("|")[1].strip(): row
        for row in formats.splitlines()
        if row.startswith("| contract") or row.startswith("| extras")
    }
    contract = " ".join(row for key, row in rows.items() if key.startswith("contract"))
    for name in INDICATORS:
        where = contract if name in CONTRACT else rows["extras"]
        assert f"`{name}`" in where, (
            f"indicator {name} is not in docs/file-formats.md's {'contract' if name in CONTRACT else 'extras'} rows"
        )
    odd = ODD.read_text(encoding="utf-8")
    missing = [name for name in INDICATORS if f"`{name}`" not in odd]
    assert not missing, f"docs/ODD.md does not describe {missing}"
