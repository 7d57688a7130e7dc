"""Running a scenario: its replications, then their run directory (experiments.runs.rundir).

`run_scenario(scenario, out_dir)` builds the first replication's model before touching
`out_dir` (so inputs the model refuses leave nothing behind), removes the outputs of an
earlier run there, steps every replication and writes the directory. Replication r runs with
`SeedSequence(seed, spawn_key=(r,))` (Scenario.replication_seed).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from experiments.errors import FlagError, InputFileError
from experiments.formatting import format_range, format_table
from experiments.inputs.goals import GoalOutcome, evaluate
from experiments.inputs.scenario import Scenario
from experiments.runs.progress import Progress
from experiments.runs.provenance import now
from experiments.runs.rundir import (
    INDICATORS_FILE,
    MANIFEST_FILE,
    remove_outputs,
    replication_frame,
    write_run_directory,
)
from simulation import CONTRACT, INDICATORS, SMEModel
from simulation.errors import InputError

__all__ = ["RunResult", "build_model", "format_summary", "run_scenario"]


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


def run_scenario(
    scenario: Scenario, out_dir: Path, command: Sequence[str] | None = None, progress: bool = True
) -> RunResult:
    """Run every replication of `scenario` and write its run directory to `out_dir`."""
    if out_dir.exists() and not out_dir.is_dir():
        raise FlagError("--out", f"must be a directory, got the file {out_dir}")
    started = now()
    clock = time.perf_counter()
    first_model: SMEModel | None = build_model(scenario, 0)
    remove_outputs(out_dir)
    frames, model_seeds = [], []
    with Progress(scenario.name, scenario.replications, scenario.months, enabled=progress) as bar:
        for replication in range(scenario.replications):
            model = first_model if first_model is not None else build_model(scenario, replication)
            first_model = None  # let each model go once it has run
            model_seeds.append(model.seed)
            model.run(scenario.months, each_month=partial(bar.advance, replication))
            frames.append(replication_frame(model, replication, scenario.seed))
    frame = pd.concat(frames, ignore_index=True)
    goals = tuple(evaluate(goal, frame, scenario.months) for goal in scenario.goals.values())
    manifest = write_run_directory(
        out_dir,
        scenario,
        frame,
        goals,
        command=sys.argv if command is None else command,
        started=started,
        seconds=time.perf_counter() - clock,
        model_seeds=model_seeds,
    )
    return RunResult(scenario, out_dir, frame, goals, manifest)


def build_model(scenario: Scenario, replication: int) -> SMEModel:
    """The model of one replication; the model's refusal of the inputs as an InputFileError."""
    try:
        return SMEModel(**scenario.model_kwargs(replication))
    except InputError as error:
        raise InputFileError(
            scenario.file, scenario.file_key(error.key), f"the model refused it: {error.message}"
        ) from None


def format_summary(result: RunResult) -> str:
    """The contract indicators at the horizon and the goals: target, value, met or missed."""
    s = result.scenario
    many = s.replications > 1
    at_end = result.at_month(s.months)
    value_header = f"month {s.months}" + (f", mean of {s.replications} (min to max)" if many else "")
    indicators = format_table(
        ("indicator", value_header),
        [(name, format_range(name, at_end[name].tolist())) for name in CONTRACT],
        right=(1,),
    )
    goal_rows = [
        (
            o.goal.label,
            o.goal.indicator,
            str(o.month),
            o.goal.target_text(),
            format_range(o.goal.indicator, list(o.values)) if o.reached else "n/a",
            o.result_text(),
        )
        for o in result.goals
    ]
    goals = format_table(("goal", "indicator", "month", "target", "value", "result"), goal_rows, right=(2, 3, 4))
    replications = f"{s.replications} replication{'s' if many else ''}"
    return "\n".join(
        [
            f"\n{s.name}: {s.description}",
            f"seed {s.seed}, {replications}, {s.months} months, scale {s.scale}; "
            f"{result.manifest['wall_seconds']:.1f} s",
            "",
            indicators,
            "",
            goals,
            "",
            f"written: {result.out_dir / INDICATORS_FILE}, {result.out_dir / MANIFEST_FILE}",
        ]
    )
