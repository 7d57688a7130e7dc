"""The `smesim` command: runs write complete results or nothing, bad input exits 2 with one
line naming file and key, results are reproducible, a killed run leaves nothing that looks complete."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments import cli
from experiments.files import sha256_of
from experiments.inputs.goals import GoalOutcome
from experiments.inputs.scenario import load_scenario, shipped_scenarios
from experiments.runs.demo import paired_differences
from simulation import INDICATORS

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--scale", "0.02", "--months", "2"]
VALID = 'description = "A test scenario"\nseed = 3\nmonths = 12\nscale = 0.02\n'
MANIFEST_KEYS = {
    "scenario",
    "seed",
    "replications",
    "months",
    "scale",
    "command",
    "git",
    "versions",
    "started",
    "finished",
    "files",
    "goals",
    "model_seeds",
}


def run_cli(*args) -> int:
    return cli.main([str(a) for a in args])


def read_results(out: Path) -> tuple[pd.DataFrame, dict]:
    return pd.read_parquet(out / "indicators.parquet"), json.loads((out / "manifest.json").read_text("utf-8"))


def visible_files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if not p.name.startswith(".")} if directory.exists() else set()


def shortest_months(name: str) -> int:
    """2 months, or enough for the scenario's last shock."""
    return max([2] + [shock.month for shock in load_scenario(name).shocks])


# --- runs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_shipped_scenario_runs(tmp_path, capsys, name):
    out = tmp_path / name
    months = shortest_months(name)
    assert run_cli("run", name, "--scale", "0.02", "--months", months, "--out", out) == 0
    frame, manifest = read_results(out)
    assert set(os.listdir(out)) == {"indicators.parquet", "manifest.json"}  # and no temporary file left
    assert list(frame.columns) == ["replication", "seed", "month", *INDICATORS]
    assert list(frame["month"]) == list(range(months + 1)) and set(frame["replication"]) == {0}
    assert (frame["seed"] == 1).all()
    assert set(manifest) >= MANIFEST_KEYS
    assert manifest["scenario"]["name"] == name and manifest["months"] == months and manifest["scale"] == 0.02
    assert manifest["files"]["indicators.parquet"]["sha256"] == sha256_of(out / "indicators.parquet")
    printed = capsys.readouterr().out
    assert "exports_usd" in printed and "not checked: the run ends before month 48" in printed


