"""The result store of a sweep: Parquet files with explicit schemas, one pair per chunk of runs.

    <dir>/manifest.json                 the spec (text, hash, resolved content), seeds, versions, sessions
    <dir>/runs/part-<chunk>.parquet     one row per run (schema `runs_schema`)
    <dir>/series/part-<chunk>.parquet   one row per run and month (schema SERIES_SCHEMA)

runs: run_id (string), policy (string), sample (int32), design_block (string: "" unless
sobol: "A", "B", "AB:<i>"), replicate (int32), seed (string: the SeedSequence entropy in
decimal), status (string: "ok" or "error"), error (string, null when ok), wall_seconds
(float64), worker (string: host:pid), then one float64 column per factor named by its key
(e.g. "uncertainties.inflation_rate"), then one float64 column per indicator of
`simulation.indicators.INDICATORS` at the horizon (null for an error row).
series: run_id (string), month (int32, 0 = the initial state), then one float64 column per
indicator. An error row has no series rows.

Each file is written to a hidden temporary name (a leading ".") and renamed into place, the
series file first and the runs file last: a runs row marks a finished run. `clean` (on every
start) deletes leftover temporary files and series files without their runs file, so a
killed sweep leaves nothing half-written that a reader would see. `<chunk>` is a hash of the
chunk's run ids: a chunk written twice writes the same file.

Read with pandas (`read_runs`, `read_series`, or `pandas.read_parquet(dir / "runs")`); DuckDB
reads the folders directly: `SELECT * FROM read_parquet('dir/runs/*.parquet')`.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from experiments.errors import InputFileError
from experiments.files import MANIFEST_FILE, atomic_path, read_json
from simulation.indicators import INDICATORS

__all__ = [
    "ERROR",
    "MANIFEST_FILE",
    "MANIFEST_KIND",
    "OK",
    "RUNS_DIR",
    "RUN_COLUMNS",
    "SERIES_DIR",
    "SERIES_SCHEMA",
    "Store",
    "chunk_id",
    "is_sweep_directory",
    "read_manifest",
    "read_run_ids",
    "read_runs",
    "read_series",
    "runs_schema",
]

RUNS_DIR, SERIES_DIR = "runs", "series"
MANIFEST_KIND = "smesim sweep"
PART_PREFIX = "part-"
OK, ERROR = "ok", "error"
RUN_FIELDS = [
    ("run_id", pa.string()),
    ("policy", pa.string()),
    ("sample", pa.int32()),
    ("design_block", pa.string()),
    ("replicate", pa.int32()),
    ("seed", pa.string()),
    ("status", pa.string()),
    ("error", pa.string()),
    ("wall_seconds", pa.float64()),
    ("worker", pa.string()),
]
RUN_COLUMNS = tuple(name for name, _ in RUN_FIELDS)
SERIES_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("month", pa.int32()), *((name, pa.float64()) for name in INDICATORS)]
)
COMPRESSION = "zstd"


def runs_schema(factor_keys: Sequence[str]) -> pa.Schema:
    """The runs table's schema for a spec's factors (explicit: an all-null column keeps its type)."""
    return pa.schema(
        [*RUN_FIELDS, *((key, pa.float64()) for key in factor_keys), *((name, pa.float64()) for name in INDICATORS)]
    )


def chunk_id(run_ids: Iterable[str]) -> str:
    """A chunk's name: the same runs, the same name."""
    return hashlib.sha256(",".join(sorted(run_ids)).encode("ascii")).hexdigest()[:16]


def _write_parquet(table: pa.Table, path: Path) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression=COMPRESSION)


def _visible_parts(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"{PART_PREFIX}*.parquet") if not p.name.startswith("."))


