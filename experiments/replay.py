"""`smesim replay DIR [--runs N|all]`: re-run stored results from their manifest and check
they are identical.

- A run directory: the scenario text stored in the manifest is validated again, run with the
  manifest's seed, replications, months and scale into a temporary directory, and its
  indicators are compared with the stored indicators.parquet value by value (NaN equals NaN).
- A comparison directory (one holding several run directories): each run is replayed.
- A sweep directory: the spec text stored in the manifest is parsed again and its run plan
  rebuilt (run ids and seeds); N of the stored successful runs (default 10, spread evenly over
  the sorted run ids; `all` for every one) are re-run in this process and their monthly
  series compared with the stored ones. A stored run id the plan no longer has means the
  design itself changed (e.g. another scipy draws other Sobol points).

Exit codes: 0 every run identical, 1 some run differs (what differs is printed: columns,
months, runs, largest difference, and the package versions or git commit that differ from
the manifest's), 2 bad input (not a run or sweep directory, no or unreadable manifest).
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.errors import ScenarioError
from experiments.files import sha256_of
from experiments.runner import INDICATORS_FILE, MANIFEST_FILE, git_state, package_versions, run_scenario
from experiments.scenario import Scenario, parse_scenario


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
            lines.append(f"  column {d.column}: differs at months {_span(d.months)} ({d.group_name} "
                         f"{_span(d.groups)}), largest difference {d.max_difference:.6g}")
        if self.reasons:
            lines.append("  it may differ because this environment is not the manifest's:")
            lines += [f"    {r}" for r in self.reasons]
        else:
            lines.append("  git commit and package versions are the manifest's: the stored file was changed, "
                         "or the model is not deterministic")
        return "\n".join(lines)


def _span(values: list[int]) -> str:
    values = sorted(set(values))
    if len(values) > 8:
        return f"{', '.join(map(str, values[:8]))}, ... ({len(values)} in all)"
    return ", ".join(map(str, values))


def is_run_directory(directory: Path) -> bool:
    return (directory / MANIFEST_FILE).is_file() and (directory / INDICATORS_FILE).is_file()


def run_directories(directory: Path) -> list[Path]:
    """The run directory itself, or the run directories inside a comparison directory (sorted,
    "baseline" first); a ScenarioError when there is none."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ScenarioError(str(directory), None, "no such directory")
    if is_run_directory(directory):
        return [directory]
    runs = sorted((p for p in directory.iterdir() if p.is_dir() and is_run_directory(p)),
                  key=lambda p: (p.name != "baseline", p.name))
    if not runs:
        raise ScenarioError(str(directory), None, f"not a run directory ({MANIFEST_FILE} and {INDICATORS_FILE}) "
                                                  "nor a directory holding run directories")
    return runs


def read_run_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ScenarioError(str(path), None, f"cannot read the manifest: {error}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scenario"), dict):
        raise ScenarioError(str(path), "scenario", "missing: not the manifest of a smesim run")
    return manifest


def scenario_of(manifest: dict, source: str) -> Scenario:
    """The scenario as it was run: the stored text with the manifest's run settings."""
    stored = manifest["scenario"]
    text = stored.get("text")
    if not isinstance(text, str):
        raise ScenarioError(source, "scenario.text", "missing: the manifest holds no scenario text")
    if stored.get("sha256") and hashlib.sha256(text.encode("utf-8")).hexdigest() != stored["sha256"]:
        raise ScenarioError(source, "scenario.sha256", "does not match the stored scenario text: the manifest was edited")
    scenario = parse_scenario(text, stored.get("file") or source, stored.get("name") or "scenario")
    settings = {key: manifest.get(key) for key in ("seed", "months", "scale", "replications")}
    missing = [key for key, value in settings.items() if value is None]
    if missing:
        raise ScenarioError(source, missing[0], "missing from the manifest")
    return scenario.with_overrides(**settings)


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


def compare_frames(stored: pd.DataFrame, fresh: pd.DataFrame, group: str = "replication",
                   group_name: str = "replications") -> tuple[list[ColumnDifference], list[str]]:
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
            differences.append(ColumnDifference(column, merged.loc[differ, "month"].astype(int).tolist(),
                                                merged.loc[differ, group].tolist(), largest, group_name))
    return differences, problems


def replay_run(directory: Path) -> ReplayResult:
    directory = Path(directory)
    manifest = read_run_manifest(directory)
    source = str(directory / MANIFEST_FILE)
    scenario = scenario_of(manifest, source)
    try:
        stored = pd.read_parquet(directory / INDICATORS_FILE)
    except Exception as error:  # noqa: BLE001 - any unreadable file is bad input
        raise ScenarioError(str(directory / INDICATORS_FILE), None, f"cannot read the indicators: {error}") from None
    with tempfile.TemporaryDirectory(prefix="smesim-replay-") as tmp:
        fresh = run_scenario(scenario, Path(tmp), command=["smesim", "replay", str(directory)], progress=False).frame
    differences, problems = compare_frames(stored, fresh.reset_index(drop=True))
    expected = ((manifest.get("files") or {}).get(INDICATORS_FILE) or {}).get("sha256")
    if expected and sha256_of(directory / INDICATORS_FILE) != expected:
        problems.append(f"{INDICATORS_FILE} does not match the sha256 in the manifest: it was changed after the run")
    identical = not differences and not problems
    return ReplayResult(directory, identical, differences, problems,
                        [] if identical else environment_differences(manifest.get("versions"), manifest.get("git")))


