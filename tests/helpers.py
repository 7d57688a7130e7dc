"""Checks shared by several test modules (one home, imported by name): two sweep directories hold
the same results; a model's money is stock-flow consistent; waiting on and killing processes."""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.sweeps.store import read_runs, read_series
from simulation.finance import DEBTS

VARYING = ["wall_seconds", "worker"]  # the only columns that may differ between equal sweeps
TIMEOUT = 120.0  # seconds a process may take to reach what a test waits for


def wait_for(condition, what: str, process: subprocess.Popen | None = None, timeout: float = TIMEOUT):
    """Poll `condition` until it is true (returned); fail if `process` ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
    return value


def kill_group(process: subprocess.Popen) -> None:
    """Kill a process started with start_new_session=True and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def recorded_chunks(out: Path) -> int:
    """Chunks a sweep directory has recorded as finished (lines of parts.jsonl)."""
    path = out / "parts.jsonl"
    return len(path.read_text("utf-8").splitlines()) if path.exists() else 0


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


def check_stock_flow(model):
    """Debts against the books, cash against the ledger, the ledger's sectors summing to zero."""
    f, fin = model.firms, model.finance
    assert (f.cash >= -1e-6 * max(1.0, np.abs(f.cash).max())).all()
    for column in DEBTS:
        debt = getattr(f, column)
        assert (debt >= -1e-6).all(), column
        # outstanding = issued (capitalised interest included) - repaid - written off
        assert debt.sum() == pytest.approx(
            fin.issued[column] - fin.repaid[column] - fin.written_off[column], rel=1e-9, abs=1e-3
        ), column
    # the indicators read the books; the balances must agree, and every unit owing something is tracked
    assert fin.outstanding() == pytest.approx(sum(getattr(f, c).sum() for c in DEBTS), rel=1e-9, abs=1e-3)
    owing = np.flatnonzero(sum(getattr(f, c) for c in DEBTS) > 0)
    assert np.isin(owing, np.concatenate([fin.debtors, *fin._new_debtors])).all()
    # every payment has a payer and a payee: the firms' cash is exactly what the ledger says they received net
    assert f.cash.sum() == pytest.approx(fin.ledger.net("firms"), rel=1e-9, abs=1e-3)
    sectors = {s for key in fin.ledger.flows for s in key[:2]}
    assert sum(fin.ledger.net(s) for s in sectors) == pytest.approx(0.0, abs=1e-6 * sum(fin.ledger.flows.values()))
    assert (f.ijara_debt <= f.leased_assets * (1 + 1e-9) + 1e-6).all()
