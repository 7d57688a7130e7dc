"""The data of a report: a run, a comparison or a sweep read and summarised (goals, paired
differences, Sobol indices, inputs and provenance).

The inputs and goals are re-derived from the text stored in each manifest (a run's scenario
text, a sweep's spec text), not read from the manifest's editable copies of them
(`scenario.validated`, `spec`); where those copies differ, or indicators.parquet no longer has
its recorded sha256, `warnings` says so."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from experiments.analysis.compare import compare
from experiments.analysis.runs_table import ok_runs
from experiments.analysis.sensitivity import sensitivity
from experiments.analysis.statistics import mean_interval, wilson_interval
from experiments.analysis.sweep_data import default_baseline, read_series_at, sweep_factors, sweep_goals
from experiments.errors import InputFileError, from_file
from experiments.inputs.goals import Goal, load_goals, merge
from experiments.inputs.sweep_spec import parse_stored_spec
from experiments.runs.replay import ABSENT, indicators_changed, value_differences
from experiments.runs.rundir import (
    INDICATORS_FILE,
    MANIFEST_FILE,
    inputs_of,
    is_run_directory,
    read_indicators,
    read_run_manifest,
    run_directories,
)
from experiments.sweeps.store import RUNS_DIR, SERIES_DIR, read_manifest, read_runs, read_series
from simulation.errors import InputError
from simulation.policy import Policy

__all__ = [
    "BOOTSTRAP",
    "CONFIDENCE",
    "COST",
    "EXPORTS",
    "JOBS",
    "QUANTILE_BAND_ABOVE",
    "ReportData",
    "goal_indicators",
    "load",
]

CONFIDENCE = 0.95
BOOTSTRAP = 200
QUANTILE_BAND_ABOVE = 20  # more members than this: a 5-95% band instead of min-max
COST = "policy_spend_usd"  # the government's fiscal cost, cumulative
JOBS = ("employment", "sme_employment")  # the first one the results have: extra jobs
EXPORTS = "exports_usd"  # SME exports, USD a year


@dataclass
class ReportData:
    kind: str  # "run", "comparison" or "sweep"
    directory: Path
    groups: list[str]  # scenarios or policies, the reference first
    series: pd.DataFrame  # group, member, month and the indicators
    goals: dict[str, Goal]
    horizon: int
    scale: float
    goal_rows: list[dict] = field(default_factory=list)  # per goal and group
    diffs: list[dict] = field(default_factory=list)  # per group (not the reference) and goal indicator, at the horizon
    sensitivity: pd.DataFrame | None = None
    # per scenario (a sweep: "spec" and per policy): settings, command_line_overrides, levers
    # [(lever, setting, value)] differing from the defaults, uncertainties, constants, shocks, factors
    inputs: list[tuple[str, dict]] = field(default_factory=list)
    # per group: the fiscal cost at the horizon (mean over members) and, against the reference,
    # the extra cost and the gains in jobs and yearly exports (mean paired differences)
    costs: list[dict] = field(default_factory=list)
    provenance: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    # (kind, fields): "inputs_differ" / "spec_differs" (file, differences), "results_changed" (file)
    warnings: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.groups[0]

    @property
    def members(self) -> int:
        return int(self.series.groupby("group")["member"].nunique().min())


def load(directory: Path) -> ReportData:
    directory = Path(directory)
    if not directory.is_dir():
        raise InputFileError(str(directory), None, "no such directory")
    data = _load_sweep(directory) if (directory / RUNS_DIR).is_dir() else _load_runs(directory)
    data.costs = _costs(data)
    return data


def _costs(data: ReportData) -> list[dict]:
    """Each group's fiscal cost at the horizon and, against the reference, the mean paired
    differences in cost, jobs and yearly exports (members paired by `pair`: the replication, or
    in a sweep the seed that policies share)."""
    if COST not in data.series.columns:
        return []
    jobs = next((j for j in JOBS if j in data.series.columns), None)
    columns = [c for c in (COST, jobs, EXPORTS) if c is not None and c in data.series.columns]
    last = data.series[data.series["month"] == data.horizon]
    at = {g: last[last["group"] == g].groupby("pair")[columns].mean() for g in data.groups}
    rows = []
    for g in data.groups:
        row = {"group": g, "spend": float(at[g][COST].mean()) if len(at[g]) else math.nan, "jobs_indicator": jobs}
        if g != data.reference:
            both = at[g].index.intersection(at[data.reference].index)
            n = len(both)
            diff = (at[g].loc[both] - at[data.reference].loc[both]).mean() if n else pd.Series(dtype=float)
            row.update(
                pairs=n,
                extra_spend=float(diff.get(COST, math.nan)),
                jobs_gain=float(diff.get(jobs, math.nan)) if jobs else math.nan,
                exports_gain=float(diff.get(EXPORTS, math.nan)),
            )
        rows.append(row)
    return rows


def _goals_of(inputs: dict, source: str) -> dict[str, Goal]:
    table = inputs.get("goals")
    try:
        return merge(table) if table else load_goals()
    except InputError as error:
        raise from_file(source, error, "scenario.text: goals") from None


def _run_warnings(run: Path, manifest: dict, inputs: dict) -> list[tuple[str, dict]]:
    """What in a run directory disagrees with its manifest's stored text and file hash."""
    found = []
    recorded = manifest["scenario"].get("validated", ABSENT)
    differences = value_differences(recorded, inputs, "scenario.validated")
    if differences:
        found.append(("inputs_differ", {"file": str(run / MANIFEST_FILE), "differences": differences}))
    if indicators_changed(run, manifest):
        found.append(("results_changed", {"file": str(run / INDICATORS_FILE)}))
    return found