def test_parquet_schema_is_explicit(tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", "baseline", *SMALL, "--out", out) == 0
    schema = pq.read_schema(out / "indicators.parquet")
    assert [str(schema.field(c).type) for c in ("replication", "seed", "month")] == ["int32", "int64", "int32"]
    assert {str(schema.field(name).type) for name in INDICATORS} == {"double"}


def test_manifest_records_the_scenario_and_the_run(tmp_path):
    out = tmp_path / "run"
    assert (
        run_cli(
            "run", "rial_fall", "--scale", "0.02", "--months", "3", "--replications", "2", "--seed", "5", "--out", out
        )
        == 0
    )
    _, manifest = read_results(out)
    scenario = load_scenario("rial_fall")
    assert manifest["scenario"]["text"] == scenario.text and manifest["scenario"]["sha256"] == scenario.sha256
    assert manifest["scenario"]["validated"]["uncertainties"] == {"inflation_rate": 0.55}
    assert manifest["scenario"]["validated"]["shocks"] == [{"kind": "exchange_rate", "month": 3, "depreciation": 1.0}]
    assert (manifest["seed"], manifest["replications"], manifest["months"]) == (5, 2, 3)
    assert manifest["command_line_overrides"] == {"seed": 5, "months": 3, "scale": 0.02, "replications": 2}
    assert manifest["command"][:3] == ["smesim", "run", "rial_fall"]
    assert set(manifest["versions"]) == {"python", "numpy", "scipy", "pandas", "mesa", "pyarrow", "smesim"}
    assert set(manifest["git"]) == {"commit", "dirty"} and len(manifest["model_seeds"]) == 2
    assert manifest["started"] <= manifest["finished"]


def test_goals_are_reported_met_and_missed(tmp_path, capsys):
    path = tmp_path / "goals.toml"
    path.write_text(
        VALID + '[goals.some_units]\nindicator = "active_units"\nat_least = 1\nmonth = 2\n'
        '[goals.impossible]\nindicator = "exports_usd"\nat_least = 1e15\nmonth = 2\n',
        "utf-8",
    )
    assert run_cli("run", path, "--months", "2", "--replications", "2", "--out", tmp_path / "out") == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("active_units" in line and line.endswith("met (2 of 2)") for line in lines)
    assert any("exports_usd" in line and line.endswith("missed (0 of 2)") for line in lines)
    _, manifest = read_results(tmp_path / "out")
    assert {g["goal"]: g["met"] for g in manifest["goals"]}["some_units"] == [True, True]


def test_default_output_directory_is_results_slash_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli("run", "baseline", *SMALL) == 0
    assert visible_files(tmp_path / "results" / "baseline") == {"indicators.parquet", "manifest.json"}


def test_rerun_replaces_earlier_results(tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", "baseline", *SMALL, "--out", out) == 0
    assert run_cli("run", "baseline", "--scale", "0.02", "--months", "3", "--out", out) == 0
    frame, manifest = read_results(out)
    assert frame["month"].max() == 3 and manifest["months"] == 3


# --- reproducibility ------------------------------------------------------------------------------


def test_same_scenario_and_seed_give_identical_results(tmp_path):
    for name in ("a", "b"):
        assert (
            run_cli(
                "run",
                "ministry_plan",
                "--scale",
                "0.02",
                "--months",
                "3",
                "--replications",
                "2",
                "--out",
                tmp_path / name,
            )
            == 0
        )
    first, second = (pd.read_parquet(tmp_path / name / "indicators.parquet") for name in ("a", "b"))
    pd.testing.assert_frame_equal(first, second)


def test_replications_differ_and_do_not_depend_on_their_number(tmp_path):
    assert (
        run_cli(
            "run", "baseline", "--scale", "0.02", "--months", "3", "--replications", "3", "--out", tmp_path / "three"
        )
        == 0
    )
    assert run_cli("run", "baseline", "--scale", "0.02", "--months", "3", "--out", tmp_path / "one") == 0
    three = pd.read_parquet(tmp_path / "three" / "indicators.parquet")
    one = pd.read_parquet(tmp_path / "one" / "indicators.parquet")
    last = three[three["month"] == 3].set_index("replication")[list(INDICATORS)]
    assert not last.loc[0].equals(last.loc[1]) and not last.loc[1].equals(last.loc[2])
    pd.testing.assert_frame_equal(three[three["replication"] == 0].reset_index(drop=True), one)


# --- bad input ------------------------------------------------------------------------------------

BAD_FILES = [
    # (what, scenario text, key)
    ("unknown top-level key", VALID + "colour = 1\n", "colour"),
    ("unknown key in a lever", VALID + "[levers.training]\nbudget = 1\n", "levers.training.budget"),
    ("negative budget", VALID + "[levers.clinics]\nbudget_usd = -1e6\n", "levers.clinics.budget_usd"),
    ("wrong type", VALID.replace("seed = 3", 'seed = "three"'), "seed"),
    ("months = 0", VALID.replace("months = 12", "months = 0"), "months"),
    ("scale 0", VALID.replace("scale = 0.02", "scale = 0"), "scale"),
    ("scale 1.5", VALID.replace("scale = 0.02", "scale = 1.5"), "scale"),
    ("unknown uncertainty", VALID + "[uncertainties]\nweather = 1\n", "uncertainties.weather"),
    ("lever-controlled constant", VALID + "[constants]\ngrant_budget_usd = 1e6\n", "constants.grant_budget_usd"),
    (
        "goal on an unknown indicator",
        VALID + '[goals.jobs]\nindicator = "jobs"\nat_least = 1\n',
        "goals.jobs.indicator",
    ),
    (
        "shock after the horizon",
        VALID + '[[shocks]]\nkind = "sanctions"\ndestination = "Iraq"\nmonth = 20\nmonths = 2\n',
        "shocks[0].month",
    ),
    ("scale the model refuses", VALID.replace("scale = 0.02", "scale = 0.0001"), "scale"),
]


def assert_refused(capsys, code: int, prefix: str) -> str:
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith(prefix) and captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize("text, key", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_bad_scenario_file_exits_2_naming_file_and_key(tmp_path, capsys, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert_refused(capsys, run_cli("run", path, "--out", out), f"smesim: error: {path}: {key}: ")
    assert not out.exists()


@pytest.mark.parametrize(
    "flag, value", [("--months", "0"), ("--scale", "0"), ("--scale", "1.5"), ("--replications", "0"), ("--seed", "-1")]
)
def test_bad_flag_value_exits_2(tmp_path, capsys, flag, value):
    out = tmp_path / "out"
    assert_refused(capsys, run_cli("run", "baseline", flag, value, "--out", out), f"smesim: error: {flag}: must be")
    assert not out.exists()


def test_horizon_before_a_shock_exits_2(tmp_path, capsys):
    message = assert_refused(
        capsys, run_cli("run", "sanctions_tightening", *SMALL, "--out", tmp_path / "out"), "smesim: error: "
    )
    assert "sanctions_tightening.toml: shocks[0].month: month 6" in message and "--months" in message


def test_unknown_scenario_exits_2(tmp_path, capsys):
    message = assert_refused(
        capsys, run_cli("run", "baseline_typo", "--out", tmp_path / "out"), "smesim: error: baseline_typo: "
    )
    assert "shipped: baseline" in message


def test_out_must_be_a_directory(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert_refused(capsys, run_cli("run", "baseline", *SMALL, "--out", target), "smesim: error: --out: ")


def test_usage_errors_exit_2(capsys):
    assert run_cli("run", "baseline", "--months", "many") == 2
    assert run_cli("frobnicate") == 2
    assert "invalid int value" in capsys.readouterr().err
    # flags are never abbreviated: sensitivity has no --out, and --out is not --outcome
    assert run_cli("sensitivity", "results", "--out", "x") == 2
    assert "unrecognized arguments: --out x" in capsys.readouterr().err


def test_unexpected_failure_exits_1_with_traceback(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli.run, "run_scenario", broken)
    assert run_cli("run", "baseline", *SMALL, "--out", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "disk on fire" in err


# --- other subcommands and the installed entry point ------------------------------------------------


def test_scenarios_lists_every_shipped_scenario(capsys):
    assert run_cli("scenarios") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(shipped_scenarios())
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_validate_runs_the_stylised_facts(tmp_path, capsys):
    assert run_cli("validate", "--scale", "0.02", "--months", "36", "--out", tmp_path) == 0
    assert "exporter premia" in capsys.readouterr().out
    assert (tmp_path / "stylised_facts.csv").exists()
    assert run_cli("validate", "--months", "12") == 2


@pytest.mark.integration
def test_installed_entry_point(tmp_path):
    smesim = shutil.which("smesim", path=str(Path(sys.executable).parent))
    assert smesim, "the smesim script is not installed beside this Python (pip install -e .)"
    out = tmp_path / "out"
    done = subprocess.run(
        [smesim, "run", "lever_clinics", *SMALL, "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "lever_clinics: replication 1/1, month 2/2 (100%)" in done.stderr  # plain progress when not a terminal
    assert visible_files(out) == {"indicators.parquet", "manifest.json"}
    bad = subprocess.run([smesim, "run", "baseline", "--months", "0"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr == "smesim: error: --months: must be a whole number in [1, 600], got 0\n"


# --- interrupted runs ----------------------------------------------------------------------------------


def start_long_run(out: Path) -> subprocess.Popen:
    """A run that takes many seconds, once it has started stepping (its first progress line)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "experiments.cli",
            "run",
            "baseline",
            "--scale",
            "0.3",
            "--months",
            "600",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    for line in process.stderr:  # skip anything printed before the first progress line (e.g. warnings)
        if "baseline: replication 1/1, month" in line:
            return process
    raise AssertionError(f"the run ended without stepping (exit code {process.wait()})")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
@pytest.mark.integration
def test_interrupted_run_leaves_nothing_that_looks_complete(tmp_path, how):
    out = tmp_path / "out"
    assert run_cli("run", "baseline", *SMALL, "--out", out) == 0  # an earlier, complete run in the same place
    process = start_long_run(out)
    process.send_signal(how)
    process.wait(timeout=60)
    assert process.returncode == (-signal.SIGKILL if how == signal.SIGKILL else 130)
    assert visible_files(out) == set()
    if how == signal.SIGINT:
        assert not any(out.iterdir())  # temporary files removed too


# --- the demo ---------------------------------------------------------------------------------------


def test_demo_compares_the_plan_with_the_baseline(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path), "--scale", "0.02", "--months", "2", "--replications", "2"]) == 0
    for name in ("baseline", "ministry_plan"):
        assert visible_files(tmp_path / name) == {"indicators.parquet", "manifest.json"}
    printed = capsys.readouterr().out
    assert "plan - baseline" in printed and "2 paired replications" in printed


def test_demo_paired_difference():
    base = GoalOutcome(load_scenario("baseline").goals["exports"], 48, (1.0, 2.0))
    plan = GoalOutcome(base.goal, 48, (1.5, 1.0))
    assert paired_differences(plan, base) == [0.5, -1.0]
