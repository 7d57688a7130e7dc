"""The analysis commands of `smesim`: read a sweep directory, print the tables, write them as CSV
files beside the results (`compare.csv`, `goals.csv`, `costs.csv`, `sensitivity.csv`,
`goal_drivers.csv`).

    smesim compare DIR [--baseline NAME] [--confidence C] [--bootstrap N]
    smesim sensitivity DIR [--outcome NAME] [--confidence C] [--bootstrap N]
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from experiments.analysis.compare import compare, format_compare
from experiments.analysis.drivers import format_goal_drivers, goal_drivers
from experiments.analysis.runs_table import with_key
from experiments.analysis.screening import format_morris, is_morris, morris
from experiments.analysis.sensitivity import format_sensitivity, paired_effects, replication_noise, sensitivity
from experiments.analysis.sweep_data import default_baseline, read_series_at, sweep_factors, sweep_goals
from experiments.errors import FlagError, InputFileError, from_file, from_flag, unknown_name
from experiments.files import write_csv_atomically
from experiments.formatting import format_percent
from experiments.inputs import checks
from experiments.sweeps.store import MANIFEST_FILE, read_manifest, read_runs
from simulation.errors import InputError
from simulation.indicators import INDICATORS

__all__ = ["MAX_BOOTSTRAP", "add_commands", "compare_command", "sensitivity_command"]

MAX_BOOTSTRAP = 100_000  # resamples of --bootstrap


def add_commands(commands) -> None:
    compare = commands.add_parser(
        "compare",
        help="policies against the baseline: paired differences, goals, costs",
        description="Paired differences of each policy against the baseline over common "
        "seeds with confidence intervals, the probability of meeting each goal, "
        "cost per job and per export dollar; tables on screen, CSV files in DIR.",
    )
    compare.add_argument("directory", type=Path, metavar="DIR", help="a sweep's results directory")
    compare.add_argument("--baseline", metavar="NAME", help="default: the policy named baseline, else the spec's first")
    _add_interval_flags(compare, bootstrap=1000)
    compare.set_defaults(
        handler=lambda args, argv: compare_command(
            args.directory, baseline=args.baseline, confidence=args.confidence, n_bootstrap=args.bootstrap
        )
    )

    sensitivity = commands.add_parser(
        "sensitivity",
        help="Sobol indices, replication noise, what decides each goal",
        description="First-order and total Sobol indices with bootstrap intervals "
        "(Sobol designs), the share of variance that is replication noise, "
        "and which factor ranges decide whether each goal is met.",
    )
    sensitivity.add_argument("directory", type=Path, metavar="DIR", help="a sweep's results directory")
    sensitivity.add_argument("--outcome", metavar="NAME", help="an indicator (default: each goal's indicator)")
    _add_interval_flags(sensitivity, bootstrap=500)
    sensitivity.set_defaults(
        handler=lambda args, argv: sensitivity_command(
            args.directory, outcome=args.outcome, confidence=args.confidence, n_bootstrap=args.bootstrap
        )
    )


def _add_interval_flags(parser: argparse.ArgumentParser, bootstrap: int) -> None:
    parser.add_argument(
        "--confidence", type=_share, default=0.95, metavar="C", help="confidence level, in (0, 1) (default 0.95)"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=bootstrap,
        metavar="N",
        help=f"bootstrap resamples for the intervals, in [1, {MAX_BOOTSTRAP:,}] (default {bootstrap})",
    )


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text}")
    return value


def _check_bootstrap(n_bootstrap: int) -> None:
    """At most MAX_BOOTSTRAP resamples: each costs a pass over the runs (more would run for hours)."""
    try:
        checks.whole("--bootstrap", n_bootstrap, 1, MAX_BOOTSTRAP)
    except InputError as error:
        raise from_flag(error) from None


FILES = {
    "compare": "compare.csv",
    "goals": "goals.csv",
    "costs": "costs.csv",
    "sensitivity": "sensitivity.csv",
    "morris": "morris.csv",
    "goal_drivers": "goal_drivers.csv",
}


def _write(frames: Mapping[str, pd.DataFrame], out: Path) -> list[Path]:
    written = []
    for name, frame in frames.items():
        path = Path(out) / FILES[name]
        write_csv_atomically(frame, path, index=False)
        written.append(path)
    return written


def compare_command(
    sweep_dir: Path | str,
    baseline: str | None = None,
    confidence: float = 0.95,
    n_bootstrap: int = 1000,
    out: Path | str | None = None,
) -> int:
    """`smesim compare DIR [--baseline NAME]`: print the comparison of every policy with the
    baseline (default: `default_baseline`) and write compare.csv, goals.csv and costs.csv to
    `out` (default: DIR)."""
    _check_bootstrap(n_bootstrap)
    sweep_dir = Path(sweep_dir)
    runs = read_runs(sweep_dir, require=True)
    manifest = read_manifest(sweep_dir) or {}
    baseline = default_baseline(runs, manifest) if baseline is None else baseline
    goals = sweep_goals(manifest, str(sweep_dir / MANIFEST_FILE))
    series = read_series_at(sweep_dir, goals)
    try:
        result = compare(runs, goals, baseline, confidence, series=series, n_bootstrap=n_bootstrap)
    except InputError as error:
        raise from_file(str(sweep_dir), error) from None
    print(f"{sweep_dir}: {len(runs):,} runs of {runs['policy'].nunique()} policies; baseline {baseline!r}\n")
    print(format_compare(result, baseline, confidence))
    written = _write({k: result[k] for k in ("compare", "goals", "costs")}, Path(out) if out else sweep_dir)
    print("\nwritten: " + ", ".join(str(p) for p in written))
    return 0


def sensitivity_command(
    sweep_dir: Path | str,
    outcome: str | Sequence[str] | None = None,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
    out: Path | str | None = None,
) -> int:
    """`smesim sensitivity DIR [--outcome NAME] [--bootstrap N]`: Sobol indices of the outcome
    (default: each goal's indicator) when the sweep's design is Sobol (Morris elementary effects
    when it is Morris: morris.csv), for each policy's level
    and for each policy's paired effect against the baseline ("POLICY - baseline"), the share
    of replication noise, and which factors decide each goal; writes sensitivity.csv (Sobol
    designs) and goal_drivers.csv to `out` (default: DIR)."""
    _check_bootstrap(n_bootstrap)
    sweep_dir = Path(sweep_dir)
    runs = read_runs(sweep_dir, require=True)
    manifest = read_manifest(sweep_dir) or {}
    goals = sweep_goals(manifest, str(sweep_dir / MANIFEST_FILE))
    factors = sweep_factors(runs, manifest)
    if outcome is None:
        outcomes = list(dict.fromkeys(g.indicator for g in goals.values() if g.indicator in runs.columns))
    else:
        outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
    for name in outcomes:
        if name not in runs.columns:
            raise FlagError("--outcome", unknown_name(name, [c for c in INDICATORS if c in runs.columns], "indicator"))
    if not factors:
        raise InputFileError(str(sweep_dir), "factors", "the runs table has no design factor columns: nothing varies")
    frames = {}
    blocks = with_key(runs)["design_block"]
    try:
        if blocks.isin(["A", "B"]).any() or is_morris(runs):
            name, analyse, show = (
                ("sensitivity", sensitivity, format_sensitivity)
                if blocks.isin(["A", "B"]).any()
                else ("morris", morris, format_morris)
            )
            # each policy's level, and its paired effect against the baseline ("POLICY - baseline")
            analysed = pd.concat(
                [runs, paired_effects(runs, default_baseline(runs, manifest), outcomes)], ignore_index=True
            )
            frames[name] = pd.concat(
                [analyse(analysed, factors, outcome, n_bootstrap, confidence, seed) for outcome in outcomes],
                ignore_index=True,
            )
            print(show(frames[name], confidence))
        else:
            print("Sobol indices need a Sobol design (blocks A, B and AB:i); this sweep has none. Replication noise:")
            for name in outcomes:
                noise = {p: replication_noise(runs[runs["policy"] == p], name) for p in sorted(runs["policy"].unique())}
                print(
                    f"  {name}: " + ", ".join(f"{p} {format_percent(v)}" for p, v in noise.items()) + " of the variance"
                )
        series = read_series_at(sweep_dir, goals)
        frames["goal_drivers"] = goal_drivers(runs, factors, goals, series)
    except InputError as error:
        raise from_file(str(sweep_dir), error) from None
    print(
        "\nWhich factors decide each goal (probability of meeting it in the lower and upper thirds of each "
        "factor's range in the runs; the top 5 by the difference):\n"
    )
    print(format_goal_drivers(frames["goal_drivers"], goals))
    written = _write(frames, Path(out) if out else sweep_dir)
    print("\nwritten: " + ", ".join(str(p) for p in written))
    return 0
