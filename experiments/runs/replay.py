"""Replay: re-run stored results from their manifest and check they are identical.

- A run directory: the scenario text stored in the manifest is validated again, run with the
  manifest's seed, replications, months and scale into a temporary directory, and its
  indicators are compared with the stored indicators.parquet value by value (NaN equals NaN).
- A comparison directory (one holding several run directories): each run is replayed.

Sweep directories are replayed by `experiments.sweeps.replay`, with the comparison of frames
and the verdict defined here. What differs is named: columns, months, runs, the largest
difference, and the package versions or git commit that differ from the manifest's.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.files import sha256_of
from experiments.runs.provenance import git_state, package_versions
from experiments.runs.rundir import (
    INDICATORS_FILE,
    MANIFEST_FILE,
    read_indicators,
    read_run_manifest,
    run_directories,
    scenario_of,
)
from experiments.runs.runner import run_scenario

__all__ = ["ColumnDifference", "ReplayResult", "compare_frames", "environment_differences", "replay_run", "replay_runs"]


@dataclass
class ColumnDifference:
    column: str
    months: list[int]
    groups: list  # the replications (run directories) or run ids (sweeps) where it differs
    max_difference: float
    group_name: str = "replications"


@dataclass
class ReplayResult:
    directory: Path
    identical: bool
    differences: list[ColumnDifference] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # shape, rows, file hash
    reasons: list[str] = field(default_factory=list)  # why it may differ: environment against the manifest

    what: str = "every indicator of every replication and month reproduced"

    def text(self) -> str:
        if self.identical:
            return f"{self.directory}: identical ({self.what})"
        lines = [f"{self.directory}: DIFFERENT"]
        lines += [f"  {p}" for p in self.problems]
        for d in self.differences:
            lines.append(
                f"  column {d.column}: differs at months {_span(d.months)} ({d.group_name} "
                f"{_span(d.groups)}), largest difference {d.max_difference:.6g}"
            )
        if self.reasons:
            lines.append("  it may differ because this environment is not the manifest's:")
            lines += [f"    {r}" for r in self.reasons]
        else:
            lines.append(
                "  git commit and package versions are the manifest's: the stored file was changed, "
                "or the model is not deterministic"
            )
        return "\n".join(lines)


def _span(values: list[int]) -> str:
    values = sorted(set(values))
    if len(values) > 8:
        return f"{', '.join(map(str, values[:8]))}, ... ({len(values)} in all)"
    return ", ".join(map(str, values))


def environment_differences(stored_versions: dict | None, git: dict | None) -> list[str]:
    """Package versions and git state of this environment that differ from a manifest's."""
    reasons = []
    stored = stored_versions or {}
    for name, version in package_versions().items():
        if name in stored and stored[name] != version:
            reasons.append(f"{name}: {stored[name]} in the manifest, {version} here")
    git, here = git or {}, git_state()
    if git.get("commit") != here.get("commit"):
        reasons.append(f"git commit: {git.get('commit')} in the manifest, {here.get('commit')} here")
    if here.get("dirty"):
        reasons.append("git: this working tree has uncommitted changes")
    if git.get("dirty"):
        reasons.append("git: the run was made from a working tree with uncommitted changes")
    return reasons


def compare_frames(
    stored: pd.DataFrame, fresh: pd.DataFrame, group: str = "replication", group_name: str = "replications"
) -> tuple[list[ColumnDifference], list[str]]:
    """Value-by-value differences of two frames keyed by (group, month): one entry per column."""
    problems = []
    if list(stored.columns) != list(fresh.columns):
        only_stored = [c for c in stored.columns if c not in fresh.columns]
        only_fresh = [c for c in fresh.columns if c not in stored.columns]
        problems.append(f"columns differ: only stored {only_stored}, only re-run {only_fresh}")
    if len(stored) != len(fresh):
        problems.append(f"rows differ: {len(stored)} stored, {len(fresh)} re-run")
    key = [group, "month"]
    merged = stored.merge(fresh, on=key, how="inner", suffixes=("", "__fresh"))
    differences = []
    for column in fresh.columns:
        if column in key or column not in stored.columns:
            continue
        a = merged[column].to_numpy(dtype=float)
        b = merged[column + "__fresh"].to_numpy(dtype=float)
        differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        if differ.any():
            gap = np.abs(a[differ] - b[differ])
            largest = float(np.nanmax(gap)) if np.isfinite(gap).any() else math.nan
            differences.append(
                ColumnDifference(
                    column,
                    merged.loc[differ, "month"].astype(int).tolist(),
                    merged.loc[differ, group].tolist(),
                    largest,
                    group_name,
                )
            )
    return differences, problems


def replay_run(directory: Path) -> ReplayResult:
    directory = Path(directory)
    manifest = read_run_manifest(directory)
    source = str(directory / MANIFEST_FILE)
    scenario = scenario_of(manifest, source)
    stored = read_indicators(directory)
    with tempfile.TemporaryDirectory(prefix="smesim-replay-") as tmp:
        fresh = run_scenario(scenario, Path(tmp), command=["smesim", "replay", str(directory)], progress=False).frame
    differences, problems = compare_frames(stored, fresh.reset_index(drop=True))
    expected = ((manifest.get("files") or {}).get(INDICATORS_FILE) or {}).get("sha256")
    if expected and sha256_of(directory / INDICATORS_FILE) != expected:
        problems.append(f"{INDICATORS_FILE} does not match the sha256 in the manifest: it was changed after the run")
    identical = not differences and not problems
    return ReplayResult(
        directory,
        identical,
        differences,
        problems,
        [] if identical else environment_differences(manifest.get("versions"), manifest.get("git")),
    )


def replay_runs(directory: Path) -> list[ReplayResult]:
    """Replay a run directory, or every run of a comparison directory (every manifest is
    checked before anything runs)."""
    run_dirs = run_directories(directory)
    for run in run_dirs:
        scenario_of(read_run_manifest(run), str(run / MANIFEST_FILE))
    return [replay_run(run) for run in run_dirs]
