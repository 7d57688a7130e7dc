"""Shared by the sweep tests: two sweep directories hold the same results."""

from pathlib import Path

import pandas as pd

from experiments.sweeps.store import read_runs, read_series

VARYING = ["wall_seconds", "worker"]  # the only columns that may differ between equal sweeps


def results(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs (without the columns that legitimately vary) and series, in a canonical order."""
    runs = read_runs(out).drop(columns=VARYING).sort_values("run_id").reset_index(drop=True)
    series = read_series(out).sort_values(["run_id", "month"]).reset_index(drop=True)
    return runs, series


def assert_same_results(a: Path, b: Path) -> None:
    """Every run once in each, with the same inputs, seed, status, error and values."""
    runs_a, series_a = results(a)
    runs_b, series_b = results(b)
    assert runs_a["run_id"].is_unique and series_a[["run_id", "month"]].duplicated().sum() == 0
    pd.testing.assert_frame_equal(runs_a, runs_b)
    pd.testing.assert_frame_equal(series_a, series_b)
