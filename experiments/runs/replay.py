"""Replay: re-run stored results from their manifest and check they are identical.

- A run directory: the scenario text stored in the manifest is validated again, run with the
  manifest's seed, replications, months and scale into a temporary directory, and its
  indicators are compared with the stored indicators.parquet value by value (NaN equals NaN).
  The manifest's own records are checked too: `scenario.validated` against the inputs parsed
  again from the stored text (`rundir.inputs_of`), `goals` and `model_seeds` against the re-run's.
- A comparison directory (one holding several run directories): each run is replayed.

Sweep directories are replayed by `experiments.sweeps.replay`, with the comparison of frames
and the verdict defined here. What differs is named: columns, months, runs, the largest
difference, and the package versions or git commit that differ from the manifest's.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.files import sha256_of
from experiments.runs.provenance import git_state, package_versions
from experiments.runs.rundir import (
    INDICATORS_FILE,
    MANIFEST_FILE,
    inputs_of,
    read_indicators,
    read_run_manifest,
    run_directories,
    scenario_of,
)
from experiments.runs.runner import run_scenario

__all__ = [
    "ABSENT",
    "ColumnDifference",
    "ReplayResult",
    "compare_frames",
    "environment_differences",
    "indicators_changed",
    "replay_run",
    "replay_runs",
    "value_differences",
    "value_text",
]

ABSENT = object()  # a key one side of value_differences lacks
RE_RUN_RECORDS = ("goals", "model_seeds")  # what the manifest records of the results besides their file


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


def value_differences(recorded, derived, key: str) -> list[tuple[str, object, object]]:
    """(dotted key, recorded, derived) wherever two JSON-like values differ: tables key by key,
    lists of one length item by item; numbers by value (NaN equals NaN)."""
    if isinstance(recorded, Mapping) and isinstance(derived, Mapping):
        keys = [*derived, *(k for k in recorded if k not in derived)]
        return [
            d for k in keys for d in value_differences(recorded.get(k, ABSENT), derived.get(k, ABSENT), f"{key}.{k}")
        ]
    if isinstance(recorded, list | tuple) and isinstance(derived, list | tuple) and len(recorded) == len(derived):
        return [
            d
            for i, pair in enumerate(zip(recorded, derived, strict=True))
            for d in value_differences(*pair, f"{key}[{i}]")
        ]
    same = recorded == derived or (_is_nan(recorded) and _is_nan(derived))
    return [] if same else [(key, recorded, derived)]


def _is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def value_text(value, limit: int = 80) -> str:
    """A value of value_differences for a message: floats to 6 digits, others as JSON (cut at `limit`)."""
    if value is ABSENT:
        return "absent"
    text = f"{value:.6g}" if isinstance(value, float) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"


def _difference_text(key: str, recorded, derived, derived_from: str) -> str:
    """E.g. `scenario.validated.levers.clinics.budget_usd: 9e+09 recorded, 1e+08 from the stored scenario text`."""
    return f"{key}: {value_text(recorded)} recorded, {value_text(derived)} {derived_from}"


def indicators_changed(directory: Path, manifest: dict) -> bool:
    """Whether indicators.parquet no longer has the sha256 the manifest records for it."""
    expected = ((manifest.get("files") or {}).get(INDICATORS_FILE) or {}).get("sha256")
    return bool(expected) and sha256_of(Path(directory) / INDICATORS_FILE) != expected


def _record_problems(manifest: dict, source: str, fresh_manifest: dict) -> list[str]:
    """The manifest's records that the stored text (inputs) or the re-run (goals, seeds) gives otherwise."""
    validated = manifest["scenario"].get("validated", ABSENT)
    found = [
        ("from the stored scenario text", d)
        for d in value_differences(validated, inputs_of(manifest, source), "scenario.validated")
    ]
    for name in RE_RUN_RECORDS:
        found += [("re-run", d) for d in value_differences(manifest.get(name, ABSENT), fresh_manifest[name], name)]
    return [f"manifest {_difference_text(*d, derived_from)}" for derived_from, d in found]


def replay_run(directory: Path) -> ReplayResult:
    directory = Path(directory)
    manifest = read_run_manifest(directory)
    source = str(directory / MANIFEST_FILE)
    scenario = scenario_of(manifest, source)
    stored = read_indicators(directory)
    with tempfile.TemporaryDirectory(prefix="smesim-replay-") as tmp:
        fresh = run_scenario(scenario, Path(tmp), command=["smesim", "replay", str(directory)], progress=False).frame
        fresh_manifest = read_run_manifest(Path(tmp))  # as JSON, like the stored one
    differences, problems = compare_frames(stored, fresh.reset_index(drop=True))
    if indicators_changed(directory, manifest):
        problems.append(f"{INDICATORS_FILE} does not match the sha256 in the manifest: it was changed after the run")
    problems += _record_problems(manifest, source, fresh_manifest)
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