def is_sweep_directory(directory: Path) -> bool:
    from experiments.store import RUNS_DIR

    return (directory / MANIFEST_FILE).is_file() and (directory / RUNS_DIR).is_dir()


def _sweep_spec(directory: Path, manifest: dict):
    from experiments.sweep_spec import parse_sweep_spec

    source = str(directory / MANIFEST_FILE)
    for key in ("spec_text", "spec_name", "fingerprint"):
        if not isinstance(manifest.get(key), str):
            raise ScenarioError(source, key, "missing: the manifest holds no sweep specification")
    try:
        return parse_sweep_spec(manifest["spec_text"], manifest.get("spec_file") or source, manifest["spec_name"])
    except ScenarioError as error:
        raise ScenarioError(source, f"spec_text: {error.key}" if error.key else "spec_text", error.message) from None


def evenly_spread(items: list, count: int | None) -> list:
    """`count` items spread evenly over the list, first and last included (all when count is None)."""
    if count is None or count >= len(items):
        return list(items)
    if count <= 1:
        return items[:count]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def replay_sweep(directory: Path, runs: int | None = 10) -> ReplayResult:
    """Re-run `runs` of a sweep's stored successful runs (None: all) and compare their series."""
    from experiments.chunk import Chunk, run_chunk
    from experiments.design import RunPlan
    from experiments.store import OK, read_runs, read_series
    from experiments.sweep import read_manifest

    directory = Path(directory)
    manifest = read_manifest(directory)
    spec = _sweep_spec(directory, manifest)
    stored_runs = read_runs(directory, columns=["run_id", "status"])
    ids = sorted(stored_runs.loc[stored_runs["status"] == OK, "run_id"])
    if not ids:
        raise ScenarioError(str(directory), "runs", "no successful run to replay")
    chosen = evenly_spread(ids, runs)
    plan = {run.run_id: run for run in RunPlan(spec).runs}
    problems = []
    if spec.fingerprint != manifest["fingerprint"]:
        problems.append("the spec resolves differently now (another fingerprint): a scenario it names has changed")
    unknown = [run_id for run_id in chosen if run_id not in plan]
    if unknown:
        problems.append(f"{len(unknown)} stored run id(s) are not in the spec's run plan (e.g. {unknown[0]}): "
                        "the design's points or the run inputs differ")
    known = [plan[run_id] for run_id in chosen if run_id in plan]
    differences = []
    if known:
        fresh = run_chunk(Chunk(spec, tuple(known)))
        failed = [row["run_id"] for row in fresh.runs.to_pylist() if row["status"] != OK]
        if failed:
            problems.append(f"{len(failed)} run(s) stored as ok fail now (e.g. {failed[0]})")
        stored = read_series(directory, run_ids=[run.run_id for run in known])
        key = ["run_id", "month"]
        differences, shape = compare_frames(stored.sort_values(key).reset_index(drop=True),
                                            fresh.series.to_pandas().sort_values(key).reset_index(drop=True),
                                            group="run_id", group_name="runs")
        problems += shape
    identical = not differences and not problems
    versions = (manifest.get("versions") or {}).get("client")
    return ReplayResult(directory, identical, differences, problems,
                        [] if identical else environment_differences(versions, manifest.get("git")),
                        what=f"{len(known)} of {len(ids)} stored runs re-run: every indicator of every month reproduced")


def replay_command(directory: Path | str, runs: int | None = 10) -> int:
    """Replay every run of DIR (for a sweep: `runs` of its runs, None all); print the verdicts;
    0 all identical, 1 some differ."""
    directory = Path(directory)
    if is_sweep_directory(directory):
        results = [replay_sweep(directory, runs)]
    else:
        run_dirs = run_directories(directory)
        for run in run_dirs:  # every manifest is checked before anything runs
            scenario_of(read_run_manifest(run), str(run / MANIFEST_FILE))
        results = [replay_run(run) for run in run_dirs]
    for result in results:
        print(result.text())
    different = [r for r in results if not r.identical]
    what = "sweep" if is_sweep_directory(directory) else "run(s)"
    if different:
        print(f"\nREPLAY DIFFERS: {len(different)} of {len(results)} {what} not reproduced")
        return 1
    print(f"\nreplay: {len(results)} {what} reproduced exactly")
    return 0