def _load_runs(directory: Path) -> ReportData:
    runs = run_directories(directory)
    kind = "run" if is_run_directory(directory) else "comparison"
    frames, manifests, inputs = {}, {}, {}
    for run in runs:
        manifests[run.name] = read_run_manifest(run)
        inputs[run.name] = inputs_of(manifests[run.name], str(run / MANIFEST_FILE))
        frames[run.name] = read_indicators(run)
    warnings = [found for run in runs for found in _run_warnings(run, manifests[run.name], inputs[run.name])]
    groups = list(frames)
    if kind == "run":
        groups = [manifests[runs[0].name]["scenario"].get("name") or runs[0].name]
        frames = {groups[0]: frames[runs[0].name]}
        manifests = {groups[0]: manifests[runs[0].name]}
    series = pd.concat(
        [f.assign(group=g, member=f["replication"], pair=f["replication"]) for g, f in frames.items()],
        ignore_index=True,
    )
    reference = groups[0]
    goals = _goals_of(inputs[runs[0].name], str(runs[0] / MANIFEST_FILE))
    horizon = int(series["month"].max())
    data = ReportData(kind, directory, groups, series, goals, horizon, float(manifests[reference].get("scale", 1.0)))
    data.warnings = warnings

    for goal in goals.values():
        month = goal.month_for(horizon)
        at = {
            g: series[(series["group"] == g) & (series["month"] == month)].set_index("member")[goal.indicator]
            for g in groups
        }
        for g in groups:
            values = at[g].dropna()
            row = _value_row(goal, g, month, values)
            if g != reference and len(values):
                both = at[reference].index.intersection(at[g].index)
                n, mean, _, low, high = mean_interval((at[g][both] - at[reference][both]).to_numpy(), CONFIDENCE)
                row.update(change=mean, change_low=low, change_high=high, pairs=n)
            data.goal_rows.append(row)
    last = series[series["month"] == horizon]
    for g in groups[1:]:
        for indicator in goal_indicators(goals):
            a = last[last["group"] == reference].set_index("member")[indicator]
            b = last[last["group"] == g].set_index("member")[indicator]
            both = a.index.intersection(b.index)
            n, mean, _, low, high = mean_interval((b[both] - a[both]).to_numpy(), CONFIDENCE)
            data.diffs.append(
                {"group": g, "indicator": indicator, "pairs": n, "difference": mean, "ci_low": low, "ci_high": high}
            )
    for g, run in zip(groups, runs, strict=True):
        data.inputs.append(
            (g, _scenario_inputs(manifests[g] if kind == "run" else manifests[run.name], inputs[run.name]))
        )
        data.provenance.append((g, _run_provenance(manifests[g] if kind == "run" else manifests[run.name], run)))
    return data


def _value_row(goal: Goal, group: str, month: int, values: pd.Series) -> dict:
    met = int(sum(goal.is_met(float(v)) for v in values))
    n = len(values)
    low, high = wilson_interval(met, n, CONFIDENCE)
    return {
        "goal": goal.name,
        "group": group,
        "month": month,
        "n": n,
        "met": met,
        "mean": float(values.mean()) if n else math.nan,
        "min": float(values.min()) if n else math.nan,
        "max": float(values.max()) if n else math.nan,
        "probability": met / n if n else math.nan,
        "p_low": low,
        "p_high": high,
    }


def goal_indicators(goals: dict[str, Goal]) -> list[str]:
    return list(dict.fromkeys(g.indicator for g in goals.values()))


