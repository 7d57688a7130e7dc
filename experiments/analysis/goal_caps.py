"""What caps a goal (`smesim explain`): relax each constraint in turn on paired seeds.

A scenario (default: the ministry's plan) runs on replications 0 .. seeds-1 of the baseline's
seed, beside the baseline, then once with each relaxation of `experiments/inputs/relaxations.toml`
(a set of model parameters that lifts one constraint: foreign demand, the exchange rate,
sanctions, export costs, finance, capacity, readiness of projects) and once with all of them
together. For each goal of the goals file, evaluated at the horizon, `goal_caps` gives every
variant's mean level with its t interval, the paired gain over the scenario with its t interval,
the share of the scenario's gap to the goal that the gain closes, and how many runs meet the goal.
The constraint whose relaxation closes most of the gap is the one that binds; when even all
relaxations together leave the goal unmet, what caps it lies outside them (the table says how far
the best runs get).

Nothing here draws random numbers, and the runs come back in a fixed order: the tables do not
depend on the number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis.scale_check import Task, check_scale, paired_scenarios, run_indicators, run_tasks
from experiments.analysis.statistics import mean_interval
from experiments.errors import InputFileError, from_file
from experiments.files import read_toml
from experiments.formatting import format_change, format_table, format_value, format_with_interval
from experiments.inputs import checks
from experiments.inputs.goals import Goal, load_goals
from experiments.inputs.scenario import MAX_REPLICATIONS, Scenario
from simulation.errors import InputError
from simulation.parameters import make_parameters, parameter_names
from simulation.policy import PARAMETERS_SET_BY_LEVERS

__all__ = [
    "ALL_RELAXED",
    "COLUMNS",
    "RELAXATIONS_FILE",
    "Relaxation",
    "format_goal_caps",
    "goal_cap_runs",
    "goal_caps",
    "load_relaxations",
]

RELAXATIONS_FILE = Path(__file__).resolve().parents[1] / "inputs" / "relaxations.toml"
ALL_RELAXED = "all relaxed together"
RELAXATION_KEYS = ("constraint", "description", "parameters")
COLUMNS = (
    "goal",
    "indicator",
    "target",
    "variant",
    "constraint",
    "runs",
    "mean",
    "low",
    "high",
    "gain",
    "gain_low",
    "gain_high",
    "gap_closed",
    "met",
)


@dataclass(frozen=True)
class Relaxation:
    """One constraint lifted: the model parameters that lift it."""

    name: str
    constraint: str
    description: str
    parameters: Mapping[str, float] = field(default_factory=dict)


def _relaxation(name: str, table: Mapping) -> Relaxation:
    checks.unknown_keys(name, table, RELAXATION_KEYS, "key of a relaxation")
    for key in RELAXATION_KEYS:
        if key not in table:
            raise InputError(f"{name}.{key}", "missing; a relaxation needs constraint, description and parameters")
    constraint = checks.one_line(f"{name}.constraint", table["constraint"], "(the constraint it lifts)")
    description = checks.one_line(f"{name}.description", table["description"], "(what the parameters do)")
    given = checks.table(f"{name}.parameters", table["parameters"], "a table of model parameters")
    if not given:
        raise InputError(f"{name}.parameters", "is empty; name the model parameters that lift the constraint")
    known = parameter_names()
    for key, value in given.items():
        where = f"{name}.parameters.{key}"
        if key not in known:
            raise InputError(where, "unknown model parameter; docs/ODD.md, section 8, lists them")
        if key in PARAMETERS_SET_BY_LEVERS:
            raise InputError(where, "is set by a lever; a relaxation may not change the policy")
        checks.number(where, value, None, None)
    try:
        make_parameters(**given)  # the allowed ranges
    except InputError as error:
        raise InputError(f"{name}.parameters.{error.key}", error.message) from None
    return Relaxation(name, constraint, description, {k: float(v) for k, v in given.items()})


def load_relaxations(path: str | Path = RELAXATIONS_FILE) -> list[Relaxation]:
    """The relaxations in file order; InputFileError naming the file and the key."""
    path = Path(path)
    file = str(path)
    data = read_toml(path)
    try:
        relaxations = [_relaxation(name, checks.table(name, t, "a relaxation")) for name, t in data.items()]
    except InputError as error:
        raise from_file(file, error) from None
    if not relaxations:
        raise InputFileError(file, None, "holds no relaxation")
    return relaxations


def _together(relaxations: Sequence[Relaxation]) -> Relaxation:
    """Every relaxation at once (a parameter two of them set takes the later one's value)."""
    parameters: dict[str, float] = {}
    for relaxation in relaxations:
        parameters.update(relaxation.parameters)
    return Relaxation(ALL_RELAXED, ALL_RELAXED, "every relaxation above at once", parameters)


def goal_cap_runs(
    scenario: str | Path = "ministry_plan",
    relaxations: Sequence[Relaxation] | None = None,
    scale: float = 0.1,
    seeds: int = 4,
    months: int = 48,
    workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The runs: the baseline, the scenario, and the scenario under each relaxation and under all
    of them, replications 0 .. seeds-1 on the baseline's seed. One row per run: `variant`,
    `constraint`, `replication`, then every indicator at the horizon."""
    checks.whole("seeds", seeds, 2, MAX_REPLICATIONS, " (paired seeds: intervals need at least two)")
    scale = check_scale("scale", scale)
    relaxations = load_relaxations() if relaxations is None else list(relaxations)
    base, (plan,) = paired_scenarios([scenario], months, scale, scale_key="scale")
    variants: list[tuple[str, str, Scenario, Mapping[str, float]]] = [
        (base.name, "", base, {}),
        (plan.name, "", plan, {}),
    ]
    variants += [(r.name, r.constraint, plan, r.parameters) for r in (*relaxations, _together(relaxations))]
    keys = [(v, r) for v in variants for r in range(seeds)]
    tasks: list[Task] = [
        (run_indicators, {**s.model_kwargs(r), "scale": scale, **params}, months) for (_, _, s, params), r in keys
    ]
    results = run_tasks(tasks, workers, progress, "goal caps")
    rows = [
        {"variant": name, "constraint": constraint, "replication": r, **result}
        for ((name, constraint, _, _), r), result in zip(keys, results, strict=True)
    ]
    frame = pd.DataFrame(rows)
    frame.attrs.update(scenario=plan.name, baseline=base.name, scale=scale, months=months, seeds=seeds)
    return frame


def _variant_row(goal: Goal, name: str, constraint: str, values: np.ndarray, gains: np.ndarray | None, gap: float):
    """`gap`: how far the scenario's mean falls short of the goal, in the goal's direction (<= 0: met)."""
    _, mean, _, low, high = mean_interval(values)
    _, gain, _, gain_low, gain_high = mean_interval(gains) if gains is not None else (0, *[math.nan] * 4)
    toward = gain if goal.at_least is not None else -gain  # a gain toward the goal
    closed = toward / gap if gains is not None and gap > 0 else math.nan
    return {
        "goal": goal.name,
        "indicator": goal.indicator,
        "target": _target(goal),
        "variant": name,
        "constraint": constraint,
        "runs": len(values),
        "mean": mean,
        "low": low,
        "high": high,
        "gain": gain,
        "gain_low": gain_low,
        "gain_high": gain_high,
        "gap_closed": closed,
        "met": int(sum(goal.is_met(v) for v in values)),
    }


def _target(goal: Goal) -> float:
    target = goal.at_least if goal.at_least is not None else goal.at_most
    assert target is not None  # a goal has one of the two (goals.py checks)
    return float(target)


def goal_caps(runs: pd.DataFrame, goals: Mapping[str, Goal] | None = None) -> pd.DataFrame:
    """One row per goal (at the runs' horizon) and variant, in run order (COLUMNS): the level, the
    paired gain over the scenario, the share of the scenario's gap to the goal it closes and the
    runs meeting the goal. Goals set for another month than the horizon are left out."""
    goals = load_goals() if goals is None else goals
    months, scenario = runs.attrs["months"], runs.attrs["scenario"]
    variants = list(dict.fromkeys(runs["variant"]))
    by_variant = {v: g.sort_values("replication") for v, g in runs.groupby("variant", sort=False)}
    rows = []
    for goal in goals.values():
        if goal.month_for(months) != months:
            continue
        plan = by_variant[scenario][goal.indicator].to_numpy(float)
        gap = _target(goal) - float(np.mean(plan))
        gap = gap if goal.at_least is not None else -gap
        for name in variants:
            group = by_variant[name]
            values = group[goal.indicator].to_numpy(float)
            gains = None if name in (scenario, runs.attrs["baseline"]) else values - plan
            rows.append(_variant_row(goal, name, str(group["constraint"].iloc[0]), values, gains, gap))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _verdict(goal_rows: pd.DataFrame, scenario: str) -> str:
    """Which relaxation closes most of the gap, and where all of them together get."""
    plan = goal_rows[goal_rows["variant"] == scenario].iloc[0]
    target, indicator = plan["target"], plan["indicator"]
    if goal_rows["gap_closed"].isna().all():
        return f"{scenario} meets the goal on average ({plan['met']} of {plan['runs']} runs): nothing binds."
    single = goal_rows[~goal_rows["variant"].isin([scenario, ALL_RELAXED]) & goal_rows["gain"].notna()]
    best = single.loc[single["gap_closed"].idxmax()]
    together = goal_rows[goal_rows["variant"] == ALL_RELAXED].iloc[0]
    lines = [
        f"Binds most: {best['constraint']} (relaxed, {format_value(indicator, best['mean'])}: "
        f"{best['gap_closed']:.0%} of the gap to {format_value(indicator, target)} closed).",
    ]
    if together["met"] == together["runs"]:
        lines.append(
            f"With every constraint relaxed the goal is met in every run ({format_value(indicator, together['mean'])})."
        )
    else:
        lines.append(
            f"With every constraint relaxed: {format_value(indicator, together['mean'])}, "
            f"{together['gap_closed']:.0%} of the gap closed, met in {together['met']} of {together['runs']} runs; "
            "what caps the goal beyond that lies outside these constraints."
        )
    return " ".join(lines)


def format_goal_caps(frame: pd.DataFrame, scenario: str) -> str:
    """Per goal: the variants' levels, gains and the share of the gap closed, then the verdict."""
    parts = []
    for goal, rows in frame.groupby("goal", sort=False):
        indicator, target = rows["indicator"].iloc[0], rows["target"].iloc[0]
        table = [
            [
                row["variant"] if not row["constraint"] else f"{row['constraint']}",
                format_with_interval(row["mean"], row["low"], row["high"], partial(format_value, indicator)),
                ""
                if math.isnan(row["gain"])
                else format_with_interval(
                    row["gain"], row["gain_low"], row["gain_high"], partial(format_change, indicator)
                ),
                "" if math.isnan(row["gap_closed"]) else f"{row['gap_closed']:.0%}",
                f"{row['met']} of {row['runs']}",
            ]
            for _, row in rows.iterrows()
        ]
        heading = f"{goal}: {indicator} >= {format_value(indicator, target)}"
        header = ["variant", "level (95% interval)", f"gain over {scenario}", "gap closed", "goal met"]
        parts.append(f"{heading}\n{format_table(header, table)}\n{_verdict(rows, scenario)}")
    return "\n\n".join(parts)
