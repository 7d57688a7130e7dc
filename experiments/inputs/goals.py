"""Goals as data: named targets on an indicator at a month, read from TOML.

A goals table has one sub-table per goal, named by a short key:

    [exports]
    label = "Export USD 17 bn a year"   # optional; default: "exports_usd >= 17.0 bn"
    indicator = "exports_usd"           # one of simulation.indicators.INDICATORS
    at_least = 17e9                     # at_least and/or at_most (both: a range)
    month = 48                          # optional; default: the run's last month

The defaults (the government's four goals, docs/sources.md) are in experiments/inputs/goals.toml. A scenario's [goals]
table changes them key by key or adds new ones (`merge`); giving at_least or at_most there
replaces the default's bounds, and a changed target without a new label gets the generated
label. A goal is met when the indicator at its month satisfies every bound (NaN never does).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from experiments.errors import from_file, unknown_name
from experiments.files import read_toml
from experiments.formatting import format_value
from experiments.inputs import checks
from simulation.errors import InputError
from simulation.indicators import INDICATORS

__all__ = ["DEFAULT_GOALS_FILE", "Goal", "GoalOutcome", "evaluate", "load_goals", "merge", "within_horizon"]

DEFAULT_GOALS_FILE = Path(__file__).with_name("goals.toml")
GOAL_KEYS = ("label", "indicator", "at_least", "at_most", "month")
BOUNDS = ("at_least", "at_most")
MAX_MONTH = 600


@dataclass(frozen=True)
class Goal:
    name: str
    indicator: str
    label: str
    at_least: float | None = None
    at_most: float | None = None
    month: int | None = None  # None: the run's last month

    def month_for(self, horizon: int) -> int:
        return horizon if self.month is None else self.month

    def is_met(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        return (self.at_least is None or value >= self.at_least) and (self.at_most is None or value <= self.at_most)

    def target_text(self) -> str:
        """The bounds in words, e.g. ">= 17.0 bn" or "between 0.300 and 0.500"."""
        low, high = (None if b is None else format_value(self.indicator, b) for b in (self.at_least, self.at_most))
        if low is not None and high is not None:
            return f"{low} to {high}"
        return f">= {low}" if low is not None else f"<= {high}"

    def to_dict(self) -> dict:
        return {key: getattr(self, key) for key in GOAL_KEYS if getattr(self, key) is not None}


def _goal(name: str, spec: Mapping, base: Goal | None) -> Goal:
    """One goal from its table, over `base` (the goal it overrides) if any."""
    checks.name(name, name, "a goal's name")
    checks.table(name, spec, f"goal settings {list(GOAL_KEYS)}")
    checks.unknown_keys(name, spec, GOAL_KEYS, "goal key")
    merged = base.to_dict() if base else {}
    if any(bound in spec for bound in BOUNDS):
        merged = {k: v for k, v in merged.items() if k not in BOUNDS}
    if base and ({"indicator", *BOUNDS} & set(spec)) and "label" not in spec:
        merged.pop("label", None)  # the old label would describe the old target
    merged.update(spec)

    indicator = merged.get("indicator")
    if indicator is None:
        raise InputError(f"{name}.indicator", "missing: the indicator the goal is on")
    if indicator not in INDICATORS:
        raise InputError(f"{name}.indicator", unknown_name(indicator, INDICATORS, "indicator"))
    if not any(bound in merged for bound in BOUNDS):
        raise InputError(f"{name}.at_least", "missing: give at_least and/or at_most (the target)")
    bounds = {bound: float(checks.finite(f"{name}.{bound}", merged[bound])) for bound in BOUNDS if bound in merged}
    if len(bounds) == 2 and bounds["at_least"] > bounds["at_most"]:
        raise InputError(f"{name}.at_most", f"must be >= at_least ({bounds['at_least']!r}), got {bounds['at_most']!r}")
    month = merged.get("month")
    if month is not None:
        checks.whole(f"{name}.month", month, 1, MAX_MONTH, " (omit it for the run's last month)")
    label = merged.get("label")
    if label is not None:
        label = checks.one_line(f"{name}.label", label, "naming the goal")
    goal = Goal(name, indicator, "", bounds.get("at_least"), bounds.get("at_most"), month)
    return Goal(name, indicator, label or f"{indicator} {goal.target_text()}", goal.at_least, goal.at_most, month)


def merge(table, base: Mapping[str, Goal] | None = None) -> dict[str, Goal]:
    """`base` goals (by name) changed and extended by a goals table; InputError keys are `name.key`."""
    goals = dict(base or {})
    if not isinstance(table, Mapping):
        raise InputError("", f"must be a table of goals, one [name] sub-table each, got {table!r}")
    for name, spec in table.items():
        goals[name] = _goal(name, spec, goals.get(name))
    return goals


def within_horizon(table, base: Mapping[str, Goal], months: int, what: str, origin: str) -> dict[str, Goal]:
    """The `base` goals changed and extended by a file's [goals] `table` (keys under "goals"); the
    goals the table names must fall within the file's horizon `months` (`what`: "the scenario's",
    "the sweep's"; `origin`: where a month the table does not give comes from)."""
    table = checks.table("goals", table, "goals, one [goals.<name>] each")
    try:
        goals = merge(table, base)
    except InputError as error:
        raise error.under("goals") from None
    for name in table:
        month = goals[name].month
        if month is not None and month > months:
            source = "" if "month" in table[name] else f" (from {origin})"
            raise InputError(
                f"goals.{name}.month",
                f"month {month}{source} is after {what} last month "
                f"(months = {months}); use a month in [1, {months}] or omit it "
                "for the last month",
            )
    return goals


def load_goals(path: Path = DEFAULT_GOALS_FILE) -> dict[str, Goal]:
    """The goals of a goals file, or an InputFileError naming the file and key."""
    table = read_toml(path)
    try:
        return merge(table)
    except InputError as error:
        raise from_file(str(path), error) from None


@dataclass(frozen=True)
class GoalOutcome:
    """A goal checked on a run: the indicator's value at the goal's month, one per replication
    (none if the run ends before that month)."""

    goal: Goal
    month: int
    values: tuple[float, ...]

    @property
    def reached(self) -> bool:
        return bool(self.values)

    @property
    def met(self) -> tuple[bool, ...]:
        return tuple(self.goal.is_met(v) for v in self.values)

    @property
    def share_met(self) -> float:
        return sum(self.met) / len(self.values) if self.values else math.nan

    def result_text(self) -> str:
        """ "met" / "missed"; with replications "met in 2 of 3"; or why it was not checked."""
        if not self.reached:
            return f"not checked: the run ends before month {self.month}"
        n, k = len(self.values), sum(self.met)
        if n == 1:
            return "met" if k else "missed"
        return f"met ({k} of {n})" if k == n else f"missed ({k} of {n})" if k == 0 else f"met in {k} of {n}"

    def to_dict(self) -> dict:
        return {
            "goal": self.goal.name,
            "indicator": self.goal.indicator,
            "month": self.month,
            "at_least": self.goal.at_least,
            "at_most": self.goal.at_most,
            "values": [v if math.isfinite(v) else None for v in self.values],
            "met": list(self.met),
        }


def evaluate(goal: Goal, frame, horizon: int) -> GoalOutcome:
    """Check a goal on a results frame (columns replication, month and the indicators)."""
    month = goal.month_for(horizon)
    rows = frame[frame["month"] == month].sort_values("replication")
    return GoalOutcome(goal, month, tuple(float(v) for v in rows[goal.indicator]))