def _load_sweep(directory: Path) -> ReportData:
    runs = read_runs(directory, require=True)
    manifest, warnings = _sweep_manifest(directory)
    source = str(directory / MANIFEST_FILE)
    goals = sweep_goals(manifest, source)
    baseline = default_baseline(runs, manifest)
    good = ok_runs(runs)
    series = read_series(directory)  # its verified chunks: a damaged one is named
    if series.empty:
        raise InputFileError(str(directory), None, f"no {SERIES_DIR}/ rows: not a complete sweep")
    series = series.merge(good[["run_id", "policy", "seed"]], on="run_id").rename(
        columns={"policy": "group", "run_id": "member", "seed": "pair"}  # policies share their seeds
    )
    policies = sorted(good["policy"].unique())
    groups = [baseline] + [p for p in policies if p != baseline] if baseline in policies else policies
    horizon = int(series["month"].max())
    spec = manifest.get("spec") or {}
    data = ReportData("sweep", directory, groups, series, goals, horizon, float(spec.get("scale", 1.0)))
    data.warnings = warnings
    try:
        result = compare(
            runs,
            goals,
            groups[0],
            CONFIDENCE,
            series=read_series_at(directory, goals),
            indicators=goal_indicators(goals),
            n_bootstrap=BOOTSTRAP,
        )
    except InputError as error:
        raise from_file(str(directory), error) from None
    for goal in goals.values():
        month = goal.month_for(horizon)
        for g in groups:
            values = series[(series["group"] == g) & (series["month"] == month)][goal.indicator].dropna()
            row = _value_row(goal, g, month, values)
            found = result["goals"][(result["goals"]["policy"] == g) & (result["goals"]["goal"] == goal.name)]
            if len(found):
                r = found.iloc[0]
                row.update(probability=r["probability"], p_low=r["ci_low"], p_high=r["ci_high"])
            data.goal_rows.append(row)
    for _, r in result["compare"].iterrows():
        data.diffs.append(
            {
                "group": r["policy"],
                "indicator": r["indicator"],
                "pairs": int(r["pairs"]),
                "difference": r["difference"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
            }
        )
    blocks = runs["design_block"].astype(str) if "design_block" in runs.columns else pd.Series(dtype=str)
    factors = sweep_factors(runs, manifest)
    if factors and blocks.isin(["A", "B"]).any():
        try:
            data.sensitivity = pd.concat(
                [
                    sensitivity(good, factors, name, BOOTSTRAP, CONFIDENCE)
                    for name in goal_indicators(goals)
                    if name in runs.columns
                ],
                ignore_index=True,
            )
        except InputError as error:
            raise from_file(str(directory), error) from None
    data.inputs = _sweep_inputs(spec)
    data.provenance.append((directory.name, _flatten({k: v for k, v in manifest.items() if k != "spec"})))
    data.provenance.append(("spec", _flatten({k: v for k, v in spec.items() if k != "goals"})))
    return data


def _sweep_manifest(directory: Path) -> tuple[dict, list[tuple[str, dict]]]:
    """The sweep's manifest with its `spec` re-derived from the stored spec text, and a warning
    when the recorded `spec` differs from that."""
    manifest = read_manifest(directory) or {}
    resolved = parse_stored_spec(manifest, str(directory / MANIFEST_FILE)).resolved()
    differences = value_differences(manifest.get("spec", ABSENT), resolved, "spec")
    warnings = [("spec_differs", {"file": str(directory / MANIFEST_FILE), "differences": differences})]
    return {**manifest, "spec": resolved}, warnings if differences else []


def _scenario_inputs(manifest: dict, validated: dict) -> dict:
    """The run settings (manifest) and the inputs (`validated`: as re-derived by rundir.inputs_of)."""
    return {
        "settings": {k: manifest.get(k) for k in ("seed", "replications", "months", "scale")},
        "command_line_overrides": manifest.get("command_line_overrides") or {},
        "levers": changed_levers(validated.get("levers") or {}),
        "uncertainties": validated.get("uncertainties") or {},
        "constants": validated.get("constants") or {},
        "shocks": validated.get("shocks") or [],
    }


def changed_levers(levers: dict) -> list[tuple[str, str, object]]:
    """(lever, setting, value) of the settings that differ from the defaults."""
    defaults = Policy.from_dict({}).to_dict()
    return [
        (lever, key, value)
        for lever, settings in levers.items()
        for key, value in settings.items()
        if defaults.get(lever, {}).get(key) != value
    ]


def _sweep_inputs(spec: dict) -> list[tuple[str, dict]]:
    """The sweep's settings and factors, then each policy's levers that differ from the defaults."""
    settings = {k: spec.get(k) for k in ("seed", "replications", "months", "scale")}
    base = (spec.get("base") or {}).get("content") or {}
    first = {
        "settings": settings,
        "design": spec.get("design") or {},
        "factors": spec.get("factors") or {},
        "uncertainties": base.get("uncertainties") or {},
        "constants": base.get("constants") or {},
        "shocks": base.get("shocks") or [],
    }
    policies = spec.get("policies") or {}
    return [("spec", first)] + [(name, {"levers": changed_levers(levers or {})}) for name, levers in policies.items()]


def _run_provenance(manifest: dict, run: Path) -> list[tuple[str, str]]:
    scenario = manifest.get("scenario") or {}
    keep = {"directory": str(run), "scenario file": scenario.get("file"), "scenario sha256": scenario.get("sha256")}
    keep.update(
        {
            k: manifest.get(k)
            for k in (
                "seed",
                "model_seeds",
                "replications",
                "months",
                "scale",
                "command",
                "git",
                "versions",
                "started",
                "finished",
                "wall_seconds",
                "files",
            )
        }
    )
    return _flatten(keep)


def _compact(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _flatten(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and len(json.dumps(value)) > 80:
            rows += _flatten(value, name + ".")
        else:
            text = _compact(value)
            rows.append((name, text if len(text) <= 400 else text[:400] + " …"))
    return rows
