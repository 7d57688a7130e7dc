"""`smesim compare` and `smesim sensitivity` on a real (tiny) sweep directory."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.cli import main


@pytest.fixture(scope="module")
def quick_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "quick"
    assert main(["sweep", "quick", "--out", str(out), "--workers", "0"]) == 0
    return out


def test_compare_prints_and_writes_the_paired_comparison(quick_sweep, capsys):
    assert main(["compare", str(quick_sweep), "--bootstrap", "50"]) == 0
    printed = capsys.readouterr().out
    assert "clinics - baseline" in printed
    table = pd.read_csv(quick_sweep / "compare.csv")
    assert {"units_activated", "policy_spend_usd"} <= set(table.iloc[:, 1]) | set(table.get("indicator", []))
    assert (quick_sweep / "goals.csv").exists() and (quick_sweep / "costs.csv").exists()


def test_sensitivity_writes_the_goal_drivers(quick_sweep):
    assert main(["sensitivity", str(quick_sweep), "--bootstrap", "20"]) == 0
    assert (quick_sweep / "goal_drivers.csv").exists()


def test_bad_analysis_input_exits_2_naming_it(quick_sweep, tmp_path, capsys):
    assert main(["compare", str(quick_sweep), "--baseline", "nope"]) == 2
    assert "baseline" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "missing")]) == 2
    assert main(["sensitivity", str(quick_sweep), "--bootstrap", "0"]) == 2
    assert "--bootstrap" in capsys.readouterr().err
