"""The run directory of `smesim run`, written and read here only.

    <dir>/indicators.parquet   one row per replication and month (month 0 = the initial state):
                               replication (int32), seed (int64, the scenario's seed), month
                               (int32), then one float64 column per indicator in
                               `simulation.indicators.INDICATORS` order
    <dir>/manifest.json        written last: the scenario (text, sha256, validated content), run
                               settings, command, git commit, package versions, times, goals
                               checked and the files' sha256

Both are written atomically and the earlier run's outputs are removed first (the manifest
before the indicators), so a directory with a manifest.json holds a complete run. A
comparison directory holds several run directories (the demo's results/demo/).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from experiments.errors import InputFileError
from experiments.files import MANIFEST_FILE, read_json, sha256_of, write_json_atomically, write_parquet_atomically
from experiments.inputs.goals import GoalOutcome
from experiments.inputs.scenario import Scenario, parse_scenario
from experiments.runs.provenance import git_state, now, package_versions
from simulation import INDICATORS, SMEModel

__all__ = [
    "INDICATORS_FILE",
    "MANIFEST_FILE",
    "SCHEMA",
    "inputs_of",
    "is_run_directory",
    "monthly_frame",
    "read_indicators",
    "read_run_manifest",
    "remove_outputs",
    "replication_frame",
    "run_directories",
    "scenario_of",
    "write_run_directory",
]

INDICATORS_FILE = "indicators.parquet"
MANIFEST_VERSION = 1
SCHEMA = pa.schema(
    [
        ("replication", pa.int32()),
        ("seed", pa.int64()),
        ("month", pa.int32()),
        *((name, pa.float64()) for name in INDICATORS),
    ]
)


# --- the frames -------------------------------------------------------------------------------


def monthly_frame(model: SMEModel, outcomes: Sequence[str] = INDICATORS) -> pd.DataFrame:
    """The model's collected indicators, one row per month from 0: `month` (int32), then one
    float64 column per outcome."""
    frame = model.datacollector.get_model_vars_dataframe()[list(outcomes)].astype("float64").reset_index(drop=True)
    frame.insert(0, "month", np.arange(len(frame), dtype=np.int32))
    return frame


def replication_frame(model: SMEModel, replication: int, seed: int) -> pd.DataFrame:
    """One replication's rows of indicators.parquet."""
    frame = monthly_frame(model)
    frame.insert(0, "seed", seed)
    frame.insert(0, "replication", replication)
    return frame


# --- writing ----------------------------------------------------------------------------------


def remove_outputs(out_dir: Path) -> None:
    """Outputs of an earlier run would look complete beside a half-written new one."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (MANIFEST_FILE, INDICATORS_FILE):  # the manifest first: without it, a directory is incomplete
        (out_dir / name).unlink(missing_ok=True)


def write_run_directory(
    out_dir: Path,
    scenario: Scenario,
    frame: pd.DataFrame,
    goals: Sequence[GoalOutcome],
    *,
    command: Sequence[str],
    started: str,
    seconds: float,
    model_seeds: Sequence[int],
) -> dict:
    """Write indicators.parquet, then manifest.json; returns the manifest."""
    write_parquet_atomically(
        pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), out_dir / INDICATORS_FILE
    )
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "scenario": {
            "name": scenario.name,
            "file": scenario.file,
            "sha256": scenario.sha256,
            "text": scenario.text,
            "validated": scenario.to_dict(),
        },
        "seed": scenario.seed,
        "replications": scenario.replications,
        "replication_seeds": "numpy.random.SeedSequence(seed, spawn_key=(replication,))",
        "model_seeds": [int(s) for s in model_seeds],
        "months": scenario.months,
        "scale": scenario.scale,
        "command_line_overrides": dict(scenario.overrides),
        "command": list(command),
        "git": git_state(),
        "versions": package_versions(),
        "started": started,
        "finished": now(),
        "wall_seconds": round(seconds, 3),
        "goals": [outcome.to_dict() for outcome in goals],
        "files": {INDICATORS_FILE: {"sha256": sha256_of(out_dir / INDICATORS_FILE), "rows": len(frame)}},
    }
    write_json_atomically(manifest, out_dir / MANIFEST_FILE)
    return manifest


# --- reading ----------------------------------------------------------------------------------


def is_run_directory(directory: Path) -> bool:
    return (directory / MANIFEST_FILE).is_file() and (directory / INDICATORS_FILE).is_file()


def run_directories(directory: Path) -> list[Path]:
    """The run directory itself, or the run directories inside a comparison directory (sorted,
    "baseline" first); an InputFileError when there is none."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputFileError(str(directory), None, "no such directory")
    if is_run_directory(directory):
        return [directory]
    runs = sorted(
        (p for p in directory.iterdir() if p.is_dir() and is_run_directory(p)),
        key=lambda p: (p.name != "baseline", p.name),
    )
    if not runs:
        raise InputFileError(
            str(directory),
            None,
            f"not a run directory ({MANIFEST_FILE} and {INDICATORS_FILE}) nor a directory holding run directories",
        )
    return runs


def read_run_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST_FILE
    manifest = read_json(path, "the manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scenario"), dict):
        raise InputFileError(str(path), "scenario", "missing: not the manifest of a smesim run")
    return manifest


def read_indicators(directory: Path) -> pd.DataFrame:
    path = Path(directory) / INDICATORS_FILE
    try:
        return pd.read_parquet(path)
    except Exception as error:  # noqa: BLE001 - pyarrow raises many kinds; any unreadable file is bad input
        raise InputFileError(str(path), None, f"cannot read the indicators: {error}") from None


def _stored_scenario(manifest: dict, source: str) -> Scenario:
    """The scenario file as it was, parsed again from the manifest's stored text (checked
    against its stored sha256), without the manifest's run settings."""
    stored = manifest["scenario"]
    text = stored.get("text")
    if not isinstance(text, str):
        raise InputFileError(source, "scenario.text", "missing: the manifest holds no scenario text")
    if not isinstance(stored.get("sha256"), str):
        raise InputFileError(source, "scenario.sha256", "missing: the stored scenario text cannot be checked")
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != stored["sha256"]:
        raise InputFileError(
            source, "scenario.sha256", "does not match the stored scenario text: the manifest was edited"
        )
    return parse_scenario(text, stored.get("file") or source, stored.get("name") or "scenario")


def _run_settings(manifest: dict, source: str) -> dict:
    settings = {key: manifest.get(key) for key in ("seed", "months", "scale", "replications")}
    missing = [key for key, value in settings.items() if value is None]
    if missing:
        raise InputFileError(source, missing[0], "missing from the manifest")
    return settings


def scenario_of(manifest: dict, source: str) -> Scenario:
    """The scenario as it was run: the stored text with the manifest's run settings."""
    return _stored_scenario(manifest, source).with_overrides(**_run_settings(manifest, source))


def inputs_of(manifest: dict, source: str) -> dict:
    """What `scenario.validated` holds when nobody edited it, re-derived from the stored text and
    the manifest's run settings (not checked against the horizon again, as the dashboard writes
    runs shorter than their shocks' months)."""
    return {**_stored_scenario(manifest, source).to_dict(), **_run_settings(manifest, source)}
