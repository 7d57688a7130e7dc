"""`smesim replay DIR`: re-run a stored run from its manifest and check the indicators are identical.

The scenario text stored in the manifest is validated again, run with the manifest's seed,
replications, months and scale into a temporary directory, and its indicators are compared
with the stored indicators.parquet value by value (NaN equals NaN). A comparison directory
(one holding several run directories) replays each run.

Exit codes: 0 every run identical, 1 some run differs (what differs is printed: columns,
months, largest difference, and the package versions or git commit that differ from the
manifest's), 2 bad input (not a run directory, no or unreadable manifest).
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
    replications: list[int]
    max_difference: float


@dataclass
class ReplayResult:
    directory: Path
    identical: bool
    differences: list[ColumnDifference] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # shape, rows, file hash
    reasons: list[str] = field(default_factory=list)  # why it may differ: environment against the manifest

    def text(self) -> str:
        if self.identical:
            return f"{self.directory}: identical (every indicator of every replication and month reproduced)"
        lines = [f"{self.directory}: DIFFERENT"]
        lines += [f"  {p}" for p in self.problems]
        for d in self.differences:
            lines.append(f"  column {d.column}: differs at months {_span(d.months)} (replications "
                         f"{_span(d.replications)}), largest difference {d.max_difference:.6g}")
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


def environment_differences(manifest: dict) -> list[str]:
    """Package versions and git state of this environment that differ from the manifest's."""
    reasons = []
    stored = manifest.get("versions") or {}
    for name, version in package_versions().items():
        if name in stored and stored[name] != version:
            reasons.append(f"{name}: {stored[name]} in the manifest, {version} here")
    git, here = manifest.get("git") or {}, git_state()
    if git.get("commit") != here.get("commit"):
        reasons.append(f"git commit: {git.get('commit')} in the manifest, {here.get('commit')} here")
    if here.get("dirty"):
        reasons.append("git: this working tree has uncommitted changes")
    if git.get("dirty"):
        reasons.append("git: the run was made from a working tree with uncommitted changes")
    return reasons


def compare_frames(stored: pd.DataFrame, fresh: pd.DataFrame) -> tuple[list[ColumnDifference], list[str]]:
    problems = []
    if list(stored.columns) != list(fresh.columns):
        only_stored = [c for c in stored.columns if c not in fresh.columns]
        only_fresh = [c for c in fresh.columns if c not in stored.columns]
        problems.append(f"columns differ: only stored {only_stored}, only re-run {only_fresh}")
    if len(stored) != len(fresh):
        problems.append(f"rows differ: {len(stored)} stored, {len(fresh)} re-run")
    key = ["replication", "month"]
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
                                                merged.loc[differ, "replication"].astype(int).tolist(), largest))
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
                        [] if identical else environment_differences(manifest))


def replay_command(directory: Path | str) -> int:
    """Replay every run of DIR; print the verdicts; 0 all identical, 1 some differ."""
    runs = run_directories(Path(directory))
    for run in runs:  # every manifest is checked before anything runs
        scenario_of(read_run_manifest(run), str(run / MANIFEST_FILE))
    results = [replay_run(run) for run in runs]
    for result in results:
        print(result.text())
    different = [r for r in results if not r.identical]
    if different:
        print(f"\nREPLAY DIFFERS: {len(different)} of {len(results)} run(s) not reproduced")
        return 1
    print(f"\nreplay: {len(results)} run(s) reproduced exactly")
    return 0
