"""What the analyses read of a sweep directory besides its runs: the goals, the factors, the
baseline policy and the series at the goals' months."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from experiments.analysis.runs_table import factor_columns
from experiments.errors import from_file
from experiments.inputs.goals import Goal, load_goals, merge
from experiments.sweeps.store import MANIFEST_FILE, SERIES_DIR, read_series, verified_files
from simulation.errors import InputError

__all__ = ["default_baseline", "read_series_at", "sweep_factors", "sweep_goals"]


def read_series_at(sweep_dir: Path, goals: Mapping[str, Goal]) -> pd.DataFrame | None:
    """The series rows at the goals' months and at the last month (the horizon), or None when the
    goals need no other month than the horizon or the sweep has no series rows (its verified
    chunks only: a damaged one is an InputFileError naming it)."""
    months = {g.month for g in goals.values() if g.month is not None}
    if not months:
        return None
    files = [f for f in verified_files(sweep_dir, SERIES_DIR) if pq.read_metadata(f).num_rows]
    if not files:
        return None
    horizon = int(read_series(sweep_dir, columns=[])["month"].max())
    if months == {horizon}:
        return None
    indicators = sorted({g.indicator for g in goals.values()} & set(pq.read_schema(files[0]).names))
    wanted = sorted(m for m in months | {horizon} if m <= horizon)
    return read_series(sweep_dir, columns=indicators, months=wanted)


def sweep_goals(manifest: Mapping, source: str = MANIFEST_FILE) -> dict[str, Goal]:
    """The default goals (experiments/goals.toml) changed by the spec's goals table, if any."""
    spec = manifest.get("spec") if isinstance(manifest, Mapping) else None
    table = spec.get("goals") if isinstance(spec, Mapping) else None
    try:
        return merge(table or {}, load_goals())
    except InputError as error:
        raise from_file(source, error, "spec.goals") from None


def sweep_factors(runs: pd.DataFrame, manifest: Mapping) -> list[str]:
    """The design's factors in the spec's order (manifest spec.factors), else the runs table's."""
    spec = manifest.get("spec") if isinstance(manifest, Mapping) else None
    declared = spec.get("factors") if isinstance(spec, Mapping) else None
    if isinstance(declared, Mapping) and declared and all(k in runs.columns for k in declared):
        return list(declared)
    return factor_columns(runs)


def default_baseline(runs: pd.DataFrame, manifest: Mapping) -> str:
    """ "baseline" if the sweep has a policy of that name, else the spec's first policy (else the
    first by name)."""
    policies = sorted(runs["policy"].unique())
    spec = manifest.get("spec") if isinstance(manifest, Mapping) else None
    declared = spec.get("policies") if isinstance(spec, Mapping) else None
    if "baseline" in policies or not policies:
        return "baseline"
    return next((p for p in (declared or ()) if p in policies), policies[0])
