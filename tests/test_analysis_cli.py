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


def test_a_bootstrap_beyond_the_bound_is_refused_before_reading_anything(tmp_path, capsys):
    for command in ("compare", "sensitivity"):
        assert main([command, str(tmp_path / "missing"), "--bootstrap", "10000000000000"]) == 2
        assert capsys.readouterr().err.startswith("smesim: error: --bootstrap: must be a whole number in [1, 100000]")


def test_the_bounds_of_the_analysis_and_run_flags_are_in_their_help(capsys):
    for command, words in (
        ("compare", "[1, 100,000]"),
        ("run", "[1, 600]"),
        ("run", "[1, 1000]"),
        ("validate", "[0, 1024]"),
        ("explain", "[2, 1000]"),
    ):
        assert main([command, "--help"]) == 0
        assert words in " ".join(capsys.readouterr().out.split()), (command, words)


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["validate", "--months", "100000000", "--scale", "0.01"], "--months"),
        (["validate", "--scale-check", "--workers", "100000000"], "--workers"),
        (
            [
                "validate",
                "--scale-check",
                "--scales",
                ",".join(f"0.0{i}" for i in range(1, 10)) + ",0.1,0.11,0.12,"
                "0.13,0.14,0.15,0.16,0.17,0.18,0.19,0.2,0.21,0.22",
            ],
            "--scales",
        ),
        (["explain", "--seeds", "100000000"], "--seeds"),
        (["run", "baseline", "--months", "100000000"], "--months"),
        (["run", "baseline", "--replications", "100000000"], "--replications"),
    ],
)
def test_run_and_validate_flags_beyond_their_bounds_exit_2(argv, flag, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"smesim: error: {flag}: ")