class Store:
    """A sweep's results directory."""

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self.runs_dir = self.directory / RUNS_DIR
        self.series_dir = self.directory / SERIES_DIR
        self.manifest_path = self.directory / MANIFEST_FILE

    def write_chunk(self, name: str, runs: pa.Table, series: pa.Table) -> None:
        """The series file first, the runs file last (its rows mark the runs finished)."""
        _write_parquet(series, self.series_dir / f"{PART_PREFIX}{name}.parquet")
        _write_parquet(runs, self.runs_dir / f"{PART_PREFIX}{name}.parquet")

    def has_results(self) -> bool:
        return bool(_visible_parts(self.runs_dir) or _visible_parts(self.series_dir))

    def finished_run_ids(self) -> set[str]:
        """Run ids with a runs row (ok or error)."""
        parts = _visible_parts(self.runs_dir)
        if not parts:
            return set()
        return set(ds.dataset(parts, format="parquet").to_table(columns=["run_id"]).column("run_id").to_pylist())

    def clean(self) -> list[Path]:
        """Delete what a killed writer leaves: hidden temporary files, and series files whose
        runs file was never written. Returns the deleted paths."""
        removed = []
        for directory in (self.runs_dir, self.series_dir):
            if directory.is_dir():
                removed += [p for p in directory.iterdir() if p.name.startswith(".") and p.is_file()]
        finished = {p.name for p in _visible_parts(self.runs_dir)}
        removed += [p for p in _visible_parts(self.series_dir) if p.name not in finished]
        for path in removed:
            path.unlink(missing_ok=True)
        return removed

    def clear(self) -> None:
        """Remove every result and the manifest (a fresh start); the manifest first, so that a
        half-cleared directory does not look like a sweep."""
        self.manifest_path.unlink(missing_ok=True)
        for directory in (self.runs_dir, self.series_dir):
            shutil.rmtree(directory, ignore_errors=True)

    def part_files(self) -> list[tuple[Path, Path | None]]:
        """(runs file, its series file or None) of every finished chunk."""
        return [
            (p, self.series_dir / p.name if (self.series_dir / p.name).exists() else None)
            for p in _visible_parts(self.runs_dir)
        ]


def is_sweep_directory(directory: Path) -> bool:
    return (Path(directory) / MANIFEST_FILE).is_file() and (Path(directory) / RUNS_DIR).is_dir()


def read_manifest(directory: Path | str) -> dict | None:
    """A sweep directory's manifest (None if it has none); an InputFileError if it is unreadable
    or not a sweep's."""
    path = Path(directory) / MANIFEST_FILE
    if not path.exists():
        return None
    data = read_json(path, "the sweep's manifest")
    if not isinstance(data, dict) or data.get("kind") != MANIFEST_KIND:
        raise InputFileError(str(path), "kind", f"not a sweep's manifest (kind {MANIFEST_KIND!r} expected)")
    return data


def read_runs(directory: Path | str, columns: Sequence[str] | None = None, require: bool = False) -> pd.DataFrame:
    """The runs table of a sweep directory (every finished chunk; hidden temporary files are
    skipped). With `require`, a directory without runs is an InputFileError, not an empty table."""
    parts = _visible_parts(Path(directory) / RUNS_DIR)
    if not parts:
        if require:
            raise InputFileError(
                str(directory),
                None,
                f"no runs table ({RUNS_DIR}/*.parquet): not a sweep directory, "
                "or the sweep has not finished a chunk yet",
            )
        return runs_schema(()).empty_table().to_pandas()
    return ds.dataset(parts, format="parquet").to_table(columns=columns).to_pandas()


def read_run_ids(runs_file: Path) -> list[str]:
    return pq.read_table(runs_file, columns=["run_id"]).column("run_id").to_pylist()


def read_series(
    directory: Path | str,
    columns: Sequence[str] | None = None,
    months: Sequence[int] | None = None,
    run_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The series table (run_id, month, indicators), optionally only some columns, months or runs.
    Months the sweep did not record (beyond its horizon) are refused, naming the months it has:
    an empty frame would look like missing results."""
    parts = _visible_parts(Path(directory) / SERIES_DIR)
    if not parts:
        return SERIES_SCHEMA.empty_table().to_pandas()
    dataset = ds.dataset(parts, format="parquet")
    condition = None
    if months is not None:
        wanted = sorted({int(m) for m in months})
        recorded = dataset.to_table(columns=["month"]).column("month")
        low, high = pc.min(recorded).as_py(), pc.max(recorded).as_py()
        outside = [m for m in wanted if not low <= m <= high]
        if outside:
            raise InputFileError(
                str(directory), "months", f"{outside} are not in the series: it holds months {low} to {high}"
            )
        condition = ds.field("month").isin(wanted)
    if run_ids is not None:
        by_run = ds.field("run_id").isin(list(run_ids))
        condition = by_run if condition is None else condition & by_run
    columns = None if columns is None else list(dict.fromkeys(["run_id", "month", *columns]))
    return dataset.to_table(columns=columns, filter=condition).to_pandas()
