"""Running a scenario: its replications, their monthly indicators in Parquet, and a manifest.

`run_scenario(scenario, out_dir)` builds the first replication's model before touching
`out_dir` (so inputs the model refuses leave nothing behind), removes the outputs of an
earlier run there (manifest first), steps every replication, then writes

- `indicators.parquet`: one row per replication and month (month 0 = the initial state):
  replication (int32), seed (int64, the scenario's seed), month (int32), then one float64
  column per indicator in `simulation.indicators.INDICATORS` order;
- `manifest.json`, last: the scenario (text, sha256, validated content), run settings,
  command, git commit, package versions, times, goals checked and the files' sha256.

Both are written atomically, so a directory with a manifest.json holds a complete run.
Replication r runs with `SeedSequence(seed, spawn_key=(r,))` (Scenario.replication_seed).
"""

from __future__ import annotations

import importlib.metadata
import math
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from experiments.errors import ScenarioError
from experiments.files import sha256_of, write_json_atomically, write_parquet_atomically
from experiments.goals import GoalOutcome, evaluate
from experiments.scenario import Scenario
from simulation import INDICATORS, SMEModel
from simulation.errors import InputError

INDICATORS_FILE = "indicators.parquet"
MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1
PACKAGES = ("numpy", "scipy", "pandas", "mesa", "pyarrow", "smesim")
REPOSITORY = Path(__file__).resolve().parents[1]
SCHEMA = pa.schema([("replication", pa.int32()), ("seed", pa.int64()), ("month", pa.int32()),
                    *((name, pa.float64()) for name in INDICATORS)])


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    out_dir: Path
    frame: pd.DataFrame  # the rows of indicators.parquet
    goals: tuple[GoalOutcome, ...]
    manifest: dict

    def at_month(self, month: int) -> pd.DataFrame:
        """The indicators at one month, one row per replication."""
        return self.frame[self.frame["month"] == month].set_index("replication")[list(INDICATORS)]


def run_scenario(scenario: Scenario, out_dir: Path, command: list[str] | None = None,
                 progress: bool = True) -> RunResult:
    """Run every replication of `scenario` and write its results to `out_dir` (see the module doc)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(None, "--out", f"must be a directory, got the file {out_dir}")
    started = _now()
    clock = time.perf_counter()
    first_model = _build_model(scenario, 0)
    _remove_earlier_outputs(out_dir)
    frames, model_seeds = [], []
    with Progress(scenario.name, scenario.replications, scenario.months, enabled=progress) as bar:
        for replication in range(scenario.replications):
            model = first_model if replication == 0 else _build_model(scenario, replication)
            first_model = None  # let each model go once it has run
            model_seeds.append(model.seed)
            frames.append(_simulate(model, scenario, replication, bar))
    frame = pd.concat(frames, ignore_index=True)
    goals = tuple(evaluate(goal, frame, scenario.months) for goal in scenario.goals.values())
    write_parquet_atomically(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), out_dir / INDICATORS_FILE)
    manifest = _manifest(scenario, out_dir, command, started, time.perf_counter() - clock, model_seeds, goals)
    write_json_atomically(manifest, out_dir / MANIFEST_FILE)
    return RunResult(scenario, out_dir, frame, goals, manifest)


def _build_model(scenario: Scenario, replication: int) -> SMEModel:
    """The model of one replication; the model's refusal of the inputs as a ScenarioError."""
    try:
        return SMEModel(**scenario.model_kwargs(replication))
    except InputError as error:
        raise ScenarioError(scenario.file, error.key, f"the model refused it: {error.message}") from None
    except (TypeError, ValueError) as error:  # e.g. a scale that samples too few units
        key = "scale" if str(error).startswith("scale") else None
        raise ScenarioError(scenario.file, key, f"the model refused the scenario: {error}") from None


def _remove_earlier_outputs(out_dir: Path) -> None:
    """Outputs of an earlier run would look complete beside a half-written new one."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (MANIFEST_FILE, INDICATORS_FILE):  # the manifest first: without it, a directory is incomplete
        (out_dir / name).unlink(missing_ok=True)


def _simulate(model: SMEModel, scenario: Scenario, replication: int, bar: "Progress") -> pd.DataFrame:
    for month in range(1, scenario.months + 1):
        model.step()
        bar.advance(replication, month)
    frame = model.datacollector.get_model_vars_dataframe()[list(INDICATORS)].astype("float64")
    frame.insert(0, "month", range(len(frame)))
    frame.insert(0, "seed", scenario.seed)
    frame.insert(0, "replication", replication)
    return frame.reset_index(drop=True)


# --- manifest ---------------------------------------------------------------------------


def _manifest(scenario: Scenario, out_dir: Path, command, started: str, seconds: float, model_seeds,
              goals) -> dict:
    return {
        "manifest_version": MANIFEST_VERSION,
        "scenario": {"name": scenario.name, "file": scenario.file, "sha256": scenario.sha256, "text": scenario.text,
                     "validated": scenario.to_dict()},
        "seed": scenario.seed,
        "replications": scenario.replications,
        "replication_seeds": "numpy.random.SeedSequence(seed, spawn_key=(replication,))",
        "model_seeds": [int(s) for s in model_seeds],
        "months": scenario.months,
        "scale": scenario.scale,
        "command_line_overrides": dict(scenario.overrides),
        "command": list(command) if command is not None else list(sys.argv),
        "git": git_state(),
        "versions": package_versions(),
        "started": started,
        "finished": _now(),
        "wall_seconds": round(seconds, 3),
        "goals": [outcome.to_dict() for outcome in goals],
        "files": {INDICATORS_FILE: {"sha256": sha256_of(out_dir / INDICATORS_FILE),
                                    "rows": scenario.replications * (scenario.months + 1)}},
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str | None]:
    """Python's version and each package's of PACKAGES and `extra` (None: not installed)."""
    versions = {"python": platform.python_version()}
    for name in (*PACKAGES, *extra):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state() -> dict:
    """The commit of the repository this code runs from and whether its tree differs from it;
    nulls when the code is not in a git checkout (an installed package)."""
    top = _git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != REPOSITORY:
        return {"commit": None, "dirty": None}
    status = _git("status", "--porcelain")
    return {"commit": _git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


# --- progress ---------------------------------------------------------------------------


class Progress:
    """Months stepped over all replications: a tqdm bar on a terminal, else a plain line at
    every tenth of the work (logs of batch jobs stay short)."""

    def __init__(self, name: str, replications: int, months: int, enabled: bool = True, stream=None):
        self.name, self.replications, self.months = name, replications, months
        self.total = replications * months
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.done = 0
        self.bar = None
        if enabled and is_terminal(self.stream):
            self.bar = tqdm(total=self.total, desc=name, unit="month", file=self.stream, dynamic_ncols=True)

    def advance(self, replication: int, month: int) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"replication {replication + 1}/{self.replications}", refresh=False)
            self.bar.update(1)
        elif self.enabled and math.floor(10 * self.done / self.total) > math.floor(10 * (self.done - 1) / self.total):
            print(f"{self.name}: replication {replication + 1}/{self.replications}, month {month}/{self.months} "
                  f"({self.done / self.total:.0%})", file=self.stream, flush=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def is_terminal(stream) -> bool:
    """Whether progress goes to a terminal (a bar) or to a log (plain lines)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
