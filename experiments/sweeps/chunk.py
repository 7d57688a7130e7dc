"""What a worker does: run a chunk of a sweep's runs and return their rows as Arrow tables.

A run that raises (e.g. a combination of factor values the model refuses) becomes an error
row (status "error", the exception and its last frames) and the chunk goes on. Nothing here
touches files: the driver writes what comes back, so workers need no access to the results
directory.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from experiments.inputs.sweep_spec import SweepSpec, run_inputs
from experiments.runs.rundir import monthly_frame
from experiments.sweeps.design import Run
from experiments.sweeps.store import ERROR, OK, SERIES_SCHEMA, chunk_id, runs_schema
from simulation.indicators import INDICATORS

__all__ = [
    "Chunk",
    "ChunkResult",
    "chunk_tables",
    "killed_result",
    "run_chunk",
    "run_row",
    "seconds_per_run_guess",
    "worker_name",
]

ERROR_FRAMES = 3  # frames of the traceback kept in an error row


@dataclass(frozen=True)
class Chunk:
    """Some runs of a spec, run together on one worker."""

    spec: SweepSpec
    runs: tuple[Run, ...]

    @property
    def name(self) -> str:
        return chunk_id(run.run_id for run in self.runs)

    def split(self) -> list[Chunk]:
        """One chunk per run (to find a run that kills its worker)."""
        return [Chunk(self.spec, (run,)) for run in self.runs]


@dataclass(frozen=True)
class ChunkResult:
    name: str
    runs: pa.Table
    series: pa.Table
    wall_seconds: tuple[float, ...]  # of each run

    @property
    def errors(self) -> int:
        return sum(1 for status in self.runs.column("status").to_pylist() if status != OK)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Run every run of the chunk; the runs and series tables of its results."""
    rows, series = [], []
    for run in chunk.runs:
        row, frame = _run_one(chunk.spec, run)
        rows.append(row)
        if frame is not None:
            series.append(frame)
    return chunk_tables(chunk, rows, series)


def _run_one(spec: SweepSpec, run: Run) -> tuple[dict, object]:
    start = time.perf_counter()
    try:
        model = run_inputs(spec, run.policy, run.factors).build(run.seed, spec.scale).run(spec.months)
        frame = monthly_frame(model)
    except Exception as error:  # noqa: BLE001 - a failing run is recorded, and the sweep goes on
        text = "".join(traceback.format_exception(error, limit=-ERROR_FRAMES)).strip()
        return run_row(run, ERROR, text, time.perf_counter() - start, {}), None
    frame.insert(0, "run_id", run.run_id)
    at_horizon = frame.iloc[-1]
    return run_row(run, OK, None, time.perf_counter() - start, {n: at_horizon[n] for n in INDICATORS}), frame


def run_row(run: Run, status: str, error: str | None, seconds: float, indicators: dict) -> dict:
    """One row of the runs table (indicators None where missing)."""
    return {
        "run_id": run.run_id,
        "policy": run.policy,
        "sample": run.sample,
        "design_block": run.design_block,
        "replicate": run.replicate,
        "seed": str(run.entropy),
        "status": status,
        "error": error,
        "wall_seconds": seconds,
        "worker": worker_name(),
        **run.factors,
        **{name: indicators.get(name) for name in INDICATORS},
    }


def chunk_tables(chunk: Chunk, rows: list[dict], series: list) -> ChunkResult:
    schema = runs_schema([f.key for f in chunk.spec.factors])
    runs = pa.Table.from_pylist(rows, schema=schema)
    if series:
        frame = pd.concat(series, ignore_index=True)
        series_table = pa.Table.from_pandas(frame, schema=SERIES_SCHEMA, preserve_index=False)
    else:
        series_table = SERIES_SCHEMA.empty_table()
    return ChunkResult(chunk.name, runs, series_table, tuple(float(r["wall_seconds"]) for r in rows))


def killed_result(chunk: Chunk, message: str) -> ChunkResult:
    """Error rows for the runs of a chunk that kept killing its workers."""
    rows = [run_row(run, ERROR, message, float("nan"), {}) for run in chunk.runs]
    return chunk_tables(chunk, rows, [])


def seconds_per_run_guess(months: int, scale: float) -> float:
    """A first guess of one run's seconds before any has finished (measured on a laptop core:
    building ~1 s per unit of scale, a month ~4 ms + 45 ms per unit of scale)."""
    return 0.01 + scale + months * (0.004 + 0.045 * scale)
