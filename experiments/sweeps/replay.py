"""Replay of a sweep directory: the spec text stored in the manifest is parsed again and its run
plan rebuilt (run ids and seeds); N of the stored successful runs (default 10, spread evenly over
the sorted run ids; None for every one) are re-run in this process and their monthly series
compared with the stored ones. A stored run id the plan no longer has means the design itself
changed (e.g. another scipy draws other Sobol points)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from experiments.errors import InputFileError
from experiments.files import sha256_text
from experiments.inputs.sweep_spec import SweepSpec, parse_stored_spec
from experiments.runs.replay import (
    ABSENT,
    ColumnDifference,
    ReplayResult,
    compare_frames,
    environment_differences,
    value_differences,
    value_text,
)
from experiments.sweeps.chunk import Chunk, run_chunk
from experiments.sweeps.design import RunPlan
from experiments.sweeps.store import MANIFEST_FILE, OK, read_manifest, read_runs, read_series

__all__ = ["evenly_spread", "replay_sweep"]


def _sweep_spec(directory: Path, manifest: dict) -> SweepSpec:
    source = str(directory / MANIFEST_FILE)
    if not isinstance(manifest.get("fingerprint"), str):
        raise InputFileError(source, "fingerprint", "missing: the manifest holds no sweep specification")
    return parse_stored_spec(manifest, source)


def _manifest_problems(manifest: dict, spec: SweepSpec) -> list[str]:
    """The manifest's records that its stored spec text gives otherwise."""
    problems = []
    if manifest.get("spec_sha256") != sha256_text(manifest["spec_text"]):
        problems.append(f"{MANIFEST_FILE} spec_sha256: is not the sha256 of the stored spec_text")
    if spec.fingerprint != manifest["fingerprint"]:
        problems.append("the spec resolves differently now (another fingerprint): a scenario it names has changed")
    for key, recorded, derived in value_differences(manifest.get("spec", ABSENT), spec.resolved(), "spec")[:5]:
        problems.append(
            f"{MANIFEST_FILE} {key}: {value_text(recorded)} recorded, {value_text(derived)} from the stored spec text"
        )
    return problems


def _runs_table_problems(directory: Path, fresh: pd.DataFrame) -> list[str]:
    """The stored runs rows of the re-run runs against the re-run's: every column but the
    run's wall time and worker."""
    columns = [c for c in fresh.columns if c not in ("wall_seconds", "worker")]
    stored = read_runs(directory).set_index("run_id").loc[fresh["run_id"]].reset_index()
    fresh = fresh.set_index("run_id").loc[stored["run_id"]].reset_index()
    problems = []
    for column in columns:
        same = (stored[column] == fresh[column]) | (stored[column].isna() & fresh[column].isna())
        if not same.all():
            run_id = stored.loc[~same, "run_id"].iloc[0]
            problems.append(
                f"runs table {column}: {int((~same).sum())} run(s) differ from the re-run (e.g. run {run_id}: "
                f"{stored.loc[~same, column].iloc[0]!r} stored, {fresh.loc[~same, column].iloc[0]!r} re-run)"
            )
    return problems


def evenly_spread(items: list, count: int | None) -> list:
    """`count` items spread evenly over the list, first and last included (all when count is None)."""
    if count is None or count >= len(items):
        return list(items)
    if count <= 1:
        return items[:count]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def replay_sweep(directory: Path, runs: int | None = 10) -> ReplayResult:
    """Re-run `runs` of a sweep's stored successful runs (None: all) and compare their series."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        raise InputFileError(str(directory), None, f"no {MANIFEST_FILE}: not a sweep directory")
    spec = _sweep_spec(directory, manifest)
    stored_runs = read_runs(directory, columns=["run_id", "status"])
    ids = sorted(stored_runs.loc[stored_runs["status"] == OK, "run_id"])
    if not ids:
        raise InputFileError(str(directory), "runs", "no successful run to replay")
    chosen = evenly_spread(ids, runs)
    plan = {run.run_id: run for run in RunPlan(spec).runs}
    problems = []
    problems += _manifest_problems(manifest, spec)
    unknown = [run_id for run_id in chosen if run_id not in plan]
    if unknown:
        problems.append(
            f"{len(unknown)} stored run id(s) are not in the spec's run plan (e.g. {unknown[0]}): "
            "the design's points or the run inputs differ"
        )
    known = [plan[run_id] for run_id in chosen if run_id in plan]
    differences: list[ColumnDifference] = []
    if known:
        fresh = run_chunk(Chunk(spec, tuple(known)))
        failed = [row["run_id"] for row in fresh.runs.to_pylist() if row["status"] != OK]
        if failed:
            problems.append(f"{len(failed)} run(s) stored as ok fail now (e.g. {failed[0]})")
        stored = read_series(directory, run_ids=[run.run_id for run in known])
        key = ["run_id", "month"]
        differences, shape = compare_frames(
            stored.sort_values(key).reset_index(drop=True),
            fresh.series.to_pandas().sort_values(key).reset_index(drop=True),
            group="run_id",
            group_name="runs",
        )
        problems += shape + _runs_table_problems(directory, fresh.runs.to_pandas())
    identical = not differences and not problems
    versions = (manifest.get("versions") or {}).get("client")
    return ReplayResult(
        directory,
        identical,
        differences,
        problems,
        [] if identical else environment_differences(versions, manifest.get("git")),
        what=f"{len(known)} of {len(ids)} stored runs re-run: their runs rows and every indicator of every month "
        "reproduced",
    )
